"""Published share of a registry's indicator rows, overall and for the slices users need most.

    .venv/bin/python -m etl generate /tmp/s60 --children 60000
    .venv/bin/python -m benchmarks.suppression_share /tmp/s60 [more registry folders]

The cube of each folder is cached next to it (`cube.parquet`), so a re-run times only
`publish` (suppression, intervals, flags).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl

from etl.registry import read_registry
from indicators import geography
from indicators.cohort import cohort_cube
from indicators.publish import publish

LEVEL, SEX, DIS = pl.col("org_unit_level"), pl.col("sex"), pl.col("disability")
FEMALE_MALE, YES_NO = SEX.is_in(["F", "M"]), DIS.is_in(["yes", "no"])
YEAR = pl.col("period").str.len_chars() == 4
SLICES = {
    "all rows": pl.lit(True),
    "national x all x all": (LEVEL == 0) & (SEX == "all") & (DIS == "all"),
    "national x F/M x all": (LEVEL == 0) & FEMALE_MALE & (DIS == "all"),
    "national x all x yes/no": (LEVEL == 0) & (SEX == "all") & YES_NO,
    "national x F/M x yes/no": (LEVEL == 0) & FEMALE_MALE & YES_NO,
    "governorate x all x all": (LEVEL == 1) & (SEX == "all") & (DIS == "all"),
    "governorate x F/M x all": (LEVEL == 1) & FEMALE_MALE & (DIS == "all"),
    "district x all x all": (LEVEL == 2) & (SEX == "all") & (DIS == "all"),
    "year cohorts": YEAR,
    "quarter cohorts": ~YEAR,
}


def cube_of(folder: Path) -> pl.DataFrame:
    cached = folder / "cube.parquet"
    if cached.exists():
        return pl.read_parquet(cached)
    extract = read_registry(folder)
    units = geography.org_units(extract.children.get_column("adm2_code").unique().to_list())
    cube = cohort_cube(extract.children, extract.vaccinations, extract.as_of, units)
    cube.write_parquet(cached)
    return cube


def report(folder: Path) -> None:
    cube = cube_of(folder)
    as_of = date.fromisoformat(json.loads((folder / "manifest.json").read_text())["as_of"])
    started = time.perf_counter()
    published = publish(cube, as_of)
    print(f"{folder}: {cube.height} rows, publish {time.perf_counter() - started:.2f} s")
    for name, where in SLICES.items():
        rows = published.filter(where)
        share = 100 * (1 - rows["suppressed"].mean()) if rows.height else 0.0
        print(f"  {name:26s} {rows.height:7d} rows {share:6.1f} % published")
    if "suppression" in published.columns:
        reasons = dict(published["suppression"].value_counts().iter_rows())
        print(f"  hidden: {reasons.get('primary', 0)} primary, "
              f"{reasons.get('complementary', 0)} complementary")


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        report(Path(argument))
