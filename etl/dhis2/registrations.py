"""Complete data set registrations (§1.5): the reports behind completeness and timeliness.

Read from `/api/completeDataSetRegistrations` JSON or CSV (header by alias, any case and
padding; without a header the columns are `dataSet, period, orgUnit,
attributeOptionCombo, date, storedBy, completed`). A registration without `completed` counts
as complete (older servers have no such flag); without `attributeOptionCombo` it is in the
default one. `with_timeliness` adds whether each report came within the data set's
`timelyDays` after the period's last day, the rule DHIS2 uses for "on time".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from etl.dhis2.metadata import DEFAULT_COC
from etl.dhis2.periods import PeriodError, parse_period
from etl.dhis2.problems import KEPT, Dhis2Error, Problem
from etl.dhis2.source import JSON, csv_records, decode, key, load_json, read_bytes, sniff
from etl.dhis2.values import as_text, parse_bool

ALIASES = {
    "dataset": "data_set",
    "period": "period",
    "orgunit": "org_unit",
    "organisationunit": "org_unit",
    "attributeoptioncombo": "attribute_option_combo",
    "attroptcombo": "attribute_option_combo",
    "date": "date",
    "completedate": "date",
    "storedby": "stored_by",
    "completed": "completed",
}
POSITIONAL = ("data_set", "period", "org_unit", "attribute_option_combo", "date", "stored_by",
              "completed")  # fmt: skip
SCHEMA: dict[str, Any] = {
    "data_set": pl.String,
    "period": pl.String,
    "period_type": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "org_unit": pl.String,
    "attribute_option_combo": pl.String,
    "date": pl.Date,
    "stored_by": pl.String,
    "completed": pl.Boolean,
    "source_file": pl.String,
}


@dataclass
class Registrations:
    """Registrations read (`records == table.height + rejected problems`)."""

    table: pl.DataFrame
    records: int = 0
    problems: list[Problem] = field(default_factory=list)


def read_registrations(path: Path) -> Registrations:
    """Read one registrations file; raises `Dhis2Error` when it cannot be read at all."""
    file = str(path)
    data = read_bytes(path)
    text = decode(file, data)
    if sniff(path, data) == JSON:
        records = _json_records(file, load_json(file, text))
    else:
        records = _csv_records(file, text)
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    count = 0
    for position, fields in records:
        count += 1
        row = _row(file, position, fields, problems)
        if row is not None:
            rows.append(row)
    table = pl.DataFrame(rows, schema=SCHEMA)
    return Registrations(table, count, problems)


def _json_records(file: str, doc: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    items = doc.get("completeDataSetRegistrations") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise Dhis2Error(file, "JSON without a `completeDataSetRegistrations` list")
    for index, item in enumerate(items):
        position = f"$.completeDataSetRegistrations[{index}]"
        if not isinstance(item, dict):
            yield position, {"_error": "not an object"}
            continue
        fields: dict[str, Any] = {}
        for name, value in item.items():
            canonical = ALIASES.get(key(name))
            if canonical and canonical not in fields:
                fields[canonical] = value.get("id") if isinstance(value, dict) else value
        yield position, fields


def _csv_records(file: str, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    columns: list[str | None] | None = None
    for line, cells in csv_records(file, text):
        if columns is None:
            mapped = [ALIASES.get(key(cell)) for cell in cells]
            if sum(m is not None for m in mapped) >= 2:
                columns = mapped
                continue
            columns = list(POSITIONAL)
        if len(cells) > len(columns):
            yield f"line {line}", {"_error": f"{len(cells)} fields, more than {len(columns)}"}
            continue
        yield f"line {line}", {c: v for c, v in zip(columns, cells, strict=False) if c}


def _row(
    file: str, position: str, fields: dict[str, Any], problems: list[Problem]
) -> dict[str, Any] | None:
    def reject(code: str, reason: str) -> None:
        problems.append(Problem(file, position, code, reason))

    if "_error" in fields:
        reject("record_malformed", fields["_error"])
        return None
    try:
        text = {name: as_text(value) for name, value in fields.items() if name != "completed"}
    except TypeError as error:
        reject("field_not_text", str(error))
        return None
    for name in ("data_set", "period", "org_unit"):
        if not text.get(name):
            reject(f"{name}_missing", f"no {name.replace('_', ' ')}")
            return None
    try:
        period = parse_period(text["period"] or "")
    except PeriodError as error:
        reject("period_invalid", f"{error.reason}: {text['period']!s:.40}")
        return None
    return {
        "data_set": text["data_set"], "period": period.iso, "period_type": period.period_type,
        "period_start": period.start, "period_end": period.end, "org_unit": text["org_unit"],
        "attribute_option_combo": text.get("attribute_option_combo") or DEFAULT_COC,
        "date": _date(file, position, text.get("date"), problems),
        "stored_by": text.get("stored_by"),
        "completed": _completed(file, position, fields.get("completed"), problems),
        "source_file": file,
    }  # fmt: skip


def _date(file: str, position: str, text: str | None, problems: list[Problem]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        reason = f"registration date {text[:40]!r} is not yyyy-MM-dd; left empty"
        problems.append(Problem(file, position, "date_invalid", reason, KEPT))
        return None


def _completed(file: str, position: str, raw: Any, problems: list[Problem]) -> bool:
    if raw is None or raw == "":
        return True
    flag = parse_bool(raw)
    if flag is None:
        reason = f"completed {str(raw)[:40]!r} is not a boolean; read true"
        problems.append(Problem(file, position, "completed_invalid", reason, KEPT))
        return True
    return flag


def with_timeliness(registrations: pl.DataFrame, data_sets: pl.DataFrame) -> pl.DataFrame:
    """Add `timely_days`, `due_date` (period end + timelyDays) and `on_time` (date <= due).

    `data_sets` is `Metadata.data_sets`; a data set it lacks gets nulls.
    """
    days = data_sets.select(pl.col("uid").alias("data_set"), "timely_days")
    return (
        registrations.join(days, on="data_set", how="left")
        .with_columns(
            (pl.col("period_end") + pl.duration(days=pl.col("timely_days"))).alias("due_date")
        )
        .with_columns((pl.col("date") <= pl.col("due_date")).alias("on_time"))
    )
