"""The monthly facility environment report, through the mapping's `facility:` section, into
the frames `indicators.environment.build` computes from (`indicators.facility_data`).

`resolve_facility` checks the section against the metadata (MappingError naming the key):
the data set exists and is monthly, every data element exists, is mapped once and has a
value type that can hold its column (an answer or a yes/no cannot be a numeric element, a
number cannot be a yes/no), and every group exists. It returns the facilities: the org
units the data set is assigned to or a named group holds, inside a mapped district and not
the district itself; a facility in both a hospital and a PHC group is a hospital, in both
an urban and a rural group is urban; in neither, its type (setting) is left empty.
`immunizing` means expected to report a mapped EPI data set (`data_sets`) or holding a dose.

`facility_facts` reads the normalized values of the mapped data elements. Every value is
loaded, rejected with file, position and reason, a duplicate, or deleted / blank (counted
per file in `FacilityFacts.counts`). The value text is read whatever the element's value
type (normalize keeps the text of TEXT and BOOLEAN elements), so a mislabelled element
still loads. Rules, in order (the first broken one rejects the value):

- `period_not_monthly`: the report is monthly;
- `org_unit_not_facility`: the org unit is not one of the facilities above (a district, a
  governorate, a unit outside the mapped districts);
- `value_not_numeric`, `value_negative`, `value_not_integer` (beds, fridges),
  `value_out_of_range` (grid, outage or generator hours above the month's hours);
- `value_not_boolean`: a yes/no column wants true/false (also yes/no, 1/0, t/f);
- `option_unknown`: an answer that is not a Mizan option code (after `facility.options`).

The same data element, period, org unit and combos twice: the last one read counts, the
earlier ones are duplicates (as DHIS2 keeps the last). A number split by category option
combos (waste by category) is summed; an answer or a yes/no given in several combos keeps
the last one read, the others are duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

from etl.dhis2.mapping import VOCABULARIES, FacilityMapping, Mapping, MappingError, Resolved
from etl.dhis2.metadata import Metadata
from etl.dhis2.normalize import KEY, Normalized
from etl.dhis2.problems import Problem
from etl.dhis2.values import BOOLEAN_TYPES, FALSE, NUMERIC_TYPES, TRUE
from indicators import facility_data as fd

NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
HOURS = ("grid_hours", "outage_hours", "generator_hours")
COLUMN = pl.Enum(fd.REPORTED)  # a report column, 1-2 bytes a value instead of its name
KIND = pl.Enum(("number", "boolean", "option"))
REASONS = {
    "period_not_monthly": "{column} for the {period_type} period {period}: the report is monthly",
    "org_unit_not_facility": "org unit {org_unit} is not a facility of the mapping (not in the "
    "facility data set or a facility group, or not below a mapped district)",
    "value_not_numeric": "{column} {value_raw!r} is not a number",
    "value_negative": "{column} {value_raw} is negative",
    "value_not_integer": "{column} {value_raw} is not a whole number",
    "value_out_of_range": "{column} {value_raw} is more than the month's {_hours:.0f} hours",
    "value_not_boolean": "{column} {value_raw!r} is not true or false",
    "option_unknown": "{column} {value_raw!r} is not an option ({_options})",
}


def kind(column: str) -> str:
    """number, boolean or option: how a report column is read."""
    dtype = fd.FACILITY_MONTHS[column]
    return {pl.Boolean: "boolean", pl.String: "option"}.get(dtype, "number")


@dataclass
class FacilityResolved:
    """The section as uid tables: `elements` (data_element, column) and `facilities`
    (FACILITIES columns, one row per facility)."""

    mapping: FacilityMapping
    data_set: str
    elements: pl.DataFrame
    facilities: pl.DataFrame


def resolve_facility(
    mapping: Mapping, meta: Metadata, resolved: Resolved
) -> FacilityResolved | None:
    """The `facility:` section against the metadata; None when the mapping has none."""
    section = mapping.facility
    if section is None:
        return None
    file = mapping.file
    if "dataSets" not in meta.exported:
        reason = "the metadata files hold no dataSets: export the facility data set with the data"
        raise MappingError(file, "facility.data_set", reason)
    data_set = _data_set(file, section.data_set, meta)
    elements = _elements(file, section, meta, resolved)
    members = _groups(file, section, meta)
    facilities = _facilities(file, meta, resolved, data_set, members)
    return FacilityResolved(section, data_set, elements, facilities)


def _data_set(file: str, ident: str, meta: Metadata) -> str:
    table = meta.data_sets
    hits = table.filter((pl.col("uid") == ident) | (pl.col("code") == ident))
    if hits.is_empty():
        raise MappingError(file, "facility.data_set", f"data set {ident} is not in the metadata")
    info = hits.row(0, named=True)
    if (info["period_type"] or "Monthly") != "Monthly":
        reason = f"{ident} has period type {info['period_type']}: the facility report is monthly"
        raise MappingError(file, "facility.data_set", reason)
    return info["uid"]


def _elements(file: str, section: FacilityMapping, meta: Metadata, resolved: Resolved
              ) -> pl.DataFrame:  # fmt: skip
    index = meta.index
    taken = {uid: f"the dose {dose}" for uid, dose in resolved.dose_elements.select(
        "data_element", "dose").rows()}  # fmt: skip
    taken |= {uid: f"the population {name}" for uid, name in resolved.population_elements.rows()}
    rows = []
    for column, ident in section.data_elements.items():
        key = f"facility.data_elements.{column}"
        uid = index.data_elements.get(ident)
        if uid is None:
            raise MappingError(file, key, f"data element {ident} is not in the metadata")
        if uid in taken:
            raise MappingError(file, key, f"data element {ident} is already mapped to {taken[uid]}")
        taken[uid] = f"the column {column}"
        value_type = index.value_types.get(uid)
        wants = kind(column)
        if (wants != "number" and value_type in NUMERIC_TYPES) or (
            wants == "number" and value_type in BOOLEAN_TYPES
        ):
            need = {"number": "a number", "boolean": "a yes/no", "option": "an answer code"}[wants]
            reason = f"{ident} is a {value_type} data element; {column} holds {need}"
            raise MappingError(file, key, reason)
        rows.append((uid, column))
    return pl.DataFrame(rows, schema={"data_element": pl.String, "column": COLUMN},
                        orient="row")  # fmt: skip


def _groups(file: str, section: FacilityMapping, meta: Metadata) -> dict[str, set[str]]:
    """hospital / phc / urban / rural -> member org unit uids."""
    if section.groups and "organisationUnitGroups" not in meta.exported:
        reason = "the metadata files hold no organisationUnitGroups: export them with the data"
        raise MappingError(file, "facility.groups", reason)
    groups = meta.org_unit_groups
    members: dict[str, set[str]] = {}
    for name, idents in section.groups.items():
        found: set[str] = set()
        for ident in idents:
            hits = groups.filter((pl.col("uid") == ident) | (pl.col("code") == ident))
            if hits.is_empty():
                raise MappingError(file, f"facility.groups.{name}",
                                   f"org unit group {ident} is not in the metadata")  # fmt: skip
            uid = hits["uid"][0]
            table = meta.org_unit_group_members
            found |= set(table.filter(pl.col("group") == uid)["org_unit"].to_list())
        members[name] = found
    return members


def _facilities(file: str, meta: Metadata, resolved: Resolved, data_set: str,
                members: dict[str, set[str]]) -> pl.DataFrame:  # fmt: skip
    units = meta.org_units.select(
        pl.col("uid").alias("org_unit"), "name", "parent", "geometry_type", "geometry"
    )
    districts = resolved.districts
    parent_district = districts.select(
        pl.col("org_unit").alias("parent"), pl.col("district").alias("_parent_district")
    )
    assigned = set(
        meta.data_set_org_units.filter(pl.col("data_set") == data_set)["org_unit"].to_list()
    )
    candidates = assigned.union(*members.values())
    frame = (
        units.filter(pl.col("org_unit").is_in(list(candidates)))
        .join(districts, on="org_unit")
        .join(parent_district, on="parent", how="left")
        .filter(pl.col("_parent_district") == pl.col("district"))  # below the district unit
    )
    if frame.is_empty():
        reason = (
            "no facility: no org unit below a mapped district is assigned to the facility "
            "data set or held by a facility group"
        )
        raise MappingError(file, "facility", reason)
    immunizing = set(resolved.facilities["org_unit"].to_list())
    return frame.select(
        pl.col("org_unit").alias("facility"),
        pl.col("name").str.slice(0, 64),
        "district",
        "adm1_code",
        _member("hospital", "phc", members).alias("facility_type"),
        _member("urban", "rural", members).alias("setting"),
        pl.col("org_unit").is_in(list(immunizing)).alias("immunizing"),
        *_point(),
    ).sort("facility")


def _member(first: str, second: str, members: dict[str, set[str]]) -> pl.Expr:
    unit = pl.col("org_unit")
    return (
        pl.when(unit.is_in(list(members.get(first, ()))))
        .then(pl.lit(first))
        .when(unit.is_in(list(members.get(second, ()))))
        .then(pl.lit(second))
        .otherwise(pl.lit(None, pl.String))
    )


def _point() -> list[pl.Expr]:
    """lat, lon of a Point geometry (GeoJSON, or the older `[lon,lat]` coordinates text)."""
    geometry = pl.col("geometry")
    point = pl.col("geometry_type").str.to_lowercase() == "point"
    out = []
    for name, i in (("lon", 0), ("lat", 1)):
        value = (
            pl.when(geometry.str.starts_with("{"))
            .then(geometry.str.json_path_match(f"$.coordinates[{i}]"))
            .otherwise(geometry.str.json_path_match(f"$[{i}]"))
        )
        out.append(pl.when(point).then(value.cast(pl.Float64, strict=False)).alias(name))
    return [out[1], out[0]]


# --- the values -----------------------------------------------------------------------------


@dataclass
class FacilityFacts:
    """FACILITIES, FACILITY_MONTHS, the rejected values and, per file, where the facility
    values went: values = loaded + rejected + duplicates + blank (deleted or empty)."""

    facilities: pl.DataFrame
    months: pl.DataFrame
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def facility_facts(
    normalized: Normalized, fres: FacilityResolved, dose_units: Iterable[str] = ()
) -> FacilityFacts:
    """The facility report's values as one row per facility-month (see the module doc).
    Column-wise, and only the columns the rules need: a national report is millions of
    values."""
    hours = ((pl.col("period_end") - pl.col("period_start")).dt.total_days() + 1) * 24.0
    rows = (
        normalized.table.lazy()
        .with_row_index("_row")
        .join(fres.elements.lazy(), on="data_element", maintain_order="left")
        .select(
            "_row", pl.col("source_file").cast(pl.Categorical), *KEY, "column", "value_raw",
            (pl.col("deleted") | pl.col("value_raw").is_null()).alias("_blank"),
            (pl.col("period_type") == "Monthly").alias("_monthly"), hours.alias("_hours"),
        )
        .collect()
    )  # fmt: skip
    live = rows.filter(~pl.col("_blank"))
    live = live.with_columns(_last(live, list(KEY)))
    live = live.select(
        "_row", "source_file", "column", "org_unit", "period", "value_raw", "_last",
        pl.col("column").cast(pl.String).replace_strict(
            {c: kind(c) for c in fd.REPORTED}, return_dtype=KIND
        ).alias("_kind"),
        "_monthly", "_hours",
    )  # fmt: skip
    rows = rows.select("_row", "source_file", "_blank")
    judged = _judge(live.filter(pl.col("_last")), fres)
    rejected = judged.filter(pl.col("_rule").is_not_null())
    accepted = judged.filter(pl.col("_rule").is_null())
    kept = _last(accepted, ["org_unit", "period", "column"])
    accepted = accepted.with_columns(((pl.col("_kind") == "number") | kept).alias("_kept"))
    facilities = fres.facilities
    if dose_units:
        dosed = pl.col("facility").is_in(list(set(dose_units)))
        facilities = facilities.with_columns(pl.col("immunizing") | dosed)
    return FacilityFacts(
        facilities=facilities.select(list(fd.FACILITIES)),
        months=_months(accepted.filter(pl.col("_kept"))),
        problems=_problems(rejected, normalized),
        counts=_counts(rows, live, rejected, accepted),
    )


def _last(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    """True for the last row of each key (the one DHIS2 keeps). Only rows whose key hash
    repeats are compared exactly: sorting a million hashes costs little memory, a hash
    table of a million keys does not."""
    hashes = frame.select(pl.struct(columns).hash()).to_series()
    ordered = hashes.sort()
    twice = ordered.filter(ordered == ordered.shift(1)).unique()
    last = pl.repeat(True, frame.height, eager=True, dtype=pl.Boolean).alias("_last")
    if twice.is_empty():
        return last
    repeated = hashes.is_in(twice.implode())
    exact = frame.filter(repeated).select(pl.struct(columns).is_last_distinct()).to_series()
    return last.scatter(repeated.arg_true(), exact)


def _judge(live: pl.DataFrame, fres: FacilityResolved) -> pl.DataFrame:
    """Parsed value columns (_number, _flag, _option) and the first broken rule (_rule),
    as expressions over the rows (no join: the table can hold millions of values)."""
    text = pl.col("value_raw").str.strip_chars()
    number = pl.when(text.str.contains(NUMBER)).then(
        text.str.strip_chars_start("+").cast(pl.Float64, strict=False)
    )
    lower = text.str.to_lowercase()
    flag = pl.when(lower.is_in(list(TRUE))).then(True).when(lower.is_in(list(FALSE))).then(False)
    sep = "\x1f"
    translations = {f"{c}{sep}{code}": option for c, table in fres.mapping.options.items()
                    for code, option in table.items()}  # fmt: skip
    allowed = [f"{c}{sep}{o}" for c, vocab in VOCABULARIES.items() for o in vocab]
    is_option = pl.col("_kind") == "option"
    name = pl.col("column").cast(pl.String)
    keyed = pl.concat_str(name, pl.lit(sep), text)
    option = pl.when(is_option).then(
        keyed.replace_strict(translations, default=text, return_dtype=pl.String)
        if translations else text
    )  # fmt: skip
    known = pl.concat_str(name, pl.lit(sep), pl.col("_option")).is_in(allowed)
    facilities = fres.facilities["facility"].implode()
    frame = live.with_columns(
        number.alias("_number"), flag.alias("_flag"), option.alias("_option"),
        pl.col("org_unit").is_in(facilities).alias("_in"),
    )  # fmt: skip
    is_number = pl.col("_kind") == "number"
    value = pl.col("_number")
    whole = pl.col("column").is_in([c for c, t in fd.FACILITY_MONTHS.items() if t == pl.Int64])
    rule = (
        pl.when(~pl.col("_monthly")).then(pl.lit("period_not_monthly"))
        .when(~pl.col("_in")).then(pl.lit("org_unit_not_facility"))
        .when(is_number & value.is_null()).then(pl.lit("value_not_numeric"))
        .when(is_number & (value < 0)).then(pl.lit("value_negative"))
        .when(is_number & whole & (value != value.floor())).then(pl.lit("value_not_integer"))
        .when(is_number & pl.col("column").is_in(HOURS) & (value > pl.col("_hours")))
        .then(pl.lit("value_out_of_range"))
        .when((pl.col("_kind") == "boolean") & pl.col("_flag").is_null())
        .then(pl.lit("value_not_boolean"))
        .when(is_option & ~known).then(pl.lit("option_unknown"))
        .otherwise(pl.lit(None, pl.String))
    )  # fmt: skip
    return frame.with_columns(rule.alias("_rule"))


def _problems(rejected: pl.DataFrame, normalized: Normalized) -> list[Problem]:
    """The rejected values with their file, position and reason (from the full rows)."""
    index = rejected["_row"]
    full = normalized.table.select("source_file", "period_type", "value_raw").gather(index)
    full = pl.concat(
        [full.with_columns(normalized.positions.gather(index).alias("position")),
         rejected.select("column", "org_unit", "period", "_rule", "_hours")],
        how="horizontal",
    )  # fmt: skip
    problems = []
    for row in full.to_dicts():
        options = ", ".join(VOCABULARIES.get(row["column"], ()))
        reason = REASONS[row["_rule"]].format(**row, _options=options)
        problems.append(Problem(row["source_file"], row["position"] or "", row["_rule"], reason))
    return problems


def _months(accepted: pl.DataFrame) -> pl.DataFrame:
    """One row per facility-month, every FACILITY_MONTHS column (empty when not answered)."""
    keys = ["org_unit", "period"]
    parts = []
    for wanted, source, agg in (
        ("number", "_number", pl.col("_number").sum()),
        ("boolean", "_flag", pl.col("_flag").last()),
        ("option", "_option", pl.col("_option").last()),
    ):
        rows = accepted.filter(pl.col("_kind") == wanted)
        if rows.height:
            grouped = rows.group_by(*keys, "column", maintain_order=True).agg(agg.alias(source))
            grouped = grouped.with_columns(pl.col("column").cast(pl.String))
            parts.append(grouped.pivot(on="column", index=keys, values=source))
    months = pl.concat([p.select(keys) for p in parts]).unique() if parts else None
    if months is None:
        return fd.empty(fd.FACILITY_MONTHS)
    for part in parts:
        months = months.join(part, on=keys, how="left")
    missing = [pl.lit(None).alias(c) for c in fd.FACILITY_MONTHS if c not in months.columns
               and c not in ("facility", "period")]  # fmt: skip
    months = months.with_columns(missing).rename({"org_unit": "facility"})
    return months.select([pl.col(c).cast(t) for c, t in fd.FACILITY_MONTHS.items()]).sort(
        "facility", "period"
    )


def _counts(rows: pl.DataFrame, live: pl.DataFrame, rejected: pl.DataFrame,
            accepted: pl.DataFrame) -> dict[str, dict[str, int]]:  # fmt: skip
    def per_file(frame: pl.DataFrame) -> dict[str, int]:
        return dict(frame.group_by(pl.col("source_file").cast(pl.String)).len().rows())

    values, blank = per_file(rows), per_file(rows.filter(pl.col("_blank")))
    replaced = per_file(live.filter(~pl.col("_last")))
    repeated = per_file(accepted.filter(~pl.col("_kept")))
    loaded, bad = per_file(accepted.filter(pl.col("_kept"))), per_file(rejected)
    return {
        file: {"values": count, "loaded": loaded.get(file, 0), "rejected": bad.get(file, 0),
               "duplicates": replaced.get(file, 0) + repeated.get(file, 0),
               "blank": blank.get(file, 0)}
        for file, count in values.items()
    }  # fmt: skip
