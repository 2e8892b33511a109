"""DHIS2 metadata (§4): org units with their hierarchy, data elements, disaggregations, data sets.

Read from `/api/metadata` or per-type JSON exports (any mix, several files merged; a later
file's object replaces an earlier one with the same id) and from the org-unit CSV import
format `name,uid,code,parent,shortName,...`. Decisions:

- Hierarchy: an org unit's `path` is used when it is well formed (`/.../<own uid>`);
  otherwise it is built from the `parent` chain, iteratively (no recursion limit, cycles
  reported). A chain that leaves the metadata (parent not exported) keeps the part it knows
  and is reported. `level` is the exported one, else the depth of a complete path.
- A category option combo is resolved to its category OPTIONS through `categoryOptions` and
  the categories of its `categoryCombo` (`coc_options`, one row per option), never by
  parsing its name: the option order in a COC is not the combo's category order.
- Org unit groups (`organisationUnitGroups`, which say a facility's type or setting) are
  read with their members, listed on the group or on the unit (`org_unit_group_members`).
- The default combo (`HllvX50cXC0`, category `GLevLNI9wkl`, option `xYerKDKCefk`) is added
  to `category_option_combos`/`coc_options` when an export left it out (`defaults=EXCLUDE`),
  so data in the default combo still joins.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from etl.dhis2.problems import KEPT, Dhis2Error, Problem
from etl.dhis2.source import JSON, csv_records, decode, key, load_json, read_bytes, sniff

DEFAULT_COC = "HllvX50cXC0"
DEFAULT_COMBO = "bjDvmb4bfuf"
DEFAULT_CATEGORY = "GLevLNI9wkl"
DEFAULT_OPTION = "xYerKDKCefk"
TYPES = (
    "organisationUnits",
    "organisationUnitLevels",
    "dataElements",
    "categories",
    "categoryOptions",
    "categoryCombos",
    "categoryOptionCombos",
    "dataSets",
    "organisationUnitGroups",
)
ORG_UNIT_CSV = (  # DHIS2 metadata CSV import order for org units
    "name",
    "uid",
    "code",
    "parent",
    "shortname",
    "description",
    "openingdate",
    "closeddate",
    "comment",
    "featuretype",
    "coordinates",
    "url",
    "contactperson",
    "address",
    "email",
    "phonenumber",
)
S = pl.String
SCHEMAS: dict[str, dict[str, Any]] = {
    "org_units": {
        "uid": S, "name": S, "short_name": S, "code": S, "level": pl.Int64, "level_name": S,
        "parent": S, "path": S, "opening_date": S, "closed_date": S, "geometry_type": S,
        "geometry": S,
    },
    "org_unit_levels": {"level": pl.Int64, "name": S, "uid": S, "code": S},
    "org_unit_groups": {"uid": S, "name": S, "short_name": S, "code": S},
    "org_unit_group_members": {"group": S, "org_unit": S},
    "data_elements": {
        "uid": S, "name": S, "short_name": S, "code": S, "value_type": S, "domain_type": S,
        "aggregation_type": S, "category_combo": S, "zero_is_significant": pl.Boolean,
    },
    "categories": {"uid": S, "name": S, "code": S, "data_dimension_type": S},
    "category_options": {"uid": S, "name": S, "short_name": S, "code": S},
    "category_combos": {"uid": S, "name": S, "code": S, "data_dimension_type": S},
    "category_combo_categories": {"category_combo": S, "category": S, "sort_order": pl.Int64},
    "category_option_combos": {"uid": S, "name": S, "code": S, "category_combo": S},
    "coc_options": {
        "category_option_combo": S, "category_option_combo_name": S, "category_combo": S,
        "category": S, "category_name": S, "category_option": S, "category_option_name": S,
        "category_option_code": S,
    },
    "data_sets": {
        "uid": S, "name": S, "short_name": S, "code": S, "period_type": S,
        "timely_days": pl.Int64, "expiry_days": pl.Int64, "open_future_periods": pl.Int64,
        "category_combo": S,
    },
    "data_set_elements": {"data_set": S, "data_element": S, "category_combo": S},
    "data_set_org_units": {"data_set": S, "org_unit": S},
}  # fmt: skip


@dataclass
class Source:
    """One exported object and where it came from (for problem positions)."""

    file: str
    position: str
    obj: dict[str, Any]


@dataclass
class Metadata:
    """Metadata tables (see `SCHEMAS` for their columns) and the problems met reading them."""

    org_units: pl.DataFrame
    org_unit_levels: pl.DataFrame
    data_elements: pl.DataFrame
    categories: pl.DataFrame
    category_options: pl.DataFrame
    category_combos: pl.DataFrame
    category_combo_categories: pl.DataFrame
    category_option_combos: pl.DataFrame
    coc_options: pl.DataFrame
    data_sets: pl.DataFrame
    data_set_elements: pl.DataFrame
    data_set_org_units: pl.DataFrame
    org_unit_groups: pl.DataFrame = field(default_factory=lambda: _frame("org_unit_groups", []))
    org_unit_group_members: pl.DataFrame = field(
        default_factory=lambda: _frame("org_unit_group_members", [])
    )
    problems: list[Problem] = field(default_factory=list)
    exported: frozenset[str] = frozenset()  # which object types the files held

    @cached_property
    def index(self) -> MetadataIndex:
        """Lookups the normalizer uses to resolve and check identifiers."""
        return MetadataIndex.of(self)


@dataclass
class MetadataIndex:
    """uid-or-code lookups; a `check_*` flag is off when the files held no such objects."""

    data_elements: dict[str, str]
    value_types: dict[str, str]
    org_units: dict[str, str]
    combos: dict[str, str]
    options: dict[str, str]
    by_options: dict[frozenset[str], str]
    check_data_elements: bool
    check_org_units: bool
    check_combos: bool

    @classmethod
    def of(cls, meta: Metadata) -> MetadataIndex:
        coc_sets: dict[str, set[str]] = {}
        for coc, option in meta.coc_options.select(
            "category_option_combo", "category_option"
        ).rows():
            coc_sets.setdefault(coc, set()).add(option)
        return cls(
            data_elements=_lookup(meta.data_elements),
            value_types=dict(meta.data_elements.select("uid", "value_type").rows()),
            org_units=_lookup(meta.org_units),
            combos=_lookup(meta.category_option_combos),
            options=_lookup(meta.category_options),
            by_options={frozenset(options): coc for coc, options in coc_sets.items()},
            check_data_elements="dataElements" in meta.exported,
            check_org_units="organisationUnits" in meta.exported,
            check_combos="categoryOptionCombos" in meta.exported,
        )

    def combo_of_options(self, options: Iterable[str]) -> str | None:
        """The COC made of exactly these options (uids or codes), if the metadata has one."""
        uids = [self.options.get(option) for option in options]
        if not uids or None in uids:
            return None
        return self.by_options.get(frozenset(u for u in uids if u))


def _lookup(table: pl.DataFrame) -> dict[str, str]:
    found = {code: uid for uid, code in table.select("uid", "code").rows() if code}
    found.update({uid: uid for uid in table["uid"].to_list()})
    return found


def read_metadata(paths: Sequence[Path]) -> Metadata:
    """Read and merge metadata files (JSON exports, org-unit CSV); raises `Dhis2Error`."""
    objects: dict[str, dict[str, Source]] = {name: {} for name in TYPES}
    problems: list[Problem] = []
    exported: set[str] = set()
    for path in paths:
        for kind, source in _file_objects(Path(path), problems):
            exported.add(kind)
            uid = _uid(source.obj, kind)
            if uid is None:
                problems.append(
                    Problem(source.file, source.position, "id_missing", f"{kind} without an id")
                )
                continue
            objects[kind][uid] = source
    meta = _build(objects, problems)
    meta.exported = frozenset(exported)
    return meta


def _uid(obj: dict[str, Any], kind: str) -> str | None:
    uid = obj.get("id")
    if kind == "organisationUnitLevels" and not isinstance(uid, str):
        uid = f"level-{obj.get('level')}" if isinstance(obj.get("level"), int) else None
    return uid.strip() or None if isinstance(uid, str) else None


def _file_objects(path: Path, problems: list[Problem]) -> Iterable[tuple[str, Source]]:
    file = str(path)
    data = read_bytes(path)
    text = decode(file, data)
    if sniff(path, data) != JSON:
        yield from _org_unit_csv(file, text, problems)
        return
    doc = load_json(file, text)
    if not isinstance(doc, dict) or not any(isinstance(doc.get(t), list) for t in TYPES):
        raise Dhis2Error(file, f"no metadata lists ({', '.join(TYPES[:3])}, ...) in this JSON")
    for kind in TYPES:
        items = doc.get(kind)
        if not isinstance(items, list):
            continue
        for index, obj in enumerate(items):
            position = f"$.{kind}[{index}]"
            if isinstance(obj, dict):
                yield kind, Source(file, position, obj)
            else:
                problems.append(Problem(file, position, "not_an_object", f"{kind} item"))


def _org_unit_csv(file: str, text: str, problems: list[Problem]) -> Iterable[tuple[str, Source]]:
    columns: list[str] | None = None
    for line, fields in csv_records(file, text):
        if columns is None:
            keys = [key(f) for f in fields]
            if "uid" in keys or "id" in keys or ("name" in keys and "parent" in keys):
                columns = ["uid" if k == "id" else k for k in keys]
                continue
            columns = list(ORG_UNIT_CSV)
        if len(fields) > len(columns):
            reason = f"{len(fields)} fields, more than the {len(columns)} columns"
            problems.append(Problem(file, f"line {line}", "field_count", reason))
            continue
        row = dict(zip(columns, fields, strict=False))
        yield "organisationUnits", Source(file, f"line {line}", _csv_org_unit(row))
    if columns is None:
        raise Dhis2Error(file, "empty metadata CSV")


def _csv_org_unit(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row in the JSON export's shape."""
    obj: dict[str, Any] = {
        "id": row.get("uid") or None,
        "name": row.get("name") or None,
        "code": row.get("code") or None,
        "shortName": row.get("shortname") or None,
        "openingDate": row.get("openingdate") or None,
        "closedDate": row.get("closeddate") or None,
        "featureType": row.get("featuretype") or None,
        "coordinates": row.get("coordinates") or None,
    }
    if row.get("parent"):
        obj["parent"] = {"id": row["parent"]}
    return obj


# --- building the tables -------------------------------------------------------------------


def _text(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _int(obj: dict[str, Any], name: str) -> int | None:
    value = obj.get(name)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 12:
        return int(value)
    return None


def _ref(obj: dict[str, Any], name: str) -> str | None:
    """The id of a `{"id": ...}` reference (or of a plain string)."""
    value = obj.get(name)
    if isinstance(value, dict):
        return _text(value, "id")
    return value.strip() or None if isinstance(value, str) else None


def _refs(obj: dict[str, Any], name: str) -> list[str]:
    values = obj.get(name)
    if not isinstance(values, list):
        return []
    found = [v.get("id") if isinstance(v, dict) else None for v in values]
    return [v for v in found if isinstance(v, str) and v]


def _frame(name: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = SCHEMAS[name]
    return pl.DataFrame([{c: row.get(c) for c in schema} for row in rows], schema=schema)


def _build(objects: dict[str, dict[str, Source]], problems: list[Problem]) -> Metadata:
    levels = _levels(objects["organisationUnitLevels"])
    cocs, coc_options = _combos(objects, problems)
    return Metadata(
        org_units=_org_units(objects["organisationUnits"], levels, problems),
        org_unit_levels=levels,
        data_elements=_table(objects, "dataElements", "data_elements", _data_element),
        categories=_table(objects, "categories", "categories", _named),
        category_options=_table(objects, "categoryOptions", "category_options", _named),
        category_combos=_table(objects, "categoryCombos", "category_combos", _named),
        category_combo_categories=_combo_categories(objects["categoryCombos"]),
        category_option_combos=cocs,
        coc_options=coc_options,
        data_sets=_table(objects, "dataSets", "data_sets", _data_set),
        data_set_elements=_data_set_elements(objects["dataSets"]),
        data_set_org_units=_frame("data_set_org_units", [
            {"data_set": uid, "org_unit": ou}
            for uid, source in objects["dataSets"].items()
            for ou in _refs(source.obj, "organisationUnits")
        ]),
        org_unit_groups=_table(objects, "organisationUnitGroups", "org_unit_groups", _named),
        org_unit_group_members=_group_members(objects),
        problems=problems,
    )  # fmt: skip


def _table(
    objects: dict[str, dict[str, Source]],
    kind: str,
    name: str,
    row: Callable[[dict[str, Any]], dict[str, Any]],
) -> pl.DataFrame:
    return _frame(name, [row(source.obj) for source in objects[kind].values()])


def _group_members(objects: dict[str, dict[str, Source]]) -> pl.DataFrame:
    """Group membership, listed on the group (`organisationUnits`) or on the unit
    (`organisationUnitGroups`); a unit or group the metadata lacks is kept (the mapping
    only asks for the groups it names)."""
    rows = [{"group": uid, "org_unit": unit}
            for uid, source in objects["organisationUnitGroups"].items()
            for unit in _refs(source.obj, "organisationUnits")]  # fmt: skip
    rows += [{"group": group, "org_unit": uid}
             for uid, source in objects["organisationUnits"].items()
             for group in _refs(source.obj, "organisationUnitGroups")]  # fmt: skip
    return _frame("org_unit_group_members", rows).unique(maintain_order=True)


def _combo_categories(combos: dict[str, Source]) -> pl.DataFrame:
    rows = [
        {"category_combo": uid, "category": category, "sort_order": order}
        for uid, source in combos.items()
        for order, category in enumerate(_refs(source.obj, "categories"), start=1)
    ]
    return _frame("category_combo_categories", rows)


def _data_set_elements(sets: dict[str, Source]) -> pl.DataFrame:
    rows = [
        {
            "data_set": uid,
            "data_element": _ref(element, "dataElement"),
            "category_combo": _ref(element, "categoryCombo"),
        }
        for uid, source in sets.items()
        for element in source.obj.get("dataSetElements") or []
        if isinstance(element, dict)
    ]
    return _frame("data_set_elements", rows)


def _named(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "uid": _text(obj, "id"),
        "name": _text(obj, "name"),
        "short_name": _text(obj, "shortName"),
        "code": _text(obj, "code"),
        "data_dimension_type": _text(obj, "dataDimensionType"),
    }


def _data_element(obj: dict[str, Any]) -> dict[str, Any]:
    zero = obj.get("zeroIsSignificant")
    return {
        **_named(obj),
        "value_type": _text(obj, "valueType"),
        "domain_type": _text(obj, "domainType"),
        "aggregation_type": _text(obj, "aggregationType"),
        "category_combo": _ref(obj, "categoryCombo") or DEFAULT_COMBO,
        "zero_is_significant": zero if isinstance(zero, bool) else None,
    }


def _data_set(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        **_named(obj),
        "period_type": _text(obj, "periodType"),
        "timely_days": _int(obj, "timelyDays"),
        "expiry_days": _int(obj, "expiryDays"),
        "open_future_periods": _int(obj, "openFuturePeriods"),
        "category_combo": _ref(obj, "categoryCombo"),
    }


def _levels(levels: dict[str, Source]) -> pl.DataFrame:
    rows = [{**_named(s.obj), "level": _int(s.obj, "level")} for s in levels.values()]
    return _frame("org_unit_levels", rows).sort("level", nulls_last=True)


# --- org units and their hierarchy ----------------------------------------------------------


def _org_units(
    units: dict[str, Source], levels: pl.DataFrame, problems: list[Problem]
) -> pl.DataFrame:
    parents = {uid: _ref(s.obj, "parent") for uid, s in units.items()}
    given = {uid: _given_path(uid, s, problems) for uid, s in units.items()}
    paths: dict[str, tuple[str, bool]] = {}  # uid -> (path, complete)
    for uid in units:
        _resolve_path(uid, units, parents, given, paths, problems)
    level_names = dict(levels.select("level", "name").rows())
    rows = [_org_unit_row(uid, s, parents[uid], paths[uid], level_names, problems)
            for uid, s in units.items()]  # fmt: skip
    return _frame("org_units", rows).sort("path", nulls_last=True)


def _given_path(uid: str, source: Source, problems: list[Problem]) -> str | None:
    path = _text(source.obj, "path")
    if path is None:
        return None
    parts = path.split("/")
    if parts[0] == "" and all(parts[1:]) and parts[-1] == uid:
        return path
    reason = f"path {path[:80]!r} does not end in the unit's own id; rebuilt from parents"
    problems.append(Problem(source.file, source.position, "path_invalid", reason, KEPT))
    return None


def _resolve_path(
    uid: str,
    units: dict[str, Source],
    parents: dict[str, str | None],
    given: dict[str, str | None],
    paths: dict[str, tuple[str, bool]],
    problems: list[Problem],
) -> None:
    """Walk up the parent chain until a known path, the root, a gap or a cycle."""
    chain: list[str] = []
    seen: set[str] = set()
    current: str | None = uid
    base, complete = "", True
    while current is not None and current not in paths:
        if given.get(current):
            paths[current] = (given[current] or "", True)
            break
        if current in seen:
            _report(units[uid], "hierarchy_cycle", f"parent chain loops at {current}", problems)
            complete = False
            break
        if current not in units:
            _report(
                units[uid], "parent_unknown", f"ancestor {current} is not in the metadata", problems
            )
            base, complete = f"/{current}", False
            break
        seen.add(current)
        chain.append(current)
        current = parents.get(current)
    if current is not None and current in paths:
        base, complete = paths[current][0], paths[current][1] and complete
    for node in reversed(chain):
        base = f"{base}/{node}"
        paths[node] = (base, complete)


def _report(source: Source, code: str, reason: str, problems: list[Problem]) -> None:
    problems.append(Problem(source.file, source.position, code, reason, KEPT))


def _org_unit_row(
    uid: str,
    source: Source,
    parent: str | None,
    resolved: tuple[str, bool],
    level_names: dict[int, str],
    problems: list[Problem],
) -> dict[str, Any]:
    obj = source.obj
    path, complete = resolved
    depth = path.count("/") if complete else None
    level = _int(obj, "level") or depth
    if depth is not None and level != depth:
        reason = f"level {level} but the path has {depth} levels"
        problems.append(Problem(source.file, source.position, "level_mismatch", reason, KEPT))
    geometry = obj.get("geometry")
    return {
        **_named(obj),
        "level": level,
        "level_name": level_names.get(level) if level is not None else None,
        "parent": parent,
        "path": path,
        "opening_date": _text(obj, "openingDate"),
        "closed_date": _text(obj, "closedDate"),
        "geometry_type": _geometry_type(obj, geometry),
        "geometry": _geometry(obj, geometry),
    }


def _geometry(obj: dict[str, Any], geometry: Any) -> str | None:
    """GeoJSON text; older exports give `coordinates` as text instead."""
    return json.dumps(geometry) if isinstance(geometry, dict) else _text(obj, "coordinates")


def _geometry_type(obj: dict[str, Any], geometry: Any) -> str | None:
    if isinstance(geometry, dict) and isinstance(geometry.get("type"), str):
        return geometry["type"]
    return _text(obj, "featureType")


def org_unit_ancestors(org_units: pl.DataFrame) -> pl.DataFrame:
    """Closure table: one row per (org_unit, ancestor) incl. itself, with the ancestor's level
    (`ancestor_level`: 1 = root); aggregate data to any level by joining on `org_unit`."""
    rows = []
    for uid, path in org_units.select("uid", "path").rows():
        parts = [p for p in (path or "").split("/") if p]
        rows.extend({"org_unit": uid, "ancestor": a, "ancestor_level": i}
                    for i, a in enumerate(parts, start=1))  # fmt: skip
    schema = {"org_unit": S, "ancestor": S, "ancestor_level": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


# --- disaggregation: COC -> category options -----------------------------------------------


def _combos(
    objects: dict[str, dict[str, Source]], problems: list[Problem]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    categories = objects["categories"]
    options = {uid: s.obj for uid, s in objects["categoryOptions"].items()}
    owners: dict[str, list[str]] = {}
    for cat_uid, source in categories.items():
        for option in _refs(source.obj, "categoryOptions"):
            owners.setdefault(option, []).append(cat_uid)
    coc_rows, option_rows = [], []
    for uid, source in objects["categoryOptionCombos"].items():
        combo = _ref(source.obj, "categoryCombo")
        coc_rows.append({**_named(source.obj), "category_combo": combo})
        combo_cats = (
            _refs(objects["categoryCombos"][combo].obj, "categories")
            if combo in objects["categoryCombos"]
            else []
        )
        for option in _refs(source.obj, "categoryOptions"):
            category = _owner(option, combo_cats, owners)
            if category is None:
                reason = f"option {option} belongs to no category of combo {combo}"
                problems.append(
                    Problem(source.file, source.position, "option_unplaced", reason, KEPT)
                )
            cat_obj = categories[category].obj if category in categories else {}
            opt_obj = options.get(option, {})
            option_rows.append({
                "category_option_combo": uid,
                "category_option_combo_name": _text(source.obj, "name"),
                "category_combo": combo, "category": category,
                "category_name": _text(cat_obj, "name"), "category_option": option,
                "category_option_name": _text(opt_obj, "name"),
                "category_option_code": _text(opt_obj, "code"),
            })  # fmt: skip
    if DEFAULT_COC not in objects["categoryOptionCombos"]:
        coc_rows.append({"uid": DEFAULT_COC, "name": "default", "code": "default",
                         "category_combo": DEFAULT_COMBO})  # fmt: skip
        option_rows.append(_default_option_row())
    return _frame("category_option_combos", coc_rows), _frame("coc_options", option_rows)


def _owner(option: str, combo_categories: list[str], owners: dict[str, list[str]]) -> str | None:
    """The category of `option`: among the combo's categories, else the only one holding it."""
    holders = owners.get(option, [])
    inside = [c for c in holders if c in combo_categories]
    if inside:
        return inside[0]
    return holders[0] if len(holders) == 1 and not combo_categories else None


def _default_option_row() -> dict[str, Any]:
    return {
        "category_option_combo": DEFAULT_COC, "category_option_combo_name": "default",
        "category_combo": DEFAULT_COMBO, "category": DEFAULT_CATEGORY, "category_name": "default",
        "category_option": DEFAULT_OPTION, "category_option_name": "default",
        "category_option_code": "default",
    }  # fmt: skip
