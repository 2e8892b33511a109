"""How one DHIS2 instance maps to Mizan's concepts: the `mapping.yaml` a ministry writes.

A ministry adapts Mizan to its DHIS2 instance by writing this file only (the documented
default, `mapping.yaml` beside this module, maps the WHO EPI aggregate package). It says
which data elements hold the doses of each antigen, which category options mean "under 1
year" and which mean a sex, which data elements hold the yearly target populations, which
data sets drive completeness and timeliness, and how DHIS2 org units become Mizan districts.
Identifiers are uids or codes; names only in `org_units.table`. An optional `facility:`
section maps the monthly facility environment report (its data set, a data element per
report column, the org unit groups that say hospital / PHC centre and urban / rural) and
names the district-month climate file; it is resolved by `etl.dhis2.facility`.

Two steps, both with errors that name the file, the key and the reason:
- `read_mapping` checks the file alone (shape, types, known keys and dose codes);
- `resolve` checks it against the instance's metadata (every identifier exists, the data
  sets are monthly, some org unit becomes a district) and returns lookup tables.

Decisions where the reference is silent:
- A dose counts for coverage when its category option combo holds an `age.under_1` option;
  with no `age` section every dose counts (an instance without age disaggregation). MCV2
  counts doses of every age by default (`ages: all`): it is given in the second year, as
  the WHO EPI package's MR2 coverage does.
- A target population that is not disaggregated by sex is split by `population.sex_shares`
  (default 0.488 F / 0.512 M, a sex ratio at birth of 105) for the sex rows.
- An org unit's district is its nearest ancestor (or itself) that `org_units.table` names,
  else (with `match: code`) whose `code` is a Mizan district code, at `org_units.level`
  when given. Values above district level cannot be placed and are rejected.
- A data set without `timelyDays` in the metadata gets DHIS2's default, 15 days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from etl.dhis2.metadata import Metadata, org_unit_ancestors
from indicators import catalogue, facility_data, geography

DEFAULT_MAPPING = Path(__file__).with_name("mapping.yaml")
POPULATIONS = ("live_births", "surviving_infants", "under_2")
AGES = ("under_1", "all")
SEXES = ("F", "M")
FILE_KINDS = ("metadata", "data_values", "registrations")
TOP_KEYS = ("version", "name", "files", "doses", "age", "sex", "population", "data_sets",
            "org_units", "facility")  # fmt: skip
FACILITY_KEYS = ("data_set", "data_elements", "groups", "options", "climate")
FACILITY_GROUPS = (*facility_data.FACILITY_TYPES, *facility_data.SETTINGS)
VOCABULARIES = {  # answer columns of the facility report and their Mizan option codes
    "bins": facility_data.BINS,
    "sharps_disposal": facility_data.DISPOSAL,
    "infectious_disposal": facility_data.DISPOSAL,
    "main_power_source": facility_data.POWER_SOURCES,
    "power_availability": facility_data.AVAILABILITY,
}
DEFAULT_SHARES = {"F": 0.488, "M": 0.512}
DEFAULT_TIMELY_DAYS = 15
MAX_ID = 200


class MappingError(ValueError):
    """The mapping is unusable; one line naming the file, the key and the reason."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        self.file, self.key, self.reason = file, key, reason
        super().__init__(f"{file}: {key}: {reason}" if key else f"{file}: {reason}")


@cache
def admin_doses() -> tuple[str, ...]:
    """Dose codes with an administrative coverage indicator in the catalogue."""
    return tuple(i.doses[0] for i in catalogue.indicators() if i.kind == "admin_coverage")


def default_denominator(dose: str) -> str:
    """The spec's target population of a dose."""
    return {"BCG": "live_births", "HEPB0": "live_births", "MCV2": "under_2"}.get(
        dose, "surviving_infants"
    )


def default_ages(dose: str) -> str:
    return "all" if dose == "MCV2" else "under_1"


@dataclass(frozen=True)
class DoseRule:
    """Which data elements hold one antigen's doses, which ages count, which target."""

    dose: str
    data_elements: tuple[str, ...]
    ages: str
    denominator: str


@dataclass(frozen=True)
class FacilityMapping:
    """The optional `facility:` section: the monthly facility report and the climate file.

    `data_elements`: FACILITY_MONTHS column -> data element (uid or code); `groups`:
    hospital / phc / urban / rural -> org unit groups; `options`: answer column -> {the
    instance's option code: Mizan's}; `climate`: glob patterns inside the folder.
    """

    data_set: str
    data_elements: dict[str, str]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    options: dict[str, dict[str, str]] = field(default_factory=dict)
    climate: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mapping:
    """A checked `mapping.yaml` (identifiers still as written: uids or codes)."""

    file: str
    name: str
    doses: tuple[DoseRule, ...]
    age_under_1: tuple[str, ...] = ()
    age_over_1: tuple[str, ...] = ()
    sex: dict[str, tuple[str, ...]] = field(default_factory=dict)
    population: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sex_shares: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SHARES))
    data_sets: tuple[str, ...] = ()
    org_unit_match: str = "code"
    org_unit_level: int | None = None
    org_unit_table: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    facility: FacilityMapping | None = None


# --- reading and checking the file ---------------------------------------------------------


class _Checker:
    """Typed access to the YAML document that fails with the key's dotted path."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, reason: str) -> MappingError:
        return MappingError(self.file, key, reason)

    def table(self, value: Any, key: str, allowed: Iterable[str] | None = None) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a mapping of keys to values, not {_kind(value)}")
        for name in value:
            if not isinstance(name, str):
                raise self.fail(key, f"key {name!r} is not text")
            if allowed is not None and name not in allowed:
                known = ", ".join(allowed)
                raise self.fail(_join(key, name), f"unknown key (known: {known})")
        return value

    def ids(self, value: Any, key: str, required: bool = True) -> tuple[str, ...]:
        """One identifier or a list of them (uids or codes), as text."""
        items = value if isinstance(value, list) else [value]
        found = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise self.fail(key, f"an identifier must be text, not {_kind(item)}")
            text = str(item).strip()
            if not text or len(text) > MAX_ID:
                raise self.fail(key, f"identifier {text[:40]!r} is empty or too long")
            found.append(text)
        if required and not found:
            raise self.fail(key, "needs at least one identifier")
        return tuple(found)


def _kind(value: Any) -> str:
    return {list: "a list", dict: "a mapping", type(None): "empty"}.get(
        type(value), f"{type(value).__name__} {str(value)[:30]!r}"
    )


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def read_mapping(path: Path | str) -> Mapping:
    """Read and check a mapping file; raises `MappingError`."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError(file, "", f"cannot be read: {error}") from error
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise MappingError(file, "", f"not YAML: {where}{problem}") from error
    return parse_mapping(doc, file)


def parse_mapping(doc: Any, file: str) -> Mapping:
    """Check a loaded YAML document (see the module docstring for its keys)."""
    check = _Checker(file)
    top = check.table(doc, "", TOP_KEYS)
    if not top:
        raise check.fail("", "empty mapping: it needs at least `doses` and `population`")
    if top.get("version", 1) != 1:
        raise check.fail("version", f"{top.get('version')!r}: this Mizan reads version 1")
    doses = _doses(check, top.get("doses"))
    age = check.table(top.get("age"), "age", ("under_1", "over_1"))
    sex = check.table(top.get("sex"), "sex", SEXES)
    population, shares = _population(check, top.get("population"), doses)
    units = check.table(top.get("org_units"), "org_units", ("match", "level", "table"))
    name = top.get("name", "")
    return Mapping(
        file=file,
        name=name if isinstance(name, str) else str(name),
        doses=doses,
        age_under_1=check.ids(age.get("under_1", []), "age.under_1", required=False),
        age_over_1=check.ids(age.get("over_1", []), "age.over_1", required=False),
        sex={s: check.ids(v, f"sex.{s}", required=False) for s, v in sex.items() if v},
        population=population,
        sex_shares=shares,
        data_sets=check.ids(top.get("data_sets") or [], "data_sets", required=False),
        org_unit_match=_match(check, units.get("match", "code")),
        org_unit_level=_level(check, units.get("level")),
        org_unit_table=_unit_table(check, units.get("table")),
        files=_files(check, top.get("files")),
        facility=_facility(check, top.get("facility")),
    )


def _doses(check: _Checker, value: Any) -> tuple[DoseRule, ...]:
    entries = check.table(value, "doses", admin_doses())
    if not entries:
        raise check.fail("doses", f"map at least one dose ({', '.join(admin_doses())})")
    rules = []
    for dose, entry in entries.items():
        key = f"doses.{dose}"
        if isinstance(entry, dict):
            spec = check.table(entry, key, ("data_elements", "ages", "denominator"))
            if "data_elements" not in spec:
                raise check.fail(f"{key}.data_elements", "missing")
            elements = check.ids(spec["data_elements"], f"{key}.data_elements")
            ages = spec.get("ages", default_ages(dose))
            denominator = spec.get("denominator", default_denominator(dose))
        else:
            elements = check.ids(entry, key)
            ages, denominator = default_ages(dose), default_denominator(dose)
        if ages not in AGES:
            raise check.fail(f"{key}.ages", f"{ages!r}: one of {', '.join(AGES)}")
        if denominator not in POPULATIONS:
            raise check.fail(f"{key}.denominator", f"{denominator!r}: one of {POPULATIONS}")
        rules.append(DoseRule(dose, elements, ages, denominator))
    return tuple(rules)


def _population(
    check: _Checker, value: Any, doses: tuple[DoseRule, ...]
) -> tuple[dict[str, tuple[str, ...]], dict[str, float]]:
    entries = check.table(value, "population", (*POPULATIONS, "sex_shares"))
    population = {
        name: check.ids(entries[name], f"population.{name}")
        for name in POPULATIONS
        if entries.get(name) is not None
    }
    for rule in doses:
        if rule.denominator not in population:
            reason = f"missing: the target population of {rule.dose}"
            raise check.fail(f"population.{rule.denominator}", reason)
    shares = dict(DEFAULT_SHARES)
    given = check.table(entries.get("sex_shares"), "population.sex_shares", SEXES)
    for sex, share in given.items():
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share < 1:
            raise check.fail(f"population.sex_shares.{sex}", f"{share!r}: a share between 0 and 1")
        shares[sex] = float(share)
    return population, shares


def _match(check: _Checker, value: Any) -> str:
    if value not in ("code", "table"):
        raise check.fail("org_units.match", f"{value!r}: code (the org unit's code is the "
                         "Mizan district code) or table (only org_units.table)")  # fmt: skip
    return value


def _level(check: _Checker, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 20:
        raise check.fail("org_units.level", f"{value!r}: a DHIS2 level (1 = the root)")
    return value


def _unit_table(check: _Checker, value: Any) -> dict[str, str]:
    table = check.table(value, "org_units.table")
    out = {}
    for unit, district in table.items():
        key = f"org_units.table.{unit}"
        code = check.ids(district, key)
        if len(code) != 1:
            raise check.fail(key, "one district code per org unit")
        if geography.district_parent(code[0]) is None:
            raise check.fail(key, f"{code[0]} is not a district code Mizan knows (IQGnnQnn)")
        out[unit.strip()] = code[0]
    return out


def _files(check: _Checker, value: Any) -> dict[str, tuple[str, ...]]:
    table = check.table(value, "files", FILE_KINDS)
    found = {kind: _patterns(check, globs, f"files.{kind}") for kind, globs in table.items()}
    return found


def _patterns(check: _Checker, value: Any, key: str) -> tuple[str, ...]:
    globs = check.ids(value, key, required=False)
    for pattern in globs:
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            raise check.fail(key, f"{pattern!r}: a pattern inside the folder")
    return globs


def _facility(check: _Checker, value: Any) -> FacilityMapping | None:
    """The `facility:` section, or None when the mapping has none."""
    if value is None:
        return None
    spec = check.table(value, "facility", FACILITY_KEYS)
    if "data_set" not in spec:
        raise check.fail("facility.data_set", "missing: the monthly facility report's data set")
    data_set = check.ids(spec["data_set"], "facility.data_set")
    if len(data_set) != 1:
        raise check.fail("facility.data_set", "one data set")
    entries = check.table(spec.get("data_elements"), "facility.data_elements",
                          facility_data.REPORTED)  # fmt: skip
    if not entries:
        raise check.fail("facility.data_elements", "map at least one report column")
    elements = {}
    for column, ident in entries.items():
        found = check.ids(ident, f"facility.data_elements.{column}")
        if len(found) != 1:
            raise check.fail(f"facility.data_elements.{column}", "one data element per column")
        elements[column] = found[0]
    groups = check.table(spec.get("groups"), "facility.groups", FACILITY_GROUPS)
    return FacilityMapping(
        data_set=data_set[0],
        data_elements=elements,
        groups={g: check.ids(v, f"facility.groups.{g}") for g, v in groups.items()},
        options=_options(check, spec.get("options")),
        climate=_patterns(check, spec.get("climate") or [], "facility.climate"),
    )


def _options(check: _Checker, value: Any) -> dict[str, dict[str, str]]:
    """facility.options: per answer column, the instance's option codes -> Mizan's."""
    out: dict[str, dict[str, str]] = {}
    for column, table in check.table(value, "facility.options", VOCABULARIES).items():
        key = f"facility.options.{column}"
        if not isinstance(table, dict):
            raise check.fail(key, f"must be a mapping of option codes, not {_kind(table)}")
        vocabulary = VOCABULARIES[column]
        out[column] = {}
        for code, target in table.items():
            if isinstance(code, bool) or not isinstance(code, str | int):
                raise check.fail(key, f"option code {code!r} is not text")
            if target not in vocabulary:
                reason = f"{target!r} is not one of {', '.join(vocabulary)}"
                raise check.fail(f"{key}.{code}", reason)
            out[column][str(code).strip()] = target
    return out


# --- resolving against the instance's metadata ---------------------------------------------


@dataclass
class Resolved:
    """The mapping as uid tables the load joins on.

    - `dose_elements`: data_element, dose, ages, denominator
    - `population_elements`: data_element, population
    - `combos`: category_option_combo, age (under_1 / over_1 / null), sex (F / M / null)
    - `data_sets`: data_set, timely_days
    - `districts`: org_unit, district, adm1_code (every org unit at or below a district)
    - `facilities`: data_set, org_unit, district, opening_date, closed_date (who reports)
    """

    mapping: Mapping
    dose_elements: pl.DataFrame
    population_elements: pl.DataFrame
    combos: pl.DataFrame
    data_sets: pl.DataFrame
    districts: pl.DataFrame
    facilities: pl.DataFrame


def resolve(mapping: Mapping, meta: Metadata) -> Resolved:
    """Look every identifier up in the metadata; raises `MappingError` naming the key."""
    _require(mapping, meta)
    index = meta.index
    doses = _element_rows(mapping, index.data_elements)
    dose_frame = pl.DataFrame(
        [(uid, r.dose, r.ages, r.denominator) for r, uid in doses],
        schema={"data_element": pl.String, "dose": pl.String, "ages": pl.String,
                "denominator": pl.String}, orient="row",
    )  # fmt: skip
    population = [
        (_lookup(mapping, index.data_elements, e, f"population.{name}", "data element"), name)
        for name, elements in mapping.population.items()
        for e in elements
    ]
    _no_repeats(mapping, [uid for _, uid in doses] + [uid for uid, _ in population])
    population_frame = pl.DataFrame(
        population, schema={"data_element": pl.String, "population": pl.String}, orient="row"
    )
    districts = _districts(mapping, meta)
    data_sets = _data_sets(mapping, meta)
    return Resolved(
        mapping=mapping,
        dose_elements=dose_frame,
        population_elements=population_frame,
        combos=_combos(mapping, meta),
        data_sets=data_sets,
        districts=districts,
        facilities=_facilities(meta, data_sets, districts),
    )


def _require(mapping: Mapping, meta: Metadata) -> None:
    needs = {"organisationUnits": "org units", "dataElements": "data elements"}
    if mapping.age_under_1 or mapping.age_over_1 or mapping.sex:
        needs["categoryOptionCombos"] = "category option combos"
    if mapping.data_sets:
        needs["dataSets"] = "data sets"
    for kind, label in needs.items():
        if kind not in meta.exported:
            reason = f"the metadata files hold no {kind} ({label}): export them with the data"
            raise MappingError(mapping.file, "", reason)


def _lookup(mapping: Mapping, table: dict[str, str], ident: str, key: str, what: str) -> str:
    found = table.get(ident)
    if found is None:
        raise MappingError(mapping.file, key, f"{what} {ident} is not in the instance's metadata")
    return found


def _element_rows(mapping: Mapping, elements: dict[str, str]) -> list[tuple[DoseRule, str]]:
    return [
        (rule, _lookup(mapping, elements, e, f"doses.{rule.dose}", "data element"))
        for rule in mapping.doses
        for e in rule.data_elements
    ]


def _no_repeats(mapping: Mapping, uids: list[str]) -> None:
    seen: set[str] = set()
    for uid in uids:
        if uid in seen:
            reason = f"data element {uid} is mapped twice (a value would count twice)"
            raise MappingError(mapping.file, "doses", reason)
        seen.add(uid)


def _combos(mapping: Mapping, meta: Metadata) -> pl.DataFrame:
    """Each category option combo's age band and sex, through its options."""
    options = meta.index.options
    labels: list[tuple[str, str, str]] = []  # option uid, dimension, label
    groups = [("age", "under_1", mapping.age_under_1), ("age", "over_1", mapping.age_over_1)]
    groups += [("sex", sex, ids) for sex, ids in mapping.sex.items()]
    for dimension, label, ids in groups:
        key = f"{dimension}.{label}"
        labels += [(_lookup(mapping, options, i, key, "category option"), dimension, label)
                   for i in ids]  # fmt: skip
    table = pl.DataFrame(
        labels, schema={"category_option": pl.String, "dimension": pl.String, "label": pl.String},
        orient="row",
    )  # fmt: skip
    joined = meta.coc_options.select("category_option_combo", "category_option").join(
        table, on="category_option"
    )
    combos = meta.category_option_combos.select(pl.col("uid").alias("category_option_combo"))
    for dimension in ("age", "sex"):
        found = (
            joined.filter(pl.col("dimension") == dimension)
            .group_by("category_option_combo")
            .agg(pl.col("label").first().alias(dimension))
        )
        combos = combos.join(found, on="category_option_combo", how="left")
    return combos


def _data_sets(mapping: Mapping, meta: Metadata) -> pl.DataFrame:
    lookup = {code: uid for uid, code in meta.data_sets.select("uid", "code").rows() if code}
    lookup.update({uid: uid for uid in meta.data_sets["uid"]})
    rows = []
    for ident in mapping.data_sets:
        uid = _lookup(mapping, lookup, ident, "data_sets", "data set")
        info = meta.data_sets.filter(pl.col("uid") == uid).row(0, named=True)
        if (info["period_type"] or "Monthly") != "Monthly":
            reason = f"{ident} has period type {info['period_type']}: only monthly data sets"
            raise MappingError(mapping.file, "data_sets", reason)
        timely = info["timely_days"]
        rows.append((uid, timely if timely is not None else DEFAULT_TIMELY_DAYS))
    schema = {"data_set": pl.String, "timely_days": pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row").unique("data_set", keep="first")


def _table_units(mapping: Mapping, units: pl.DataFrame) -> list[tuple[str, str]]:
    """(org unit uid, district) for each `org_units.table` entry (by uid, code or name)."""
    found = []
    for ident, district in mapping.org_unit_table.items():
        key = f"org_units.table.{ident}"
        for column in ("uid", "code", "name"):
            hits = units.filter(pl.col(column) == ident)["uid"].to_list()
            if len(hits) > 1:
                raise MappingError(mapping.file, key, f"{len(hits)} org units have this {column}")
            if hits:
                found.append((hits[0], district))
                break
        else:
            raise MappingError(mapping.file, key, "no org unit with this uid, code or name")
    return found


def _districts(mapping: Mapping, meta: Metadata) -> pl.DataFrame:
    """Every org unit at or below a district, with that district (nearest ancestor)."""
    units = meta.org_units
    assigned = _table_units(mapping, units)
    if mapping.org_unit_match == "code":
        named = {uid for uid, _ in assigned}
        candidates = units.filter(pl.col("code").is_not_null(), ~pl.col("uid").is_in(named))
        if mapping.org_unit_level is not None:
            candidates = candidates.filter(pl.col("level") == mapping.org_unit_level)
        assigned += [(uid, code) for uid, code in candidates.select("uid", "code").rows()
                     if geography.district_parent(code)]  # fmt: skip
    if not assigned:
        how = "by code" if mapping.org_unit_match == "code" else "in org_units.table"
        reason = (
            f"no DHIS2 org unit matches a Mizan district ({how}): set the district "
            "org units' codes to the district p-codes (IQGnnQnn) or list them in org_units.table"
        )
        raise MappingError(mapping.file, "org_units", reason)
    anchors = pl.DataFrame(
        assigned, schema={"ancestor": pl.String, "district": pl.String}, orient="row"
    ).unique("ancestor", keep="first")
    closure = org_unit_ancestors(units).join(anchors, on="ancestor")
    nearest = closure.sort("ancestor_level", descending=True).unique("org_unit", keep="first")
    return nearest.select(
        "org_unit", "district", pl.col("district").str.slice(0, 5).alias("adm1_code")
    ).sort("org_unit")


def _facilities(meta: Metadata, data_sets: pl.DataFrame, districts: pl.DataFrame) -> pl.DataFrame:
    """Who is expected to report each data set: its assigned org units inside a district;
    a data set that lists none expects every lowest-level org unit inside a district."""
    units = meta.org_units.select(
        pl.col("uid").alias("org_unit"), "level", "opening_date", "closed_date"
    ).join(districts, on="org_unit")
    assigned = meta.data_set_org_units.join(units, on="org_unit")
    rows = []
    for data_set in data_sets["data_set"]:
        own = assigned.filter(pl.col("data_set") == data_set).drop("data_set")
        if own.is_empty():
            own = units.filter(pl.col("level") == units["level"].max())
        rows.append(own.with_columns(pl.lit(data_set).alias("data_set")))
    columns = ["data_set", "org_unit", "district", "adm1_code", "opening_date", "closed_date"]
    if not rows:
        return pl.DataFrame(schema={c: pl.String for c in columns})
    return pl.concat(rows).select(columns).unique(["data_set", "org_unit"]).sort(columns[:2])
