"""The indicator catalogue, kept as data in `catalogue.toml` next to this module."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

CATALOGUE_FILE = Path(__file__).with_name("catalogue.toml")


@dataclass(frozen=True)
class Indicator:
    code: str
    name_en: str
    description: str
    kind: str
    doses: tuple[str, ...]
    age_months: int
    unit: str
    favourable: str
    source: str
    version: int
    scale: float = 100.0  # value = numerator x scale / denominator (100: a percentage)


# Entries that compute no doses (facility indicators) may leave these out.
DEFAULTS = {"doses": (), "age_months": 0}


@cache
def indicators() -> tuple[Indicator, ...]:
    """Every indicator of the catalogue, in catalogue order."""
    with CATALOGUE_FILE.open("rb") as handle:
        entries = tomllib.load(handle)["indicator"]
    return tuple(
        Indicator(**{**DEFAULTS, **entry, "doses": tuple(entry.get("doses", ()))})
        for entry in entries
    )


def by_code() -> dict[str, Indicator]:
    return {indicator.code: indicator for indicator in indicators()}


def as_frame() -> pl.DataFrame:
    """The catalogue as a table, as stored in the warehouse's `indicators` table."""
    return pl.DataFrame(
        [
            {
                "code": i.code,
                "name_en": i.name_en,
                "description": i.description,
                "unit": i.unit,
                "favourable": i.favourable,
                "source": i.source,
                "definition_version": i.version,
            }
            for i in indicators()
        ]
    )
