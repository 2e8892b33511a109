"""Any mix of DHIS2 aggregate exports -> one canonical long table of data values.

`normalize(paths, metadata)` reads dataValueSets (JSON, DXF2 XML, CSV, ADX) and analytics
responses whose dimensions are data, period and org unit (`dx,pe,ou[,co,ao]`); the format
comes from the content, else the extension. A regular JSON data value set is judged
column-wise by `etl.dhis2.fast_values` with exactly these rules; any other file record by
record. The result has exactly `COLUMNS`, one row per data value. Every record read is
either a row or a rejected `Problem` (file, position, reason): `records == rows +
rejected` per file; warnings are kept rows with a note.

Record rules, in order (the first broken one rejects the record): a readable shape; text
fields; `data_element`, `period`, `org_unit` present; a DHIS2 data period; with metadata,
a known data element, org unit and category/attribute option combo (looked up by uid, then
code; each check only when the metadata holds that kind of object); a number where the data
element's value type wants one. Decisions where the reference is silent:

- `value` is the number in `value_raw`, else null. Without metadata a non-numeric value is
  kept (null) with a `value_not_numeric` warning; with metadata, BOOLEAN/TRUE_ONLY values are
  1/0 (as DHIS2 analytics counts them), text-like types are kept without a warning, and a
  non-number for a numeric type is rejected.
- An empty value is kept with a `value_missing` warning unless the row is deleted.
- `deleted=true` rows are kept with `deleted` true: consumers filter them (DHIS2 only exports
  them with `includeDeleted`). `followup`/`deleted` default to false.
- Identifiers given as codes are written as the metadata's uids; without metadata, as read.
- `created` and `last_updated` stay as the text DHIS2 wrote (its formats vary).
- The same data element/period/org unit/COC/AOC twice (deleted rows aside) is kept with a
  `duplicate_value` warning naming the first occurrence (a DHIS2 import keeps the last).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from etl.dhis2.analytics import Grid, json_grid
from etl.dhis2.analytics import grid_of as analytics_grid
from etl.dhis2.datavalues import RawRecord, ShapeError, csv_records_of, json_records, xml_records
from etl.dhis2.fast_values import fast_json
from etl.dhis2.metadata import DEFAULT_COC, TYPES, Metadata, MetadataIndex
from etl.dhis2.periods import Period, PeriodError, parse_adx_period, parse_period
from etl.dhis2.problems import KEPT, Dhis2Error, Problem
from etl.dhis2.source import CSV, JSON, csv_records, decode, key, load_json, read_bytes, sniff
from etl.dhis2.values import BOOLEAN_TYPES, NUMERIC_TYPES, as_text, parse_bool, parse_number

SCHEMA: dict[str, Any] = {
    "data_element": pl.String,
    "period": pl.String,
    "period_type": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "org_unit": pl.String,
    "category_option_combo": pl.String,
    "attribute_option_combo": pl.String,
    "value": pl.Float64,
    "value_raw": pl.String,
    "stored_by": pl.String,
    "created": pl.String,
    "last_updated": pl.String,
    "comment": pl.String,
    "followup": pl.Boolean,
    "deleted": pl.Boolean,
    "source_file": pl.String,
}
COLUMNS = tuple(SCHEMA)
KEY = ("data_element", "period", "org_unit", "category_option_combo", "attribute_option_combo")
TRACKER_KEYS = ("trackedEntities", "trackedEntityInstances", "instances", "events", "enrollments")
ANALYTICS_COLUMNS = {"dx", "pe", "ou", "co", "ao", "value", "numerator", "denominator", "factor",
                     "multiplier", "divisor"}  # fmt: skip


@dataclass
class FileSummary:
    """What one file gave: `records == rows + rejected`; `error` when it was unreadable."""

    file: str
    kind: str = "unknown"
    records: int = 0
    rows: int = 0
    numeric: int = 0
    rejected: int = 0
    warnings: int = 0
    error: str | None = None


@dataclass
class Normalized:
    """The canonical table, every problem, and a summary per file; `positions` holds each
    row's position in its file (aligned with `table`), for problems found later."""

    table: pl.DataFrame
    problems: list[Problem] = field(default_factory=list)
    files: list[FileSummary] = field(default_factory=list)
    positions: pl.Series = field(default_factory=lambda: pl.Series("position", [], pl.String))

    @property
    def errors(self) -> list[str]:
        """One line per unreadable file."""
        return [f"{s.file}: {s.error}" for s in self.files if s.error]


def normalize(paths: Sequence[Path | str], metadata: Metadata | None = None) -> Normalized:
    """Normalize every file; an unreadable file is summarised with its error, others go on."""
    index = metadata.index if metadata is not None else None
    tables, problems, files = [], [], []
    for path in paths:
        try:
            table, found, summary = _normalize_file(Path(path), index)
        except Dhis2Error as error:
            files.append(FileSummary(str(path), error=error.reason))
            problems.append(Problem(str(path), "", "file_unreadable", error.reason))
            continue
        tables.append(table)
        problems.extend(found)
        files.append(summary)
    return _finish(tables, problems, files)


def normalize_file(path: Path | str, metadata: Metadata | None = None) -> Normalized:
    """One file; raises `Dhis2Error` when it cannot be read at all."""
    index = metadata.index if metadata is not None else None
    table, problems, summary = _normalize_file(Path(path), index)
    return _finish([table], problems, [summary])


def _finish(
    tables: list[pl.DataFrame], problems: list[Problem], files: list[FileSummary]
) -> Normalized:
    """One table, with repeated keys flagged across all files."""
    table = pl.concat(tables) if tables else _empty()
    duplicates = _duplicates(tables, table)
    for summary in files:
        summary.warnings += sum(p.file == summary.file for p in duplicates)
    positions = table["_position"].alias("position")
    return Normalized(table.select(COLUMNS), [*problems, *duplicates], files, positions)


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={**SCHEMA, "_position": pl.String})


def _normalize_file(
    path: Path, index: MetadataIndex | None, fast: bool = True
) -> tuple[pl.DataFrame, list[Problem], FileSummary]:
    file = str(path)
    data = read_bytes(path)
    if fast and sniff(path, data) == JSON:
        done = _fast_json(file, decode(file, data).encode("utf-8"), index)
        if done is not None:
            return done
    kind, records = _records(path, file, data)
    builder = _Builder(file, index)
    for record in records:
        builder.add(record)
    summary = FileSummary(
        file,
        kind,
        records=builder.records,
        rows=len(builder.rows),
        numeric=sum(row[8] is not None for row in builder.rows),
        rejected=sum(p.outcome != KEPT for p in builder.problems),
        warnings=sum(p.outcome == KEPT for p in builder.problems),
    )
    return builder.frame(), builder.problems, summary


def _fast_json(
    file: str, data: bytes, index: MetadataIndex | None
) -> tuple[pl.DataFrame, list[Problem], FileSummary] | None:
    """A regular JSON data value set read column-wise (`etl.dhis2.fast_values`), else None."""
    found = fast_json(file, data, index)
    if found is None:
        return None
    table, problems, records = found
    summary = FileSummary(
        file, "dataValueSet JSON", records=records, rows=table.height,
        numeric=table["value"].is_not_null().sum(),
        rejected=sum(p.outcome != KEPT for p in problems),
        warnings=sum(p.outcome == KEPT for p in problems),
    )  # fmt: skip
    return table.select(*SCHEMA, "_position").cast(SCHEMA), problems, summary


# --- format detection ---------------------------------------------------------------------


def _records(path: Path, file: str, data: bytes) -> tuple[str, Iterator[RawRecord]]:
    fmt = sniff(path, data)
    if fmt == JSON:
        return _json_records(file, load_json(file, decode(file, data)))
    if fmt == CSV:
        return _csv_kind(file, data)
    head = data[:4096].decode("utf-8", "ignore")
    if "<metadata" in head:
        raise Dhis2Error(file, "DHIS2 metadata, not data values: pass it with --metadata")
    kind = "ADX" if "urn:ihe:qrph:adx" in head or "<adx" in head else "dataValueSet XML"
    return kind, _guarded(file, xml_records(data, file))


def _guarded(file: str, records: Iterator[RawRecord]) -> Iterator[RawRecord]:
    try:
        yield from records
    except ShapeError as error:
        raise Dhis2Error(file, str(error)) from error


def _json_records(file: str, doc: Any) -> tuple[str, Iterator[RawRecord]]:
    if isinstance(doc, dict):
        keys = set(doc)
        if "headers" in keys and "rows" in keys:
            return "analytics JSON", _analytics_records(file, json_grid(file, doc))
        if "httpStatus" in keys:
            raise Dhis2Error(file, f"a DHIS2 error response: {doc.get('message')!s:.200}")
        if "dataValues" not in keys and "dataValueSets" not in keys:
            raise Dhis2Error(file, _wrong_kind(keys))
    return "dataValueSet JSON", _guarded(file, json_records(doc))


def _wrong_kind(keys: set[Any]) -> str:
    if keys & set(TRACKER_KEYS):
        return "a tracker export, not aggregate data values: read it with etl.dhis2.tracker"
    if "completeDataSetRegistrations" in keys:
        return "data set registrations, not data values: read them with etl.dhis2.registrations"
    if keys & set(TYPES):
        return "DHIS2 metadata, not data values: pass it with --metadata"
    return "JSON without `dataValues`: not a data value set"


def _csv_kind(file: str, data: bytes) -> tuple[str, Iterator[RawRecord]]:
    text = decode(file, data)
    first = next(csv_records(file, text), None)
    if first is None:
        return "CSV", iter(())
    keys = {key(name) for name in first[1]}
    if {"event", "programstage", "trackedentity", "trackedentityinstance"} & keys:
        raise Dhis2Error(file, "a tracker CSV, not aggregate data values: use etl.dhis2.tracker")
    if "dataelement" not in keys:
        if "uid" in keys and ({"parent", "name"} & keys):
            raise Dhis2Error(file, "DHIS2 metadata CSV, not data values: pass it with --metadata")
        if "dataset" in keys:
            raise Dhis2Error(file, "data set registrations: read them with etl.dhis2.registrations")
        if "data" in keys:
            grid = analytics_grid(file, data, CSV)
            return "analytics CSV", _analytics_records(file, grid)
    return "dataValueSet CSV", _guarded(file, csv_records_of(file, text))


def _analytics_records(file: str, grid: Grid) -> Iterator[RawRecord]:
    names = list(grid.names)
    extra = [n for n in names if n not in ANALYTICS_COLUMNS]
    missing = [n for n in ("dx", "pe", "ou", "value") if n not in names]
    if extra or missing:
        has = f" with {', '.join(extra)[:120]}" if extra else ""
        lacks = f" without {', '.join(missing)}" if missing else ""
        reason = f"analytics{has}{lacks}: not a data value table (read it with etl.dhis2.analytics)"
        raise Dhis2Error(file, reason)
    mapping = {"dx": "data_element", "pe": "period", "ou": "org_unit", "value": "value",
               "co": "category_option_combo", "ao": "attribute_option_combo"}  # fmt: skip
    return _analytics_rows(grid.rows, names, mapping)


def _analytics_rows(
    rows: Iterator[tuple[str, list[str | None]]], names: list[str], mapping: dict[str, str]
) -> Iterator[RawRecord]:
    for position, cells in rows:
        if len(cells) != len(names):
            yield RawRecord(position, {}, error=f"{len(cells)} cells for {len(names)} headers")
            continue
        fields = {mapping[n]: c for n, c in zip(names, cells, strict=True) if n in mapping}
        yield RawRecord(position, {"stored_by": "[aggregated]", **fields})


# --- judging records ----------------------------------------------------------------------


class _Reject(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class _Builder:
    """Accumulates the rows (as tuples, in `SCHEMA` order) and the problems of one file."""

    def __init__(self, file: str, index: MetadataIndex | None) -> None:
        self.file = file
        self.index = index
        self.records = 0
        self.rows: list[tuple[Any, ...]] = []
        self.problems: list[Problem] = []

    def add(self, record: RawRecord) -> None:
        self.records += 1
        try:
            row, notes = self._row(record)
        except _Reject as reject:
            self.problems.append(Problem(self.file, record.position, reject.code, reject.reason))
            return
        self.rows.append(row)
        for code, reason in [*record.notes, *notes]:
            self.problems.append(Problem(self.file, record.position, code, reason, KEPT))

    def frame(self) -> pl.DataFrame:
        schema = {**SCHEMA, "_position": pl.String}
        return pl.DataFrame(self.rows, schema=schema, orient="row")

    def _row(self, record: RawRecord) -> tuple[tuple[Any, ...], list[tuple[str, str]]]:
        if record.error:
            raise _Reject("record_malformed", record.error)
        text = _texts(record.fields)
        for name in ("data_element", "period", "org_unit"):
            if not text.get(name):
                raise _Reject(f"{name}_missing", f"no {name.replace('_', ' ')}")
        period = _period(text["period"], record.adx)
        data_element = self._resolve(text["data_element"], "data_element")
        org_unit = self._resolve(text["org_unit"], "org_unit")
        coc = self._combo(record, "category_option_combo", "category_options")
        aoc = self._combo(record, "attribute_option_combo", "attribute_options")
        notes: list[tuple[str, str]] = []
        followup = _flag(record.fields.get("followup"), "followup", notes)
        deleted = _flag(record.fields.get("deleted"), "deleted", notes)
        value = self._value(text.get("value"), data_element, deleted, notes)
        row = (  # in SCHEMA order, then the position
            data_element, period.iso, period.period_type, period.start, period.end, org_unit,
            coc, aoc, value, text.get("value"), text.get("stored_by"), text.get("created"),
            text.get("last_updated"), text.get("comment"), followup, deleted, self.file,
            record.position,
        )  # fmt: skip
        return row, notes

    def _resolve(self, text: str, name: str) -> str:
        index = self.index
        if index is None:
            return text
        table, check = {
            "data_element": (index.data_elements, index.check_data_elements),
            "org_unit": (index.org_units, index.check_org_units),
        }[name]
        if not check:
            return text
        found = table.get(text)
        if found is None:
            raise _Reject(
                f"{name}_unknown", f"{name.replace('_', ' ')} {text[:60]} not in metadata"
            )
        return found

    def _combo(self, record: RawRecord, name: str, options_name: str) -> str:
        raw = record.fields.get(name)
        options = raw if isinstance(raw, dict) else record.fields.get(options_name)
        label = name.replace("_", " ")
        if isinstance(options, dict) and options:
            return self._combo_of(options, name, label)
        try:
            text = as_text(None if isinstance(raw, dict) else raw)
        except TypeError as error:
            raise _Reject("field_not_text", f"{label} is {error}") from error
        if not text or text == DEFAULT_COC:
            return DEFAULT_COC
        index = self.index
        if index is None or not index.check_combos:
            return text
        found = index.combos.get(text)
        if found is None:
            raise _Reject(f"{name}_unknown", f"{label} {text[:60]} not in metadata")
        return found

    def _combo_of(self, options: dict[Any, Any], name: str, label: str) -> str:
        wanted = ", ".join(f"{k}={v}" for k, v in options.items())[:120]
        if self.index is None:
            raise _Reject(
                f"{name}_unresolved", f"{label} given as options ({wanted}): needs metadata"
            )
        found = self.index.combo_of_options(str(v) for v in options.values())
        if found is None:
            raise _Reject(f"{name}_unresolved", f"no {label} made of the options {wanted}")
        return found

    def _value(
        self, raw: str | None, data_element: str, deleted: bool, notes: list[tuple[str, str]]
    ) -> float | None:
        value_type = self.index.value_types.get(data_element) if self.index else None
        if raw is None:
            if not deleted:
                notes.append(("value_missing", "no value"))
            return None
        number = parse_number(raw)
        if number is not None:
            return number
        if value_type in BOOLEAN_TYPES:
            flag = parse_bool(raw)
            if flag is None or (value_type == "TRUE_ONLY" and not flag):
                raise _Reject("value_not_boolean", f"{raw[:60]!r} for a {value_type} data element")
            return 1.0 if flag else 0.0
        if value_type in NUMERIC_TYPES:
            raise _Reject("value_not_numeric", f"{raw[:60]!r} for a {value_type} data element")
        if value_type is None:
            notes.append(("value_not_numeric", f"{raw[:60]!r} is not a number; value left empty"))
        return None


def _texts(fields: dict[str, Any]) -> dict[str, str | None]:
    text: dict[str, str | None] = {}
    for name, value in fields.items():
        if name in ("category_option_combo", "attribute_option_combo", "followup", "deleted"):
            continue
        if name in ("category_options", "attribute_options"):
            continue
        try:
            text[name] = as_text(value)
        except TypeError as error:
            raise _Reject("field_not_text", f"{name.replace('_', ' ')} is {error}") from error
    return text


def _period(text: str, adx: bool) -> Period:
    parse: Callable[[str], Period] = parse_adx_period if adx else parse_period
    try:
        return parse(text)
    except PeriodError as error:
        raise _Reject("period_invalid", f"{error.reason}: {text[:40]!r}") from error


def _flag(raw: Any, name: str, notes: list[tuple[str, str]]) -> bool:
    if raw is None or raw == "":
        return False
    flag = parse_bool(raw)
    if flag is None:
        notes.append((f"{name}_invalid", f"{name} {str(raw)[:40]!r} is not a boolean; read false"))
        return False
    return flag


def _duplicates(tables: list[pl.DataFrame], table: pl.DataFrame) -> list[Problem]:
    """Repeated keys, each naming its first occurrence. Only rows whose key hash repeats
    are compared exactly: hashing millions of rows file by file and sorting the hashes
    costs far less memory than comparing the keys."""
    hashed = pl.when(~pl.col("deleted")).then(pl.struct(KEY).hash()).alias("_hash")
    if not tables:
        return []
    hashes = pl.concat([t.select(hashed) for t in tables]).to_series()
    ordered = hashes.drop_nulls().sort()
    twice = ordered.filter(ordered == ordered.shift(1))
    if twice.is_empty():
        return []
    repeated = hashes.is_in(twice.unique().implode()).fill_null(False)
    live = table.filter(repeated).select(*KEY, "source_file", "_position")
    first = live.select(pl.struct(KEY).is_first_distinct())[:, 0]
    repeats = live.filter(~first)
    if repeats.is_empty():
        return []
    originals = live.filter(first).join(repeats.select(KEY).unique(), on=KEY, nulls_equal=True)
    found = repeats.join(
        originals.rename({"source_file": "_first_file", "_position": "_first_position"}),
        on=KEY, how="left", maintain_order="left", nulls_equal=True,
    )  # fmt: skip
    return [
        Problem(file, position, "duplicate_value", f"same key as {first} {first_pos}", KEPT)
        for file, position, first, first_pos in found.select(
            "source_file", "_position", "_first_file", "_first_position"
        ).rows()
    ]


# --- writing ------------------------------------------------------------------------------


def write_table(table: pl.DataFrame, out: Path) -> None:
    """Write a CSV atomically: a temporary file beside `out`, renamed over it when complete."""
    out = Path(out)
    handle, temp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent or ".")
    os.close(handle)
    try:
        table.write_csv(temp)
        os.replace(temp, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
