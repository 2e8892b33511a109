"""What the Equity page shows, from published rows only: subgroups, gap measures, their trend,
the districts with the widest gap, HEAT Plus rows and the zero-dose focus.

Every function takes the caller's `Scope` and reads through `indicators.queries`, so a
governorate user gets only its governorate's rows and suppression is already applied: a
suppressed subgroup stays suppressed here, and no measure is computed next to one. A
callback makes one `Context` (the place, the setting, the indicator and the area's rows,
read once) and asks it for every part of the page; the module functions of the same names
make their own.

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
- Speed: the trend and the widest gaps need D and R of one pair in each of many groups
  (cohorts, ~100 districts). `_gaps` computes them for every group in one polars pipeline
  with the rules of `summary_measures` and `_measures_of` for a group (the same choice of
  pair, the same withholding reasons, the same arithmetic, down to C's `pow` for squares);
  `equity_measures` stays the one definition, and the tests check that the two agree exactly
  on the sample warehouse and on awkward hand-made groups. The selected period's measures
  are cached per data version and keyed by the area for districts and fifths (every district
  of a governorate shows the same comparison).
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

import math
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache, wraps

import polars as pl

from indicators import config, queries
from indicators.cache import versioned
from indicators.equity_measures import (
    ALL_ZERO,
    NO_ESTIMATE,
    NO_POPULATION,
    NO_SE,
    OK,
    OUTPUT_SCHEMA,
    SUPPRESSED,
    TOO_FEW,
    ZERO_DIVISOR,
    ZERO_MEAN,
    ZERO_RATIO,
    Z,
    binomial_se,
    summary_measures,
)
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
# `measures` and `gap` rows: the measure, then what is compared (label, value, interval and
# flags of subgroup_a and subgroup_b).
COMPARED_SCHEMA = {
    **OUTPUT_SCHEMA,
    **{
        f"{name}_{side}": dtype
        for side in ("a", "b")
        for name, dtype in (
            ("label", pl.String),
            ("value", pl.Float64),
            ("ci_low", pl.Float64),
            ("ci_high", pl.Float64),
            ("flags", pl.String),
        )
    },
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


Frame = typing.TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


# ---------------------------------------------------------------- context


def place_of(scope: Scope, code: str, url: str | None = None) -> dict | None:
    """The org unit's row if the scope may see it, else None (so: no data)."""
    return _unit(queries.org_units(scope, url), code)


def _unit(units: pl.DataFrame, code: str | None) -> dict | None:
    rows = units.filter(pl.col("code") == code).to_dicts()
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
    """Every published row of the indicator in the area, all periods (cut from the
    indicator's cached rows: `queries.indicator_rows`)."""
    rows = queries.indicator_rows(scope, indicator, url)
    if area == "IQ":
        return rows
    return rows.filter(pl.col("org_unit").str.starts_with(area))


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SUBGROUP_SCHEMA)


def previous_period(period: str) -> str:
    """The cohort before: 2024 → 2023, 2024Q1 → 2023Q4."""
    match = QUARTER.match(period)
    if match:
        year, quarter = int(match.group(1)), int(match.group(2))
        return f"{year - 1}Q4" if quarter == 1 else f"{year}Q{quarter - 1}"
    return str(int(period) - 1)


def _with_period(view: View, period: str) -> View:
    return View(view.indicator, period, view.place, view.dimension)


T = typing.TypeVar("T")


def _once(method: Callable[[typing.Any], T]) -> T:
    """A property computed on first use and kept (like `functools.cached_property`, which
    in Python 3.11 takes one lock for all instances: concurrent requests would wait for
    each other). A `Context` serves one request in one thread, so no lock is needed."""
    key = f"_once_{method.__name__}"

    @wraps(method)
    def get(self: typing.Any) -> T:
        if key not in self.__dict__:
            self.__dict__[key] = method(self)
        return self.__dict__[key]

    return typing.cast(T, property(get))


class Context:
    """Everything one view is computed from, read once: the place (None when the scope may
    not see it: no data), the setting (the place, or a district's governorate for districts
    and fifths), the indicator's direction and scale, and the area's cube (every published
    row of the indicator where districts are compared, all periods).

    The page makes one per callback and asks it for each part; what two parts share (the
    cohorts, the subgroups of every cohort, the headline gap of every cohort) is computed
    once. It holds frames of one data version: make a new one for each request.
    """

    def __init__(self, scope: Scope, view: View, url: str | None = None) -> None:
        self.scope, self.view, self.url = scope, view, url
        self.info = indicator_info(view.indicator, url)
        units = queries.org_units(scope, url)
        self.place = _unit(units, view.place)
        self.area: str | None = None
        self.setting: dict | None = None
        self.cube = pl.DataFrame(schema=queries.VALUE_SCHEMA)
        if self.place is not None:
            self.area = area_of(self.place)
            own = view.dimension in (*PERSONAL, GOVERNORATE)
            self.setting = self.place if own else _unit(units, self.area)
            self.cube = _cube(scope, view.indicator, self.area, url)

    # -------------------------------------------------------- rows

    @_once
    def _own_rows(self) -> pl.DataFrame:
        """The place's rows, every period (its cohorts, cross-tab and subgroups)."""
        if self.place is None:
            return pl.DataFrame(schema=queries.VALUE_SCHEMA)
        return self.cube.filter(pl.col("org_unit") == self.place["code"])

    def place_rows(self) -> pl.DataFrame:
        """Every published sex × disability row of the place in the period (the cross-tab)."""
        return self._own_rows.filter(pl.col("period") == self.view.period)

    def setting_rows(self) -> pl.DataFrame:
        """The setting's all-children rows, every period (its average, the reference line)."""
        if self.setting is None:
            return pl.DataFrame(schema=queries.VALUE_SCHEMA)
        rows = self._own_rows if self.setting is self.place else self.cube
        return _own(rows, self.setting["code"])

    def view_rows(self) -> pl.DataFrame:
        """The published indicator rows the view is computed from (see `view_rows`)."""
        if self.view.dimension in PERSONAL or self.place is None:
            return self.place_rows()
        view, place = self.view, self.place
        setting = self.setting or place
        level = 1 if view.dimension == GOVERNORATE else 2
        periods = [view.period] + (
            [previous_period(view.period)] if view.dimension == FIFTH else []
        )
        everyone = (pl.col("sex") == "all") & (pl.col("disability") == "all")
        compared = (pl.col("org_unit_level") == level) & (place["level"] == 0 or level == 2)
        return self.cube.filter(
            pl.col("period").is_in(periods)
            & everyone
            & (
                (pl.col("org_unit") == setting["code"]) & (pl.col("period") == view.period)
                | compared
            )
        )

    def cohorts(self) -> list[str]:
        """Birth-year cohorts with rows at the place, oldest first."""
        return list(self._cohorts)

    @_once
    def _cohorts(self) -> tuple[str, ...]:
        own = self._own_rows["period"].unique().to_list()
        return tuple(sorted(p for p in own if YEAR.match(p)))

    @_once
    def periods(self) -> list[str]:
        """The cohorts and the selected period, oldest first (the trend, the HEAT Plus file)."""
        return sorted(set(self._cohorts) | {self.view.period})

    # -------------------------------------------------------- subgroups

    @_once
    def _subgroups(self) -> tuple[pl.DataFrame, dict[str, str | None]]:
        """The subgroups of every period in `periods`, and why a period has none."""
        personal = self.view.dimension in PERSONAL  # the place's own rows are enough
        rows = self._own_rows if personal else self.cube
        return _subgroups_of(rows, self.info, self.periods, self.place, self.view.dimension)

    def subgroups(self) -> pl.DataFrame:
        """The subgroups of the selected period (SUBGROUP_SCHEMA)."""
        return self._subgroups[0].filter(pl.col("period") == self.view.period)

    def no_subgroups(self) -> str | None:
        """Why the selected period has no subgroups (None when it has)."""
        return self._subgroups[1][self.view.period]

    # -------------------------------------------------------- measures and gaps

    def measures(self) -> pl.DataFrame:
        """Every applicable HEAT summary measure (see `measures`), cached per data version."""
        key = self.view
        if self.place is not None and self.view.dimension in (DISTRICT, FIFTH):
            key = replace(self.view, place=self.area)  # the same comparison in the whole area
        return _cached_measures(_version(self.url), self.scope, key, self.url).clone()

    @_once
    def _pair_gaps(self) -> pl.DataFrame:
        """The headline D and R in every period of `periods` (`period` first)."""
        frame, reasons = self._subgroups
        pairs = _pair(frame, self.view.dimension)
        plan = _gaps(pairs, self.info, self.view.dimension, "period", self.periods, reasons)
        return plan.collect(engine="in-memory")

    def gap(self) -> pl.DataFrame:
        """The headline gap of the selected period (see `gap`)."""
        if self.view.dimension not in PERSONAL:
            return self.measures().filter(pl.col("measure").is_in(GAP_MEASURES))
        return self._pair_gaps.filter(pl.col("period") == self.view.period).drop("period")

    def gap_trend(self) -> pl.DataFrame:
        """The headline gap in every birth-year cohort (`period` first, oldest first)."""
        if not self._cohorts:
            return pl.DataFrame()
        return self._pair_gaps.filter(pl.col("period").is_in(self._cohorts))

    def measure_trend(self) -> pl.DataFrame:
        """`measures` in every birth-year cohort (`period` first, oldest first)."""
        frames = [
            self._measures_in(year).select(pl.lit(year).alias("period"), pl.all())
            for year in self._cohorts
        ]
        return pl.concat(frames) if frames else pl.DataFrame()

    def _measures_in(self, period: str) -> pl.DataFrame:
        if period == self.view.period:
            return self.measures()
        return Context(self.scope, _with_period(self.view, period), self.url).measures()

    def measures_export(self) -> pl.DataFrame:
        """Measures of the selected period and of every birth-year cohort as one table; for
        sex and disability also the headline gap (focus vs reference)."""
        frames = []
        for period in self.periods:
            one = _with_period(self.view, period)
            frames.append(_export_rows(self._measures_in(period), one, "all subgroups"))
            if self.view.dimension in PERSONAL:
                pair = self._pair_gaps.filter(pl.col("period") == period).drop("period")
                frames.append(_export_rows(pair, one, "focus vs reference"))
        return pl.concat(frames)

    def widest_gaps(self) -> pl.DataFrame:
        """The headline D in each district of the place, widest first (see `widest_gaps`)."""
        if self.place is None or self.view.dimension not in PERSONAL:
            return pl.DataFrame(schema=GAP_SCHEMA)
        view = self.view
        in_period = self.cube.lazy().filter(pl.col("period") == view.period)
        districts = (
            _units(in_period, [view.period], 2)
            .select("org_unit", "org_unit_name")
            .collect(engine="in-memory")
        )
        if districts.is_empty():
            return pl.DataFrame(schema=GAP_SCHEMA)
        rows = in_period.filter(pl.col("org_unit_level") == 2)
        pairs = _pair(_personal(rows, view.dimension, "org_unit"), view.dimension)
        codes = districts["org_unit"].to_list()
        no_data = dict.fromkeys(codes, NO_DATA)
        gaps = _gaps(pairs, self.info, view.dimension, "org_unit", codes, no_data, ("D",))
        withheld = pl.col("estimate").is_null()
        return (  # the widest first, then the withheld by name
            gaps.join(districts.lazy(), on="org_unit", how="left", maintain_order="left")
            .select(list(GAP_SCHEMA))
            .cast(GAP_SCHEMA)
            .sort([withheld, "estimate", "org_unit_name"], descending=[False, True, False])
            .collect(engine="in-memory")
        )

    def heat_plus(self) -> pl.DataFrame:
        """The HEAT Plus upload rows of the view (see `heat_plus`)."""
        if self.place is None:
            return pl.DataFrame(schema=HEAT_PLUS_SCHEMA)
        frame = self._subgroups[0]
        setting = self.setting or self.place
        return heat_plus_rows(_heat_input(frame, self.info, setting, self.view, self.cube))


# ---------------------------------------------------------------- subgroups


def _as_subgroups(rows: Frame, key: pl.Expr, label: pl.Expr, ref: str | None) -> Frame:
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


_SPECS = {
    dimension: pl.DataFrame(
        list(SUBGROUPS[dimension]), schema=["subgroup", "sex", "disability", "label"], orient="row"
    ).with_row_index("position")
    for dimension in PERSONAL
}


def _personal(rows: pl.LazyFrame, dimension: str, by: str) -> pl.LazyFrame:
    """The sex/disability subgroups among `rows`, by `by` (period or org unit) and then in the
    dimension's fixed order."""
    joined = rows.join(_SPECS[dimension].lazy(), on=["sex", "disability"], how="inner")
    ordered = joined.sort([by, "position"])
    return _as_subgroups(ordered, pl.col("subgroup"), pl.col("label"), REFERENCE[dimension])


def _units(cube: Frame, periods: list[str], level: int) -> Frame:
    """All-children rows of one org-unit level in the periods, by period and code."""
    return cube.filter(
        pl.col("period").is_in(periods)
        & (pl.col("org_unit_level") == level)
        & (pl.col("sex") == "all")
        & (pl.col("disability") == "all")
    ).sort(["period", "org_unit"])


def _fifths(
    cube: pl.DataFrame, periods: list[str], favourable: bool
) -> tuple[pl.DataFrame, dict[str, str | None]]:
    """Districts pooled into fifths of their previous-cohort value (1 = worst off then), in
    each period; and why a period has no fifths."""
    previous = {previous_period(p): p for p in periods}
    before = (
        _units(cube.lazy(), list(previous), 2)
        .filter(~pl.col("suppressed").fill_null(True) & pl.col("value").is_not_null())
        .select(
            pl.col("period").replace_strict(previous, return_dtype=pl.String),
            "org_unit",
            pl.col("value").alias("prior"),
        )
    )
    ranked = (
        _units(cube.lazy(), periods, 2)
        .join(before, on=["period", "org_unit"])
        .sort(["period", "prior", "org_unit"], descending=[False, not favourable, False])
        .with_columns(pl.len().over("period").alias("n"))
    )
    ranked, ranked_by = pl.collect_all(
        [ranked, before.select(pl.col("period").unique())], engine="in-memory"
    )
    with_previous = set(ranked_by["period"])  # periods whose previous cohort ranks districts
    counts = dict(ranked.group_by("period").len().iter_rows())
    reasons = {
        p: NO_PREVIOUS
        if p not in with_previous
        else FEW_DISTRICTS
        if counts.get(p, 0) < FIFTHS
        else None
        for p in periods
    }
    kept = [p for p, why in reasons.items() if why is None]
    if not kept:
        return _empty(), reasons
    hidden = pl.col("suppressed").fill_null(True)
    pooled = (
        ranked.lazy()
        .filter(pl.col("period").is_in(kept))
        .with_columns(
            ((pl.int_range(pl.len()).over("period") * FIFTHS) // pl.col("n") + 1).alias("order")
        )
        .group_by(["period", "order"])
        .agg(
            hidden.any().alias("suppressed"),
            pl.col("numerator").sum(),
            pl.col("denominator").sum(),
            pl.len().alias("units"),
        )
        .sort(["period", "order"])
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
    return frame.cast(SUBGROUP_SCHEMA).collect(engine="in-memory"), reasons


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
    cube: pl.DataFrame, info: dict, periods: list[str], place: dict | None, dimension: str
) -> tuple[pl.DataFrame, dict[str, str | None]]:
    """(subgroups of the periods, by period; why a period has none) from the area's cube."""
    if place is None:
        return _empty(), dict.fromkeys(periods, NO_DATA)
    if dimension == FIFTH:
        return _fifths(cube, periods, info["favourable"])
    if dimension == GOVERNORATE and place["level"] != 0:
        return _empty(), dict.fromkeys(periods, NATIONAL_ONLY)
    if dimension in PERSONAL:
        rows = cube.lazy().filter(
            pl.col("period").is_in(periods) & (pl.col("org_unit") == place["code"])
        )
        plan = _personal(rows, dimension, "period")
    else:
        rows = _units(cube.lazy(), periods, 1 if dimension == GOVERNORATE else 2)
        plan = _as_subgroups(rows, pl.col("org_unit"), pl.col("org_unit_name"), None)
    frame = plan.collect(engine="in-memory")
    present = set(frame["period"])
    return frame, {p: None if p in present else NO_DATA for p in periods}


def subgroups(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """The subgroups of the view with counts, value, Wilson interval, flags (SUBGROUP_SCHEMA)."""
    return Context(scope, view, url).subgroups()


def place_rows(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """Every published sex × disability row of the place in the period (the cross-tab)."""
    return Context(scope, view, url).place_rows()


def setting_of(scope: Scope, view: View, url: str | None = None) -> dict | None:
    """The unit the subgroups belong to: the place for sex and disability and governorates,
    the district's governorate (or the place) for districts and fifths."""
    return Context(scope, view, url).setting


def setting_rows(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """The setting's all-children rows, every period (its average, the reference line)."""
    return Context(scope, view, url).setting_rows()


def view_rows(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """The published indicator rows a view is computed from, for the contract CSV: the
    place's sex × disability rows, or the setting's row and the compared units' rows (for
    fifths also the previous cohort, which ranks the districts)."""
    return Context(scope, view, url).view_rows()


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
    return Context(scope, view, url).measures()


def _version(url: str | None) -> tuple[int, str]:
    """The data version, as the query cache keys it (load id and start time)."""
    run = queries.latest_run(url)
    return (run["id"], str(run["started_at"])) if run else (0, "")


@versioned(maxsize=256)
def _cached_measures(
    _version: tuple[int, str], scope: Scope, view: View, url: str | None
) -> pl.DataFrame:
    """Cached per data version like the queries: simulated intervals are the costly part."""
    context = Context(scope, view, url)
    frame, why = context.subgroups(), context.no_subgroups()
    return _measures_of(frame, context.info, view.dimension, why)


def reason(rows: pl.DataFrame) -> str | None:
    """Why the difference D of `measures`/`gap` rows is not shown (None when it is)."""
    found = rows.filter(pl.col("measure") == "D").to_dicts()
    if not found:
        return NO_DATA
    return None if found[0]["estimate"] is not None else found[0]["status"]


def _pair(frame: Frame, dimension: str) -> Frame:
    """The focus subgroup and the reference of a sex/disability dimension; others: all."""
    if dimension not in PERSONAL:
        return frame
    return frame.filter(pl.col("subgroup").is_in([FOCUS[dimension], REFERENCE[dimension]]))


def gap(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """The headline gap of the view (D and R rows, as `measures`): girls with disabilities vs
    boys without for sex × disability, girls vs boys, with vs without disabilities, and
    HEAT's own pair for the geographic dimensions. For coverage D = reference − focus, for an
    adverse indicator focus − reference: a positive D always means the focus is behind."""
    return Context(scope, view, url).gap()


# ---------------------------------------------------------------- D and R of many groups


_PAIR = ("_se_a", "_se_b", "value_a", "value_b")


def _squares(wide: pl.DataFrame) -> pl.DataFrame:
    """`wide` with σ_a², σ_b², R² and y_b² of each compared pair, squared as
    `summary_measures` squares them: `x ** 2` on numpy scalars, which is C's pow(x, 2); for
    about one value in a thousand that differs in the last bit from x·x (what polars
    computes). The same C function here keeps the intervals equal to the bit (the square
    roots and `exp` are the same IEEE and C functions in polars). Done in Python between two
    plans rather than as a Python function inside one, which polars would call from its
    thread pool, taking the GIL there, while the server's other threads run plans too."""
    se_a, se_b, y_a, y_b = (wide[name].to_list() for name in _PAIR)
    ratios = [None if a is None or not b else a / b for a, b in zip(y_a, y_b, strict=True)]
    return wide.with_columns(
        pl.Series(name, [_square(v) for v in values], dtype=pl.Float64)
        for name, values in (("_sa2", se_a), ("_sb2", se_b), ("_r2", ratios), ("_yb2", y_b))
    )


def _square(value: float | None) -> float | None:
    """C's pow(value, 2) (`math.pow` calls it), infinite where numpy's would overflow."""
    if value is None:
        return None
    try:
        return math.pow(value, 2)
    except OverflowError:
        return math.inf


@cache
def _gap_aggregations(dimension: str, favourable: bool, scale: float) -> list[pl.Expr]:
    """`_gaps`' aggregation of a group: what `summary_measures` checks, and the compared
    pair's values and SEs (built once per kind of group: polars expressions are immutable
    and take a millisecond to build)."""
    ordered = dimension == FIFTH
    y, pop = pl.col("value"), pl.col("denominator")
    is_ref = pl.col("subgroup") == (REFERENCE.get(dimension) or "")
    others = pl.when(~is_ref).then(y)
    # Positions in the group as numpy's argmax and Python's max give them: the first of equal
    # values (polars' arg_max and arg_min; nulls left out).
    if ordered:  # the most advantaged fifth − the most disadvantaged
        first, last = pl.col("order").arg_min(), pl.col("order").arg_max()
        a, b = (last, first) if favourable else (first, last)
    elif favourable:  # reference − the other with the lowest value; else highest − lowest
        a = pl.when(is_ref.any()).then(is_ref.arg_max()).otherwise(y.arg_max())
        b = pl.when(is_ref.any()).then(others.arg_min()).otherwise(y.arg_min())
    else:  # the other with the highest value − reference; else highest − lowest
        a = pl.when(is_ref.any()).then(others.arg_max()).otherwise(y.arg_max())
        b = pl.when(is_ref.any()).then(is_ref.arg_max()).otherwise(y.arg_min())
    se = binomial_se(pl.col("numerator"), pl.col("denominator"), scale)
    compared = ("subgroup", "label", "value", "ci_low", "ci_high", "flags")
    return [
        pl.len().alias("_n"),
        pl.col("suppressed").fill_null(True).any().alias("_hidden"),
        pl.col("suppressed").any().alias("_suppressed"),
        pl.col("flags").str.contains("low_denominator").any().alias("_low"),
        ((y.null_count() > 0) | y.is_nan().any()).alias("_no_estimate"),
        ((pop.null_count() > 0) | (pop > 0).all().not_()).alias("_no_population"),
        (y == 0).all().alias("_all_zero"),
        (pop / pop.sum() * y).sum().alias("_mu"),
        *[
            pl.col(name).get(at).alias(f"{name}_{side}")
            for side, at in (("a", a), ("b", b))
            for name in compared
        ],
        se.get(a).alias("_se_a"),
        se.get(b).alias("_se_b"),
    ]


def _gaps(
    frame: pl.DataFrame | pl.LazyFrame,
    info: dict,
    dimension: str,
    by: str,
    keys: list[str],
    reasons: dict[str, str | None],
    measures: tuple[str, ...] = GAP_MEASURES,
) -> pl.LazyFrame:
    """D and R (or only D: `measures`) of each group of `frame` (its rows with one value of
    `by`: a period, a district) exactly as `_measures_of` gives them for that group alone,
    for every group at once: `by` and COMPARED_SCHEMA, D then R, groups in the order of
    `keys`. A key without rows is withheld with its reason in `reasons`.

    The rules are those of `summary_measures` for a non-ordered dimension (or ordered, for
    fifths) with these subgroups: nothing is computed for fewer than 2 subgroups, a
    suppressed one, a missing estimate, a population not above 0, every estimate 0 or a
    setting average of 0 (in that order); the pair is the reference and the other subgroup
    furthest from it when the group has the reference, else the highest and the lowest (the
    first of equal values), or the best- and worst-off fifths; SEs are binomial; D = a − b
    with a normal interval, R = a / b with a log-scale one. `_measures_of` then withholds a
    group without rows (its reason) or with a subgroup under 25 children and none suppressed.
    A plan: collect it with the in-memory engine (a row per group; the streaming engine's
    start-up would cost more than the work).
    """
    schema = {by: pl.String, **COMPARED_SCHEMA}
    if isinstance(frame, pl.DataFrame) and frame.is_empty():  # every group withheld
        columns: dict[str, list] = {name: [] for name in schema}
        for key in keys:
            for measure in measures:
                columns[by].append(key)
                columns["measure"].append(measure)
                columns["status"].append(reasons.get(key) or TOO_FEW)
        count = len(columns[by])
        filled = {name: values or [None] * count for name, values in columns.items()}
        return pl.DataFrame(filled, schema=schema).lazy()
    aggregations = _gap_aggregations(dimension, info["favourable"], info["scale"])
    stats = frame.lazy().group_by(by).agg(aggregations)
    groups = pl.LazyFrame(
        {by: keys, "_reason": [reasons.get(key) for key in keys]},
        schema={by: pl.String, "_reason": pl.String},
    )
    wide = groups.join(stats, on=by, how="left", maintain_order="left")
    return _gap_rows(by, measures)(_squares(wide.collect(engine="in-memory")).lazy())


@cache
def _gap_rows(by: str, measures: tuple[str, ...]) -> Callable[[pl.LazyFrame], pl.LazyFrame]:
    """The step from `_gaps`' one row per group (`by`, the group's checks, the compared
    subgroups `*_a`, `*_b` and the squares `_sa2`, `_sb2`, `_r2`, `_yb2`) to its `measures`
    rows (D, or D then R), with `summary_measures`' arithmetic and reasons. Built once per
    kind of result (the expressions take a millisecond to build)."""
    n = pl.col("_n").fill_null(0)
    gate = (
        pl.when(n < 2)
        .then(pl.lit(TOO_FEW))
        .when(pl.col("_hidden"))
        .then(pl.lit(SUPPRESSED))
        .when(pl.col("_no_estimate"))
        .then(pl.lit(NO_ESTIMATE))
        .when(pl.col("_no_population"))
        .then(pl.lit(NO_POPULATION))
        .when(pl.col("_all_zero"))
        .then(pl.lit(ALL_ZERO))
        .when(pl.col("_mu") == 0)
        .then(pl.lit(ZERO_MEAN))
    )
    withheld = (  # by _measures_of: no rows (with a reason), or a subgroup under 25
        pl.when((n == 0) & pl.col("_reason").is_not_null())
        .then(pl.col("_reason"))
        .when((n > 0) & ~pl.col("_suppressed") & pl.col("_low"))
        .then(pl.lit(LOW_DENOMINATOR))
    )
    ya, yb = pl.col("value_a"), pl.col("value_b")
    sa2, sb2 = pl.col("_sa2"), pl.col("_sb2")
    arithmetic = [
        gate.alias("_gate"),
        withheld.alias("_withheld"),
        (ya - yb).alias("_d"),
        (sa2 + sb2).sqrt().alias("_d_se"),
        (ya / yb).alias("_r"),
        ((sa2 + pl.col("_r2") * sb2) / pl.col("_yb2")).sqrt().alias("_r_se"),
    ]
    computed = pl.col("_gate").is_null()
    d_ok = computed & pl.col("_d_se").is_finite().fill_null(False)
    r_status = (
        pl.when(yb == 0)
        .then(pl.lit(ZERO_DIVISOR))
        .when(~pl.col("_r_se").is_finite().fill_null(False))
        .then(pl.lit(NO_SE))
        .when(pl.col("_r") <= 0)
        .then(pl.lit(ZERO_RATIO))
        .otherwise(pl.lit(OK))
    )
    d_status = pl.when(d_ok).then(pl.lit(OK)).otherwise(pl.lit(NO_SE))
    statuses = [
        pl.when(computed).then(d_status).otherwise(pl.col("_gate")).alias("_d_status"),
        pl.when(computed).then(r_status).otherwise(pl.col("_gate")).alias("_r_status"),
    ]
    r_ok = pl.col("_r_status") == OK
    half = pl.when(r_ok).then(Z * pl.col("_r_se") / pl.col("_r"))  # on the log scale
    d_half = Z * pl.col("_d_se")
    columns = {  # measure → estimate, interval, status (before withholding)
        "D": (
            pl.when(computed).then("_d"),
            pl.when(d_ok).then(pl.col("_d") - d_half),
            pl.when(d_ok).then(pl.col("_d") + d_half),
            pl.col("_d_status"),
        ),
        "R": (
            pl.when(computed & (yb != 0)).then("_r"),
            pl.when(r_ok).then(pl.col("_r") * (-half).exp()),
            pl.when(r_ok).then(pl.col("_r") * half.exp()),
            pl.col("_r_status"),
        ),
    }
    shown = pl.col("_withheld").is_null()
    chosen = [columns[m] for m in measures]

    def each(position: int, withhold: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
        """The measures' values at `position` (0 estimate ... 3 status): one, or a list."""
        values = [withhold(column[position]) for column in chosen]
        return values[0] if len(values) == 1 else pl.concat_list(values)

    def repeated(expr: pl.Expr) -> pl.Expr:
        return expr if len(measures) == 1 else expr.repeat_by(len(measures))

    listed = pl.lit(list(measures), dtype=pl.List(pl.String))
    rows = [
        by,
        (pl.lit(measures[0]) if len(measures) == 1 else listed).alias("measure"),
        *[
            each(i, lambda e: pl.when(shown).then(e)).alias(name)
            for i, name in enumerate(("estimate", "ci_lower", "ci_upper"))
        ],
        each(3, lambda e: pl.coalesce(pl.col("_withheld"), e)).alias("status"),
        *[
            repeated(pl.when(computed).then(f"{name}_{side}")).alias(f"{name}_{side}")
            for side in ("a", "b")
            for name in ("subgroup", "label", "value", "ci_low", "ci_high", "flags")
        ],
    ]
    schema = {by: pl.String, **COMPARED_SCHEMA}

    def apply(wide: pl.LazyFrame) -> pl.LazyFrame:
        frame = wide.with_columns(arithmetic).with_columns(statuses).select(rows)
        if len(measures) > 1:
            frame = frame.explode(pl.exclude(by))
        return frame.select(list(schema)).cast(schema)

    return apply


# ---------------------------------------------------------------- trend


def cohorts(scope: Scope, view: View, url: str | None = None) -> list[str]:
    """Birth-year cohorts with rows at the place, oldest first."""
    return Context(scope, view, url).cohorts()


def measure_trend(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """`measures` in every birth-year cohort (`period` first, oldest first)."""
    return Context(scope, view, url).measure_trend()


def gap_trend(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """`gap` in every birth-year cohort: is the gap closing? (`period` first, oldest first)"""
    return Context(scope, view, url).gap_trend()


def measures_export(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """Measures of the selected period and of every birth-year cohort as one table; for sex
    and disability also the headline gap (focus vs reference)."""
    return Context(scope, view, url).measures_export()


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
    return Context(scope, view, url).widest_gaps()


# ---------------------------------------------------------------- HEAT Plus


def heat_plus(scope: Scope, view: View, url: str | None = None) -> pl.DataFrame:
    """The HEAT Plus upload rows of the view: every birth-year cohort of the trend and the
    selected period, suppressed subgroups left out (see `heat_export`)."""
    return Context(scope, view, url).heat_plus()


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


class ZeroDose:
    """The zero-dose focus of one place, read once (the place and its area's
    `zero_dose_12m` rows, every period): the page's zero-dose callback makes one."""

    def __init__(self, scope: Scope, place: str, url: str | None = None) -> None:
        self.scope, self.code, self.url = scope, place, url
        self.context = Context(scope, View(ZERO_DOSE, "", place, SEX), url)
        self.place = self.context.place

    def subgroups(self, period: str) -> pl.DataFrame:
        """Zero-dose counts (`numerator`) and rates by sex, by disability and by both
        (SUBGROUP_SCHEMA plus `dimension`)."""
        context = self.context
        frames = [
            _subgroups_of(context._own_rows, context.info, [period], self.place, dimension)[
                0
            ].select(pl.lit(dimension).alias("dimension"), pl.all())
            for dimension in PERSONAL
        ]
        return pl.concat(frames)

    def districts(self, period: str) -> pl.DataFrame:
        """The districts ranked by zero-dose count (see `zero_dose_districts`)."""
        if self.place is None:
            return pl.DataFrame()
        area = self.context.area
        rows = self.context.cube.filter(
            (pl.col("period") == period)
            & (pl.col("sex") == "all")
            & (pl.col("disability") == "all")
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

    @_once
    def _own(self) -> pl.DataFrame:
        return _own(self.context._own_rows, self.code)

    def years(self) -> list[str]:
        """Complete birth-year cohorts with a zero-dose row at the place, oldest first."""
        if self.place is None:
            return []
        complete = queries.latest_complete_cohort(self.scope, ZERO_DOSE, self.url)
        years = sorted(p for p in self._own["period"].to_list() if YEAR.match(p))
        return [y for y in years if complete is None or y <= complete]

    def progress(self, period: str, baseline: str | None = None) -> dict:
        """Progress towards the IA2030 goal (see `ia2030_progress`)."""
        years = self.years()
        result: dict = {"status": NO_DATA, "target_year": IA2030_TARGET_YEAR, "years": years}
        if not years:
            return result
        current = period if period in years else years[-1]
        if baseline not in years or baseline > current:
            baseline = IA2030_BASELINE if IA2030_BASELINE in years else years[0]
        by_year = {row["period"]: row for row in self._own.to_dicts()}
        base, now = by_year[baseline], by_year[current]
        result |= {"baseline_period": baseline, "current_period": current}
        result |= {"baseline": base, "current": now}
        return result | _progress(base, now, int(baseline), int(current))


def zero_dose_subgroups(scope: Scope, period: str, place: str, url: str | None = None):
    """Zero-dose counts (`numerator`) and rates of the place by sex, by disability and by
    both (SUBGROUP_SCHEMA plus `dimension`)."""
    return ZeroDose(scope, place, url).subgroups(period)


def zero_dose_districts(
    scope: Scope, period: str, place: str, url: str | None = None
) -> pl.DataFrame:
    """The districts of the place ranked by zero-dose count, most first, with their share of
    the place's zero-dose children (and the running total); suppressed districts follow,
    unranked. A district place means its governorate's districts."""
    return ZeroDose(scope, place, url).districts(period)


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
    return ZeroDose(scope, place, url).years()


def ia2030_progress(
    scope: Scope, place: str, period: str, baseline: str | None = None, url: str | None = None
) -> dict:
    """Baseline, current and target zero-dose counts of the place and the progress towards
    the IA2030 goal. `status` is "ok", or why progress is not given; `years` lists the
    complete cohorts a baseline can be chosen from."""
    return ZeroDose(scope, place, url).progress(period, baseline)


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
