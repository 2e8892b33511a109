"""Published share of a registry's cube, overall and for the slices users need most.

    .venv/bin/python -m benchmarks.suppression_share /tmp/s60 [/tmp/s200 ...]

The cube of each registry folder is cached next to it (`cube.parquet`), so a re-run times
only `publish`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import polars as pl

from etl.registry import read_registry
from indicators import geography
from indicators.cohort import cohort_cube
from indicators.publish import publish

YEAR = pl.col("period").str.len_chars() == 4
SLICES = {
    "all rows": pl.lit(True),
    "national x F/M x all": (pl.col("org_unit_level") == 0) & pl.col("sex").is_in(["F", "M"])
    & (pl.col("disability") == "all"),
    "national x all x yes/no": (pl.col("org_unit_level") == 0) & (pl.col("sex") == "all")
    & pl.col("disability").is_in(["yes", "no"]),
    "national x F/M x yes/no": (pl.col("org_unit_level") == 0) & pl.col("sex").is_in(["F", "M"])
    & pl.col("disability").is_in(["yes", "no"]),
    "governorate x all x all": (pl.col("org_unit_level") == 1) & (pl.col("sex") == "all")
    & (pl.col("disability") == "all"),
    "governorate x F/M x all": (pl.col("org_unit_level") == 1) & pl.col("sex").is_in(["F", "M"])
    & (pl.col("disability") == "all"),
    "district x all x all": (pl.col("org_unit_level") == 2) & (pl.col("sex") == "all")
    & (pl.col("disability") == "all"),
    "year periods": YEAR,
    "quarter periods": ~YEAR,
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
    started = time.perf_counter()
    published = publish(cube, read_registry_as_of(folder))
    seconds = time.perf_counter() - started
    print(f"{folder}: {cube.height} rows, publish {seconds:.2f} s")
    shown = ~pl.col("suppressed")
    for name, where in SLICES.items():
        row = published.filter(where).select(pl.len(), shown.mean())
        print(f"  {name:26s} {row[0, 0]:7d} rows  {100 * (row[0, 1] or 0):5.1f} % published")
    if "suppression" in published.columns:
        print("  reasons:", dict(published["suppression"].value_counts().iter_rows()))


def read_registry_as_of(folder: Path):  # noqa: ANN201
    import json

    return __import__("datetime").date.fromisoformat(
        json.loads((folder / "manifest.json").read_text())["as_of"]
    )


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        report(Path(argument))
