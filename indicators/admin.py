"""Administrative immunization indicators from DHIS2 aggregate data (source `dhis2`).

spec/indicators.md (administrative section) and reference/dhis2.md §6, as the WHO EPI
package and Immunization Analysis app compute them:

- coverage = doses in the period / (annual target x months in the period / 12) x 100, per
  antigen, for months, complete quarters and complete years, and year to date (`_ytd`
  codes: January to the month in `period`, the monitoring chart's cumulative line). The
  monthly target is annual / 12, so every period's target is the sum of its months'.
- dropout Penta1 -> Penta3 = (Penta1 - Penta3) / Penta1 x 100 on the same sums.
- RED/REC category per district and year from Penta1 coverage and that dropout, with the
  thresholds of `config` (90 % / 10 %); the current year's category is year to date.
- reporting completeness (reports received / expected) and timeliness (received within
  the data set's timely days / expected) per facility-month; `dq_outliers` counts
  facility monthly values whose modified z-score is above the threshold.
- triangulation: DHIS2 doses / registry doses x 100 per org unit and month.

Rows cover districts, governorates and Iraq (sums of districts), sex `all` (and F/M
where the data are by sex), disability `all`; `ci_low`/`ci_high` stay empty.

Decisions where the spec is silent:
- Doses count children, so coverage and dropout rows follow the registry's suppression
  (primary 1..4, complementary along sex, geography, period and the dropout identities).
  A year-to-date row is shown only when every month it sums is shown: it then tells
  nothing the months do not. RED categories and triangulation rows are shown only when
  the rows they are computed from are. Report counts and outlier counts count facility
  reports and values, which DHIS2 shows every user and which identify no child: they are
  not suppressed and carry no reliability (`low_denominator`/`caution`) flag.
- Extra flags: `outlier` on a dose row whose facility values include an outlier;
  `missing_reports` on any row of a unit and period whose completeness is below
  `config.completeness_target()`.
- A RED category is given for a dropout of exactly 0 (the WHO app's JavaScript skips a
  zero; the spec's thresholds include it). Coverage above 100 % and negative dropout are
  flagged, never capped.
- Outliers are tested on each facility's series of monthly totals per antigen (ages and
  sexes summed), over the loaded months, when the series has at least
  `OUTLIER_MIN_VALUES` values; with a median absolute deviation of 0 the WHO tool's
  fallback 0.7979 (x - median) / mean absolute deviation is used.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from indicators import catalogue, config, geography
from indicators.publish import COLUMNS, publish_marked
from indicators.suppression import is_small, suppress

ALL = "all"
SOURCE = "dhis2"
OUTLIER_MIN_VALUES = 6
MZ_MAD, MZ_MEAN_AD = 0.6745, 0.7979
RELIABILITY_FLAGS = ("low_denominator", "caution")
KEYS = ["indicator", "period", "org_unit", "org_unit_level", "adm1_code", "sex", "disability"]
DISTRICT = ["district", "adm1_code"]
S, F = pl.String, pl.Float64
DOSE_SCHEMA = {"org_unit": S, "district": S, "adm1_code": S, "period": S, "dose": S,
               "age": S, "sex": S, "value": F}  # fmt: skip
POPULATION_SCHEMA = {"district": S, "adm1_code": S, "period": S, "year": pl.Int32,
                     "population": S, "sex": S, "value": F}  # fmt: skip
PUBLISHED_SCHEMA = {
    "indicator": S, "period": S, "org_unit": S, "org_unit_level": pl.Int8, "adm1_code": S,
    "sex": S, "disability": S, "numerator": F, "denominator": F, "value": F, "ci_low": F,
    "ci_high": F, "suppressed": pl.Boolean, "suppression": S, "flags": S, "source": S,
    "as_of": pl.Date, "definition_version": pl.Int32,
}  # fmt: skip


@dataclass
class AdminInputs:
    """What the DHIS2 load extracts through the mapping (`etl.dhis2.facts`).

    - `doses`: one row per data value: org_unit (the reporting unit), district,
      adm1_code, period (yyyyMM), dose, age (under_1 / over_1 / null), sex (F/M/null), value
    - `population`: district, period, year, population (live_births / surviving_infants /
      under_2), sex (F/M/null), value: summed within a district, averaged over a year's periods
    - `rules`: dose, ages (under_1 / all), denominator (a population)
    - `expected`: data_set, org_unit, district, adm1_code, opening_date, closed_date
    - `reports`: data_set, org_unit, period (yyyyMM), on_time: complete registrations
    - `age_known`: the doses carry an age category (else every dose counts)
    """

    doses: pl.DataFrame
    population: pl.DataFrame
    rules: pl.DataFrame
    expected: pl.DataFrame
    reports: pl.DataFrame
    age_known: bool = True
    sex_shares: dict[str, float] = field(default_factory=lambda: {"F": 0.488, "M": 0.512})


def code_of(dose: str, ytd: bool = False) -> str:
    return f"admin_cov_{dose.lower()}{'_ytd' if ytd else ''}"


def empty_rows() -> pl.DataFrame:
    """No published rows, in the published schema."""
    return pl.DataFrame(schema=PUBLISHED_SCHEMA)


def typed(rows: pl.DataFrame) -> pl.DataFrame:
    """Published rows in the published schema (rows read back from the warehouse differ)."""
    return rows.select(pl.col(c).cast(t) for c, t in PUBLISHED_SCHEMA.items())


# --- the month window -------------------------------------------------------------------------


def month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def window(doses: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """(year, month) from the first month with dose data to the last month over by as_of."""
    months = doses.filter(pl.col("period").str.contains(r"^\d{6}$"))["period"]
    if months.is_empty():
        return pl.DataFrame(schema={"year": pl.Int32, "month": pl.Int8})
    first = months.min()
    year, month = int(first[:4]), int(first[4:])
    rows = []
    while month_end(year, month) <= as_of:
        rows.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return pl.DataFrame(rows, schema={"year": pl.Int32, "month": pl.Int8}, orient="row")


def _year_month(period: pl.Expr) -> list[pl.Expr]:
    return [
        period.str.slice(0, 4).cast(pl.Int32).alias("year"),
        period.str.slice(4, 2).cast(pl.Int8).alias("month"),
    ]


def _month_period() -> pl.Expr:
    return (pl.col("year").cast(S) + pl.col("month").cast(S).str.zfill(2)).alias("period")


# --- rollups: district-months -> periods and levels --------------------------------------------


def _periods(
    base: pl.DataFrame, keys: list[str], sums: list[str], months: pl.DataFrame
) -> pl.DataFrame:
    """Month rows, plus complete quarters and years (every month in the window)."""
    total = [pl.col(c).sum() for c in sums]
    quarter = ((pl.col("month") + 2) // 3).cast(pl.Int8).alias("quarter")
    full_q = (
        months.with_columns(quarter).group_by("year", "quarter").len().filter(pl.col("len") == 3)
    )
    full_y = months.group_by("year").len().filter(pl.col("len") == 12)
    by_month = base.with_columns(_month_period())
    by_quarter = (
        base.with_columns(quarter).group_by([*keys, "year", "quarter"]).agg(total)
        .join(full_q.select("year", "quarter"), on=["year", "quarter"], how="semi")
        .with_columns((pl.col("year").cast(S) + "Q" + pl.col("quarter").cast(S)).alias("period"))
    )  # fmt: skip
    by_year = (
        base.group_by([*keys, "year"]).agg(total)
        .join(full_y.select("year"), on="year", how="semi")
        .with_columns(pl.col("year").cast(S).alias("period"))
    )  # fmt: skip
    columns = [*keys, "period", *sums]
    return pl.concat([f.select(columns) for f in (by_month, by_quarter, by_year)])


def _ytd(base: pl.DataFrame, keys: list[str], sums: list[str]) -> pl.DataFrame:
    """Year-to-date sums at each month (the base holds every month of the window)."""
    group = [*keys, "year"]
    running = base.sort([*group, "month"]).with_columns(
        pl.col(c).cum_sum().over(group) for c in sums
    )
    return running.with_columns(_month_period()).select([*keys, "period", *sums])


def _levels(frame: pl.DataFrame, keys: list[str], sums: list[str]) -> pl.DataFrame:
    """District rows (level 2), governorates (1) and Iraq (0), summed."""
    rest = [k for k in keys if k not in DISTRICT]
    total = [pl.col(c).sum() for c in sums]
    districts = frame.with_columns(
        pl.col("district").alias("org_unit"), pl.lit(2, pl.Int8).alias("org_unit_level")
    )
    governorates = (
        frame.group_by([*rest, "period", "adm1_code"])
        .agg(total)
        .with_columns(
            pl.col("adm1_code").alias("org_unit"), pl.lit(1, pl.Int8).alias("org_unit_level")
        )
    )
    national = frame.group_by([*rest, "period"]).agg(total).with_columns(
        pl.lit(geography.NATIONAL).alias("org_unit"), pl.lit(0, pl.Int8).alias("org_unit_level"),
        pl.lit(None, S).alias("adm1_code"),
    )  # fmt: skip
    columns = [*rest, "period", "org_unit", "org_unit_level", "adm1_code", *sums]
    return pl.concat([f.select(columns) for f in (districts, governorates, national)])


# --- numerators, targets, reports, outliers per district-month ---------------------------------


def dose_counts(inputs: AdminInputs, months: pl.DataFrame) -> pl.DataFrame:
    """Coverage doses per dose, district, month and sex (`all`, and F/M for doses by sex)."""
    rules = inputs.rules.select("dose", "ages")
    under_1 = pl.col("age") == "under_1" if inputs.age_known else pl.lit(True)
    counted = (pl.col("ages") == "all") | under_1
    doses = (
        inputs.doses.join(rules, on="dose").filter(counted)
        .with_columns(_year_month(pl.col("period")))
        .join(months, on=["year", "month"], how="semi")
    )  # fmt: skip
    keys = ["dose", *DISTRICT, "year", "month"]
    all_sex = doses.group_by(keys).agg(pl.col("value").sum().alias("numerator"))
    by_sex = (
        doses.filter(pl.col("sex").is_in(["F", "M"]))
        .group_by([*keys, "sex"]).agg(pl.col("value").sum().alias("numerator"))
    )  # fmt: skip
    return pl.concat(
        [all_sex.with_columns(pl.lit(ALL).alias("sex")), by_sex], how="diagonal"
    ).select([*keys, "sex", "numerator"])


def targets(inputs: AdminInputs) -> pl.DataFrame:
    """Annual target per district, year, population and sex (`all`, F, M): summed over a
    district's org units per period, averaged over the year's periods; a sex without its
    own value gets the total times its share."""
    pop = inputs.population
    keys = ["district", "adm1_code", "year", "population"]
    per_period = [
        pop.group_by([*keys, "period"])
        .agg(pl.col("value").sum())
        .with_columns(pl.lit(ALL).alias("sex")),
        pop.filter(pl.col("sex").is_in(["F", "M"]))
        .group_by([*keys, "period", "sex"])
        .agg(pl.col("value").sum()),
    ]
    annual = (
        pl.concat(per_period, how="diagonal")
        .group_by([*keys, "sex"]).agg(pl.col("value").mean().alias("target"))
    )  # fmt: skip
    totals = annual.filter(pl.col("sex") == ALL).drop("sex")
    shares = pl.DataFrame(
        {"sex": list(inputs.sex_shares), "share": list(inputs.sex_shares.values())}
    )
    split = totals.join(shares, how="cross").with_columns(pl.col("target") * pl.col("share"))
    split = split.join(annual, on=[*keys, "sex"], how="anti").drop("share")
    return pl.concat([annual, split.select(annual.columns)]).filter(pl.col("target") > 0)


def reporting(inputs: AdminInputs, months: pl.DataFrame) -> pl.DataFrame:
    """Expected, received and on-time reports per district-month (all data sets)."""
    expected = (
        inputs.expected.join(months, how="cross")
        .with_columns(pl.date(pl.col("year"), pl.col("month"), 1).alias("start"))
        .with_columns(pl.col("start").dt.month_end().alias("end"))
    )
    opening = pl.col("opening_date").str.slice(0, 10).str.to_date(strict=False)
    closed = pl.col("closed_date").str.slice(0, 10).str.to_date(strict=False)
    expected = expected.filter(
        opening.is_null() | (opening <= pl.col("end")),
        closed.is_null() | (closed >= pl.col("start")),
    )
    reports = (
        inputs.reports.with_columns(_year_month(pl.col("period")))
        .group_by("data_set", "org_unit", "year", "month").agg(pl.col("on_time").any())
    )  # fmt: skip
    joined = expected.join(reports, on=["data_set", "org_unit", "year", "month"], how="left")
    return joined.group_by([*DISTRICT, "year", "month"]).agg(
        pl.len().cast(F).alias("expected"),
        pl.col("on_time").is_not_null().sum().cast(F).alias("received"),
        pl.col("on_time").fill_null(False).sum().cast(F).alias("on_time"),
    )


def modified_z(series: pl.DataFrame, group: list[str]) -> pl.DataFrame:
    """Iglewicz-Hoaglin modified z-score (`z`) of `value` within `group`; the mean absolute
    deviation stands in when the median absolute deviation is 0 (WHO data-quality tool)."""
    steps = series.with_columns(pl.col("value").median().over(group).alias("_median"))
    steps = steps.with_columns((pl.col("value") - pl.col("_median")).abs().alias("_dev"))
    steps = steps.with_columns(
        pl.col("_dev").median().over(group).alias("_mad"),
        pl.col("_dev").mean().over(group).alias("_mean_ad"),
    )
    z = (
        pl.when(pl.col("_mad") > 0)
        .then(MZ_MAD * (pl.col("value") - pl.col("_median")) / pl.col("_mad"))
        .when(pl.col("_mean_ad") > 0)
        .then(MZ_MEAN_AD * (pl.col("value") - pl.col("_median")) / pl.col("_mean_ad"))
        .otherwise(0.0)
    )
    return steps.with_columns(z.alias("z")).drop("_median", "_dev", "_mad", "_mean_ad")


def outliers(inputs: AdminInputs, months: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """Per facility monthly total of each dose: its modified z-score and outlier flag."""
    series = (
        inputs.doses.with_columns(_year_month(pl.col("period")))
        .join(months, on=["year", "month"], how="semi")
        .group_by(["org_unit", "dose", *DISTRICT, "year", "month"]).agg(pl.col("value").sum())
    )  # fmt: skip
    unit = ["org_unit", "dose"]
    tested = series.filter(pl.len().over(unit) >= OUTLIER_MIN_VALUES)
    scored = modified_z(tested, unit)
    return scored.with_columns((pl.col("z").abs() > threshold).alias("outlier"))


# --- the cube ---------------------------------------------------------------------------------


def _coverage_base(inputs: AdminInputs, months: pl.DataFrame, scored: pl.DataFrame) -> pl.DataFrame:
    """District-month coverage terms for every mapped dose with a target: numerator,
    monthly target, outliers, and the month's reports (for the missing_reports flag)."""
    counts = dose_counts(inputs, months)
    by_sex = counts.filter(pl.col("sex") != ALL).select("dose").unique()
    goal = targets(inputs).rename({"population": "denominator_of"})
    grid = (
        inputs.rules.select("dose", pl.col("denominator").alias("denominator_of"))
        .join(goal, on="denominator_of").join(months, on="year")
        .filter((pl.col("sex") == ALL) | pl.col("dose").is_in(by_sex["dose"].to_list()))
        .with_columns((pl.col("target") / 12).alias("denominator"))
    )  # fmt: skip
    flagged = scored.group_by(["dose", *DISTRICT, "year", "month"]).agg(
        pl.col("outlier").sum().cast(F).alias("outliers")
    )
    keys = ["dose", *DISTRICT, "year", "month"]
    return (
        grid.join(counts, on=[*keys, "sex"], how="left")
        .join(flagged, on=keys, how="left")
        .join(reporting(inputs, months), on=[*DISTRICT, "year", "month"], how="left")
        .with_columns(
            ("admin_cov_" + pl.col("dose").str.to_lowercase()).alias("indicator"),
            pl.lit(ALL).alias("disability"),
            pl.col("numerator", "outliers", "expected", "received").fill_null(0.0),
        )
    )


CONTEXT = ["outliers", "expected", "received"]
SUMS = ["numerator", "denominator", *CONTEXT]


def _dropout(cube: pl.DataFrame, ytd: bool) -> pl.DataFrame:
    """Penta1 -> Penta3 dropout rows on the coverage sums (where Penta1 > 0)."""
    on = ["period", "org_unit", "org_unit_level", "adm1_code", "sex", "disability"]
    first = cube.filter(pl.col("indicator") == code_of("PENTA1", ytd))
    last = cube.filter(pl.col("indicator") == code_of("PENTA3", ytd)).select(
        *on, pl.col("numerator").alias("last"), pl.col("outliers").alias("last_outliers")
    )
    code = "admin_dropout_penta1_penta3" + ("_ytd" if ytd else "")
    return (
        first.join(last, on=on, nulls_equal=True)  # Iraq rows have no adm1_code
        .filter(pl.col("numerator") != 0)
        .with_columns(
            pl.lit(code).alias("indicator"),
            (pl.col("numerator") - pl.col("last")).alias("numerator"),
            pl.col("numerator").alias("denominator"),
            (pl.col("outliers") + pl.col("last_outliers")).alias("outliers"),
        )
        .select(cube.columns)
    )


def coverage_cube(inputs: AdminInputs, months: pl.DataFrame, scored: pl.DataFrame
                  ) -> tuple[pl.DataFrame, pl.DataFrame]:  # fmt: skip
    """(periods, year to date) rows of coverage and dropout, unsuppressed, with context;
    year to date for sex `all` only (the monitoring chart's line)."""
    base = _coverage_base(inputs, months, scored)
    keys = ["indicator", *DISTRICT, "sex", "disability"]
    periods = _levels(_periods(base, keys, SUMS, months), keys, SUMS)
    ytd = _levels(_ytd(base.filter(pl.col("sex") == ALL), keys, SUMS), keys, SUMS)
    ytd = ytd.with_columns(pl.col("indicator") + "_ytd")
    # Sums of twelfths of targets differ in their last bits with the order polars adds
    # them in: rounded, a reload gives identical tables.
    periods, ytd = (f.with_columns(pl.col("denominator").round(6)) for f in (periods, ytd))
    periods = pl.concat([periods, _dropout(periods, False)])
    ytd = pl.concat([ytd, _dropout(ytd, True)])
    return periods.select([*KEYS, *SUMS]), ytd.select([*KEYS, *SUMS])


def _ytd_marks(ytd: pl.DataFrame, marked: pl.DataFrame) -> pl.DataFrame:
    """A year-to-date row is hidden when a month it sums is hidden (or its own count is
    small); year-to-date dropout when either of its coverage rows is."""
    unit = ["indicator", "org_unit", "sex", "disability"]
    months = (
        marked.filter(pl.col("period").str.contains(r"^\d{6}$"))
        .with_columns(pl.col("indicator") + "_ytd", pl.col("period").str.slice(0, 4).alias("y"))
        .sort("period")
        .with_columns(pl.col("num_hidden").cast(pl.Int32).cum_sum().over([*unit, "y"]).alias("h"))
        .select(*unit, "period", (pl.col("h") > 0).alias("before"))
    )  # fmt: skip
    rows = ytd.join(months, on=[*unit, "period"], how="left")
    small_den = is_small(pl.col("denominator"))
    hidden = pl.col("before").fill_null(False) | is_small(pl.col("numerator")) | small_den
    rows = rows.with_columns(num_hidden=hidden, den_hidden=small_den)
    on = ["period", "org_unit", "sex", "disability"]
    cov = rows.filter(pl.col("indicator").is_in([code_of("PENTA1", True), code_of("PENTA3", True)]))
    blocked = cov.group_by(on).agg(pl.col("num_hidden").any().alias("blocked"))
    dropout = pl.col("indicator") == "admin_dropout_penta1_penta3_ytd"
    return rows.join(blocked, on=on, how="left").with_columns(
        pl.when(dropout).then(pl.col("num_hidden") | pl.col("blocked").fill_null(True))
        .otherwise(pl.col("num_hidden")).alias("num_hidden")
    ).drop("before", "blocked")  # fmt: skip


# --- flags ------------------------------------------------------------------------------------


def _with_flags(published: pl.DataFrame, context: pl.DataFrame, reliability: bool) -> pl.DataFrame:
    """Append `outlier` and `missing_reports`; drop reliability flags for report counts."""
    on = ["indicator", "period", "org_unit", "sex", "disability"]
    rows = published.join(context.select(*on, *CONTEXT), on=on, how="left")
    flags = pl.col("flags")
    if not reliability:
        kept = flags.str.split(";").list.filter(~pl.element().is_in(list(RELIABILITY_FLAGS)))
        flags = kept.list.join(";")
    target = config.completeness_target()
    missing = (pl.col("expected") > 0) & (100 * pl.col("received") < target * pl.col("expected"))
    extra = [
        pl.when(flags != "").then(flags),
        pl.when(pl.col("outliers") > 0).then(pl.lit("outlier")),
        pl.when(missing).then(pl.lit("missing_reports")),
    ]
    joined = pl.concat_str(extra, separator=";", ignore_nulls=True).fill_null("")
    return rows.with_columns(joined.alias("flags")).select(COLUMNS)


# --- RED/REC ----------------------------------------------------------------------------------


def red_category(coverage: pl.Expr, dropout: pl.Expr) -> pl.Expr:
    """1 good access and use, 2 good access poor use, 3 poor access good use, 4 both poor."""
    good_access = coverage >= config.red_coverage_threshold()
    good_use = dropout <= config.red_dropout_threshold()
    return (
        pl.when(good_access & good_use).then(1)
        .when(good_access).then(2)
        .when(good_use).then(3)
        .otherwise(4)
        .cast(F)
    )  # fmt: skip


def _red(cube: pl.DataFrame, ytd: pl.DataFrame, published: pl.DataFrame, months: pl.DataFrame,
         as_of: date) -> pl.DataFrame:  # fmt: skip
    """A category per district and year: from the year rows when the year is complete,
    else from year to date at the window's last month of that year. Hidden when either
    input row is."""
    last = months.group_by("year").agg(pl.col("month").max(), pl.len())
    full = last.filter(pl.col("len") == 12).select(pl.col("year").cast(S).alias("period"))
    partial = last.filter(pl.col("len") < 12).select(_month_period())
    roles = {
        code_of("PENTA1"): "cov", code_of("PENTA1", True): "cov",
        "admin_dropout_penta1_penta3": "drop", "admin_dropout_penta1_penta3_ytd": "drop",
    }  # fmt: skip
    status = published.select("indicator", "period", "org_unit", "sex", "suppressed")
    inputs = (
        pl.concat([cube.join(full, on="period", how="semi"),
                   ytd.join(partial, on="period", how="semi")])
        .filter(pl.col("org_unit_level") == 2, pl.col("sex") == ALL,
                pl.col("indicator").is_in(list(roles)))
        .join(status, on=["indicator", "period", "org_unit", "sex"], how="left")
        .with_columns(pl.col("indicator").replace_strict(roles, return_dtype=S).alias("role"),
                      pl.col("period").str.slice(0, 4).alias("year_period"))
    )  # fmt: skip
    value = 100 * pl.col("numerator") / pl.col("denominator")
    cov = inputs.filter(pl.col("role") == "cov").select(
        "org_unit", "adm1_code", "year_period", value.alias("cov"), pl.col("suppressed").alias("h1")
    )
    drop = inputs.filter(pl.col("role") == "drop").select(
        "org_unit", "year_period", value.alias("drop"), pl.col("suppressed").alias("h2")
    )
    hide = pl.col("h1").fill_null(True) | pl.col("h2").fill_null(True)
    rows = cov.join(drop, on=["org_unit", "year_period"]).with_columns(hide.alias("suppressed"))
    return rows.select(
        pl.lit("red_category").alias("indicator"), pl.col("year_period").alias("period"),
        "org_unit", pl.lit(2, pl.Int8).alias("org_unit_level"), "adm1_code",
        pl.lit(ALL).alias("sex"), pl.lit(ALL).alias("disability"),
        pl.lit(None, F).alias("numerator"), pl.lit(None, F).alias("denominator"),
        pl.when(~pl.col("suppressed")).then(red_category(pl.col("cov"), pl.col("drop")))
        .alias("value"),
        pl.lit(None, F).alias("ci_low"), pl.lit(None, F).alias("ci_high"), "suppressed",
        pl.when(pl.col("suppressed")).then(pl.lit("complementary")).otherwise(pl.lit(""))
        .alias("suppression"),
        pl.lit("").alias("flags"), pl.lit(SOURCE).alias("source"),
        pl.lit(as_of, pl.Date).alias("as_of"),
        pl.lit(_version("red_category"), pl.Int32).alias("definition_version"),
    )  # fmt: skip


def _version(code: str) -> int:
    return catalogue.by_code()[code].version


# --- reports and outliers rows ---------------------------------------------------------------


def _count_rows(base: pl.DataFrame, months: pl.DataFrame, measures: dict[str, tuple[str, str]]
                ) -> pl.DataFrame:  # fmt: skip
    """Unsuppressed rows of count ratios: indicator -> (numerator column, denominator)."""
    sums = sorted({c for pair in measures.values() for c in pair} | {"expected", "received"})
    base = base.with_columns(pl.col(c).fill_null(0.0) for c in sums)
    rows = _levels(_periods(base, DISTRICT, sums, months), DISTRICT, sums)
    parts = [
        rows.filter(pl.col(den) > 0).with_columns(
            pl.lit(code).alias("indicator"),
            pl.col(num).alias("numerator"),
            pl.col(den).alias("denominator"),
            pl.lit(ALL).alias("sex"),
            pl.lit(ALL).alias("disability"),
            pl.lit(0.0).alias("outliers"),
        )  # fmt: skip
        for code, (num, den) in measures.items()
    ]
    return pl.concat(parts).select([*KEYS, *SUMS]) if parts else pl.DataFrame()


def _report_rows(inputs: AdminInputs, months: pl.DataFrame, scored: pl.DataFrame) -> pl.DataFrame:
    reports = reporting(inputs, months)
    tested = scored.group_by([*DISTRICT, "year", "month"]).agg(
        pl.len().cast(F).alias("tested"), pl.col("outlier").sum().cast(F).alias("flagged")
    )
    base = reports.join(tested, on=[*DISTRICT, "year", "month"], how="full", coalesce=True)
    measures = {
        "report_completeness": ("received", "expected"),
        "report_timeliness": ("on_time", "expected"),
        "dq_outliers": ("flagged", "tested"),
    }
    if reports.is_empty():
        measures = {"dq_outliers": measures["dq_outliers"]}
    return _count_rows(base, months, measures)


# --- entry points ----------------------------------------------------------------------------


def admin_values(inputs: AdminInputs, as_of: date) -> pl.DataFrame:
    """Every published administrative row: the warehouse's `indicator_values` minus the
    load run (triangulation aside, see `triangulation`)."""
    months = window(inputs.doses, as_of)
    if months.is_empty():
        return empty_rows()
    scored = outliers(inputs, months, config.outlier_threshold())
    periods, ytd = coverage_cube(inputs, months, scored)
    marked = suppress(periods.select(*KEYS, "numerator", "denominator"))
    ytd_marked = _ytd_marks(ytd, marked)
    doses = publish_marked(pl.concat([marked, ytd_marked.select(marked.columns)]), as_of)
    doses = _with_flags(doses, pl.concat([periods, ytd]), reliability=True)
    reports = _report_rows(inputs, months, scored)
    report_rows = empty_rows()
    if not reports.is_empty():
        unmarked = reports.with_columns(num_hidden=pl.lit(False), den_hidden=pl.lit(False))
        report_rows = _with_flags(publish_marked(unmarked, as_of), reports, reliability=False)
    red = _red(periods, ytd, doses, months, as_of)
    return pl.concat([typed(doses), typed(report_rows), typed(red)]).sort(
        ["indicator", "period", "org_unit_level", "org_unit", "sex", "disability"]
    )


TRIANGULATION = "triangulation"


def triangulation_doses() -> dict[str, str]:
    """Dose -> triangulation indicator code, from the catalogue."""
    return {i.doses[0]: i.code for i in catalogue.indicators() if i.kind == TRIANGULATION}


def registry_dose_counts(children: pl.DataFrame, doses: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The registry's doses per month and org unit of residence, for the triangulation
    doses, counted as the administrative numerator is (before the first birthday; MCV2 at
    any age), published: a hidden count (1..4, or its geographic complement) is null.

    `children` holds birth_date, adm1_code, adm2_code; `doses` child_index (row in
    `children`), vaccine and dose_date (the registry reader's compact doses)."""
    tracer = triangulation_doses()
    given = _monthly_doses(children, doses, list(tracer), as_of)
    keys = ["dose", *DISTRICT]
    rows = _levels(given.with_columns(_month_period()), keys, ["doses"])
    cube = rows.select(
        pl.col("dose").replace_strict(tracer, return_dtype=S).alias("indicator"), "period",
        "org_unit", "org_unit_level", "adm1_code", pl.lit(ALL).alias("sex"),
        pl.lit(ALL).alias("disability"), pl.col("doses").alias("numerator"),
        pl.col("doses").alias("denominator"), "dose",
    )  # fmt: skip
    marked = suppress(cube, groups=("geography",))
    return marked.select(
        "dose", "period", "org_unit", "org_unit_level", "adm1_code",
        pl.when(~pl.col("num_hidden")).then(pl.col("numerator")).alias("doses"),
        pl.lit(as_of, pl.Date).alias("as_of"),
    ).sort("dose", "period", "org_unit")  # fmt: skip


def _monthly_doses(
    children: pl.DataFrame, doses: pl.DataFrame, tracer: list[str], as_of: date
) -> pl.DataFrame:
    """Doses of the `tracer` vaccines per (dose, district, year, month), counted as the
    administrative numerator is: before the first birthday (MCV2 at any age), in months
    complete by `as_of`. Integer keys and one `bincount`: 60 M doses take a second or two,
    with no string touched per dose."""
    vaccine = doses["vaccine"]
    names = list(vaccine.dtype.categories) if isinstance(vaccine.dtype, pl.Enum) else None
    if names is None:  # a plain text column (small inputs)
        names = sorted(set(vaccine.drop_nulls().unique().to_list()))
        vaccine = vaccine.cast(pl.Enum(names))
    number = np.full(len(names), -1)
    for position, dose in enumerate(tracer):
        if dose in names:
            number[names.index(dose)] = position
    code = number[vaccine.to_physical().fill_null(0).to_numpy()]
    code[vaccine.is_null().to_numpy() | doses["dose_date"].is_null().to_numpy()] = -1
    rows = np.flatnonzero(code >= 0)  # the tracer doses only, from here on
    code, child = code[rows], doses["child_index"].to_numpy()[rows].astype(np.int64)
    dates = doses["dose_date"].gather(rows)
    day = dates.cast(pl.Int32).to_numpy()
    month = ((dates.dt.year() - 1970) * 12 + dates.dt.month() - 1).to_numpy().astype(np.int64)
    first_birthday = children["birth_date"].dt.offset_by("12mo").cast(pl.Int32).to_numpy()
    districts = children["adm2_code"].drop_nulls().unique().sort()
    district_id = children["adm2_code"].cast(pl.Enum(districts)).to_physical()
    district_id = district_id.fill_null(0).to_numpy().astype(np.int64)
    last_month = np.datetime64(as_of, "M").astype(np.int64) - (as_of.day != _month_end(as_of))
    young = (tracer.index("MCV2") == code) if "MCV2" in tracer else np.zeros(code.size, bool)
    kept = (code >= 0) & (month <= last_month) & (young | (day < first_birthday[child]))
    if not kept.any():
        return pl.DataFrame(schema={"dose": S, "district": S, "adm1_code": S, "year": pl.Int32,
                                    "month": pl.Int8, "doses": F})  # fmt: skip
    first = int(month[kept].min())
    span, places = int(month[kept].max()) - first + 1, int(district_id.max()) + 1
    key = (code[kept] * places + district_id[child[kept]]) * span + (month[kept] - first)
    counts = np.bincount(key, minlength=len(tracer) * places * span)
    found = np.flatnonzero(counts)
    dose, rest = np.divmod(found, places * span)
    place, offset = np.divmod(rest, span)
    when = (offset + first).astype("datetime64[M]")
    years = when.astype("datetime64[Y]").astype(np.int64) + 1970
    parents = children.select(pl.col("adm2_code"), "adm1_code").unique("adm2_code")
    return pl.DataFrame({
        "dose": np.array(tracer)[dose],
        "district": districts.gather(place),
        "year": years.astype(np.int32),
        "month": ((when.astype(np.int64) % 12) + 1).astype(np.int8),
        "doses": counts[found].astype(np.float64),
    }).join(parents.rename({"adm2_code": "district"}), on="district", how="left")


def _month_end(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def triangulation(admin: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """Published triangulation rows from two published inputs: the monthly `admin_cov_*`
    rows (sex all) and `registry_dose_counts`. A row is shown when both counts are; its
    numerator is the DHIS2 doses, its denominator the registry's."""
    tracer = triangulation_doses()
    codes = {code_of(dose): dose for dose in tracer}
    dhis2 = admin.filter(
        pl.col("indicator").is_in(list(codes)), pl.col("sex") == ALL,
        pl.col("disability") == ALL, pl.col("period").str.contains(r"^\d{6}$"),
    ).select(
        pl.col("indicator").replace_strict(codes, return_dtype=S).alias("dose"), "period",
        "org_unit", "org_unit_level", "adm1_code", "numerator",
        pl.col("suppressed").alias("dhis2_hidden"), "as_of",
    )  # fmt: skip
    if dhis2.is_empty() or registry.is_empty():
        return empty_rows()
    as_of = dhis2["as_of"].max()
    reg = registry.select("dose", "period", "org_unit", pl.col("doses").alias("denominator"))
    rows = dhis2.join(reg, on=["dose", "period", "org_unit"]).filter(
        pl.col("denominator").is_null() | (pl.col("denominator") > 0)
    )
    registry_hidden = pl.col("denominator").is_null()
    marked = rows.select(
        pl.col("dose").replace_strict(tracer, return_dtype=S).alias("indicator"), "period",
        "org_unit", "org_unit_level", "adm1_code", pl.lit(ALL).alias("sex"),
        pl.lit(ALL).alias("disability"), "numerator", "denominator",
        (pl.col("dhis2_hidden") | registry_hidden).alias("num_hidden"),
        registry_hidden.alias("den_hidden"),
    )  # fmt: skip
    return typed(publish_marked(marked, as_of))
