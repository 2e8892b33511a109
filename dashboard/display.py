"""How a published indicator row is shown (spec/indicators.md, disclosure rules).

One place for the rules so that charts, tables and cards can never disagree:
- suppressed rows show "suppressed" and no value, interval or hidden count. One word for
  every hidden cell: "<5" would be false for a cell hidden to protect another (it may
  count thousands), and telling the two kinds apart would let small counts be worked out;
- `low_denominator` rows show no value, only the flag;
- `caution` rows show their value in parentheses.
Exports are not affected: they always carry the published counts and flags.
"""

from __future__ import annotations

import math

import polars as pl

from dashboard.i18n import t

MISSING_TEXT = "–"
LOW_DENOMINATOR = "low_denominator"
CAUTION = "caution"
FLAG_LABELS = {
    LOW_DENOMINATOR: "Low denominator (<25)",
    CAUTION: "Caution: denominator 25–49",
    "over_100": "Over 100 %",
    "negative_dropout": "Negative dropout",
    "outlier": "Outlier in facility reports",
    "missing_reports": "Reports missing (completeness under target)",
}


def hidden_text() -> str:
    return t("suppressed")


def flag_list(flags: str | None) -> list[str]:
    return [flag for flag in (flags or "").split(";") if flag]


def flag_text(flags: str | None) -> str:
    """Readable, translated flags ("" when none)."""
    return "; ".join(t(FLAG_LABELS.get(flag, flag)) for flag in flag_list(flags))


def is_hidden(suppressed: bool | None, flags: str | None) -> bool:
    """Whether the value must not be drawn or printed."""
    return bool(suppressed) or LOW_DENOMINATOR in flag_list(flags)


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float | None, unit: str = "%", decimals: int = 1) -> str:
    if _missing(value):
        return MISSING_TEXT
    suffix = "%" if unit == "%" else ""
    return f"{value:,.{decimals}f}{suffix}"


def count(value: float | None, suppressed: bool = False) -> str:
    """A numerator or denominator: "suppressed" where suppression removed it."""
    if _missing(value):
        return hidden_text() if suppressed else MISSING_TEXT
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def value_text(
    value: float | None, suppressed: bool | None, flags: str | None, unit: str = "%"
) -> str:
    """The value as a table cell or bar label shows it."""
    if suppressed:
        return hidden_text()
    if LOW_DENOMINATOR in flag_list(flags):
        return ""
    text = number(value, unit)
    if CAUTION in flag_list(flags) and not _missing(value):
        return f"({text})"
    return text


def interval_text(
    low: float | None, high: float | None, suppressed: bool | None, flags: str | None
) -> str:
    if is_hidden(suppressed, flags) or _missing(low) or _missing(high):
        return ""
    return f"{low:.1f}–{high:.1f}"


def with_display(frame: pl.DataFrame, unit: str = "%") -> pl.DataFrame:
    """Add `shown` (value, null when hidden), `label` (cell text) and `flag_label`."""
    records = frame.select("value", "suppressed", "flags").to_dicts()
    shown = [None if is_hidden(r["suppressed"], r["flags"]) else r["value"] for r in records]
    labels = [value_text(r["value"], r["suppressed"], r["flags"], unit) for r in records]
    flag_labels = [flag_text(r["flags"]) for r in records]
    return frame.with_columns(
        pl.Series("shown", shown, dtype=pl.Float64),
        pl.Series("label", labels, dtype=pl.String),
        pl.Series("flag_label", flag_labels, dtype=pl.String),
    )
