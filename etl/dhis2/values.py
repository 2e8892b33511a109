"""Reading DHIS2 scalar fields: numbers, booleans, text, as strictly as DHIS2 writes them."""

from __future__ import annotations

import math
import re
from typing import Any

NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
TRUE = {"true", "t", "1", "yes"}
FALSE = {"false", "f", "0", "no"}
NUMERIC_TYPES = {
    "NUMBER",
    "INTEGER",
    "INTEGER_POSITIVE",
    "INTEGER_NEGATIVE",
    "INTEGER_ZERO_OR_POSITIVE",
    "PERCENTAGE",
    "UNIT_INTERVAL",
}
BOOLEAN_TYPES = {"BOOLEAN", "TRUE_ONLY"}


def parse_number(text: str | None) -> float | None:
    """The number a DHIS2 value string holds (`"12"`, `"17640.0"`, `"-1.5e3"`), else None.

    Stricter than `float()`: no `nan`, `inf`, `1_000` or Unicode digits, which DHIS2 never
    writes and which would slip through into sums.
    """
    if text is None or len(text) > 400 or not NUMBER.fullmatch(text.strip()):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def parse_bool(text: Any) -> bool | None:
    """A DHIS2 boolean (`true|True|TRUE|false|...|1|0|t|f`, or a JSON boolean), else None."""
    if isinstance(text, bool):
        return text
    if isinstance(text, str | int) and not isinstance(text, bool):
        word = str(text).strip().lower()
        if word in TRUE:
            return True
        if word in FALSE:
            return False
    return None


def as_text(value: Any) -> str | None:
    """A JSON/XML/CSV scalar as trimmed text (None when absent or empty); raises TypeError
    for an object or a list, which no scalar field may hold."""
    if value is None:
        return None
    if type(value) is str:  # the common case, first
        return value.strip() or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return text or None
    raise TypeError(f"an {'object' if isinstance(value, dict) else 'array'}, not text")
