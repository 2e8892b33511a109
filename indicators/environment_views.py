"""What the Environment page and the Overview's alert list read: the facility environment
data (issue 7) through the caller's `Scope`, cached per data version like `queries`.

Three kinds of reads:
- published `facility` rows of `indicator_values` (place and its children, a period): the
  default view, with the disclosure rules already applied (case rates are suppressed);
- facility months joined to their facility (`facilities`, `facility_months`), for what
  the published rows do not hold: a facility type or urban/rural filter (computed by
  `indicators.environment.aggregate`, the function the load publishes with, so an
  unfiltered breakdown equals the published rows), the treatment-method mix, the facility
  table and one facility's year;
- `climate_months` with the cases the district's facilities reported, for heat against
  cases and the lag correlation.
A governorate user's reads are filtered by `adm1_code` (facilities) or the district code's
governorate prefix (climate) inside every query, so no view or export can hold another
governorate's facility.

Decisions:
- Periods are months (YYYYMM) or quarters (YYYYQn). Totals (kg, litres, hours, tCO2e) are
  summed over a quarter; shares and counts of facilities (ladders, reliable electricity,
  heat stress) describe a state and are read at the quarter's latest month with data (the
  "status month"); the load publishes quarterly rows for the totals only.
- Case rates are not offered by facility type or setting (their denominator is the
  district population, not the facilities' catchment).
- One facility's case counts are patients: a month's count of 1..4 is hidden, and when a
  district-month hides exactly one facility's count, the next smallest is hidden too, so
  the published district numerator minus the other facilities cannot give it away.
- Lag relationship: over the district-months in scope, the cases per 10,000 of month m
  against the exposure (heatwave days, or the mean daily maximum temperature) of month
  m - k in the same district, for k = 0..3 months; Spearman's rho is Pearson's
  correlation of the two series' average ranks (polars `rank("average")`). Pooled over
  districts and months, unadjusted: it describes how closely cases follow heat, and
  seasonality carries much of it; it is not an attributable-risk estimate (climate.md
  §3.6 names the DLNM methods for that).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import polars as pl
import sqlalchemy as sa

from indicators import alerts, catalogue, environment, facility_data, geography, queries, waste
from indicators import warehouse as wh
from indicators.cache import versioned
from indicators.queries import Version
from indicators.scope import Scope
from indicators.suppression import is_small

SOURCE = "facility"
ALL = "all"
NATIONAL = geography.NATIONAL
MONTH = re.compile(r"^\d{6}$")
QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
MONTHLY, QUARTERLY = "month", "quarter"
LAGS = (0, 1, 2, 3)
MIN_PAIRS = 3  # fewer district-months than this: no correlation
PERIOD_CODE = "co2e_t"  # published for every month and quarter with facility data
# Totals summed over a quarter (published quarterly too); every other code is a state.
ADDITIVE = ("waste_total_kg", "diesel_litres", "generator_hours", "co2e_t", "co2e_scope1_t",
            "co2e_scope2_t", "solar_avoided_co2e_t")  # fmt: skip
LADDER = ("hcwm_basic", "hcwm_limited", "hcwm_no_service")
CARBON = ("co2e_scope1_t", "co2e_scope2_t", "solar_avoided_co2e_t")
SOLAR = ("solar_facilities", "solar_kwp", "renewable_share")
HEADLINE = ("hcwm_basic", "elec_reliable", "renewable_share", "co2e_t", "diesel_litres",
            "solar_avoided_co2e_t", "facilities_heat_stress")  # fmt: skip
CONDITIONS = {
    "heat_illness": ("cases_heat_illness", "cases_heat_illness_per_10k"),
    "awd": ("cases_awd", "cases_awd_per_10k"),
    "cholera": ("cases_cholera", "cases_cholera_per_10k"),
    "respiratory": ("cases_respiratory", "cases_respiratory_per_10k"),
    "leishmaniasis": ("cases_leishmaniasis", "cases_leishmaniasis_per_10k"),
}
EXPOSURES = ("heatwave_days", "tmax")
CASE_RATE_PREFIX = "cases_"
ROW_SCHEMA = {**queries.VALUE_SCHEMA, "facility_type": pl.String, "setting": pl.String}
FACILITY_COLUMNS = {c: k for c, k in facility_data.FACILITIES.items() if c != "facility"}
FRAME_SCHEMA = {**facility_data.STORED_MONTHS, **FACILITY_COLUMNS}


# --- periods and places ------------------------------------------------------------------------


def quarter_of(month: str) -> str:
    return f"{month[:4]}Q{(int(month[4:6]) - 1) // 3 + 1}"


def quarter_expr(month: pl.Expr) -> pl.Expr:
    """`quarter_of` as a polars expression."""
    number = (month.str.slice(4, 2).cast(pl.Int32) - 1) // 3 + 1
    return pl.concat_str(month.str.slice(0, 4), pl.lit("Q"), number.cast(pl.String))


def months_of(period: str) -> tuple[str, ...]:
    """The months a period covers (a month covers itself)."""
    match = QUARTER.match(period)
    if not match:
        return (period,)
    first = (int(match.group(2)) - 1) * 3 + 1
    return tuple(f"{match.group(1)}{m:02d}" for m in range(first, first + 3))


def shift_month(month: str, by: int) -> str:
    """YYYYMM moved by `by` months (negative: earlier)."""
    index = int(month[:4]) * 12 + int(month[4:6]) - 1 + by
    return f"{index // 12}{index % 12 + 1:02d}"


def level_of(code: str) -> int:
    return 0 if code == NATIONAL else (1 if len(code) == 5 else 2)


def _level_expr(code: pl.Expr) -> pl.Expr:
    return (
        pl.when(code == NATIONAL).then(0).when(code.str.len_chars() == 5).then(1).otherwise(2)
    ).cast(pl.Int8)


def area_of(code: str) -> str:
    """The unit whose children a view compares: itself, or a district's governorate."""
    return code[:5] if level_of(code) == 2 else code


@dataclass(frozen=True)
class Choice:
    """A selection on the page: period (month or quarter), place (visible to the scope)
    and the facility filters (`all` = no filter)."""

    period: str
    place: str = NATIONAL
    facility_type: str = ALL
    setting: str = ALL

    @property
    def filtered(self) -> bool:
        return self.facility_type != ALL or self.setting != ALL

    @property
    def area(self) -> str:
        return area_of(self.place)


def visible(scope: Scope, place: str) -> str:
    """`place` if the scope may see it, else the scope's governorate (a governorate user's
    views are about its governorate, never about Iraq computed from its facilities)."""
    if scope.allows_org_unit(place):
        return place
    return scope.governorate or NATIONAL


def _scoped(scope: Scope, choice: Choice) -> Choice:
    return replace(choice, place=visible(scope, choice.place))


def periods(scope: Scope, url: str | None = None) -> dict[str, list[str]]:
    """Months and quarters with facility data, oldest first."""
    found = queries.periods(scope, PERIOD_CODE, url)
    return {
        MONTHLY: [p for p in found if MONTH.match(p)],
        QUARTERLY: [p for p in found if QUARTER.match(p)],
    }


def status_month(period: str, months: list[str]) -> str:
    """The month a state (share, count of facilities) is read at: the month itself, or the
    quarter's latest month with data (the quarter's last month when none has)."""
    covered = [m for m in months_of(period) if m in months]
    return covered[-1] if covered else months_of(period)[-1]


def previous(period: str, available: list[str]) -> str | None:
    """The period before `period` among `available` (month-on-month, quarter-on-quarter)."""
    earlier = [p for p in available if p < period]
    return earlier[-1] if earlier else None


def latest(scope: Scope, url: str | None = None) -> dict[str, str | None]:
    found = periods(scope, url)
    return {kind: (values[-1] if values else None) for kind, values in found.items()}


# --- reading the warehouse -----------------------------------------------------------------------


def _engine(url: str | None) -> sa.Engine:
    return wh.engine(url)


def _facility_filter(scope: Scope, place: str) -> sa.ColumnElement:
    f = wh.facilities
    conditions = [sa.true()]
    if scope.restricted:
        conditions.append(f.c.adm1_code == scope.governorate)
    if level_of(place) == 1:
        conditions.append(f.c.adm1_code == place)
    elif level_of(place) == 2:
        conditions.append(f.c.district == place)
    return sa.and_(*conditions)


def _frame(rows: list, schema: dict) -> pl.DataFrame:
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def facility_rows(
    scope: Scope, place: str, months: tuple[str, ...] | None, url: str | None = None
) -> pl.DataFrame:
    """Facility months (STORED_MONTHS) joined to their facility's attributes, of the
    facilities under `place` the scope may see, for `months` (None: every month).

    Cut in memory from one cached read of every facility month (about 57,000 rows for
    1,885 facilities over 30 months): a query per place and month costs nearly as much as
    the whole table, and the page asks for many. The scope is applied here, as in SQL."""
    frame = _all_facility_rows(queries._stamp(url), url)
    if scope.restricted:
        frame = frame.filter(pl.col("adm1_code") == scope.governorate)
    if level_of(place) == 1:
        frame = frame.filter(pl.col("adm1_code") == place)
    elif level_of(place) == 2:
        frame = frame.filter(pl.col("district") == place)
    if months is not None:
        frame = frame.filter(pl.col("period").is_in(months))
    return frame.clone()


@versioned(maxsize=4)
def _all_facility_rows(_version: Version, url: str | None) -> pl.DataFrame:
    f, m = wh.facilities, wh.facility_months
    columns = [m.c[c] for c in facility_data.STORED_MONTHS] + [f.c[c] for c in FACILITY_COLUMNS]
    query = sa.select(*columns).join(f, f.c.facility == m.c.facility)
    with _engine(url).connect() as connection:
        rows = connection.execute(query.order_by(m.c.facility, m.c.period)).all()
    return _frame(rows, FRAME_SCHEMA)


def warm(url: str | None = None) -> int:
    """Read the facility months into the cache (`indicators.warmup`); returns the rows."""
    return facility_rows(Scope.national(), NATIONAL, None, url).height


def facilities(scope: Scope, place: str = NATIONAL, url: str | None = None) -> pl.DataFrame:
    """The facility register (FACILITIES columns) under `place`, as the scope may see it."""
    return _facilities(queries._stamp(url), scope, place, url).clone()


@versioned(maxsize=32)
def _facilities(_version: Version, scope: Scope, place: str, url: str | None) -> pl.DataFrame:
    f = wh.facilities
    query = (
        sa.select(*[f.c[c] for c in facility_data.FACILITIES])
        .where(_facility_filter(scope, place))
        .order_by(f.c.name, f.c.facility)
    )
    with _engine(url).connect() as connection:
        return _frame(connection.execute(query).all(), facility_data.FACILITIES)


def _filtered(frame: pl.DataFrame, choice: Choice) -> pl.DataFrame:
    if choice.facility_type != ALL:
        frame = frame.filter(pl.col("facility_type") == choice.facility_type)
    if choice.setting != ALL:
        frame = frame.filter(pl.col("setting") == choice.setting)
    return frame


# --- indicator rows (published, or computed for a facility filter) ------------------------------


def _area_rows(frame: pl.DataFrame, area: str) -> pl.DataFrame:
    """The area's own rows and its children's."""
    return frame.filter(
        (pl.col("org_unit") == area) | (pl.col("org_unit_level") == level_of(area) + 1)
    )


def _published(
    scope: Scope, codes: tuple[str, ...], period: str, area: str, url: str | None
) -> pl.DataFrame:
    if not codes:
        return pl.DataFrame(schema=ROW_SCHEMA)
    rows = queries.indicator_values(
        scope, indicators=codes, period=period, org_unit=area, sex=ALL, disability=ALL, url=url
    )
    rows = _area_rows(rows.filter(pl.col("source") == SOURCE), area)
    return rows.with_columns(facility_type=pl.lit(ALL), setting=pl.lit(ALL))


def _as_rows(computed: pl.DataFrame, choice: Choice, scope: Scope, url: str | None) -> pl.DataFrame:
    """`aggregate` output (org_unit, period, indicator, numerator, denominator, value) in the
    published rows' shape: a census of facilities, so nothing suppressed or flagged."""
    if computed.is_empty():
        return pl.DataFrame(schema=ROW_SCHEMA)
    units = queries.org_units(scope, url).select(
        pl.col("code").alias("org_unit"), pl.col("name_en").alias("org_unit_name")
    )
    known = catalogue.by_code()
    names = pl.DataFrame(
        {"indicator": list(known), "indicator_name": [i.name_en for i in known.values()],
         "definition_version": [i.version for i in known.values()]},
        schema={"indicator": pl.String, "indicator_name": pl.String,
                "definition_version": pl.Int32},
    )  # fmt: skip
    run = queries.latest_run(url, "dhis2")
    rows = (
        computed.join(units, on="org_unit", how="left")
        .join(names, on="indicator", how="left")
        .with_columns(
            _level_expr(pl.col("org_unit")).alias("org_unit_level"),
            pl.when(pl.col("org_unit") == NATIONAL)
            .then(pl.lit(None, pl.String))
            .otherwise(pl.col("org_unit").str.slice(0, 5))
            .alias("adm1_code"),
            pl.col("org_unit_name").fill_null(pl.col("org_unit")),
            pl.lit(ALL).alias("sex"),
            pl.lit(ALL).alias("disability"),
            pl.lit(None, pl.Float64).alias("ci_low"),
            pl.lit(None, pl.Float64).alias("ci_high"),
            pl.lit(False).alias("suppressed"),
            pl.lit("").alias("suppression"),
            pl.lit("").alias("flags"),
            pl.lit(SOURCE).alias("source"),
            pl.lit(run["as_of"] if run else None, pl.Date).alias("as_of"),
            pl.lit(choice.facility_type).alias("facility_type"),
            pl.lit(choice.setting).alias("setting"),
        )
    )
    return rows.select([pl.col(c).cast(k) for c, k in ROW_SCHEMA.items()]).sort(queries.SORT_KEYS)


def _by_unit(
    frame: pl.DataFrame, unit: pl.Expr, quarterly: bool, codes: tuple[str, ...]
) -> pl.DataFrame:
    """`environment.aggregate` of `codes` by period (month, or the month's quarter) and
    `unit`. The quarter is a separate grouping column: aggregate needs `period` as the month."""
    key = quarter_expr(pl.col("period")) if quarterly else pl.col("period")
    labelled = frame.with_columns(key.alias("_period"), unit.alias("org_unit"))
    by = ["_period", "org_unit"]
    return environment.aggregate(labelled, by, codes).rename({"_period": "period"})


def _aggregated(
    frame: pl.DataFrame, area: str, codes: tuple[str, ...], quarterly: bool, children: bool
) -> pl.DataFrame:
    """`environment.aggregate` for the area (and for each of its children)."""
    if frame.is_empty():
        return pl.DataFrame()
    units = [pl.lit(area)]
    if children:
        units.append(pl.col("adm1_code" if level_of(area) == 0 else "district"))
    keep = tuple(c for c in codes if not c.startswith(CASE_RATE_PREFIX))
    parts = [_by_unit(frame, unit, quarterly, keep) for unit in units]
    return pl.concat([p.select("org_unit", "period", "indicator", "numerator", "denominator",
                               "value") for p in parts])  # fmt: skip


def _computed(
    scope: Scope, choice: Choice, codes: tuple[str, ...], period: str, url: str | None,
    own: bool,
) -> pl.DataFrame:  # fmt: skip
    unit = choice.place if own else choice.area
    frame = _filtered(facility_rows(scope, unit, months_of(period), url), choice)
    quarterly = bool(QUARTER.match(period))
    return _as_rows(_aggregated(frame, unit, codes, quarterly, not own), choice, scope, url)


def rows(
    scope: Scope, choice: Choice, codes: tuple[str, ...], url: str | None = None,
    own: bool = False,
) -> pl.DataFrame:  # fmt: skip
    """Rows of `codes` for the choice's area and its children (`own`: at least the place's
    own rows; the cards need no more): totals at the chosen period, states at its status
    month. Published rows, or, with a facility filter, computed from the facility months
    by `environment.aggregate` (case rates then left out)."""
    choice = _scoped(scope, choice)
    totals = tuple(c for c in codes if c in ADDITIVE)
    states = tuple(c for c in codes if c not in ADDITIVE)
    at = status_month(choice.period, periods(scope, url)[MONTHLY])
    parts = []
    for chosen, period in ((totals, choice.period), (states, at)):
        if not chosen:
            continue
        if choice.filtered:
            parts.append(_computed(scope, choice, chosen, period, url, own))
        else:
            parts.append(_published(scope, chosen, period, choice.area, url))
    frame = pl.concat(parts) if parts else pl.DataFrame(schema=ROW_SCHEMA)
    return frame.sort(queries.SORT_KEYS)


def unit_rows(frame: pl.DataFrame, code: str) -> dict[str, dict]:
    """indicator -> the row of one org unit (a card's numbers)."""
    return {r["indicator"]: r for r in frame.filter(pl.col("org_unit") == code).to_dicts()}


def _headline_frames(
    scope: Scope, choice: Choice, url: str | None
) -> tuple[Choice, pl.DataFrame, pl.DataFrame | None, str | None]:
    """The place's headline rows in the period and in the period before (month on month,
    quarter on quarter; None when there is none), and that period."""
    choice = _scoped(scope, choice)
    kind = QUARTERLY if QUARTER.match(choice.period) else MONTHLY
    before = previous(choice.period, periods(scope, url)[kind])
    now = rows(scope, choice, HEADLINE, url, own=True)
    if before is None:
        return choice, now, None, None
    return choice, now, rows(scope, replace(choice, period=before), HEADLINE, url, own=True), before


def headline(scope: Scope, choice: Choice, url: str | None = None) -> tuple[dict, dict, str | None]:
    """(rows of the chosen unit, its rows in the previous period, that period)."""
    choice, now, then, before = _headline_frames(scope, choice, url)
    if then is None:
        return unit_rows(now, choice.place), {}, None
    return unit_rows(now, choice.place), unit_rows(then, choice.place), before


def headline_rows(scope: Scope, choice: Choice, url: str | None = None) -> pl.DataFrame:
    """The cards' rows as one table (the period's and the previous period's), for export."""
    choice, now, then, _ = _headline_frames(scope, choice, url)
    frame = now if then is None else pl.concat([now, then])
    return frame.filter(pl.col("org_unit") == choice.place)


def trend(
    scope: Scope, choice: Choice, codes: tuple[str, ...], url: str | None = None
) -> pl.DataFrame:
    """Rows of `codes` for the chosen unit over every month (or every quarter)."""
    choice = _scoped(scope, choice)
    quarterly = bool(QUARTER.match(choice.period))
    pattern = QUARTER if quarterly else MONTH
    if choice.filtered:
        frame = _filtered(facility_rows(scope, choice.place, None, url), choice)
        if frame.is_empty():
            return pl.DataFrame(schema=ROW_SCHEMA)
        keep = tuple(c for c in codes if not c.startswith(CASE_RATE_PREFIX))
        computed = _by_unit(frame, pl.lit(choice.place), quarterly, keep).select(
            "org_unit", "period", "indicator", "numerator", "denominator", "value"
        )
        return _as_rows(computed, choice, scope, url)
    found = queries.indicator_values(
        scope, indicators=codes, org_unit=choice.place, level=level_of(choice.place), sex=ALL,
        disability=ALL, url=url,
    )  # fmt: skip
    found = found.filter(
        (pl.col("org_unit") == choice.place) & pl.col("period").str.contains(pattern.pattern)
    )
    return found.with_columns(facility_type=pl.lit(ALL), setting=pl.lit(ALL))


def ladder_by_group(scope: Scope, choice: Choice, url: str | None = None) -> pl.DataFrame:
    """The JMP ladder of the chosen unit by facility type and by setting (JMP's hospital /
    non-hospital, urban / rural split): [group, dimension, indicator, numerator,
    denominator, value], the unit's total first."""
    choice = _scoped(scope, choice)
    at = status_month(choice.period, periods(scope, url)[MONTHLY])
    frame = _filtered(facility_rows(scope, choice.place, (at,), url), choice)
    if frame.is_empty():
        return pl.DataFrame(schema={"group": pl.String, "dimension": pl.String,
                                    "indicator": pl.String, "numerator": pl.Float64,
                                    "denominator": pl.Float64, "value": pl.Float64})  # fmt: skip
    groups = {ALL: pl.lit(ALL), "facility_type": pl.col("facility_type"),
              "setting": pl.col("setting")}  # fmt: skip
    result = pl.concat(
        [environment.aggregate(frame.with_columns(group=group), ["group"], LADDER)
         .select("group", pl.lit(dimension).alias("dimension"), "indicator", "numerator",
                 "denominator", "value")
         for dimension, group in groups.items()]
    )  # fmt: skip
    return result.with_columns(pl.col("numerator", "denominator", "value").cast(pl.Float64))


# --- treatment methods, the facility table and one facility's year ------------------------------


def method_mix(scope: Scope, choice: Choice, url: str | None = None) -> pl.DataFrame:
    """Facilities by final disposal method of sharps and of infectious waste at the status
    month: [method, safe, open_burning_or_dumping, sharps, infectious] (facilities; `never`
    and unanswered left out), every method of the vocabulary listed. `safe` is the JMP safe
    set (`indicators.waste`); burning in the open and dumping are the `open_burning` alert's."""
    choice = _scoped(scope, choice)
    at = status_month(choice.period, periods(scope, url)[MONTHLY])
    frame = _filtered(facility_rows(scope, choice.place, (at,), url), choice)
    counts = {}
    for stream in ("sharps", "infectious"):
        counts[stream] = (
            frame.filter(pl.col(f"{stream}_disposal").is_not_null())
            .group_by(pl.col(f"{stream}_disposal").alias("method"))
            .agg(pl.len().cast(pl.Int64).alias(stream))
        )
    methods = pl.DataFrame(
        {"method": [m for m in facility_data.DISPOSAL if m != "never"]},
        schema={"method": pl.String},
    ).with_columns(
        pl.col("method").is_in(list(waste.SAFE_DISPOSAL)).alias("safe"),
        pl.col("method").is_in(list(waste.UNSAFE_DISPOSAL)).alias("open_burning_or_dumping"),
    )
    for stream, found in counts.items():
        methods = methods.join(found, on="method", how="left")
        methods = methods.with_columns(pl.col(stream).fill_null(0))
    return methods


def _totals(frame: pl.DataFrame) -> pl.DataFrame:
    """Per facility: the period's totals (kg, litres, kWh, tCO2e) and its state at the
    latest month it reported."""
    summed = ["waste_general_kg", "waste_hazardous_kg", "diesel_litres", "generator_hours",
              "kwh_grid", "kwh_generator", "kwh_solar", "co2e_scope1_kg", "co2e_scope2_kg",
              "co2e_avoided_kg"]  # fmt: skip
    states = ["name", "district", "adm1_code", "facility_type", "setting", "hcwm_level",
              "unsafe_disposal", "electricity_level", "solar_kwp", "heat_stress",
              "period"]  # fmt: skip
    latest_rows = frame.sort("period").group_by("facility").agg(pl.col(states).last())
    sums = frame.group_by("facility").agg(
        *[pl.col(c).sum().alias(c) for c in summed],
        pl.len().alias("months_reported"),
    )
    return latest_rows.join(sums, on="facility")


def facility_table(scope: Scope, choice: Choice, url: str | None = None) -> pl.DataFrame:
    """One row per facility of the selection: its waste service, disposal, electricity,
    solar, diesel and carbon in the period; the ones needing attention first (unsafe
    disposal, heat stress, then the largest emitters)."""
    choice = _scoped(scope, choice)
    frame = _filtered(facility_rows(scope, choice.place, months_of(choice.period), url), choice)
    schema = {"facility": pl.String, "name": pl.String, "district": pl.String,
              "district_name": pl.String, "facility_type": pl.String, "setting": pl.String,
              "hcwm_level": pl.String, "unsafe_disposal": pl.Boolean,
              "electricity_level": pl.String, "solar_kwp": pl.Float64,
              "diesel_litres": pl.Float64, "co2e_t": pl.Float64,
              "co2e_avoided_t": pl.Float64, "heat_stress": pl.Boolean,
              "waste_total_kg": pl.Float64, "months_reported": pl.Int64}  # fmt: skip
    if frame.is_empty():
        return pl.DataFrame(schema=schema)
    names = queries.org_units(scope, url).select(
        pl.col("code").alias("district"), pl.col("name_en").alias("district_name")
    )
    table = (
        _totals(frame)
        .join(names, on="district", how="left")
        .with_columns(
            pl.col("district_name").fill_null(pl.col("district")),
            (pl.col("co2e_scope1_kg").fill_null(0) + pl.col("co2e_scope2_kg").fill_null(0))
            .truediv(1000)
            .alias("co2e_t"),
            (pl.col("co2e_avoided_kg") / 1000).alias("co2e_avoided_t"),
            (
                pl.col("waste_general_kg").fill_null(0) + pl.col("waste_hazardous_kg").fill_null(0)
            ).alias("waste_total_kg"),
            pl.col("months_reported").cast(pl.Int64),
        )
    )
    return table.select([pl.col(c).cast(k) for c, k in schema.items()]).sort(
        [pl.col("unsafe_disposal").fill_null(False), pl.col("heat_stress").fill_null(False),
         "co2e_t", "name"],
        descending=[True, True, True, False],
    )  # fmt: skip


YEAR_COLUMNS = ("waste_general_kg", "waste_hazardous_kg", "kwh_grid", "kwh_generator",
                "kwh_solar", "diesel_litres", "generator_hours", "co2e_scope1_kg",
                "co2e_scope2_kg", "co2e_avoided_kg", "hcwm_level", "electricity_level",
                "heat_stress")  # fmt: skip
YEAR_CASES = ("cases_heat_illness", "cases_awd")
YEAR_SCHEMA = {
    "period": pl.String,
    **{c: facility_data.STORED_MONTHS[c] for c in (*YEAR_COLUMNS, *YEAR_CASES)},
    **{f"{c}_hidden": pl.Boolean for c in YEAR_CASES},
    "facility": pl.String,
}


def _case_cells(column: str) -> list[pl.Expr]:
    """Whether `column` of a facility month is hidden (`<column>_hidden`): 1..4 cases, or
    the smallest other count of a district-month that hides exactly one (module docstring).
    Ties go to the first facility code, so the choice is stable."""
    group = ["district", "period"]
    small = is_small(pl.col(column))
    shown = pl.when(~small).then(pl.col(column))
    smallest = shown.min().over(group)
    first_smallest = pl.when(shown == smallest).then(pl.col("facility")).min().over(group)
    partner = (
        (small.cast(pl.Int32).sum().over(group) == 1)
        & (pl.col("facility") == first_smallest)
        & ~small
    ).fill_null(False)
    return [(small | partner).alias(f"{column}_hidden")]


def facility_year(scope: Scope, facility: str, month: str, url: str | None = None) -> pl.DataFrame:
    """The facility's 12 months up to `month`: waste, energy, carbon, state, and its
    heat-illness and AWD cases (hidden where small, see the module docstring). Empty
    when the facility is not the scope's."""
    known = facilities(scope, NATIONAL, url).filter(pl.col("facility") == facility)
    if known.is_empty():
        return pl.DataFrame(schema=YEAR_SCHEMA)
    district = known["district"][0]
    months = tuple(shift_month(month, -k) for k in range(11, -1, -1))
    frame = facility_rows(scope, district, months, url)
    marked = frame.with_columns(*[e for c in YEAR_CASES for e in _case_cells(c)])
    own = marked.filter(pl.col("facility") == facility)
    cases = [pl.when(~pl.col(f"{c}_hidden")).then(pl.col(c)).alias(c) for c in YEAR_CASES]
    grid = pl.DataFrame({"period": list(months)})
    return (
        grid.join(
            own.select("period", *YEAR_COLUMNS, *cases, *[f"{c}_hidden" for c in YEAR_CASES]),
            on="period",
            how="left",
        )
        .with_columns(pl.lit(facility).alias("facility"))
        .select(list(YEAR_SCHEMA))
    )


# --- heat and cases ------------------------------------------------------------------------------


def _climate_filter(scope: Scope, place: str) -> sa.ColumnElement:
    c = wh.climate_months
    conditions = [sa.true()]
    if scope.restricted:
        conditions.append(c.c.district.startswith(scope.governorate, autoescape=True))
    if place != NATIONAL:
        conditions.append(c.c.district.startswith(place, autoescape=True))
    return sa.and_(*conditions)


def district_months(
    scope: Scope, place: str, condition: str, url: str | None = None
) -> pl.DataFrame:
    """Per district-month under `place`: the cases of `condition` its facilities reported,
    its population, cases per 10,000, heatwave days and mean Tmax (climate rows without
    reports keep null cases)."""
    place = visible(scope, place)
    return _district_months(queries._stamp(url), scope, place, condition, url).clone()


@versioned(maxsize=64)
def _district_months(
    _version: Version, scope: Scope, place: str, condition: str, url: str | None
) -> pl.DataFrame:
    column = CONDITIONS[condition][0]
    f, m, c = wh.facilities, wh.facility_months, wh.climate_months
    cases = (
        sa.select(f.c.district, m.c.period, sa.func.sum(m.c[column]).label("cases"))
        .join(f, f.c.facility == m.c.facility)
        .where(_facility_filter(scope, place), m.c[column].is_not(None))
        .group_by(f.c.district, m.c.period)
    )
    climate = sa.select(c.c.district, c.c.period, c.c.population, c.c.heatwave_days,
                        c.c.tmax).where(_climate_filter(scope, place))  # fmt: skip
    with _engine(url).connect() as connection:
        counted = _frame(
            connection.execute(cases).all(),
            {"district": pl.String, "period": pl.String, "cases": pl.Float64},
        )
        weather = _frame(connection.execute(climate).all(),
                         {"district": pl.String, "period": pl.String, "population": pl.Float64,
                          "heatwave_days": pl.Float64, "tmax": pl.Float64})  # fmt: skip
    joined = weather.join(counted, on=["district", "period"], how="left")
    return joined.with_columns(
        pl.when(pl.col("population") > 0)
        .then(pl.col("cases") * 10_000 / pl.col("population"))
        .alias("rate")
    ).sort("district", "period")


def heat_cases(scope: Scope, place: str, condition: str, url: str | None = None) -> pl.DataFrame:
    """The unit's months: published cases per 10,000 of `condition` (value, suppressed)
    beside the population-weighted mean heatwave days and Tmax of its districts."""
    place = visible(scope, place)
    code = CONDITIONS[condition][1]
    published = queries.indicator_values(
        scope, indicators=[code], org_unit=place, level=level_of(place), sex=ALL,
        disability=ALL, url=url,
    )  # fmt: skip
    published = published.filter(
        (pl.col("org_unit") == place) & pl.col("period").str.contains(MONTH.pattern)
    ).select("period", "numerator", "value", "suppressed", "flags")
    weather = district_months(scope, place, condition, url)
    weighted = weather.filter(pl.col("population") > 0).group_by("period").agg(
        ((pl.col("heatwave_days") * pl.col("population")).sum()
         / pl.col("population").filter(pl.col("heatwave_days").is_not_null()).sum())
        .alias("heatwave_days"),
        ((pl.col("tmax") * pl.col("population")).sum()
         / pl.col("population").filter(pl.col("tmax").is_not_null()).sum()).alias("tmax"),
    )  # fmt: skip
    joined = weighted.join(published, on="period", how="full", coalesce=True)
    return joined.with_columns(pl.col("suppressed").fill_null(False)).sort("period")


def spearman(x: pl.Expr, y: pl.Expr) -> pl.Expr:
    """Spearman's rho: Pearson's correlation of the average ranks."""
    return pl.corr(x.rank("average"), y.rank("average"))


def lag_correlation(
    frame: pl.DataFrame, exposure: str = "heatwave_days", lags: tuple[int, ...] = LAGS
) -> pl.DataFrame:
    """[lag, rho, pairs] of cases per 10,000 in month m against `exposure` in month m - lag
    of the same district (`frame`: district, period, rate and the exposure column). rho is
    null with fewer than MIN_PAIRS pairs or a constant series."""
    index = (pl.col("period").str.slice(0, 4).cast(pl.Int32) * 12
             + pl.col("period").str.slice(4, 2).cast(pl.Int32))  # fmt: skip
    cases = frame.filter(pl.col("rate").is_not_null()).select(
        "district", index.alias("month"), "rate"
    )
    heat = frame.filter(pl.col(exposure).is_not_null()).select(
        "district", index.alias("month"), pl.col(exposure).alias("exposure")
    )
    results = []
    for lag in lags:
        pairs = cases.join(
            heat.with_columns(pl.col("month") + lag), on=["district", "month"], how="inner"
        )
        rho = None
        if pairs.height >= MIN_PAIRS:
            rho = pairs.select(spearman(pl.col("rate"), pl.col("exposure"))).item()
            rho = None if rho is None or rho != rho else float(rho)  # NaN: a constant series
        results.append({"lag": lag, "rho": rho, "pairs": pairs.height})
    return pl.DataFrame(results, schema={"lag": pl.Int64, "rho": pl.Float64, "pairs": pl.Int64})


# --- alerts --------------------------------------------------------------------------------------


def active_alerts(scope: Scope, url: str | None = None) -> pl.DataFrame:
    """The active alerts the scope may see (`indicators.alerts`), most severe first."""
    return alerts.alerts(scope, url)
