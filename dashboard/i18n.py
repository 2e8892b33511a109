"""Interface translation: one function, `t`, wraps every user-facing string.

Messages are keyed by their English text (gettext style) in `locales/<lang>.json`. The
English catalogue lists every key, so it is the worklist for the Arabic (`ar`) and
Sorani Kurdish (`ckb`) catalogues: add the file and set `MIZAN_LANG`. A key missing
from a catalogue falls back to English rather than failing.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from indicators import config

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
RTL_LANGUAGES = frozenset({"ar", "ckb"})


@cache
def catalogue(language: str) -> dict[str, str]:
    """The messages of one language ({} when it has no catalogue yet)."""
    path = LOCALES_DIR / f"{language}.json"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def t(text: str) -> str:
    """`text` in the interface language. Use `str.format` placeholders for variables."""
    return catalogue(config.language()).get(text, text)


def tn(one: str, many: str, count: float | None) -> str:
    """`one` (for a count of 1) or `many`, in the interface language. Two English forms;
    a language with more plural forms keys its catalogue by both."""
    return t(one if count == 1 else many)


def is_rtl() -> bool:
    return config.language() in RTL_LANGUAGES
