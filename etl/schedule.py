"""The vaccination schedule, kept as data in `schedule.toml` next to this module.

The registry reader rejects doses whose code is not listed here, so the file is the one place
to change when another schedule applies (spec/registry-export.md "The schedule").
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

SCHEDULE_FILE = Path(__file__).with_name("schedule.toml")


@cache
def due_months(path: Path = SCHEDULE_FILE) -> dict[str, int]:
    """Dose code (upper case) → age due in months, in the file's order."""
    with path.open("rb") as handle:
        table = tomllib.load(handle)["due_months"]
    return {code.strip().upper(): int(months) for code, months in table.items()}


def dose_codes(path: Path = SCHEDULE_FILE) -> frozenset[str]:
    """The dose codes a registry row may carry (compared upper case)."""
    return frozenset(due_months(path))
