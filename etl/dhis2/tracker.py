"""Tracker (individual-level) exports (§5) as flat tables: entities, enrollments, events,
attributes.

Accepted shapes: the new API's `trackedEntities` (nested enrollments/events/dataValues, or
flat `trackedEntities`/`enrollments`/`events` side by side linked by uids), the 2.36-2.40
`instances` envelope, the legacy `trackedEntityInstances`, `/api/events` JSON, and event CSV
(legacy `eventDate,dueDate,...` or new `occurredAt,scheduledAt,...`, one row per event x
data element) plus the tracked-entity CSV (one row per entity x attribute). Legacy names
are read as the new ones (trackedEntityInstance -> trackedEntity, eventDate -> occurredAt,
dueDate -> scheduledAt, enrollmentDate -> enrolledAt, incidentDate -> occurredAt,
created/lastUpdated -> createdAt/updatedAt).

`events` has one row per event x data value; an event without data values keeps one row
with `data_element` null so no event is lost. `event_date` is the date of `occurredAt` (the
day of service, i.e. the vaccination day); `tracked_entity` comes from the event, its
enclosing entity, or its enrollment. Values stay text, as DHIS2 stores them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from etl.dhis2.problems import KEPT, Dhis2Error, Problem
from etl.dhis2.source import JSON, csv_records, decode, key, load_json, read_bytes, sniff
from etl.dhis2.values import as_text, parse_bool

S, B, D = pl.String, pl.Boolean, pl.Date
SCHEMAS: dict[str, dict[str, Any]] = {
    "tracked_entities": {
        "tracked_entity": S, "tracked_entity_type": S, "org_unit": S, "created_at": S,
        "updated_at": S, "inactive": B, "deleted": B, "potential_duplicate": B,
        "source_file": S,
    },
    "enrollments": {
        "enrollment": S, "tracked_entity": S, "program": S, "org_unit": S, "status": S,
        "enrolled_at": S, "enrollment_date": D, "occurred_at": S, "deleted": B, "source_file": S,
    },
    "events": {
        "event": S, "tracked_entity": S, "enrollment": S, "program": S, "program_stage": S,
        "org_unit": S, "status": S, "occurred_at": S, "event_date": D, "scheduled_at": S,
        "deleted": B, "data_element": S, "value": S, "stored_by": S, "provided_elsewhere": B,
        "source_file": S, "position": S,
    },
    "attributes": {
        "tracked_entity": S, "attribute": S, "display_name": S, "value_type": S, "value": S,
        "source_file": S,
    },
}  # fmt: skip
NAMES = {  # key(any spelling) -> canonical field
    "trackedentity": "tracked_entity", "trackedentityinstance": "tracked_entity",
    "trackedentitytype": "tracked_entity_type", "orgunit": "org_unit", "event": "event",
    "enrollment": "enrollment", "program": "program", "programstage": "program_stage",
    "status": "status", "occurredat": "occurred_at", "eventdate": "occurred_at",
    "scheduledat": "scheduled_at", "duedate": "scheduled_at", "enrolledat": "enrolled_at",
    "enrollmentdate": "enrolled_at", "incidentdate": "occurred_at", "createdat": "created_at",
    "created": "created_at", "updatedat": "updated_at", "lastupdated": "updated_at",
    "inactive": "inactive", "deleted": "deleted", "potentialduplicate": "potential_duplicate",
    "dataelement": "data_element", "value": "value", "storedby": "stored_by",
    "storedbydatavalue": "stored_by", "providedelsewhere": "provided_elsewhere",
    "attribute": "attribute", "displayname": "display_name", "valuetype": "value_type",
}  # fmt: skip
ENVELOPES = ("trackedEntities", "trackedEntityInstances", "instances", "enrollments", "events")


@dataclass
class Tracker:
    """Flat tracker tables (columns in `SCHEMAS`); `records` counts data values (and
    value-less events) read: `records == events.height + rejected problems`."""

    tracked_entities: pl.DataFrame
    enrollments: pl.DataFrame
    events: pl.DataFrame
    attributes: pl.DataFrame
    records: int = 0
    problems: list[Problem] = field(default_factory=list)


@dataclass
class _Rows:
    file: str
    tables: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in SCHEMAS}
    )
    problems: list[Problem] = field(default_factory=list)
    records: int = 0
    te_of_enrollment: dict[str, str] = field(default_factory=dict)

    def warn(self, position: str, code: str, reason: str) -> None:
        self.problems.append(Problem(self.file, position, code, reason, KEPT))

    def reject(self, position: str, code: str, reason: str) -> None:
        self.problems.append(Problem(self.file, position, code, reason))


def read_tracker(path: Path) -> Tracker:
    """Read one tracker export; raises `Dhis2Error` when it cannot be read at all."""
    file = str(path)
    data = read_bytes(path)
    text = decode(file, data)
    rows = _Rows(file)
    if sniff(path, data) == JSON:
        _read_json(load_json(file, text), rows)
    else:
        _read_csv(text, rows)
    frames = {name: pl.DataFrame(rows.tables[name], schema=schema)
              for name, schema in SCHEMAS.items()}  # fmt: skip
    return Tracker(**frames, records=rows.records, problems=rows.problems)


def read_trackers(paths: list[Path]) -> Tracker:
    """Several exports in one set of tables (a file that fails raises `Dhis2Error`)."""
    parts = [read_tracker(Path(p)) for p in paths]
    return Tracker(
        *(pl.concat([getattr(p, name) for p in parts], how="vertical")
          if parts else pl.DataFrame(schema=SCHEMAS[name]) for name in SCHEMAS),
        records=sum(p.records for p in parts),
        problems=[problem for p in parts for problem in p.problems],
    )  # fmt: skip


# --- JSON -------------------------------------------------------------------------------


def _fields(obj: dict[str, Any]) -> dict[str, Any]:
    """Known keys under canonical names; the first non-empty spelling wins."""
    found: dict[str, Any] = {}
    for name, value in obj.items():
        canonical = NAMES.get(key(name)) if isinstance(name, str) else None
        if canonical and found.get(canonical) in (None, ""):
            found[canonical] = value
    return found


def _read_json(doc: Any, rows: _Rows) -> None:
    if not isinstance(doc, dict) or not any(isinstance(doc.get(e), list) for e in ENVELOPES):
        raise Dhis2Error(rows.file, f"no tracker list ({', '.join(ENVELOPES)}) in this JSON")
    for envelope in ENVELOPES:
        items = doc.get(envelope)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            position = f"$.{envelope}[{index}]"
            if not isinstance(item, dict):
                rows.reject(position, "record_malformed", "not an object")
                rows.records += 1
                continue
            _dispatch(item, position, rows, {})


def _dispatch(item: dict[str, Any], position: str, rows: _Rows, parent: dict[str, Any]) -> None:
    """An object is an event, an enrollment or a tracked entity by the id it carries."""
    fields = _fields(item)
    if "event" in fields or "program_stage" in fields:
        _event(item, fields, position, rows, parent)
    elif "enrollment" in fields:
        _enrollment(item, fields, position, rows, parent)
    else:
        _entity(item, fields, position, rows)


def _entity(item: dict[str, Any], fields: dict[str, Any], position: str, rows: _Rows) -> None:
    te = _text(fields, "tracked_entity", rows, position)
    rows.tables["tracked_entities"].append({
        "tracked_entity": te,
        "tracked_entity_type": _text(fields, "tracked_entity_type", rows, position),
        "org_unit": _text(fields, "org_unit", rows, position),
        "created_at": _text(fields, "created_at", rows, position),
        "updated_at": _text(fields, "updated_at", rows, position),
        "inactive": _flag(fields, "inactive"), "deleted": _flag(fields, "deleted"),
        "potential_duplicate": _flag(fields, "potential_duplicate"), "source_file": rows.file,
    })  # fmt: skip
    _attributes(item.get("attributes"), te, f"{position}.attributes", rows)
    for name, child in _children(item, "enrollments", position):
        if isinstance(child, dict):
            _enrollment(child, _fields(child), name, rows, {"tracked_entity": te})
        else:
            rows.warn(name, "record_malformed", "enrollment is not an object; skipped")


def _enrollment(
    item: dict[str, Any], fields: dict[str, Any], position: str, rows: _Rows, parent: dict[str, Any]
) -> None:
    enrollment = _text(fields, "enrollment", rows, position)
    te = _text(fields, "tracked_entity", rows, position) or parent.get("tracked_entity")
    if enrollment and te:
        rows.te_of_enrollment[enrollment] = te
    enrolled_at = _text(fields, "enrolled_at", rows, position)
    rows.tables["enrollments"].append({
        "enrollment": enrollment, "tracked_entity": te,
        "program": _text(fields, "program", rows, position),
        "org_unit": _text(fields, "org_unit", rows, position),
        "status": _text(fields, "status", rows, position), "enrolled_at": enrolled_at,
        "enrollment_date": _day(enrolled_at, position, rows),
        "occurred_at": _text(fields, "occurred_at", rows, position),
        "deleted": _flag(fields, "deleted"), "source_file": rows.file,
    })  # fmt: skip
    _attributes(item.get("attributes"), te, f"{position}.attributes", rows)
    context = {"tracked_entity": te, "enrollment": enrollment}
    for name, child in _children(item, "events", position):
        if isinstance(child, dict):
            _event(child, _fields(child), name, rows, context)
        else:
            rows.records += 1
            rows.reject(name, "record_malformed", "event is not an object")


def _event(
    item: dict[str, Any], fields: dict[str, Any], position: str, rows: _Rows, parent: dict[str, Any]
) -> None:
    enrollment = _text(fields, "enrollment", rows, position) or parent.get("enrollment")
    te = (
        _text(fields, "tracked_entity", rows, position)
        or parent.get("tracked_entity")
        or rows.te_of_enrollment.get(enrollment or "")
    )
    occurred = _text(fields, "occurred_at", rows, position)
    base = {
        "event": _text(fields, "event", rows, position), "tracked_entity": te,
        "enrollment": enrollment, "program": _text(fields, "program", rows, position),
        "program_stage": _text(fields, "program_stage", rows, position),
        "org_unit": _text(fields, "org_unit", rows, position),
        "status": _text(fields, "status", rows, position), "occurred_at": occurred,
        "event_date": _day(occurred, position, rows),
        "scheduled_at": _text(fields, "scheduled_at", rows, position),
        "deleted": _flag(fields, "deleted"), "source_file": rows.file,
    }  # fmt: skip
    values = item.get("dataValues")
    if values is None or values == []:
        rows.records += 1
        _value_row(base, {}, position, rows)
        return
    if not isinstance(values, list):
        rows.records += 1
        rows.reject(f"{position}.dataValues", "record_malformed", "dataValues is not a list")
        return
    for index, value in enumerate(values):
        rows.records += 1
        where = f"{position}.dataValues[{index}]"
        if not isinstance(value, dict):
            rows.reject(where, "record_malformed", "data value is not an object")
            continue
        if not _fields(value).get("data_element"):
            rows.reject(where, "data_element_missing", "no data element")
            continue
        _value_row(base, _fields(value), where, rows)


def _value_row(base: dict[str, Any], fields: dict[str, Any], position: str, rows: _Rows) -> None:
    try:
        value = as_text(fields.get("value"))
    except TypeError as error:
        rows.reject(position, "field_not_text", f"value is {error}")
        return
    rows.tables["events"].append({
        **base, "data_element": _text(fields, "data_element", rows, position), "value": value,
        "stored_by": _text(fields, "stored_by", rows, position),
        "provided_elsewhere": parse_bool(fields.get("provided_elsewhere")), "position": position,
    })  # fmt: skip


def _attributes(items: Any, te: str | None, position: str, rows: _Rows) -> None:
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        where = f"{position}[{index}]"
        fields = _fields(item) if isinstance(item, dict) else {}
        if not fields.get("attribute"):
            rows.warn(where, "attribute_missing", "attribute without an attribute id; skipped")
            continue
        rows.tables["attributes"].append(_attribute_row(fields, te, where, rows))


def _attribute_row(
    fields: dict[str, Any], te: str | None, where: str, rows: _Rows
) -> dict[str, Any]:
    return {
        "tracked_entity": te, "attribute": _text(fields, "attribute", rows, where),
        "display_name": _text(fields, "display_name", rows, where),
        "value_type": _text(fields, "value_type", rows, where),
        "value": _text(fields, "value", rows, where), "source_file": rows.file,
    }  # fmt: skip


def _children(item: dict[str, Any], name: str, position: str) -> Iterator[tuple[str, Any]]:
    children = item.get(name)
    if isinstance(children, list):
        for index, child in enumerate(children):
            yield f"{position}.{name}[{index}]", child


def _text(fields: dict[str, Any], name: str, rows: _Rows, position: str) -> str | None:
    try:
        return as_text(fields.get(name))
    except TypeError:
        rows.warn(position, "field_not_text", f"{name} is an object or array; left empty")
        return None


def _flag(fields: dict[str, Any], name: str) -> bool | None:
    return parse_bool(fields.get(name))


def _day(text: str | None, position: str, rows: _Rows) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        rows.warn(position, "date_invalid", f"date {text[:40]!r} is not yyyy-MM-dd...")
        return None


# --- CSV --------------------------------------------------------------------------------


def _read_csv(text: str, rows: _Rows) -> None:
    columns: list[str | None] | None = None
    for line, cells in csv_records(rows.file, text):
        position = f"line {line}"
        if columns is None:
            columns = [NAMES.get(key(cell)) for cell in cells]
            if "event" not in columns and "attribute" not in columns:
                raise Dhis2Error(rows.file, "not a tracker CSV (no event or attribute column)")
            continue
        if len(cells) > len(columns):
            rows.records += 1
            rows.reject(position, "field_count", f"{len(cells)} fields, more than the header")
            continue
        fields = {c: v for c, v in zip(columns, cells, strict=False) if c}
        _csv_row(fields, position, rows, "event" in columns)
    if columns is None:
        raise Dhis2Error(rows.file, "empty CSV")


def _csv_row(fields: dict[str, Any], position: str, rows: _Rows, events: bool) -> None:
    if events:
        _event({"dataValues": [fields] if fields.get("data_element") else []},
               fields, position, rows, {})  # fmt: skip
        return
    te = fields.get("tracked_entity") or None
    rows.tables["attributes"].append(_attribute_row(fields, te, position, rows))
    if te and te not in {r["tracked_entity"] for r in rows.tables["tracked_entities"][-1:]}:
        _entity({}, fields, position, rows)
