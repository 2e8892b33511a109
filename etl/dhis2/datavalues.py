"""Aggregate `dataValueSets` in JSON, XML (DXF2), CSV and ADX, read into raw records.

Each reader yields one `RawRecord` per data value it finds, with its position in the file
and its fields under canonical names (`data_element`, `period`, `org_unit`, ...). Nothing is
judged here except the file's shape: `etl.dhis2.normalize` checks every record and builds
the long table. Variants handled (`../shared/reference/dhis2.md` §1):

- Group level (`dataValueSet` / JSON root / ADX `group`): `period`, `orgUnit` and
  `attributeOptionCombo` apply to every value. As in dhis2-core's import, the group's value
  wins over the value's own; a value that said otherwise keeps a warning.
- `followup` / `followUp`, legacy `timestamp` (= `lastUpdated`), `completedDate`: any case.
- CSV: a header is recognised by its aliases (`catoptcombo`, `attroptcombo`, `strby`,
  `lstupd`, `cmt`, `flwup`, ...; any case, any punctuation); without one the columns are
  positional in DHIS2's export order. Short (ragged) rows get empty trailing fields; a row
  with more fields than the header (or than the 11 positional columns) is rejected.
- ADX: disaggregations are category-code attributes (`GENDER="FMLE"`), kept in
  `category_options` / `attribute_options` for the normalizer to resolve through metadata;
  periods are `start/duration`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from etl.dhis2.source import csv_records, iter_xml, key, local_name

FIELDS = {  # key(alias) -> canonical field
    "dataelement": "data_element",
    "de": "data_element",
    "period": "period",
    "pe": "period",
    "orgunit": "org_unit",
    "organisationunit": "org_unit",
    "ou": "org_unit",
    "categoryoptioncombo": "category_option_combo",
    "catoptcombo": "category_option_combo",
    "coc": "category_option_combo",
    "attributeoptioncombo": "attribute_option_combo",
    "attroptcombo": "attribute_option_combo",
    "aoc": "attribute_option_combo",
    "value": "value",
    "storedby": "stored_by",
    "strby": "stored_by",
    "created": "created",
    "lastupdated": "last_updated",
    "lstupd": "last_updated",
    "timestamp": "last_updated",
    "comment": "comment",
    "cmt": "comment",
    "followup": "followup",
    "flwup": "followup",
    "deleted": "deleted",
}
POSITIONAL = (  # DHIS2 CSV export / positional import order
    "data_element",
    "period",
    "org_unit",
    "category_option_combo",
    "attribute_option_combo",
    "value",
    "stored_by",
    "last_updated",
    "comment",
    "followup",
    "deleted",
)
REQUIRED_COLUMNS = ("data_element", "period", "org_unit", "value")
GROUP_FIELDS = ("period", "org_unit", "attribute_option_combo")
ADX_GROUP_KEYS = {"orgunit", "period", "dataset", "completedate", "completeddate"}
ADX_VALUE_KEYS = {"dataelement", "value", "comment", "followup", "deleted", "storedby"}


@dataclass
class RawRecord:
    """One data value as found: position, canonical fields, and any shape problem."""

    position: str
    fields: dict[str, Any]
    error: str | None = None  # set when the record cannot be a data value at all
    notes: list[tuple[str, str]] = field(default_factory=list)  # (code, reason) warnings
    adx: bool = False  # period is `start/duration`, disaggregations are codes


class ShapeError(Exception):
    """The document is valid JSON/XML/CSV but not a data value set."""


# --- JSON -------------------------------------------------------------------------------


def json_records(doc: Any) -> Iterator[RawRecord]:
    """Records of a JSON `dataValueSet`, a `{"dataValueSets": [...]}` list, or a bare list."""
    if isinstance(doc, list):
        yield from _json_values(doc, "$", {})
        return
    if not isinstance(doc, dict):
        raise ShapeError(f"a JSON {type(doc).__name__}, not a data value set")
    if isinstance(doc.get("dataValueSets"), list):
        for index, group in enumerate(doc["dataValueSets"]):
            path = f"$.dataValueSets[{index}]"
            if not isinstance(group, dict):
                yield RawRecord(path, {}, error="a data value set that is not an object")
                continue
            yield from _json_group(group, path)
        return
    if "dataValues" not in doc:
        raise ShapeError("JSON without `dataValues`: not a data value set")
    yield from _json_group(doc, "$")


def _json_group(group: dict[str, Any], path: str) -> Iterator[RawRecord]:
    values = group.get("dataValues")
    if values is None:
        return
    if not isinstance(values, list):
        yield RawRecord(f"{path}.dataValues", {}, error="`dataValues` is not a list")
        return
    inherited = _canonical(group)
    yield from _json_values(values, f"{path}.dataValues", inherited)


def _json_values(values: list[Any], path: str, inherited: dict[str, Any]) -> Iterator[RawRecord]:
    for index, item in enumerate(values):
        position = f"{path}[{index}]"
        if not isinstance(item, dict):
            yield RawRecord(position, {}, error=f"a data value that is a JSON {_kind(item)}")
            continue
        record = RawRecord(position, _canonical(item))
        _inherit(record, inherited)
        yield record


def _kind(item: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(item), "number"
    )


def _canonical(raw: dict[str, Any]) -> dict[str, Any]:
    """Known keys under canonical names; the first non-empty alias wins."""
    fields: dict[str, Any] = {}
    for name, value in raw.items():
        canonical = FIELDS.get(key(name)) if isinstance(name, str) else None
        if canonical and fields.get(canonical) in (None, ""):
            fields[canonical] = value
    return fields


def _inherit(record: RawRecord, inherited: dict[str, Any]) -> None:
    """Group-level period / org unit / AOC override the value's own (dhis2-core import)."""
    for name in GROUP_FIELDS:
        outer = inherited.get(name)
        if outer in (None, ""):
            continue
        own = record.fields.get(name)
        if own not in (None, "") and own != outer:
            record.notes.append(
                (f"{name}_overridden", f"{name} {own!s:.60} replaced by the set's {outer!s:.60}")
            )
        record.fields[name] = outer


# --- XML (DXF2) and ADX -------------------------------------------------------------------


def xml_records(data: bytes, file: str) -> Iterator[RawRecord]:
    """Records of a DXF2 `dataValueSet` (any namespace) or an ADX message."""
    stack: list[str] = []
    counts: list[dict[str, int]] = [{}]
    groups: list[dict[str, Any]] = [{}]
    adx = False
    for event, element in iter_xml(file, data):
        name = local_name(element.tag)
        if event == "start":
            index = counts[-1][name] = counts[-1].get(name, 0) + 1
            stack.append(f"{name}[{index}]")
            counts.append({})
            if len(stack) == 1:
                adx = name == "adx"
                if name not in ("dataValueSet", "dataValueSets", "adx"):
                    raise ShapeError(f"XML root <{name[:40]}>: not a data value set or ADX")
            groups.append(_xml_group(element, groups[-1], adx))
            continue
        stack_path = "/" + "/".join(stack)
        stack.pop()
        counts.pop()
        groups.pop()
        if name == "dataValue":
            yield _xml_value(element, stack_path, groups[-1], adx)
            element.clear()


def _xml_group(element: Any, outer: dict[str, Any], adx: bool) -> dict[str, Any]:
    name = local_name(element.tag)
    if name not in ("dataValueSet", "group"):
        return outer
    attributes = {local_name(k): v for k, v in element.attrib.items()}
    group = dict(outer)
    group.update({k: v for k, v in _canonical(attributes).items() if k in GROUP_FIELDS})
    if adx:
        options = {k: v for k, v in attributes.items() if key(k) not in ADX_GROUP_KEYS}
        group["attribute_options"] = options or None
    return group


def _xml_value(element: Any, path: str, group: dict[str, Any], adx: bool) -> RawRecord:
    attributes = {local_name(k): v for k, v in element.attrib.items()}
    fields = _canonical(attributes)
    for child in element:  # ADX <annotation>, or DXF2 child elements instead of attributes
        child_name = local_name(child.tag)
        canonical = "comment" if child_name == "annotation" else FIELDS.get(key(child_name))
        if canonical and fields.get(canonical) in (None, ""):
            fields[canonical] = (child.text or "").strip()
    record = RawRecord(path, fields, adx=adx)
    if adx:
        group_fields = {k: v for k, v in group.items() if k != "attribute_options"}
        record.fields["category_options"] = {
            k: v for k, v in attributes.items() if key(k) not in ADX_VALUE_KEYS
        } or None
        record.fields["attribute_options"] = group.get("attribute_options")
        _inherit(record, group_fields)
    else:
        _inherit(record, group)
    return record


# --- CSV ----------------------------------------------------------------------------------


@dataclass
class CsvLayout:
    """Which canonical field each column holds; `header_line` is None when positional."""

    columns: list[str | None]
    header_line: int | None
    ignored: list[str]


def csv_layout(first: list[str]) -> CsvLayout | None:
    """The layout a first record announces, or None when it is data (positional CSV)."""
    mapped = [FIELDS.get(key(name)) for name in first]
    if sum(m is not None for m in mapped) < 2:
        return None
    seen: set[str] = set()
    columns: list[str | None] = []
    for canonical in mapped:
        columns.append(canonical if canonical and canonical not in seen else None)
        seen.add(canonical or "")
    ignored = [name for name, column in zip(first, columns, strict=True) if column is None]
    return CsvLayout(columns, 1, ignored)


def csv_records_of(file: str, text: str) -> Iterator[RawRecord]:
    """Records of a data value CSV, with or without a header."""
    layout: CsvLayout | None = None
    for line, fields in csv_records(file, text):
        if layout is None:
            layout = csv_layout(fields) or CsvLayout(list(POSITIONAL), None, [])
            if layout.header_line is not None:
                missing = [c for c in REQUIRED_COLUMNS if c not in layout.columns]
                if missing:
                    raise ShapeError(f"CSV header lacks column(s): {', '.join(missing)}")
                continue
        yield _csv_record(line, fields, layout)


def _csv_record(line: int, fields: list[str], layout: CsvLayout) -> RawRecord:
    position = f"line {line}"
    width = len(layout.columns)
    if len(fields) > width:
        what = "the header" if layout.header_line else "DHIS2's 11 positional columns"
        return RawRecord(position, {}, error=f"{len(fields)} fields, more than {what} ({width})")
    if layout.header_line is None and len(fields) < 6:
        return RawRecord(
            position, {}, error=f"{len(fields)} fields: a positional row needs at least 6"
        )
    values = {
        column: value
        for column, value in zip(layout.columns, fields, strict=False)
        if column is not None
    }
    return RawRecord(position, values)
