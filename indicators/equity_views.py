"""What the Equity page shows, from published rows only: subgroups, gap measures, their trend,
the districts with the widest gap, HEAT Plus rows and the zero-dose focus.

Every function takes the caller's `Scope` and reads through `indicators.queries`, so a
governorate user gets only its governorate's rows and suppression is already applied: a
suppressed subgroup stays suppressed here, and no measure is computed next to one.

Decisions:
- Dimensions: `sex` (girls, boys; reference boys), `disability` (with, without; reference
  without), `sex_disability` (the four combinations; reference boys without disabilities),
  `governorate` (the governorates of the selected place, so only at national level),
  `district` (the districts of the place; a district means its governorate's districts)
  and `district_fifth`, the one ordered dimension.
- Unknown sex and unknown disability are not subgroups: they are a recording gap, not a
  population group, and one tiny "unknown" cell would block every measure. They stay in the
  cross-tab and in the CSV.
- `district_fifth` groups the districts into fifths by their value of the same indicator in
  the *previous* cohort (fifth 1 = worst off then), each fifth pooled (sum of numerators
  over sum of denominators). Ranking by the current value would be circular (the gradient
  would be built in); the previous cohort asks whether last year's worst-off districts are
  still behind. Districts without a published previous value are left out; a fifth holding a
  suppressed district is suppressed; fewer than five ranked districts give no fifths.
- Measures are withheld, with the reason, when a subgroup is suppressed (by
  `summary_measures`) or has a denominator under 25: the dashboard shows no value for such a
  subgroup, and a gap next to the other value would give it away.
- The headline gap (`gap`: caption, trend, widest districts) compares one fixed pair, so it
  answers the focal point's question the same way every year: girls with disabilities vs
  boys without, girls vs boys, children with vs without disabilities (HEAT's own D may pick
  another subgroup in another year). It is D and R of that pair alone, so it is withheld
  only when one of the two is suppressed or under 25 (both values are published, and their
  difference discloses nothing more). For coverage D = reference − focus, for an adverse
  indicator focus − reference: a positive D always means the focus group is behind. For
  the geographic dimensions and fifths it is HEAT's D and R.
- Widest gaps: the headline D in each district of the place, largest first.
- Trend: birth-year cohorts only (quarters are partial cohorts).
- HEAT Plus rows: every birth-year cohort of the trend plus the selected period (HEAT Plus
  draws the trend too), setting = the place (a district's governorate for districts and
  fifths) with its all-children value as setting average, iso3 only for Iraq; suppressed
  subgroups are left out by `heat_export`.
- Zero-dose focus (IA2030 IG2.1): counts are the `zero_dose_12m` numerators of complete
  birth cohorts. Baseline: 2019 (IA2030's) when the data has it, else the earliest complete
  cohort, or the year asked for. Target: half the baseline count, by 2030. Progress = the
  reduction so far as a share of the 50 % reduction; "on track" compares the count with a
  straight line from the baseline to the 2030 target.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from indicators import config, queries
from indicators.cache import versioned
from indicators.equity_measures import OK, SUPPRESSED, summary_measures
from indicators.heat_export import HEAT_PLUS_SCHEMA, heat_plus_rows
from indicators.intervals import wilson
from indicators.scope import Scope

SEX, DISABILITY, SEX_DISABILITY = "sex", "disability", "sex_disability"
GOVERNORATE, DISTRICT, FIFTH = "governorate", "district", "district_fifth"
DIMENSIONS = (SEX, DISABILITY, SEX_DISABILITY, GOVERNORATE, DISTRICT, FIFTH)
PERSONAL = (SEX, DISABILITY, SEX_DISABILITY)
# The dimension names written to the HEAT Plus file.
DIMENSION_NAMES = {
    SEX: "Sex",
    DISABILITY: "Disability",
    SEX_DISABILITY: "Sex and disability",
    GOVERNORATE: "Governorate",
    DISTRICT: "District",
    FIFTH: "District fifth by previous-cohort value",
}
# key, sex, disability, English label (HEAT Plus subgroup names)
SUBGROUPS = {
    SEX: (("F", "F", "all", "Girls"), ("M", "M", "all", "Boys")),
    DISABILITY: (
        ("yes", "all", "yes", "Children with disabilities"),
        ("no", "all", "no", "Children without disabilities"),
    ),
    SEX_DISABILITY: (
        ("F:yes", "F", "yes", "Girls with disabilities"),
        ("F:no", "F", "no", "Girls without disabilities"),
        ("M:yes", "M", "yes", "Boys with disabilities"),
        ("M:no", "M", "no", "Boys without disabilities"),
    ),
}
REFERENCE = {SEX: "M", DISABILITY: "no", SEX_DISABILITY: "M:no"}
# The subgroup a focal point asks about, compared with the reference in captions and trends.
FOCUS = {SEX: "F", DISABILITY: "yes", SEX_DISABILITY: "F:yes"}
GAP_MEASURES = ("D", "R")
FIFTHS = 5
YEAR = re.compile(r"^\d{4}$")
QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
NATIONAL = "IQ"
ISO3 = "IRQ"

LOW_DENOMINATOR = "a subgroup has fewer than 25 children"
NATIONAL_ONLY = "governorates are compared at national level"
NO_PREVIOUS = "no previous cohort to rank districts by"
FEW_DISTRICTS = "fewer than 5 districts to group into fifths"
NO_DATA = "no data for this selection"

ZERO_DOSE = "zero_dose_12m"
IA2030_BASELINE = "2019"
IA2030_TARGET_YEAR = 2030
IA2030_REDUCTION = 0.5
ONE_COHORT = "only one complete cohort"
BASELINE_ZERO = "no zero-dose children in the baseline cohort"

SUBGROUP_SCHEMA = {
    "period": pl.String,
    "subgroup": pl.String,
    "label": pl.String,
    "org_unit": pl.String,
    "numerator": pl.Float64,
    "denominator": pl.Float64,
    "value": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "suppressed": pl.Boolean,
    "flags": pl.String,
    "order": pl.Int64,
    "reference": pl.Boolean,
    "units": pl.Int64,
}


@dataclass(frozen=True)
class View:
    """One selection of the Equity page."""

    indicator: str
    period: str
    place: str
    dimension: str

    def __post_init__(self) -> None:
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"unknown dimension {self.dimension!r}")


Rows = Callable[[Scope, View, str | None], pl.DataFrame]


# ---------------------------------------------------------------- context


def place_of(scope: Scope, code: str, url: str | None = None) -> dict | None:
    """The org unit's row if the scope may see it, else None (so: no data)."""
    rows = queries.org_units(scope, url).filter(pl.col("code") == code).to_dicts()
    return rows[0] if rows else None


def area_of(place: dict) -> str:
    """Where districts are compared: the place, or a district's governorate."""
    return place["parent"] if place["level"] >= 2 else place["code"]


def indicator_info(indicator: str, url: str | None = None) -> dict:
    """Name, direction and scale of an indicator (favourable = higher is better)."""
    rows = queries.catalogue(url).filter(pl.col("code") == indicator).to_dicts()
    row = rows[0] if rows else {"name_en": indicator, "favourable": "higher", "unit": "%"}
    return {
        "code": indicator,
        "name_en": row["name_en"],
        "favourable": row.get("favourable") != "lower",
        "scale": 100.0 if (row.get("unit") or "%") == "%" else 1.0,
    }


def _cube(scope: Scope, indicator: str, area: str, url: str | None) -> pl.DataFrame:
    """Every published row of the indicator in the area, all periods (one cached query)."""
    return queries.indicator_values(scope, indicators=[indicator], org_unit=area, url=url)


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SUBGROUP_SCHEMA)


def previous_period(period: str) -> str:
    """The cohort before: 2024 → 2023, 2024Q1 → 2023Q4."""
    match = QUARTER.match(period)
    if match:
        year, quarter = int(match.group(1)), int(match.group(2))
        return f"{year - 1}Q4" if quarter == 1 else f"{year}Q{quarter - 1}"
    return str(int(period) - 1)


# ---------------------------------------------------------------- subgroups


def _as_subgroups(
    rows: pl.DataFrame, key: pl.Expr, label: pl.Expr, ref: str | None
) -> pl.DataFrame:
    return rows.select(
        pl.col("period"),
        key.alias("subgroup"),
        label.alias("label"),
        pl.col("org_unit"),
        "numerator",
        "denominator",
        "value",
        "ci_low",
        "ci_high",
        pl.col("suppressed").fill_null(True),
        pl.col("flags").fill_null(""),
        pl.lit(None, pl.Int64).alias("order"),
        (key == (ref or "")).alias("reference"),
        pl.lit(1, pl.Int64).alias("units"),
    ).cast(SUBGROUP_SCHEMA)


def _personal(cube: pl.DataFrame, period: str, place: str, dimension: str) -> pl.DataFrame:
    spec = pl.DataFrame(
        list(SUBGROUPS[dimension]),
        schema=["subgroup", "sex", "disability", "label"],
        orient="row",
    ).with_row_index("position")
    rows = cube.filter((pl.col("period") == period) & (pl.col("org_unit") == place))
    joined = rows.join(spec, on=["sex", "disability"], how="inner").sort("position")
    return _as_subgroups(joined, pl.col("subgroup"), pl.col("label"), REFERENCE[dimension])


def _units(cube: pl.DataFrame, period: str, level: int) -> pl.DataFrame:
    """All-children rows of one org-unit level, in code order."""
    return cube.filter(
        (pl.col("period") == period)
        & (pl.col("org_unit_level") == level)
        & (pl.col("sex") == "all")
        & (pl.col("disability") == "all")
    ).sort("org_unit")


def _fifths(cube: pl.DataFrame, period: str, favourable: bool) -> tuple[pl.DataFrame, str | None]:
    """Districts pooled into fifths of their previous-cohort value (1 = worst off then)."""
    before = _units(cube, previous_period(period), 2).filter(
        ~pl.col("suppressed").fill_null(True) & pl.col("value").is_not_null()
    )
    if before.is_empty():
        return _empty(), NO_PREVIOUS
    ranked = (
        _units(cube, period, 2)
        .join(before.select("org_unit", pl.col("value").alias("prior")), on="org_unit")
        .sort(["prior", "org_unit"], descending=[not favourable, False])
    )
    n = ranked.height
    if n < FIFTHS:
        return _empty(), FEW_DISTRICTS
    hidden = pl.col("suppressed").fill_null(True)
    pooled = (
        ranked.with_columns(((pl.int_range(pl.len()) * FIFTHS) // n + 1).alias("order"))
        .group_by("order")
        .agg(
            pl.col("period").first(),
            hidden.any().alias("suppressed"),
            pl.col("numerator").sum(),
            pl.col("denominator").sum(),
            pl.len().alias("units"),
        )
        .sort("order")
    )
    num = pl.when(~pl.col("suppressed")).then(pl.col("numerator"))
    den = pl.when(~pl.col("suppressed")).then(pl.col("denominator"))
    low, high = wilson(num, den)
    frame = pooled.select(
        "period",
        pl.format("Q{}", pl.col("order")).alias("subgroup"),
        pl.format("Fifth {}", pl.col("order")).alias("label"),
        pl.lit(None, pl.String).alias("org_unit"),
        num.alias("numerator"),
        den.alias("denominator"),
        (100.0 * num / den).alias("value"),
        low.alias("ci_low"),
        high.alias("ci_high"),
        "suppressed",
        _flags(den).alias("flags"),
        "order",
        pl.lit(False).alias("reference"),
        "units",
    )
    return frame.cast(SUBGROUP_SCHEMA), None


def _flags(denominator: pl.Expr) -> pl.Expr:
    """The reliability flag of a pooled figure, as publishing gives it."""
    return (
        pl.when(denominator < config.LOW_DENOMINATOR)
        .then(pl.lit("low_denominator"))
        .when(denominator < config.CAUTION_DENOMINATOR)
        .then(pl.lit("caution"))
        .otherwise(pl.lit(""))
    )


def _subgroups_of(
    cube: pl.DataFrame, info: dict, period: str, place: dict, dimension: str
) -> tuple[pl.DataFrame, str | None]:
    """(subgroups, why there are none) of one period from the area's cube."""
    if dimension in PERSONAL:
        frame = _personal(cube, period, place["code"], dimension)
        return frame, None if not frame.is_empty() else NO_DATA
    if dimension == FIFTH:
        return _fifths(cube, period, info["favourable"])
    if dimension == GOVERNORATE and place["level"] != 0:
        return _empty(), NATIONAL_ONLY
    level = 1 if dimension == GOVERNORATE else 2
    rows = _units(cube, period, level)
    frame = _as_subgroups(rows, pl.col("org_unit"), pl.col("org_unit_name"), None)
    return frame, None if not frame.is_empty() else NO_DATA


def subgroups(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """The subgroups of the view with counts, value, Wilson interval, flags (SUBGROUP_SCHEMA)."""
    context = _context(scope, view, url)
    if context is None:
        return _empty()
    cube, info, place = context
    return _subgroups_of(cube, info, view.period, place, view.dimension)[0]


def _context(scope: Scope, view: View, url: str | None) -> tuple[pl.DataFrame, dict, dict] | None:
    place = place_of(scope, view.place, url)
    if place is None:
        return None
    cube = _cube(scope, view.indicator, area_of(place), url)
    return cube, indicator_info(view.indicator, url), place


def place_rows(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """Every published sex × disability row of the place in the period (the cross-tab)."""
    context = _context(scope, view, url)
    if context is None:
        return pl.DataFrame(schema=queries.VALUE_SCHEMA)
    cube, _info, place = context
    return cube.filter((pl.col("period") == view.period) & (pl.col("org_unit") == place["code"]))


def setting_of(scope: Scope, view: View, url: str | None = None) -> dict | None:
    """The unit the subgroups belong to: the place for sex and disability and governorates,
    the district's governorate (or the place) for districts and fifths."""
    place = place_of(scope, view.place, url)
    if place is None or view.dimension in (*PERSONAL, GOVERNORATE):
        return place
    return place_of(scope, area_of(place), url)


def setting_rows(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """The setting's all-children rows, every period (its average, the reference line)."""
    setting = setting_of(scope, view, url)
    if setting is None:
        return pl.DataFrame(schema=queries.VALUE_SCHEMA)
    return _own(_cube(scope, view.indicator, area_of(setting), url), setting["code"])


def view_rows(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """The published indicator rows a view is computed from, for the contract CSV: the
    place's sex × disability rows, or the setting's row and the compared units' rows (for
    fifths also the previous cohort, which ranks the districts)."""
    if view.dimension in PERSONAL:
        return place_rows(scope, view, url)
    context = _context(scope, view, url)
    if context is None:
        return pl.DataFrame(schema=queries.VALUE_SCHEMA)
    cube, _info, place = context
    setting = setting_of(scope, view, url) or place
    level = 1 if view.dimension == GOVERNORATE else 2
    periods = [view.period] + ([previous_period(view.period)] if view.dimension == FIFTH else [])
    everyone = (pl.col("sex") == "all") & (pl.col("disability") == "all")
    compared = (pl.col("org_unit_level") == level) & (place["level"] == 0 or level == 2)
    return cube.filter(
        pl.col("period").is_in(periods)
        & everyone
        & ((pl.col("org_unit") == setting["code"]) & (pl.col("period") == view.period) | compared)
    )


# ---------------------------------------------------------------- measures


def _withheld(measures: pl.DataFrame, reason: str) -> pl.DataFrame:
    nothing = pl.lit(None, pl.Float64)
    return measures.with_columns(
        estimate=nothing, ci_lower=nothing, ci_upper=nothing, status=pl.lit(reason)
    )


def _measures_of(
    frame: pl.DataFrame, info: dict, dimension: str, reason: str | None
) -> pl.DataFrame:
    """summary_measures of one period's subgroups, with the subgroups' labels and values."""
    ordered = dimension == FIFTH
    keys = frame["subgroup"].to_list()
    reference = REFERENCE.get(dimension) if REFERENCE.get(dimension) in keys else None
    columns = ["subgroup", "numerator", "denominator", "suppressed"] + (
        ["order"] if ordered else []
    )
    measures = summary_measures(
        frame.select(*columns, estimate="value", population="denominator"),
        favourable=info["favourable"],
        ordered=ordered,
        reference=reference,
        scale=info["scale"],
    )
    if frame.is_empty() and reason:
        measures = _withheld(measures, reason)
    elif not frame["suppressed"].any() and frame["flags"].str.contains("low_denominator").any():
        measures = _withheld(measures, LOW_DENOMINATOR)
    return _with_compared(measures, frame)


def _with_compared(measures: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """Add the labels and values of subgroup_a and subgroup_b."""
    result = measures
    for side in ("a", "b"):
        lookup = frame.select(
            pl.col("subgroup").alias(f"subgroup_{side}"),
            pl.col("label").alias(f"label_{side}"),
            pl.col("value").alias(f"value_{side}"),
            pl.col("ci_low").alias(f"ci_low_{side}"),
            pl.col("ci_high").alias(f"ci_high_{side}"),
            pl.col("flags").alias(f"flags_{side}"),
        )
        result = result.join(lookup, on=f"subgroup_{side}", how="left", maintain_order="left")
    return result


def measures(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """Every applicable HEAT summary measure of the view with its interval and status (the
    reason when withheld), plus label/value of the compared subgroups."""
    return _cached_measures(_version(url), scope, view, url).clone()


def _version(url: str | None) -> tuple[int, str]:
    """The data version, as the query cache keys it (load id and start time)."""
    run = queries.latest_run(url)
    return (run["id"], str(run["started_at"])) if run else (0, "")


@versioned(maxsize=256)
def _cached_measures(
    _version: tuple[int, str], scope: Scope, view: View, url: str | None
) -> pl.DataFrame:
    """Cached per data version like the queries: simulated intervals are the costly part."""
    context = _context(scope, view, url)
    if context is None:
        return _measures_of(_empty(), indicator_info(view.indicator, url), view.dimension, NO_DATA)
    cube, info, place = context
    frame, reason = _subgroups_of(cube, info, view.period, place, view.dimension)
    return _measures_of(frame, info, view.dimension, reason)


def reason(rows: pl.DataFrame) -> str | None:
    """Why the difference D of `measures`/`gap` rows is not shown (None when it is)."""
    found = rows.filter(pl.col("measure") == "D").to_dicts()
    if not found:
        return NO_DATA
    return None if found[0]["estimate"] is not None else found[0]["status"]


def _pair(frame: pl.DataFrame, dimension: str) -> pl.DataFrame:
    """The focus subgroup and the reference of a sex/disability dimension; others: all."""
    if dimension not in PERSONAL:
        return frame
    return frame.filter(pl.col("subgroup").is_in([FOCUS[dimension], REFERENCE[dimension]]))


def _gap_of(frame: pl.DataFrame, info: dict, dimension: str, reason: str | None) -> pl.DataFrame:
    """D and R of the headline comparison: focus vs reference (sex, disability), else HEAT's
    pair (highest vs lowest; best vs worst fifth)."""
    pair = _pair(frame, dimension)
    rows = _measures_of(pair, info, dimension, reason or NO_DATA)
    return rows.filter(pl.col("measure").is_in(GAP_MEASURES))


def gap(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """The headline gap of the view (D and R rows, as `measures`): girls with disabilities vs
    boys without for sex × disability, girls vs boys, with vs without disabilities, and
    HEAT's own pair for the geographic dimensions. For coverage D = reference − focus, for an
    adverse indicator focus − reference: a positive D always means the focus is behind."""
    if view.dimension not in PERSONAL:
        return measures(scope, view, url).filter(pl.col("measure").is_in(GAP_MEASURES))
    context = _context(scope, view, url)
    if context is None:
        info = indicator_info(view.indicator, url)
        return _gap_of(_empty(), info, view.dimension, NO_DATA)
    cube, info, place = context
    frame, why = _subgroups_of(cube, info, view.period, place, view.dimension)
    return _gap_of(frame, info, view.dimension, why)


# ---------------------------------------------------------------- trend


def cohorts(scope: Scope, view: View, url: str | None = None) -> list[str]:
    """Birth-year cohorts with rows at the place, oldest first."""
    context = _context(scope, view, url)
    if context is None:
        return []
    cube, _info, place = context
    own = cube.filter(pl.col("org_unit") == place["code"])["period"].unique().to_list()
    return sorted(p for p in own if YEAR.match(p))


def _by_cohort(scope: Scope, view: View, url: str | None, rows: Rows) -> pl.DataFrame:
    frames = [
        rows(scope, _with_period(view, year), url).select(pl.lit(year).alias("period"), pl.all())
        for year in cohorts(scope, view, url)
    ]
    return pl.concat(frames) if frames else pl.DataFrame()


def measure_trend(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """`measures` in every birth-year cohort (`period` first, oldest first)."""
    return _by_cohort(scope, view, url, measures)


def gap_trend(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """`gap` in every birth-year cohort: is the gap closing?"""
    return _by_cohort(scope, view, url, gap)


def _with_period(view: View, period: str) -> View:
    return View(view.indicator, period, view.place, view.dimension)


def measures_export(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """Measures of the selected period and of every birth-year cohort as one table; for sex
    and disability also the headline gap (focus vs reference)."""
    periods = sorted(set(cohorts(scope, view, url)) | {view.period})
    frames = []
    for period in periods:
        one = _with_period(view, period)
        frames.append(_export_rows(measures(scope, one, url), one, "all subgroups"))
        if view.dimension in PERSONAL:
            frames.append(_export_rows(gap(scope, one, url), one, "focus vs reference"))
    return pl.concat(frames)


def _export_rows(rows: pl.DataFrame, view: View, comparison: str) -> pl.DataFrame:
    return rows.select(
        pl.lit(view.indicator).alias("indicator"),
        pl.lit(view.period).alias("period"),
        pl.lit(view.place).alias("org_unit"),
        pl.lit(view.dimension).alias("dimension"),
        pl.lit(comparison).alias("comparison"),
        "measure",
        "estimate",
        "ci_lower",
        "ci_upper",
        "status",
        pl.col("label_a").alias("subgroup_a"),
        pl.col("label_b").alias("subgroup_b"),
    )


# ---------------------------------------------------------------- widest gaps

GAP_SCHEMA = {
    "org_unit": pl.String,
    "org_unit_name": pl.String,
    "estimate": pl.Float64,
    "ci_lower": pl.Float64,
    "ci_upper": pl.Float64,
    "status": pl.String,
    "subgroup_a": pl.String,
    "label_a": pl.String,
    "value_a": pl.Float64,
    "subgroup_b": pl.String,
    "label_b": pl.String,
    "value_b": pl.Float64,
}


def widest_gaps(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """The headline gap D of a sex/disability dimension in each district of the place,
    widest first; districts whose gap is withheld follow by name, with the reason."""
    context = _context(scope, view, url)
    if context is None or view.dimension not in PERSONAL:
        return pl.DataFrame(schema=GAP_SCHEMA)
    cube, info, _place = context
    districts = _units(cube, view.period, 2).select("org_unit", "org_unit_name").to_dicts()
    rows = [
        _gap_of(
            _personal(cube, view.period, d["org_unit"], view.dimension),
            info,
            view.dimension,
            NO_DATA,
        )
        .filter(pl.col("measure") == "D")
        .with_columns(**_literal(d))
        for d in districts
    ]
    if not rows:
        return pl.DataFrame(schema=GAP_SCHEMA)
    gaps = pl.concat(rows).select(list(GAP_SCHEMA)).cast(GAP_SCHEMA)
    shown = gaps.filter(pl.col("estimate").is_not_null())
    return pl.concat(
        [
            shown.sort(["estimate", "org_unit_name"], descending=[True, False]),
            gaps.filter(pl.col("estimate").is_null()).sort("org_unit_name"),
        ]
    )


def _literal(values: dict) -> dict[str, pl.Expr]:
    return {name: pl.lit(value, pl.String) for name, value in values.items()}


# ---------------------------------------------------------------- HEAT Plus


def heat_plus(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """The HEAT Plus upload rows of the view: every birth-year cohort of the trend and the
    selected period, suppressed subgroups left out (see `heat_export`)."""
    context = _context(scope, view, url)
    if context is None:
        return pl.DataFrame(schema=HEAT_PLUS_SCHEMA)
    cube, info, place = context
    periods = sorted(set(cohorts(scope, view, url)) | {view.period})
    frames = [_subgroups_of(cube, info, p, place, view.dimension)[0] for p in periods]
    setting = setting_of(scope, view, url) or place
    return heat_plus_rows(_heat_input(pl.concat([_empty(), *frames]), info, setting, view, cube))


def _heat_input(
    frame: pl.DataFrame, info: dict, place: dict, view: View, cube: pl.DataFrame
) -> pl.DataFrame:
    """The `heat_plus_rows` input: setting = the place, setting average = its all-children
    value (when published), iso3 only for Iraq."""
    national = place["level"] == 0
    averages = _own(cube, place["code"]).filter(~pl.col("suppressed").fill_null(True))
    source = cube["source"][0] if not cube.is_empty() else "registry"
    return frame.join(
        averages.select("period", pl.col("value").alias("setting_average")), on="period", how="left"
    ).select(
        pl.lit("Iraq" if national else place["name_en"]).alias("setting"),
        "period",
        pl.lit(source).alias("source"),
        pl.lit(view.indicator).alias("indicator"),
        pl.lit(info["name_en"]).alias("indicator_name"),
        pl.lit(DIMENSION_NAMES[view.dimension]).alias("dimension"),
        pl.col("label").alias("subgroup"),
        pl.col("value").alias("estimate"),
        pl.col("denominator").alias("population"),
        pl.lit(info["favourable"]).alias("favourable"),
        pl.lit(view.dimension == FIFTH).alias("ordered"),
        "order",
        "reference",
        "suppressed",
        "numerator",
        "denominator",
        "ci_low",
        "ci_high",
        "flags",
        "setting_average",
        pl.lit(ISO3 if national else None, pl.String).alias("iso3"),
        pl.lit(info["scale"]).alias("scale"),
    )


# ---------------------------------------------------------------- zero-dose focus


def zero_dose_subgroups(scope: Scope, period: str, place: str, url: str | None = None):
    """Zero-dose counts (`numerator`) and rates of the place by sex, by disability and by
    both (SUBGROUP_SCHEMA plus `dimension`)."""
    frames = [
        subgroups(scope, View(ZERO_DOSE, period, place, dimension), url).select(
            pl.lit(dimension).alias("dimension"), pl.all()
        )
        for dimension in PERSONAL
    ]
    return pl.concat(frames)


def zero_dose_districts(
    scope: Scope, period: str, place: str, url: str | None = None
) -> pl.DataFrame:
    """The districts of the place ranked by zero-dose count, most first, with their share of
    the place's zero-dose children (and the running total); suppressed districts follow,
    unranked. A district place means its governorate's districts."""
    unit = place_of(scope, place, url)
    if unit is None:
        return pl.DataFrame()
    area = area_of(unit)
    rows = _cube(scope, ZERO_DOSE, area, url).filter(
        (pl.col("period") == period) & (pl.col("sex") == "all") & (pl.col("disability") == "all")
    )
    totals = rows.filter(pl.col("org_unit") == area)["numerator"].drop_nulls()
    total = totals[0] if totals.len() else None
    districts = rows.filter(pl.col("org_unit_level") == 2)
    known = pl.col("numerator").is_not_null() & ~pl.col("suppressed").fill_null(True)
    share = 100.0 * pl.col("numerator") / total if total else pl.lit(None, pl.Float64)
    ranked = (
        districts.filter(known)
        .sort(["numerator", "org_unit"], descending=[True, False])
        .with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"), share.alias("share")
        )
        .with_columns(pl.col("share").cum_sum().alias("cumulative_share"))
    )
    rest = (
        districts.filter(~known)
        .sort("org_unit_name")
        .with_columns(
            pl.lit(None, pl.Int64).alias("rank"),
            pl.lit(None, pl.Float64).alias("share"),
            pl.lit(None, pl.Float64).alias("cumulative_share"),
        )
    )
    return pl.concat([ranked, rest])


def zero_dose_table(districts: pl.DataFrame) -> pl.DataFrame:
    """`zero_dose_districts` as a download: rank, district, counts, rate, shares, flags."""
    if districts.is_empty():
        return pl.DataFrame(schema={"rank": pl.Int64, "org_unit": pl.String})
    return districts.select(
        "rank",
        "org_unit",
        "org_unit_name",
        "period",
        pl.col("numerator").round(0).cast(pl.Int64).alias("zero_dose"),
        pl.col("denominator").round(0).cast(pl.Int64).alias("eligible"),
        pl.col("value").alias("rate"),
        "ci_low",
        "ci_high",
        "share",
        "cumulative_share",
        "suppressed",
        "flags",
    )


def _own(cube: pl.DataFrame, code: str) -> pl.DataFrame:
    """The all-children rows of one org unit, every period."""
    return cube.filter(
        (pl.col("org_unit") == code) & (pl.col("sex") == "all") & (pl.col("disability") == "all")
    )


def zero_dose_years(scope: Scope, place: str, url: str | None = None) -> list[str]:
    """Complete birth-year cohorts with a zero-dose row at the place, oldest first."""
    unit = place_of(scope, place, url)
    if unit is None:
        return []
    complete = queries.latest_complete_cohort(scope, ZERO_DOSE, url)
    own = _own(_cube(scope, ZERO_DOSE, area_of(unit), url), place)
    years = sorted(p for p in own["period"].to_list() if YEAR.match(p))
    return [y for y in years if complete is None or y <= complete]


def ia2030_progress(
    scope: Scope, place: str, period: str, baseline: str | None = None, url: str | None = None
) -> dict:
    """Baseline, current and target zero-dose counts of the place and the progress towards
    the IA2030 goal. `status` is "ok", or why progress is not given; `years` lists the
    complete cohorts a baseline can be chosen from."""
    years = zero_dose_years(scope, place, url)
    result: dict = {"status": NO_DATA, "target_year": IA2030_TARGET_YEAR, "years": years}
    if not years:
        return result
    current = period if period in years else years[-1]
    if baseline not in years or baseline > current:
        baseline = IA2030_BASELINE if IA2030_BASELINE in years else years[0]
    unit = place_of(scope, place, url)
    own = _own(_cube(scope, ZERO_DOSE, area_of(unit), url), place)
    by_year = {row["period"]: row for row in own.to_dicts()}
    base, now = by_year[baseline], by_year[current]
    result |= {"baseline_period": baseline, "current_period": current}
    result |= {"baseline": base, "current": now}
    return result | _progress(base, now, int(baseline), int(current))


def _progress(base: dict, now: dict, base_year: int, year: int) -> dict:
    """Target, expected count on a straight path to the target year, reduction, progress."""
    if base["suppressed"] or now["suppressed"] or None in (base["numerator"], now["numerator"]):
        return {"status": SUPPRESSED}
    target = base["numerator"] * (1 - IA2030_REDUCTION)
    span = IA2030_TARGET_YEAR - base_year
    elapsed = 1.0 if span <= 0 else min(1.0, (year - base_year) / span)
    values = {"target": target, "expected": base["numerator"] * (1 - IA2030_REDUCTION * elapsed)}
    if base_year == year:
        return values | {"status": ONE_COHORT}
    if base["numerator"] == 0:
        return values | {"status": BASELINE_ZERO}
    reduction = 100.0 * (base["numerator"] - now["numerator"]) / base["numerator"]
    return values | {
        "status": OK,
        "reduction": reduction,
        "progress": 100.0 * reduction / (100.0 * IA2030_REDUCTION),
        "on_track": now["numerator"] <= values["expected"],
    }
