"""The DHIS2 load: a folder of exports + its mapping -> administrative indicators -> warehouse.

read the mapping -> classify the files -> metadata -> resolve the mapping -> normalize the
data values -> registrations -> map -> indicators (`indicators.admin`) -> triangulation
with the registry's stored dose counts -> [with the mapping's `facility:` section: the
facility report (`etl.dhis2.facility`) and the climate file (`etl.climate`) -> facility
environment indicators (`indicators.environment.build`)] -> one transaction that replaces
only the `dhis2` rows, and with the facility section the `facility` rows and the
facilities, facility_months and climate_months tables. A mapping without the section
leaves the facility data as the last load with one wrote it. As the registry load: the
load lock is held throughout, the run is recorded as running and then succeeded or
failed, and nothing is written until everything is computed, so a failure leaves the
warehouse as it was. A file that cannot be read at all
fails the load with one line naming it; a bad record is rejected (file, position,
reason) into the run's rejects and the load goes on.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from etl.climate import ClimateInputs, read_climate
from etl.dhis2.facility import FacilityFacts, FacilityResolved, facility_facts, resolve_facility
from etl.dhis2.facts import Facts, facts
from etl.dhis2.folder import ExportFiles, export_files
from etl.dhis2.mapping import Mapping, MappingError, Resolved, read_mapping, resolve
from etl.dhis2.metadata import read_metadata
from etl.dhis2.normalize import Normalized, normalize
from etl.dhis2.problems import REJECTED, Dhis2Error, Problem
from etl.dhis2.registrations import Registrations, read_registrations
from etl.load import LoadError
from etl.progress import Progress
from indicators import catalogue, geography
from indicators import warehouse as wh
from indicators.admin import admin_values, triangulation

DHIS2 = "dhis2"
FACILITY = "facility"
LOAD_STEPS = 7
MAPPING_NAMES = ("mapping.yaml", "mapping.yml")


@dataclass
class Dhis2LoadResult:
    """What a DHIS2 load did: run id, as-of date, files, accounting, problems."""

    run_id: int
    as_of: date
    as_of_origin: str
    mapping: str
    files: ExportFiles
    accounting: dict[str, dict]
    problems: list[Problem] = field(default_factory=list)
    indicator_rows: int = 0
    facility_rows: int = 0  # published facility environment rows (0 without the section)

    def report(self) -> dict:
        """The `--report` JSON: as-of date, accounting per file and every rejected record."""
        return {
            "as_of": self.as_of.isoformat(),
            "mapping": self.mapping,
            "files": self.accounting,
            "ignored": [{"file": str(p), "reason": r} for p, r in self.files.ignored],
            "rejects": [
                {"file": p.file, "position": p.position, "rule": p.code, "reason": p.reason}
                for p in self.problems
                if p.outcome == REJECTED
            ],
        }


def mapping_path(folder: Path, mapping: Path | None) -> Path:
    """`--mapping FILE`, else `mapping.yaml` in the folder."""
    if mapping is not None:
        return mapping
    for name in MAPPING_NAMES:
        if (folder / name).is_file():
            return folder / name
    raise LoadError(
        f"{folder}: no mapping.yaml; write one (start from etl/dhis2/mapping.yaml) or pass "
        "--mapping FILE"
    )


def load_dhis2(
    folder: Path,
    url: str | None = None,
    mapping: Path | None = None,
    as_of: date | None = None,
    progress: Progress | None = None,
) -> Dhis2LoadResult:
    """Load one folder of DHIS2 exports and rebuild every `dhis2` indicator from it."""
    progress = progress or Progress(LOAD_STEPS, quiet=True)
    folder = Path(folder)
    engine = wh.engine(url)
    started = wh.now()
    source = str(folder)
    try:
        with wh.load_lock(engine):
            run_id = wh.start_run(engine, started, source, kind=DHIS2)
            try:
                return _load(folder, mapping, engine, as_of, progress, started, run_id)
            except (Dhis2Error, MappingError, LoadError) as error:
                wh.record_failure(engine, started, source, str(error), run_id, kind=DHIS2)
                raise LoadError(str(error)) from error
            except Exception as error:
                message = f"{type(error).__name__}: {error}"
                wh.record_failure(engine, started, source, message, run_id, kind=DHIS2)
                raise
    except wh.LoadInProgress as error:
        wh.record_failure(engine, started, source, str(error), kind=DHIS2)
        raise LoadError(str(error)) from error


def _load(
    folder: Path,
    mapping_file: Path | None,
    engine: sa.Engine,
    as_of: date | None,
    progress: Progress,
    started: datetime,
    run_id: int,
) -> Dhis2LoadResult:
    with progress.step("reading the mapping and the metadata"):
        path = mapping_path(folder, mapping_file)
        mapping = read_mapping(path)
        climate_paths = _climate_files(folder, mapping)
        files = _files(folder, mapping.files, path, climate_paths)
        meta = read_metadata(files.metadata)
        resolved = resolve(mapping, meta)
        section = resolve_facility(mapping, meta, resolved)
    with progress.step("reading the data values"):
        normalized = normalize(files.data_values, meta)
        if normalized.errors:
            more = f" (and {len(normalized.errors) - 1} more)" if len(normalized.errors) > 1 else ""
            raise LoadError(f"{normalized.errors[0]}{more}; nothing was loaded")
        registrations = [read_registrations(p) for p in files.registrations]
    with progress.step("mapping values and registrations"):
        elements = section.elements["data_element"].to_list() if section else []
        found = facts(normalized, registrations, resolved, meta, elements)
        as_of, origin = (as_of, "option") if as_of else (found.as_of, "data")
        if as_of is None:
            raise LoadError(f"{folder}: no monthly dose values for the mapped data elements")
    with progress.step("computing administrative indicators"):
        values = admin_values(found.inputs, as_of)
        registry = wh.read_dose_counts(engine)
        values = pl.concat([values, triangulation(values, registry)])
    label = (
        "reading the facility reports and the climate file"
        if section
        else ("facility reports: the mapping has no facility section (facility data kept)")
    )
    with progress.step(label):
        reports, climate = _facility_inputs(normalized, section, found, climate_paths, resolved)
    with progress.step("computing facility environment indicators" if section else
                       "facility environment indicators: none to compute"):  # fmt: skip
        tables, facility_values = _environment(reports, climate, as_of)
    with progress.step("writing the warehouse"):
        problems = [*meta.problems, *normalized.problems, *_registration_problems(registrations),
                    *found.problems, *(reports.problems if reports else []),
                    *(climate.problems if climate else [])]  # fmt: skip
        accounting = _accounting(folder, files, normalized, registrations, found, reports,
                                 climate)  # fmt: skip
        run = {
            "started_at": started, "source": str(folder), "as_of": as_of,
            "as_of_origin": origin, "inputs": _inputs([path, *files.all(), *climate_paths]),
            "accounting": accounting,
        }  # fmt: skip
        districts = resolved.districts["district"].unique().to_list()
        published = values
        if facility_values is not None:
            published = pl.concat([values, facility_values.select(values.columns)],
                                  how="vertical_relaxed")  # fmt: skip
        wh.replace_results(
            engine, run, published, rejects_frame(problems, folder),
            geography.org_units(districts), catalogue.as_frame(), run_id, source=DHIS2,
            facility=tables,
        )  # fmt: skip
    facility_rows = facility_values.height if facility_values is not None else 0
    return Dhis2LoadResult(run_id, as_of, origin, str(path), files, accounting, problems,
                           values.height, facility_rows)  # fmt: skip


def _climate_files(folder: Path, mapping: Mapping) -> list[Path]:
    """The files the mapping's `facility.climate` patterns name (none without a section)."""
    if mapping.facility is None or not mapping.facility.climate:
        return []
    patterns = mapping.facility.climate
    found = sorted({p for pattern in patterns for p in folder.glob(pattern) if p.is_file()})
    if not found:
        raise LoadError(f"{folder}: no climate file matches {', '.join(patterns)} "
                        "(the mapping's facility.climate)")  # fmt: skip
    return found


def _facility_inputs(
    normalized: Normalized, section: FacilityResolved | None, found: Facts,
    climate_paths: list[Path], resolved: Resolved,
) -> tuple[FacilityFacts | None, ClimateInputs | None]:  # fmt: skip
    if section is None:
        return None, None
    dosed = found.inputs.doses["org_unit"].unique().to_list()
    reports = facility_facts(normalized, section, dosed)
    districts = resolved.districts["district"].unique().to_list()
    return reports, read_climate(climate_paths, districts)


def _environment(
    reports: FacilityFacts | None, climate: ClimateInputs | None, as_of: date
) -> tuple[dict[str, pl.DataFrame] | None, pl.DataFrame | None]:
    """The three facility tables and the published `facility` rows (None without reports)."""
    if reports is None or climate is None:
        return None, None
    from indicators import environment

    months, values = environment.build(reports.facilities, reports.months, climate.frame, as_of)
    tables = {"facilities": reports.facilities, "facility_months": months,
              "climate_months": climate.frame}  # fmt: skip
    return tables, values


def _files(folder: Path, patterns: dict[str, tuple[str, ...]], mapping: Path,
           climate: list[Path]) -> ExportFiles:  # fmt: skip
    if not folder.is_dir():
        raise LoadError(f"{folder}: not a folder")
    files = export_files(folder, patterns, {mapping.resolve(), *(p.resolve() for p in climate)})
    if not files.metadata:
        raise LoadError(f"{folder}: no DHIS2 metadata export (org units, data elements, ...)")
    if not files.data_values:
        raise LoadError(f"{folder}: no DHIS2 data value export")
    return files


def _registration_problems(registrations: list[Registrations]) -> list[Problem]:
    return [p for r in registrations for p in r.problems]


def _relative(folder: Path, file: str) -> str:
    try:
        return str(Path(file).relative_to(folder))
    except ValueError:
        return file


def _accounting(
    folder: Path,
    files: ExportFiles,
    normalized: Normalized,
    registrations: list[Registrations],
    found: Facts,
    reports: FacilityFacts | None = None,
    climate: ClimateInputs | None = None,
) -> dict[str, dict]:
    """Per file: rows read = loaded + rejected (+ 0 duplicates: a repeated key is kept with
    a warning and counted once), with the values used and those outside the mapping; a
    file with facility report values also says where those went (`facility`: values =
    loaded + rejected + duplicates + blank), and each climate file has its own rows."""
    mapped_rejects: dict[str, int] = {}
    for problem in [*found.problems, *(reports.problems if reports else [])]:
        mapped_rejects[problem.file] = mapped_rejects.get(problem.file, 0) + 1
    counts = reports.counts if reports else {}
    out: dict[str, dict] = {}
    for s in normalized.files:
        extra = mapped_rejects.get(s.file, 0)
        facility = counts.get(s.file, {})
        out[_relative(folder, s.file)] = {
            "kind": s.kind, "rows_read": s.records, "rows_loaded": s.rows - extra,
            "rows_rejected": s.rejected + extra, "duplicates": 0, "warnings": s.warnings,
            "used": found.used.get(s.file, 0) + facility.get("loaded", 0),
            "outside_mapping": found.unused.get(s.file, 0),
            **({"facility": facility} if facility else {}),
        }  # fmt: skip
    for path, r in zip(files.registrations, registrations, strict=True):
        rejected = sum(p.outcome == REJECTED for p in r.problems)
        extra = mapped_rejects.get(str(path), 0)
        out[_relative(folder, str(path))] = {
            "kind": "registrations", "rows_read": r.records, "rows_loaded": r.table.height - extra,
            "rows_rejected": rejected + extra, "duplicates": 0,
        }  # fmt: skip
    for path in files.metadata:
        out[_relative(folder, str(path))] = {"kind": "metadata"}
    for file, account in (climate.files if climate else {}).items():
        out[_relative(folder, file)] = account
    return out


def _inputs(paths: list[Path]) -> list[dict]:
    """Name, size and SHA-256 of each file read."""
    entries = []
    for path in paths:
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        entries.append({"name": path.name, "size": path.stat().st_size, "sha256": digest})
    return entries


def _line(position: str) -> int:
    """The number a position ends with (`line 7`, `$.dataValues[3]`), else 0."""
    match = re.search(r"(\d+)\D*$", position)
    return int(match.group(1)) if match and len(match.group(1)) < 10 else 0


def rejects_frame(problems: list[Problem], folder: Path) -> pl.DataFrame:
    """Rejected records as the warehouse's rejects rows: `line` is the number in the
    position, `values` holds the position itself and the reason."""
    rows = [
        (_relative(folder, p.file)[:200], _line(p.position), p.code[:64],
         json.dumps({"position": p.position, "reason": p.reason}, ensure_ascii=False))
        for p in problems
        if p.outcome == REJECTED
    ]  # fmt: skip
    schema = {"file": pl.String, "line": pl.Int64, "rule": pl.String, "values": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")
