"""The package's error type and the record-level problem list every reader fills.

Two levels, as the registry reader has: a file that cannot be read at all raises
`Dhis2Error` (one line, naming the file); a record that is malformed becomes a `Problem`
(file, position, code, reason) and the reader carries on with the next record.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

REJECTED = "rejected"
KEPT = "kept"

PROBLEM_SCHEMA = {
    "file": pl.String,
    "position": pl.String,
    "code": pl.String,
    "outcome": pl.String,
    "reason": pl.String,
}


class Dhis2Error(Exception):
    """A whole file is unusable; the message is one line and names the file."""

    def __init__(self, file: str, reason: str) -> None:
        self.file = file
        self.reason = " ".join(str(reason).split())[:500]
        super().__init__(f"{file}: {self.reason}")


@dataclass(frozen=True)
class Problem:
    """One record that was rejected, or kept with a warning (`outcome`).

    `position` is `line N` for CSV (header = line 1), a JSON path (`$.dataValues[3]`,
    0-based) or an XPath (`/dataValueSet/dataValue[4]`, 1-based) for XML.
    """

    file: str
    position: str
    code: str
    reason: str
    outcome: str = REJECTED


def problems_frame(problems: list[Problem]) -> pl.DataFrame:
    """The problems as a table (the `--problems` CSV)."""
    return pl.DataFrame(
        {
            "file": [p.file for p in problems],
            "position": [p.position for p in problems],
            "code": [p.code for p in problems],
            "outcome": [p.outcome for p in problems],
            "reason": [p.reason for p in problems],
        },
        schema=PROBLEM_SCHEMA,
    )


def rejected(problems: list[Problem]) -> int:
    """How many records these problems took out of the output."""
    return sum(p.outcome == REJECTED for p in problems)
