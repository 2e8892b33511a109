"""Facility environment indicators (issue 7): waste, energy, carbon, climate-sensitive cases.

`derive` fills the DERIVED columns of each facility-month (`indicators.waste`,
`indicators.energy`); `aggregate` turns facility months into numerators and denominators
for any grouping (the build's org units, the page's facility type and urban/rural: one
implementation); `build` makes the published rows of source `facility` that a DHIS2 load
stores.

Decisions:
- Each facility-month enters an indicator's denominator only when it answered what the
  indicator needs (an empty answer is "not reported", never "no"); a group whose
  denominator is 0 has no row. Totals (kg, litres, hours, kWp, t CO2e, facilities) have no
  denominator; their row exists when at least one facility reported the quantity.
- Ratios of sums (hazardous kg / bed-days, solar kWh / all kWh) use the facility-months
  that reported both parts, so a missing part never counts as zero. `renewable_share`
  needs all three kWh sources; `waste_total_kg` and `waste_haz_fraction` both weights.
- `co2e_t` = `co2e_scope1_t` + `co2e_scope2_t` exactly (a missing part counts as 0 once
  the other part is reported), so the three carbon rows always add up.
- Case rates: cases reported by the district's facilities over the district population
  of the climate file x 10,000; a parent sums the numerators and the populations of its
  districts that have a row (a district whose facilities reported no count of that
  condition would lower the rate with its population but no cases). Case rates and
  sharps injuries count people, so they go through primary and complementary suppression
  along the geography (the only margin these rows have); every other row counts
  facilities, kilograms or kWh, is not suppressed and gets no denominator flag.
- `heatwave_days` of a unit is the population-weighted mean over its districts with a
  population: numerator = sum of population x heatwave days, denominator = population.
- Quarterly rows (YYYYQn) only for the additive totals, for every quarter with data.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import cache
from typing import NamedTuple

import polars as pl

from indicators import catalogue, config, energy, facility_data, geography, waste
from indicators.publish import COLUMNS, publish_marked
from indicators.suppression import suppress

F = pl.Float64
SOURCE = "facility"
ALL = "all"
KEYS = ["indicator", "period", "org_unit", "org_unit_level", "adm1_code", "sex", "disability"]
ROW_KEYS = KEYS[:5]
AGGREGATE_COLUMNS = ["indicator", "numerator", "denominator", "value"]
QUARTERLY = ("waste_total_kg", "diesel_litres", "generator_hours", "co2e_t", "co2e_scope1_t",
             "co2e_scope2_t", "solar_avoided_co2e_t")  # fmt: skip
SUPPRESSED = ("sharps_injuries_per_100_staff",)  # besides the case rates: counts people
CASE_RATES = {c: f"{c}_per_10k" for c in facility_data.CASE_COLUMNS}
Measure = tuple[pl.Expr, pl.Expr | None]  # per facility-month: numerator, denominator


class EnvironmentResult(NamedTuple):
    """What a DHIS2 load stores: facility months with the DERIVED columns filled
    (`facility_data.STORED_MONTHS`) and the published rows of source `facility`
    (`indicators.publish.COLUMNS`). A tuple, so `months, values = build(...)` works."""

    facility_months: pl.DataFrame
    values: pl.DataFrame


# ---- per facility-month --------------------------------------------------------------------


def derive(months: pl.DataFrame, facilities: pl.DataFrame, climate: pl.DataFrame) -> pl.DataFrame:
    """Facility months (FACILITY_MONTHS columns) with the DERIVED columns added
    (STORED_MONTHS, same rows and order); heat stress needs the district's heatwave days."""
    heat = climate.select("district", "period", "heatwave_days")
    frame = (
        months.join(
            facilities.select("facility", "district"),
            on="facility",
            how="left",
            maintain_order="left",
        )
        .join(heat, on=["district", "period"], how="left", maintain_order="left")
        .with_columns(*waste.derived(), energy.electricity_level(), *energy.carbon())
    )
    level = pl.col("electricity_level")
    frame = frame.with_columns(
        energy.fridges_reliable_power(level),
        energy.heat_stress(level, pl.col("heatwave_days"), config.heat_alert_days()),
    )
    return frame.select(pl.col(c).cast(t) for c, t in facility_data.STORED_MONTHS.items())


# ---- measures ------------------------------------------------------------------------------


def _share(condition: pl.Expr) -> Measure:
    """% of facilities: those where `condition` holds over those where it is known."""
    return condition.cast(F), pl.when(condition.is_not_null()).then(1.0)


def _ratio(numerator: pl.Expr, denominator: pl.Expr, where: pl.Expr | None = None) -> Measure:
    """Sum over sum, on the facility-months that reported both (and satisfy `where`)."""
    known = numerator.is_not_null() & denominator.is_not_null()
    known = known if where is None else known & where
    return pl.when(known).then(numerator.cast(F)), pl.when(known).then(denominator.cast(F))


def _total(quantity: pl.Expr) -> Measure:
    return quantity.cast(F), None


def _tonnes(*kg: str) -> pl.Expr:
    """Sum of kg columns in t; a missing part counts as 0 once another part is there."""
    reported = pl.any_horizontal([pl.col(c).is_not_null() for c in kg])
    return pl.when(reported).then(pl.sum_horizontal([pl.col(c).fill_null(0.0) for c in kg]) / 1000)


@cache
def _measures() -> dict[str, Measure]:
    """Every facility-based indicator of the catalogue (climate.md IDs in the catalogue).
    Built once: the expressions are immutable and the page aggregates on every request."""
    col = pl.col
    level, power = col("hcwm_level"), col("electricity_level")
    hospital, phc = col("facility_type") == "hospital", col("facility_type") == "phc"
    kwh = ("kwh_grid", "kwh_generator", "kwh_solar")
    all_kwh = pl.when(pl.all_horizontal([col(c).is_not_null() for c in kwh])).then(
        pl.sum_horizontal([col(c) for c in kwh])
    )
    waste_kg = col("waste_general_kg") + col("waste_hazardous_kg")  # empty if either is
    days = (col("period") + "01").str.to_date("%Y%m%d").dt.month_end().dt.day()
    return {
        "hcwm_basic": _share(level == "basic"),
        "hcwm_limited": _share(level == "limited"),
        "hcwm_no_service": _share(level == "none"),
        "hcwm_segregation": _share(col("segregation_ok")),
        "hcwm_safe_treatment": _share(col("treatment_ok")),
        "hcwm_unsafe_disposal": _share(col("unsafe_disposal")),
        "hcwm_treatment_equipment": _share(
            col("autoclave_functional") | col("incinerator_functional")),
        "waste_total_kg": _total(waste_kg),
        "waste_haz_fraction": _ratio(col("waste_hazardous_kg"), waste_kg),
        "waste_haz_kg_per_bed_day": _ratio(col("waste_hazardous_kg"), col("occupied_bed_days"),
                                           hospital),
        "waste_haz_kg_per_100_visits": _ratio(col("waste_hazardous_kg"),
                                              col("outpatient_visits"), phc),
        "sharps_injuries_per_100_staff": _ratio(col("sharps_injuries"), col("health_workers")),
        "elec_any": _share(col("electricity")),
        "elec_reliable": _share(power == "reliable"),
        "elec_unreliable": _share(power == "unreliable"),
        "elec_none": _share(power == "none"),
        "backup_power": _share(pl.when(col("electricity")).then(col("backup_power"))),
        "grid_hours_per_day": _ratio(col("grid_hours"), days),
        "generator_hours": _total(col("generator_hours")),
        "diesel_litres": _total(col("diesel_litres")),
        "diesel_litres_per_bed": _ratio(col("diesel_litres"), col("beds"), hospital),
        "renewable_share": _ratio(col("kwh_solar"), all_kwh),
        "solar_facilities": _share(col("solar_kwp") > 0),
        "solar_kwp": _total(col("solar_kwp")),
        "fridges_reliable_power": _ratio(col("fridges_reliable_power"), col("vaccine_fridges")),
        "co2e_t": _total(_tonnes("co2e_scope1_kg", "co2e_scope2_kg")),
        "co2e_scope1_t": _total(_tonnes("co2e_scope1_kg")),
        "co2e_scope2_t": _total(_tonnes("co2e_scope2_kg")),
        "solar_avoided_co2e_t": _total(_tonnes("co2e_avoided_kg")),
        "facilities_heat_stress": _total(col("heat_stress").cast(F)),
    }  # fmt: skip


def _value(numerator: pl.Expr, denominator: pl.Expr, scale: pl.Expr) -> pl.Expr:
    """numerator x scale / denominator; the numerator itself for a total (no denominator)."""
    return (
        pl.when(denominator.is_null()).then(numerator)
        .when(denominator != 0).then(numerator * scale / denominator)
    )  # fmt: skip


@cache
def _scales() -> pl.DataFrame:
    return pl.DataFrame(
        [(i.code, float(i.scale)) for i in catalogue.indicators() if i.source == SOURCE],
        schema={"indicator": pl.String, "_scale": F}, orient="row",
    )  # fmt: skip


def _long(sums: pl.DataFrame, by: list[str], measures: dict[str, Measure]) -> pl.DataFrame:
    """One row per group and indicator, dropping groups that nobody reported for."""
    parts = [
        sums.select(
            *by, pl.lit(code).alias("indicator"), pl.col(f"n|{code}").alias("numerator"),
            (pl.col(f"d|{code}") if den is not None else pl.lit(None, F)).alias("denominator"),
            pl.col(f"k|{code}").alias("_reported"),
        )
        for code, (_, den) in measures.items()
    ]  # fmt: skip
    rows = pl.concat(parts)
    den = pl.col("denominator")
    return rows.filter(pl.when(den.is_null()).then(pl.col("_reported") > 0).otherwise(den > 0))


def aggregate(frame: pl.DataFrame, by: list[str], codes: Iterable[str] | None = None
              ) -> pl.DataFrame:  # fmt: skip
    """[by..., indicator, numerator, denominator, value] of the facility-based indicators
    (all, or `codes`) over facility months (STORED_MONTHS, with `period` a month) joined
    to facility attributes (at least `facility_type`). Case rates and heatwave days need
    the district populations and are not here (`build` makes them for org units)."""
    measures = _measures()
    if codes is not None:
        measures = {code: measures[code] for code in codes}
    keys = by or ["_all"]
    terms = frame.with_columns(pl.lit(0).alias("_all")).select(
        *keys,
        *(num.alias(f"n|{code}") for code, (num, _) in measures.items()),
        *(den.alias(f"d|{code}") for code, (_, den) in measures.items() if den is not None),
    )
    sums = terms.group_by(keys).agg(
        *(pl.col(f"n|{code}").sum() for code in measures),
        *(pl.col(f"n|{code}").count().alias(f"k|{code}") for code in measures),
        *(pl.col(f"d|{code}").sum() for code, (_, den) in measures.items() if den is not None),
    )
    rows = _long(sums, keys, measures).join(_scales(), on="indicator", how="left")
    value = _value(pl.col("numerator"), pl.col("denominator"), pl.col("_scale"))
    return (
        rows.with_columns(value.alias("value"))
        .select(*by, *AGGREGATE_COLUMNS)
        .sort([*by, "indicator"], nulls_last=True)
    )


# ---- org units -----------------------------------------------------------------------------


def _at_levels(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """The frame (with district, adm1_code) labelled as districts, governorates and Iraq."""
    labels = [
        (pl.lit(geography.NATIONAL), 0, pl.lit(None, pl.String)),
        (pl.col("adm1_code"), 1, pl.col("adm1_code")),
        (pl.col("district"), 2, pl.col("adm1_code")),
    ]
    return [
        frame.with_columns(unit.alias("org_unit"), pl.lit(level, pl.Int8).alias("org_unit_level"),
                           adm1.alias("adm1_code"))
        for unit, level, adm1 in labels
    ]  # fmt: skip


def _quarter(period: pl.Expr) -> pl.Expr:
    month = period.str.slice(4, 2).cast(pl.Int32)
    return period.str.slice(0, 4) + "Q" + ((month + 2) // 3).cast(pl.String)


def _facility_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Monthly rows of every facility-based indicator and quarterly rows of the totals."""
    units = ["org_unit", "org_unit_level", "adm1_code"]
    monthly, quarterly = [], []
    for labelled in _at_levels(frame):
        monthly.append(aggregate(labelled, ["period", *units]))
        by_quarter = labelled.with_columns(_quarter(pl.col("period")).alias("_q"))
        quarterly.append(aggregate(by_quarter, ["_q", *units], QUARTERLY).rename({"_q": "period"}))
    return pl.concat([*monthly, *quarterly])


def _district_sums(months: pl.DataFrame, facilities: pl.DataFrame, climate: pl.DataFrame
                   ) -> pl.DataFrame:  # fmt: skip
    """Per district-month and condition: cases reported by its facilities (where any
    facility reported that condition) and the district population."""
    located = months.join(facilities.select("facility", "district", "adm1_code"), on="facility")
    sums = located.group_by("district", "adm1_code", "period").agg(
        *(pl.col(c).sum().alias(f"n|{c}") for c in CASE_RATES),
        *(pl.col(c).count().alias(f"k|{c}") for c in CASE_RATES),
    )
    population = climate.filter(pl.col("population") > 0).select(
        "district", "period", pl.col("population").cast(F)
    )
    sums = sums.join(population, on=["district", "period"])
    parts = [
        sums.filter(pl.col(f"k|{c}") > 0).select(
            "district", "adm1_code", "period", pl.lit(code).alias("indicator"),
            pl.col(f"n|{c}").cast(F).alias("numerator"), pl.col("population").alias("denominator"))
        for c, code in CASE_RATES.items()
    ]  # fmt: skip
    heat = climate.filter(pl.col("population") > 0, pl.col("heatwave_days").is_not_null())
    parts.append(heat.select(
        "district", pl.col("district").str.slice(0, 5).alias("adm1_code"), "period",
        pl.lit("heatwave_days").alias("indicator"),
        (pl.col("population") * pl.col("heatwave_days")).cast(F).alias("numerator"),
        pl.col("population").cast(F).alias("denominator"),
    ))  # fmt: skip
    return pl.concat(parts)


def _district_rows(sums: pl.DataFrame) -> pl.DataFrame:
    """District sums added up to governorates and Iraq."""
    return pl.concat(
        labelled.group_by(ROW_KEYS).agg(pl.col("numerator").sum(), pl.col("denominator").sum())
        for labelled in _at_levels(sums)
    )


def _publish(rows: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Published rows: counts of people suppressed along the geography, the rest shown."""
    cube = rows.with_columns(pl.lit(ALL).alias("sex"), pl.lit(ALL).alias("disability")).select(
        *KEYS, "numerator", "denominator"
    )
    counts_people = pl.col("indicator").is_in([*CASE_RATES.values(), *SUPPRESSED])
    people, others = cube.filter(counts_people), cube.filter(~counts_people)
    nothing_hidden = {"num_hidden": pl.lit(False), "den_hidden": pl.lit(False)}
    marked = (suppress(people, groups=("geography",)) if people.height
              else people.with_columns(**nothing_hidden))  # fmt: skip
    return publish_marked(pl.concat([marked, others.with_columns(**nothing_hidden)]), as_of)


def empty_values() -> pl.DataFrame:
    """No published rows, in the published schema."""
    return publish_marked(
        pl.DataFrame(schema={**{k: pl.String for k in KEYS}, "org_unit_level": pl.Int8,
                             "numerator": F, "denominator": F, "num_hidden": pl.Boolean,
                             "den_hidden": pl.Boolean}),
        date(1970, 1, 1),
    ).select(COLUMNS)  # fmt: skip


def build(
    facilities: pl.DataFrame, months: pl.DataFrame, climate: pl.DataFrame, as_of: date
) -> EnvironmentResult:
    """Derived facility months and the published `facility` rows for IQ / governorates /
    districts by month (and quarter for the additive totals)."""
    stored = derive(months, facilities, climate)
    if stored.is_empty():
        return EnvironmentResult(stored, empty_values())
    attributes = facilities.select("facility", "district", "adm1_code", "facility_type")
    frame = stored.join(attributes, on="facility", how="inner")
    rows = pl.concat([
        _facility_rows(frame).select(*ROW_KEYS, "numerator", "denominator"),
        _district_rows(_district_sums(stored, facilities, climate)).select(
            *ROW_KEYS, "numerator", "denominator"),
    ])  # fmt: skip
    return EnvironmentResult(stored, _publish(rows, as_of))
