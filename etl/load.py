"""The registry load: read and validate → build and publish indicators → swap into the warehouse.

Stages run in that order and only the last touches the warehouse, in one transaction, so a
failure at any point leaves the previous good data in place (and is logged as a failed run).
The load replaces the registry's rows and its monthly dose counts; DHIS2 rows stay, except
the registry-vs-DHIS2 triangulation, which it recomputes when DHIS2 data are loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from etl.progress import Progress
from etl.registry import RegistryError, RegistryExtract, read_registry
from indicators import admin, catalogue, geography
from indicators import warehouse as wh
from indicators.cohort import cohort_cube
from indicators.publish import publish

LOAD_STEPS = 7  # the reader's four, then cube, publish and write


class LoadError(Exception):
    """A load that cannot go on; its message is the one line the CLI prints."""


@dataclass
class LoadResult:
    run_id: int
    extract: RegistryExtract
    indicator_rows: int

    def report(self) -> dict:
        """The `--report` JSON: as-of date, row accounting per file and every reject."""
        return {
            "as_of": self.extract.as_of.isoformat(),
            "files": {name: vars(account) for name, account in self.extract.accounts.items()},
            "rejects": [
                {**row, "values": json.loads(row["values"])}
                for row in self.extract.rejects.select("file", "line", "rule", "values").to_dicts()
            ],
        }


def load_registry(
    folder: Path,
    url: str | None = None,
    as_of: date | None = None,
    progress: Progress | None = None,
) -> LoadResult:
    """Load one registry export folder and rebuild every registry indicator from it."""
    progress = progress or Progress(LOAD_STEPS, quiet=True)
    engine = wh.engine(url)
    started = wh.now()
    try:
        with wh.load_lock(engine):
            run_id = wh.start_run(engine, started, str(folder))
            try:
                extract, values = _load(folder, engine, as_of, progress, started, run_id)
            except RegistryError as error:
                wh.record_failure(engine, started, str(folder), str(error), run_id)
                raise LoadError(str(error)) from error
            except Exception as error:
                message = f"{type(error).__name__}: {error}"
                wh.record_failure(engine, started, str(folder), message, run_id)
                raise
    except wh.LoadInProgress as error:
        wh.record_failure(engine, started, str(folder), str(error))
        raise LoadError(str(error)) from error
    return LoadResult(run_id, extract, values.height)


def _load(
    folder: Path,
    engine: sa.Engine,
    as_of: date | None,
    progress: Progress,
    started: datetime,
    run_id: int,
) -> tuple[RegistryExtract, pl.DataFrame]:
    extract = read_registry(folder, as_of, progress)
    with progress.step("building the indicator cube"):
        districts = extract.children.get_column("adm2_code").unique().to_list()
        units = geography.org_units(districts)
        cube = cohort_cube(extract.children, extract.doses, extract.as_of, units)
    with progress.step("suppressing small cells and computing intervals"):
        values = publish(cube, extract.as_of)
        counts = admin.registry_dose_counts(extract.children, extract.doses, extract.as_of)
        values = pl.concat([values, _triangulation(engine, counts)])
    with progress.step("writing the warehouse"):
        run = _run_record(extract, started)
        wh.replace_results(
            engine, run, values, extract.rejects, units, catalogue.as_frame(), run_id,
            source="registry", dose_counts=counts,
            also_replace=list(admin.triangulation_doses().values()),
        )  # fmt: skip
    return extract, values


def _triangulation(engine: sa.Engine, counts: pl.DataFrame) -> pl.DataFrame:
    """The registry-vs-DHIS2 rows against the DHIS2 data already loaded (none without)."""
    codes = [admin.code_of(dose) for dose in admin.triangulation_doses()]
    return admin.triangulation(wh.read_values(engine, codes), counts)


def _run_record(extract: RegistryExtract, started: datetime) -> dict:
    return {
        "started_at": started,
        "source": extract.source,
        "as_of": extract.as_of,
        "as_of_origin": extract.as_of_origin,
        "inputs": extract.inputs,
        "accounting": {name: vars(a) for name, a in extract.accounts.items()},
    }
