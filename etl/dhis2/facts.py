"""Normalized DHIS2 data values and registrations, through the mapping, into the tables
`indicators.admin` computes from (`AdminInputs`).

Every live value either feeds a table, is unused (its data element is not in the mapping)
or is rejected with its file, position and reason:

- `org_unit_outside_districts`: the org unit is neither a mapped district nor inside one
  (a value entered for a governorate or the country cannot be placed in a district);
- `period_not_monthly`: a dose value for another period type (doses are read per month);
- `period_spans_years`: a population value whose period crosses a calendar year.

Deleted values (`deleted=true`) and values without a number were already left aside by
the normalizer (its warnings). The same data element, period, org unit and combos twice
is counted once, the last one read, as a DHIS2 import keeps the last.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from etl.dhis2.mapping import Resolved
from etl.dhis2.metadata import Metadata
from etl.dhis2.normalize import KEY, Normalized
from etl.dhis2.problems import Problem
from etl.dhis2.registrations import Registrations, with_timeliness
from indicators.admin import DOSE_SCHEMA, POPULATION_SCHEMA, AdminInputs

REASONS = {
    "org_unit_outside_districts": "org unit {org_unit} is not a mapped district nor inside one",
    "period_not_monthly": "dose value for the {period_type} period {period}: doses are monthly",
    "period_spans_years": "population value for {period}, which crosses a calendar year",
}


@dataclass
class Facts:
    """The indicator inputs, the as-of date and what was rejected or left unused."""

    inputs: AdminInputs
    as_of: date | None
    problems: list[Problem] = field(default_factory=list)
    used: dict[str, int] = field(default_factory=dict)  # per file: values used
    unused: dict[str, int] = field(default_factory=dict)  # per file: not in the mapping


def facts(
    normalized: Normalized, registrations: list[Registrations], resolved: Resolved,
    meta: Metadata, other_mapped: Iterable[str] = (),
) -> Facts:  # fmt: skip
    """Map the values and registrations; `as_of` is the end of the last month with doses.
    `other_mapped`: data elements another reader uses (the facility report), not unused."""
    others = set(other_mapped)
    live = _live(normalized, others)
    located = live.join(resolved.districts, on="org_unit", how="left")
    doses, dose_problems = _doses(located, resolved)
    population, pop_problems = _population(located, resolved)
    reports, report_problems = _reports(registrations, resolved, meta)
    mapped = set(resolved.dose_elements["data_element"]) | set(
        resolved.population_elements["data_element"]
    )
    inputs = AdminInputs(
        doses=doses,
        population=population,
        rules=resolved.dose_elements.select("dose", "ages", "denominator").unique("dose"),
        expected=resolved.facilities,
        reports=reports,
        age_known=bool(resolved.mapping.age_under_1 or resolved.mapping.age_over_1),
        sex_shares=resolved.mapping.sex_shares,
    )
    as_of = doses["period_end"].max() if doses.height else None
    is_mapped = pl.col("data_element").is_in(list(mapped))
    return Facts(
        inputs=_public(inputs),
        as_of=as_of,
        problems=[*dose_problems, *pop_problems, *report_problems],
        used=_per_file(live.filter(is_mapped), [*dose_problems, *pop_problems]),
        unused=_per_file(live.filter(~is_mapped), []),
    )


def _public(inputs: AdminInputs) -> AdminInputs:
    inputs.doses = inputs.doses.select(list(DOSE_SCHEMA))
    return inputs


def _live(normalized: Normalized, others: set[str]) -> pl.DataFrame:
    """Values with a number, not deleted, the last of each key; with their position;
    without the data elements another reader uses."""
    table = normalized.table.with_columns(normalized.positions.alias("position"))
    return (
        table.filter(~pl.col("deleted"), pl.col("value").is_not_null(),
                     ~pl.col("data_element").is_in(list(others)))  # fmt: skip
        .unique(list(KEY), keep="last", maintain_order=True)
    )  # fmt: skip


def _reject(frame: pl.DataFrame, code: str) -> list[Problem]:
    return [
        Problem(row["source_file"], row["position"] or "", code, REASONS[code].format(**row))
        for row in frame.to_dicts()
    ]


def _doses(located: pl.DataFrame, resolved: Resolved) -> tuple[pl.DataFrame, list[Problem]]:
    rows = located.join(resolved.dose_elements.select("data_element", "dose"), on="data_element")
    outside = rows.filter(pl.col("district").is_null())
    rows = rows.filter(pl.col("district").is_not_null())
    not_monthly = rows.filter(pl.col("period_type") != "Monthly")
    rows = rows.filter(pl.col("period_type") == "Monthly")
    rows = rows.join(resolved.combos, on="category_option_combo", how="left")
    problems = _reject(outside, "org_unit_outside_districts")
    problems += _reject(not_monthly, "period_not_monthly")
    frame = rows.select(*DOSE_SCHEMA, "period_end").cast({"period_end": pl.Date})
    return frame, problems


def _population(located: pl.DataFrame, resolved: Resolved) -> tuple[pl.DataFrame, list[Problem]]:
    rows = located.join(resolved.population_elements, on="data_element")
    outside = rows.filter(pl.col("district").is_null())
    rows = rows.filter(pl.col("district").is_not_null())
    spans = pl.col("period_start").dt.year() != pl.col("period_end").dt.year()
    crossing = rows.filter(spans)
    rows = rows.filter(~spans).join(resolved.combos, on="category_option_combo", how="left")
    frame = rows.select(
        "district", "adm1_code", "period",
        pl.col("period_start").dt.year().cast(pl.Int32).alias("year"),
        "population", "sex", "value",
    )  # fmt: skip
    problems = _reject(outside, "org_unit_outside_districts")
    problems += _reject(crossing, "period_spans_years")
    return frame.select(list(POPULATION_SCHEMA)), problems


def _reports(
    registrations: list[Registrations], resolved: Resolved, meta: Metadata
) -> tuple[pl.DataFrame, list[Problem]]:
    """Complete registrations of the mapped data sets by units inside a district."""
    schema = {"data_set": pl.String, "org_unit": pl.String, "period": pl.String,
              "on_time": pl.Boolean}  # fmt: skip
    tables = [r.table for r in registrations if r.table.height]
    if not tables or resolved.data_sets.is_empty():
        return pl.DataFrame(schema=schema), []
    sets = {code: uid for uid, code in meta.data_sets.select("uid", "code").rows() if code}
    units = meta.index.org_units
    table = pl.concat(tables).with_columns(
        pl.col("data_set").replace(sets),
        pl.col("org_unit").replace(units),
        pl.int_range(pl.len()).alias("_row"),
    )
    table = table.filter(pl.col("data_set").is_in(resolved.data_sets["data_set"].to_list()))
    timed = with_timeliness(
        table, resolved.data_sets.rename({"data_set": "uid"})
    ).join(resolved.districts, on="org_unit", how="left")  # fmt: skip
    monthly = timed.filter(pl.col("completed"), pl.col("period_type") == "Monthly")
    outside = monthly.filter(pl.col("district").is_null())
    problems = [
        Problem(row["source_file"], f"registration for {row['period']}",
                "org_unit_outside_districts",
                REASONS["org_unit_outside_districts"].format(**row))
        for row in outside.to_dicts()
    ]  # fmt: skip
    reports = monthly.filter(pl.col("district").is_not_null()).select(
        "data_set", "org_unit", "period", pl.col("on_time").fill_null(False)
    )
    return reports, problems


def _per_file(frame: pl.DataFrame, rejected: list[Problem]) -> dict[str, int]:
    """Values per file, less the rejected ones."""
    counts = dict(frame.group_by("source_file").len().rows())
    for problem in rejected:
        counts[problem.file] = counts.get(problem.file, 0) - 1
    return counts
