"""Read a registry export folder into validated `children` and `vaccinations` tables.

The input contract is `../shared/spec/registry-export.md`. This module only reads and checks:
it writes nothing, so a fatal `RegistryError` (a file unreadable, a required file or column
missing, a broken manifest) leaves everything already loaded untouched.

Every input row ends up in exactly one place: loaded, rejected (once, with the FIRST rule it
breaks in `CHILDREN_RULES` / `VACCINATIONS_RULES` order, its line and its raw values) or, for
doses only, counted as a duplicate. So `rows_read == rows_loaded + rows_rejected + duplicates`.

Decisions the spec leaves open:

- Line numbers. CSV: line = data row index + 2 (the header is line 1). A quoted field holding
  a newline spans several physical lines; the numbers of the rows after it then count records,
  not physical lines. Parquet: line = 1-based row number.
- Duplicate doses (same `health_id` and `vaccine` among rows that broke no rule): the earliest
  `dose_date` is loaded (ties: the lowest line); the others are only counted
  (`FileAccount.duplicates`) and are not listed in `rejects`.
- Raw values in `rejects.values`: a JSON object of the whole input row (unknown columns too),
  keyed by the normalised (trimmed, lower-case) column names, values as read (untrimmed);
  a Parquet null is JSON null.
- Typed Parquet columns: a Date column is used as it is, a Datetime column by its date, any
  other type as its text. Rejected rows show typed values as text.
- Codes (`adm1_code`, `adm2_code`, `health_id`) are compared exactly, after trimming; only the
  dose code, sex and disability are case-insensitive, as the spec says.
- `as_of` from the data is the latest valid date of any row, rejected rows included, because
  the date rules need it before they can run (a far-future typo would move it: the ETL says
  when it used this fallback).
- A CSV row with more fields than the header is rejected (`field_count`, the first rule of
  both files) rather than failing the file; a row with fewer fields has its missing
  trailing cells empty, and is then judged by the other rules.
- `ignored_columns` and `accounts` are keyed by table ("children", "vaccinations"); `rejects`
  names the file ("children.csv").

Scale: a national extract is about 5.5 M children and 60 M doses, so every check is a polars
expression over whole columns (no Python loop over rows). The doses are read, checked and
linked to their child in one streaming pass that keeps a few compact columns (`doses`), so
the raw file is never in memory whole (Parquet; a CSV is read whole first), and only
rejected rows are read again and serialised.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from etl.progress import Progress
from etl.schedule import dose_codes
from indicators import geography

CHILDREN = "children"
VACCINATIONS = "vaccinations"
MANIFEST_FILE = "manifest.json"
FORMATS = (".csv", ".parquet")
MIN_BIRTH_DATE = datetime.date(1990, 1, 1)
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

CHILDREN_SCHEMA = {
    "health_id": pl.String,
    "birth_date": pl.Date,
    "registration_date": pl.Date,
    "sex": pl.String,
    "disability": pl.String,
    "adm1_code": pl.String,
    "adm2_code": pl.String,
    "settlement_id": pl.String,
    "facility_id": pl.String,
    "death_date": pl.Date,
}
VACCINATIONS_SCHEMA = {
    "health_id": pl.String,
    "vaccine": pl.String,
    "dose_date": pl.Date,
    "facility_id": pl.String,
}
REJECTS_SCHEMA = {
    "file": pl.String,
    "line": pl.Int64,
    "rule": pl.String,
    "values": pl.String,
}
SCHEMAS = {CHILDREN: CHILDREN_SCHEMA, VACCINATIONS: VACCINATIONS_SCHEMA}
REQUIRED_COLUMNS = {
    CHILDREN: ("health_id", "birth_date", "adm1_code", "adm2_code"),
    VACCINATIONS: ("health_id", "vaccine", "dose_date"),
}

CHILDREN_RULES = (
    "field_count",
    "health_id_missing",
    "health_id_duplicate",
    "birth_date_missing",
    "birth_date_invalid",
    "birth_date_before_1990",
    "birth_date_after_as_of",
    "registration_date_invalid",
    "registration_before_birth",
    "registration_after_as_of",
    "death_date_invalid",
    "death_before_birth",
    "sex_invalid",
    "disability_invalid",
    "adm1_code_missing",
    "adm1_code_unknown",
    "adm2_code_missing",
    "adm2_code_unknown",
    "adm2_not_in_adm1",
)
VACCINATIONS_RULES = (
    "field_count",
    "health_id_missing",
    "vaccine_missing",
    "vaccine_unknown",
    "dose_date_missing",
    "dose_date_invalid",
    "child_rejected",
    "unknown_child",
    "dose_before_birth",
    "dose_after_as_of",
)

MANIFEST_MAX_BYTES = 65_536  # a manifest is three short fields
SOURCE_MAX_CHARS = 200  # the load run's `source` column

UPPER_CASE_COLUMNS = frozenset({"vaccine"})  # dose codes are case-insensitive
# Accepted spellings (lower case) → stored value; empty maps to the unknown value.
SEX_VALUES = {"f": "F", "female": "F", "m": "M", "male": "M", "u": "U"}
DISABILITY_VALUES = {"yes": "yes", "no": "no", "unknown": "unknown"}


class RegistryError(Exception):
    """The folder cannot be loaded at all; the message names the file (and column)."""


@dataclass
class FileAccount:
    """Where the rows of one input file went: read = loaded + rejected + duplicates."""

    rows_read: int
    rows_loaded: int
    rows_rejected: int
    duplicates: int


@dataclass
class RegistryExtract:
    """The validated content of one registry export folder, plus what the run report needs.

    `doses` holds the loaded doses compactly (their file line, the child's row in
    `children`, the dose code as an Enum, the date and the facility as a Categorical): at
    60 M doses, repeating each child's health_id as text would cost gigabytes.
    """

    children: pl.DataFrame
    doses: pl.DataFrame
    rejects: pl.DataFrame
    accounts: dict[str, FileAccount]
    as_of: datetime.date
    as_of_origin: str
    source: str
    inputs: list[dict[str, Any]]
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)

    @property
    def vaccinations(self) -> pl.DataFrame:
        """The loaded doses in VACCINATIONS_SCHEMA and file order (for small extracts)."""
        doses = self.doses.sort("line")
        return pl.DataFrame(
            {
                "health_id": self.children["health_id"].gather(doses["child_index"]),
                "vaccine": doses["vaccine"].cast(pl.String),
                "dose_date": doses["dose_date"],
                "facility_id": doses["facility_id"].cast(pl.String),
            },
            schema=VACCINATIONS_SCHEMA,
        )


@dataclass(frozen=True)
class _Manifest:
    as_of: datetime.date | None = None
    source: str | None = None


@dataclass(frozen=True)
class _Source:
    """One input file, as a lazy frame whose columns carry their normalised names.

    Parquet is scanned (read in streaming batches, only the columns a step needs); CSV is
    read whole first, because a row with more fields than the header must be found before
    any rule runs.
    """

    table: str
    path: Path
    frame: pl.LazyFrame
    schema: pl.Schema
    first_line: int
    ragged_lines: tuple[int, ...] = ()  # CSV lines with more fields than the header

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def ignored(self) -> list[str]:
        return [column for column in self.schema if column not in SCHEMAS[self.table]]


def read_registry(
    folder: Path, as_of: datetime.date | None = None, progress: Progress | None = None
) -> RegistryExtract:
    """Read and validate a registry export folder (see the module docstring for the rules).

    `progress` gets one step per stage: children, doses (read, checked and linked to their
    child in one streaming pass), duplicates and rejects.
    """
    progress = progress or Progress(4, quiet=True)
    folder = Path(folder)
    if not folder.is_dir():
        raise RegistryError(f"{folder}: registry folder not found")
    manifest = _read_manifest(folder / MANIFEST_FILE)
    children_src = _read_source(folder, CHILDREN)
    doses_src = _read_source(folder, VACCINATIONS)
    as_of, origin = _resolve_as_of(as_of, manifest, children_src, doses_src)
    with progress.step("reading and checking children"):
        kids = _collect(children_src, _with_rule(_normalise(children_src), _children_checks(as_of)))
        children, lookup = _split_children(kids)
        children_account, children_rejects = _account(kids), _rejects(children_src, kids)
        del kids  # the checked rows are done with: free them before the doses come in
    with progress.step("reading, checking and linking doses"):
        doses = _checked_doses(doses_src, lookup, as_of)
        del lookup
    with progress.step("finding duplicate doses"):
        doses = doses.with_columns(duplicate=_duplicates(doses, children.height))
    with progress.step("collecting rejected rows"):
        rejects = pl.concat([children_rejects, _rejects(doses_src, doses)])
    read = [children_src, doses_src]
    return RegistryExtract(
        children=children,
        doses=_loaded_doses(doses),
        rejects=rejects,
        accounts={CHILDREN: children_account, VACCINATIONS: _account(doses)},
        as_of=as_of,
        as_of_origin=origin,
        source=manifest.source or folder.resolve().name,
        inputs=_inputs([src.path for src in read] + _present(folder / MANIFEST_FILE)),
        ignored_columns={src.table: src.ignored for src in read},
    )


# --- files --------------------------------------------------------------------------------


def _read_manifest(path: Path) -> _Manifest:
    """The optional manifest; a present but broken one is fatal, not silently skipped."""
    if not path.is_file():
        return _Manifest()
    if path.stat().st_size > MANIFEST_MAX_BYTES:
        raise RegistryError(f"{path.name}: larger than {MANIFEST_MAX_BYTES:,} bytes")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else error
        raise RegistryError(f"{path.name}: not a readable JSON file ({reason})") from error
    if not isinstance(data, dict):
        raise RegistryError(f"{path.name}: must hold a JSON object")
    for key in ("as_of", "source", "extracted_at"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise RegistryError(f"{path.name}: '{key}' must be a string")
    _check_timestamp(path.name, data.get("extracted_at"))
    as_of = data.get("as_of")
    source = (data.get("source") or "").strip() or None
    if source and len(source) > SOURCE_MAX_CHARS:
        raise RegistryError(f"{path.name}: 'source' is longer than {SOURCE_MAX_CHARS} characters")
    return _Manifest(as_of=_parse_date(path.name, as_of) if as_of else None, source=source)


def _parse_date(file: str, text: str) -> datetime.date:
    """A strict YYYY-MM-DD date (fromisoformat alone also takes 20240131)."""
    try:
        if re.fullmatch(ISO_DATE, text.strip()):
            return datetime.date.fromisoformat(text.strip())
    except ValueError:
        pass
    raise RegistryError(f"{file}: 'as_of' must be a date YYYY-MM-DD, not {text!r}")


def _check_timestamp(file: str, text: str | None) -> None:
    if not text:
        return
    try:
        datetime.datetime.fromisoformat(text.strip())
    except ValueError as error:
        message = f"{file}: 'extracted_at' must be an ISO timestamp, not {text!r}"
        raise RegistryError(message) from error


def _locate(folder: Path, table: str) -> Path:
    """The one file of a table: CSV or Parquet, never both (which would be ambiguous)."""
    found = [folder / f"{table}{ext}" for ext in FORMATS if (folder / f"{table}{ext}").is_file()]
    if len(found) > 1:
        names = " and ".join(path.name for path in found)
        raise RegistryError(f"{names} both exist in {folder}: keep one")
    if not found:
        raise RegistryError(f"{table}.csv (or {table}.parquet) is missing from {folder}")
    return found[0]


def _read_source(folder: Path, table: str) -> _Source:
    path = _locate(folder, table)
    if path.suffix == ".csv":
        raw, ragged = _read_csv(path)
        frame, first_line = raw.lazy(), 2
    else:
        frame, ragged, first_line = _scan_parquet(path), (), 1
    try:
        schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as error:
        raise RegistryError(f"{path.name}: cannot be read ({_first_line(error)})") from error
    names = _normalised_names(list(schema), path.name)
    frame = frame.rename(dict(zip(schema, names, strict=True)))
    for column in REQUIRED_COLUMNS[table]:
        if column not in names:
            raise RegistryError(f"{path.name}: required column '{column}' is missing")
    schema = pl.Schema(zip(names, schema.values(), strict=True))
    return _Source(table, path, frame, schema, first_line, ragged)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _read_csv(path: Path) -> tuple[pl.DataFrame, tuple[int, ...]]:
    """Every column as text, exactly as written (polars drops a UTF-8 BOM itself), and
    the lines of the rows with more fields than the header."""
    try:
        return _polars_csv(path, ragged=False), ()
    except RaggedRows:
        frame = _polars_csv(path, ragged=True)
        return frame, _overlong_records(path, frame.height)


class RaggedRows(Exception):
    """polars found a row with more fields than the header."""


def _polars_csv(path: Path, ragged: bool) -> pl.DataFrame:
    try:
        return pl.read_csv(
            path, infer_schema=False, empty_string_is_null=False, truncate_ragged_lines=ragged
        )
    except (pl.exceptions.PolarsError, OSError) as error:
        text, reason = str(error), _first_line(error)
        if "more fields than defined" in text and not ragged:
            raise RaggedRows from error
        if "utf-8" in text.lower() or "utf8" in text.lower():
            raise RegistryError(f"{path.name}: not valid UTF-8 text ({reason})") from error
        raise RegistryError(f"{path.name}: cannot be read ({reason})") from error


def _overlong_records(path: Path, rows: int) -> tuple[int, ...]:
    """The lines of the records longer than the header. Only broken files take this slow
    path; if Python's csv module and polars disagree on the records, the file is refused."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            records = [record for record in csv.reader(handle) if record]
    except (UnicodeDecodeError, csv.Error) as error:
        raise RegistryError(f"{path.name}: cannot be read ({error})") from error
    width = len(records[0]) if records else 0
    lines = tuple(i + 2 for i, record in enumerate(records[1:]) if len(record) > width)
    if len(records) - 1 != rows:
        first = lines[0] if lines else "?"
        raise RegistryError(f"{path.name}: line {first} has more fields than the header")
    return lines


def _scan_parquet(path: Path) -> pl.LazyFrame:
    try:
        return pl.scan_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise RegistryError(f"{path.name}: cannot be read ({_first_line(error)})") from error


def _normalised_names(names: list[str], file: str) -> list[str]:
    """Trimmed lower-case column names, so `  Health_ID ` matches `health_id`."""
    normalised = [name.lstrip("\ufeff").strip().lower() for name in names]
    repeated = sorted({name for name in normalised if normalised.count(name) > 1})
    if repeated:
        raise RegistryError(f"{file}: column '{repeated[0]}' appears more than once")
    return normalised


def _present(path: Path) -> list[Path]:
    return [path] if path.is_file() else []


def _inputs(paths: list[Path]) -> list[dict[str, Any]]:
    """Name, size and SHA-256 of each file read, so a run can be traced to its exact input."""
    entries = []
    for path in sorted(paths, key=lambda p: p.name):
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        entries.append({"name": path.name, "size": path.stat().st_size, "sha256": digest})
    return entries


# --- normalising: trimmed text and parsed dates --------------------------------------------


def _normalise(source: _Source) -> pl.LazyFrame:
    """One column per schema column (absent optional ones as nulls), plus `line`.

    Date columns come with `<name>_given` (the cell was not empty), so that a missing date
    and an invalid one can be told apart. Lazy, so that it fuses with the rules into one pass.
    """
    exprs = [pl.col("line"), pl.col("line").is_in(source.ragged_lines).alias("_ragged")]
    for column, dtype in SCHEMAS[source.table].items():
        if dtype == pl.Date:
            parsed, given = _date(source, column)
            exprs += [parsed.alias(column), given.alias(f"{column}_given")]
        elif column in UPPER_CASE_COLUMNS:
            exprs.append(_text(source, column).str.to_uppercase().alias(column))
        else:
            exprs.append(_text(source, column).alias(column))
    return _numbered(source).select(exprs)


def _numbered(source: _Source) -> pl.LazyFrame:
    """The file with its line numbers (UInt32, enough for 4 billion rows)."""
    return source.frame.with_row_index("line", offset=source.first_line)


def _text(source: _Source, column: str) -> pl.Expr:
    """Trimmed text, null when empty or when the (optional) column is absent."""
    if column not in source.schema:
        return pl.lit(None, dtype=pl.String)
    value = pl.col(column)
    if source.schema[column] != pl.String:
        value = value.cast(pl.String)
    trimmed = value.str.strip_chars()
    return pl.when(trimmed != "").then(trimmed)


def _date(source: _Source, column: str) -> tuple[pl.Expr, pl.Expr]:
    """(parsed date or null, cell given). Typed Parquet dates are used as they are."""
    dtype = source.schema.get(column)
    if dtype == pl.Date:
        return pl.col(column), pl.col(column).is_not_null()
    if isinstance(dtype, pl.Datetime):
        return pl.col(column).dt.date(), pl.col(column).is_not_null()
    text = _text(source, column)
    # `to_date` alone accepts 2020-1-5 and +2020-01-01; the pattern keeps it to YYYY-MM-DD.
    parsed = pl.when(text.str.contains(ISO_DATE)).then(text.str.to_date("%Y-%m-%d", strict=False))
    return parsed, text.is_not_null()


def _collect(source: _Source, frame: pl.LazyFrame, streaming: bool = False) -> pl.DataFrame:
    """Collect, blaming the file if polars cannot read it or convert one of its columns.

    Streaming reads a scanned Parquet file batch by batch, so the raw doses never sit in
    memory whole; the children use the default engine, whose row order the
    `health_id_duplicate` rule relies on.
    """
    try:
        return frame.collect(engine="streaming" if streaming else "auto")
    except (pl.exceptions.PolarsError, OSError) as error:
        raise RegistryError(f"{source.name}: cannot be read ({_first_line(error)})") from error


def _resolve_as_of(
    option: datetime.date | None, manifest: _Manifest, *sources: _Source
) -> tuple[datetime.date, str]:
    """The as-of date and where it came from: option, manifest, else the latest date seen.

    Only the date columns are read for the latter, before the rules, which need the date.
    """
    if option is not None:
        is_datetime = isinstance(option, datetime.datetime)
        return (option.date() if is_datetime else option), "option"
    if manifest.as_of is not None:
        return manifest.as_of, "manifest"
    latest: list[datetime.date] = []
    for source in sources:
        dates = [c for c, dtype in SCHEMAS[source.table].items() if dtype == pl.Date]
        latest_date = pl.max_horizontal(pl.col(dates).max())
        found = _collect(source, _normalise(source).select(latest_date), streaming=True)
        latest += [d for d in found.to_series() if d is not None]
    if not latest:
        folder = sources[0].path.parent
        raise RegistryError(
            f"{folder}: no valid date in the files to take as_of from; give it as an option "
            f"or in {MANIFEST_FILE}"
        )
    return max(latest), "data"


# --- rules -----------------------------------------------------------------------------------


def _first_broken(checks: list[tuple[str, pl.Expr]]) -> pl.Expr:
    """The id of the first rule whose condition holds (null conditions count as passed)."""
    (rule, condition), *rest = checks
    chain = pl.when(condition).then(pl.lit(rule))
    for rule, condition in rest:
        chain = chain.when(condition).then(pl.lit(rule))
    return chain.otherwise(pl.lit(None, dtype=pl.String))


def _with_rule(frame: pl.LazyFrame, checks: list[tuple[str, pl.Expr]]) -> pl.LazyFrame:
    """Add `rule`: the first rule the row breaks, null for a valid row."""
    return frame.with_columns(_first_broken(checks).alias("rule"))


def _children_checks(as_of: datetime.date) -> list[tuple[str, pl.Expr]]:
    """The children rules as (id, broken-condition), in CHILDREN_RULES order."""
    hid, birth = pl.col("health_id"), pl.col("birth_date")
    registration, death = pl.col("registration_date"), pl.col("death_date")
    sex, disability = pl.col("sex"), pl.col("disability")
    adm1, adm2 = pl.col("adm1_code"), pl.col("adm2_code")
    parent = _district_parent(adm2)
    return [
        ("field_count", pl.col("_ragged")),  # more fields than the header
        ("health_id_missing", hid.is_null()),
        ("health_id_duplicate", ~hid.is_first_distinct()),
        ("birth_date_missing", ~pl.col("birth_date_given")),
        ("birth_date_invalid", birth.is_null()),
        ("birth_date_before_1990", birth < MIN_BIRTH_DATE),
        ("birth_date_after_as_of", birth > as_of),
        ("registration_date_invalid", pl.col("registration_date_given") & registration.is_null()),
        ("registration_before_birth", registration < birth),
        ("registration_after_as_of", registration > as_of),
        ("death_date_invalid", pl.col("death_date_given") & death.is_null()),
        ("death_before_birth", death < birth),
        ("sex_invalid", _not_one_of(sex, SEX_VALUES)),
        ("disability_invalid", _not_one_of(disability, DISABILITY_VALUES)),
        ("adm1_code_missing", adm1.is_null()),
        ("adm1_code_unknown", ~adm1.is_in(sorted(geography.governorate_codes()))),
        ("adm2_code_missing", adm2.is_null()),
        ("adm2_code_unknown", parent.is_null()),
        ("adm2_not_in_adm1", parent != adm1),
    ]


def _not_one_of(column: pl.Expr, values: dict[str, str]) -> pl.Expr:
    """Given, but none of the accepted spellings (compared lower case)."""
    return column.is_not_null() & ~column.str.to_lowercase().is_in(list(values))


def _district_parent(adm2: pl.Expr) -> pl.Expr:
    """The governorate of each district code, or null when the code is not a known district.

    With the boundary pack: its district list. Without it: the p-code form `<adm1>Qnn` with a
    known governorate, the same rule as `geography.district_parent`, but vectorised.
    """
    known = geography.districts()
    if known:
        return adm2.replace_strict(known, default=None, return_dtype=pl.String)
    parent = adm2.str.extract(geography.DISTRICT_CODE.pattern, 1)
    return pl.when(parent.is_in(sorted(geography.governorate_codes()))).then(parent)


def _split_children(kids: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The loaded children in CHILDREN_SCHEMA, and the lookup the doses are linked through.

    The lookup maps each health_id to `child_index` (the child's row in the loaded
    children), `child_birth_date` and `child_loaded`: False for an id seen only on
    rejected rows, so that its doses are rejected as `child_rejected`, not `unknown_child`.
    """
    loaded = kids.filter(pl.col("rule").is_null()).select(
        pl.col("health_id"),
        pl.col("birth_date"),
        pl.col("registration_date"),
        _mapped("sex", SEX_VALUES, "U"),
        _mapped("disability", DISABILITY_VALUES, "unknown"),
        *[pl.col(c) for c in ("adm1_code", "adm2_code", "settlement_id", "facility_id")],
        pl.col("death_date"),
    )
    rejected = kids.filter(pl.col("rule").is_not_null() & pl.col("health_id").is_not_null())
    only_rejected = rejected.select("health_id").unique().join(loaded, on="health_id", how="anti")
    lookup = pl.concat([
        loaded.select(
            "health_id",
            pl.int_range(pl.len(), dtype=pl.Int32).alias("child_index"),
            pl.col("birth_date").alias("child_birth_date"),
            pl.lit(True).alias("child_loaded"),
        ),
        only_rejected.select(
            "health_id",
            pl.lit(None, dtype=pl.Int32).alias("child_index"),
            pl.lit(None, dtype=pl.Date).alias("child_birth_date"),
            pl.lit(False).alias("child_loaded"),
        ),
    ])
    return loaded.cast(CHILDREN_SCHEMA), lookup


def _mapped(column: str, values: dict[str, str], unknown: str) -> pl.Expr:
    lowered = pl.col(column).str.to_lowercase()
    return lowered.replace_strict(values, default=None, return_dtype=pl.String).fill_null(unknown)


def _dose_code() -> pl.Enum:
    return pl.Enum(sorted(dose_codes()))


def _checked_doses(source: _Source, lookup: pl.DataFrame, as_of: datetime.date) -> pl.DataFrame:
    """Every dose row, compact: line, child_index, vaccine (Enum, null when not a schedule
    code), dose_date, facility_id (Categorical) and its first broken rule (Enum).

    One streaming pass over the file does the trimming, date parsing, the join to the
    child and every rule, so only these small columns are ever held for all 60 M rows.
    """
    code = pl.col("vaccine").cast(_dose_code(), strict=False).alias("vaccine_code")
    frame = _normalise(source).join(lookup.lazy(), on="health_id", how="left")
    frame = _with_rule(frame.with_columns(code), _dose_checks(as_of))
    compact = frame.select(
        "line",
        "child_index",
        pl.col("vaccine_code").alias("vaccine"),
        "dose_date",
        pl.col("facility_id").cast(pl.Categorical),
        pl.col("rule").cast(pl.Enum(VACCINATIONS_RULES)),
    )
    return _collect(source, compact, streaming=True)


def _dose_checks(as_of: datetime.date) -> list[tuple[str, pl.Expr]]:
    """The vaccination rules as (id, broken-condition), in VACCINATIONS_RULES order."""
    dose, loaded = pl.col("dose_date"), pl.col("child_loaded")
    return [
        ("field_count", pl.col("_ragged")),  # more fields than the header
        ("health_id_missing", pl.col("health_id").is_null()),
        ("vaccine_missing", pl.col("vaccine").is_null()),
        ("vaccine_unknown", pl.col("vaccine_code").is_null()),
        ("dose_date_missing", ~pl.col("dose_date_given")),
        ("dose_date_invalid", dose.is_null()),
        ("child_rejected", ~loaded),
        ("unknown_child", loaded.is_null()),
        ("dose_before_birth", dose < pl.col("child_birth_date")),
        ("dose_after_as_of", dose > as_of),
    ]


def _duplicates(doses: pl.DataFrame, children: int) -> pl.Series:
    """`duplicate`: a valid dose repeating a (child, vaccine) pair, not the earliest one
    (lowest line on ties).

    A bincount over integer pair keys finds the repeated pairs in one pass (no hashing or
    sorting of 60 M rows); only the few rows of repeated pairs are then ranked.
    """
    valid = doses["rule"].is_null().to_numpy()
    duplicate = np.zeros(doses.height, dtype=bool)
    if not valid.any():
        return pl.Series("duplicate", duplicate)
    codes = len(_dose_code().categories)
    key_type = np.int32 if children * codes < 2**31 else np.int64
    pair = doses["child_index"].fill_null(0).to_numpy().astype(key_type) * codes
    pair += doses["vaccine"].to_physical().fill_null(0).to_numpy().astype(key_type)
    repeated = np.bincount(pair[valid], minlength=children * codes) > 1  # small to gather from
    rows = np.flatnonzero(valid & repeated[pair])
    del repeated
    if rows.size:
        shared = doses[rows].select(
            pl.Series(pair[rows]).alias("pair"),
            (pl.col("dose_date").cast(pl.Int64) * 2**32 + pl.col("line")).alias("order"),
        )
        later = shared.select(pl.col("order") != pl.col("order").min().over("pair"))
        duplicate[rows[later.to_series().to_numpy()]] = True
    return pl.Series("duplicate", duplicate)


def _loaded_doses(doses: pl.DataFrame) -> pl.DataFrame:
    kept = doses.filter(pl.col("rule").is_null() & ~pl.col("duplicate"))
    return kept.select("line", "child_index", "vaccine", "dose_date", "facility_id")


# --- accounting and rejects ------------------------------------------------------------------


def _account(checked: pl.DataFrame) -> FileAccount:
    counts = checked.select(
        pl.len().alias("read"),
        pl.col("rule").is_not_null().sum().alias("rejected"),
        (pl.col("duplicate").sum() if "duplicate" in checked.columns else pl.lit(0)).alias("dup"),
    ).row(0, named=True)
    loaded = counts["read"] - counts["rejected"] - counts["dup"]
    return FileAccount(counts["read"], loaded, counts["rejected"], counts["dup"])


def _rejects(source: _Source, checked: pl.DataFrame) -> pl.DataFrame:
    """The rejected rows of one file: file, line, rule and the raw row as JSON, by line.

    The raw rows are read again from the file, so that only rejected ones are ever held.
    """
    broken = checked.filter(pl.col("rule").is_not_null()).select(
        "line", pl.col("rule").cast(pl.String)
    )
    if broken.is_empty():
        return pl.DataFrame(schema=REJECTS_SCHEMA)
    raw = pl.struct(pl.col(list(source.schema)).cast(pl.String)).struct.json_encode()
    rows = _numbered(source).join(broken.lazy(), on="line", how="inner")
    rows = rows.select(pl.lit(source.name).alias("file"), "line", "rule", raw.alias("values"))
    return _collect(source, rows, streaming=True).sort("line").cast(REJECTS_SCHEMA)
