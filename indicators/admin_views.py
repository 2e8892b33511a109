"""What the administrative (DHIS2) views show, read through the query layer only.

The Immunization page's DHIS2 tab (WHO monitoring chart, RED/REC scatter and map, dropout
by district) and the Data quality page (reporting, outliers, registry vs DHIS2) ask these
functions; each takes the caller's `Scope`, so a governorate user's views and exports hold
its governorate only. Everything here reshapes small published frames (the warehouse holds
the sums; `indicators.admin` says how they were computed); no SQL, no per-row loops.

Decisions:
- A year's RED/REC inputs are the year rows once the year is complete, else year to date
  at its last loaded month: the rows `indicators.admin` derives `red_category` from.
- A whole year of reports or outliers sums the year's monthly rows (report and value
  counts are never suppressed), so a year still in progress reads as year to date and a
  complete year equals its year row.
- Triangulation over a year sums only the months whose row is shown, and says how many:
  a hidden month cannot be added back.
- Outliers are flagged per facility in the load; the warehouse keeps district sums, so the
  list names district, antigen and month (with the district's median month of that year
  to compare with), not the facility.
"""

from __future__ import annotations

import re

import polars as pl

from indicators import catalogue, queries
from indicators.scope import Scope

ALL = "all"
NATIONAL = "IQ"
DISTRICT = 2
COVERAGE_PREFIX = "admin_cov_"
PENTA = ("admin_cov_penta1", "admin_cov_penta3")
DROPOUT = "admin_dropout_penta1_penta3"
RED = "red_category"
COMPLETENESS, TIMELINESS, OUTLIERS = "report_completeness", "report_timeliness", "dq_outliers"
QUALITY = (COMPLETENESS, TIMELINESS, OUTLIERS)
MONTH = re.compile(r"^\d{6}$")
YTD = "_ytd"
PRETTY = (("PENTA", "Penta"), ("ROTA", "Rota"), ("HEPB", "HepB"))


def ytd(code: str) -> str:
    return code + YTD


def month_of(period: str) -> int:
    return int(period[4:6])


def month_period(year: str, month: int) -> str:
    return f"{year}{month:02d}"


# --- choices ----------------------------------------------------------------------------------


def dose_label(code: str) -> str:
    """The antigen's short name (`admin_cov_penta1` -> Penta1; vaccine abbreviations are
    the same in every language)."""
    known = catalogue.by_code().get(code)
    dose = known.doses[0] if known and known.doses else code.removeprefix(COVERAGE_PREFIX).upper()
    for upper, pretty in PRETTY:
        dose = dose.replace(upper, pretty)
    return dose


def coverage_codes() -> list[str]:
    """Administrative coverage indicators of the catalogue, in catalogue order."""
    return [i.code for i in catalogue.indicators() if i.kind == "admin_coverage"]


def triangulation_codes() -> list[str]:
    return [i.code for i in catalogue.indicators() if i.kind == "triangulation"]


def with_data(scope: Scope, codes: list[str], url: str | None = None) -> list[str]:
    """The codes that have rows the scope may read (a mapping may leave antigens out)."""
    return [code for code in codes if queries.periods(scope, code, url)]


def years(scope: Scope, codes: list[str], url: str | None = None) -> list[str]:
    """Years with monthly rows of any of `codes`, oldest first."""
    found = {p[:4] for code in codes for p in queries.periods(scope, code, url) if MONTH.match(p)}
    return sorted(found)


def months(scope: Scope, codes: list[str], year: str, url: str | None = None) -> list[int]:
    """Months of `year` with rows of any of `codes`."""
    found = {
        month_of(p)
        for code in codes
        for p in queries.periods(scope, code, url)
        if MONTH.match(p) and p.startswith(year)
    }
    return sorted(found)


def basis(scope: Scope, year: str, url: str | None = None) -> str | None:
    """The period RED/REC and dropout read for `year`: the year when it is complete, else
    its last loaded month (year to date); None without Penta1 data that year."""
    if year in queries.periods(scope, PENTA[0], url):
        return year
    loaded = [p for p in queries.periods(scope, ytd(PENTA[0]), url) if p.startswith(year)]
    return loaded[-1] if loaded else None


def _codes_at(period: str) -> tuple[str, str]:
    """(Penta1 coverage, dropout) indicator codes for a basis period."""
    if MONTH.match(period):
        return ytd(PENTA[0]), ytd(DROPOUT)
    return PENTA[0], DROPOUT


# --- the Immunization page's DHIS2 tab -------------------------------------------------------


def monitoring_codes(code: str) -> list[str]:
    """Year-to-date series of the monitoring chart: the dose, or Penta1 and Penta3 with
    their dropout when the dose is one of them (the WHO chart's DTP1/DTP3 pair)."""
    if code in PENTA:
        return [ytd(PENTA[0]), ytd(PENTA[1]), ytd(DROPOUT)]
    return [ytd(code)]


def monitoring(
    scope: Scope, code: str, year: str, unit: dict, url: str | None = None
) -> pl.DataFrame:
    """The place's year-to-date rows of the monitoring chart for `year` (published rows,
    plus `month`): cumulative doses are the numerators, cumulative targets the denominators."""
    rows = queries.indicator_values(
        scope, indicators=monitoring_codes(code), org_unit=unit["code"], level=unit["level"],
        sex=ALL, disability=ALL, url=url,
    )  # fmt: skip
    rows = rows.filter(pl.col("org_unit") == unit["code"], pl.col("period").str.starts_with(year))
    return rows.with_columns(pl.col("period").str.slice(4, 2).cast(pl.Int8).alias("month"))


def target_line(rows: pl.DataFrame, code: str) -> pl.DataFrame:
    """Cumulative target by month for the whole year: annual target x month / 12, the
    annual target read back from the latest year-to-date target (`denominator`)."""
    known = rows.filter(pl.col("indicator") == ytd(code), pl.col("denominator").is_not_null())
    schema = {"month": pl.Int8, "target": pl.Float64}
    if known.is_empty():
        return pl.DataFrame(schema=schema)
    last = known.sort("month").row(-1, named=True)
    annual = last["denominator"] * 12 / last["month"]
    return pl.DataFrame(
        {"month": list(range(1, 13)), "target": [annual * m / 12 for m in range(1, 13)]},
        schema=schema,
    )


def district_rows(
    scope: Scope, codes: list[str], period: str, area: str, url: str | None = None
) -> pl.DataFrame:
    """Published district rows of `codes` for one period under `area` (sex all)."""
    return queries.indicator_values(
        scope, indicators=codes, period=period, org_unit=area, level=DISTRICT, sex=ALL,
        disability=ALL, url=url,
    )  # fmt: skip


def red_rows(scope: Scope, year: str, area: str, url: str | None = None) -> pl.DataFrame:
    """The published rows behind the RED/REC views: Penta1 coverage and dropout at the
    year's basis period, and the year's category, for the districts under `area`."""
    period = basis(scope, year, url)
    if period is None:
        return district_rows(scope, [RED], year, area, url).clear()
    inputs = district_rows(scope, list(_codes_at(period)), period, area, url)
    return pl.concat([inputs, district_rows(scope, [RED], year, area, url)])


def red_table(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per district: coverage, dropout (value, suppressed, flags) and category."""
    keys = ["org_unit", "org_unit_name", "adm1_code"]
    schema = {
        "org_unit": pl.String, "org_unit_name": pl.String, "adm1_code": pl.String,
        "coverage": pl.Float64, "coverage_suppressed": pl.Boolean, "coverage_flags": pl.String,
        "dropout": pl.Float64, "dropout_suppressed": pl.Boolean, "dropout_flags": pl.String,
        "dropout_denominator": pl.Float64, "category": pl.Int8,
    }  # fmt: skip
    if rows.is_empty():
        return pl.DataFrame(schema=schema)

    def part(prefix: str, name: str) -> pl.DataFrame:
        return rows.filter(pl.col("indicator").str.starts_with(prefix)).select(
            *keys, pl.col("value").alias(name), pl.col("suppressed").alias(f"{name}_suppressed"),
            pl.col("flags").alias(f"{name}_flags"),
            pl.col("denominator").alias(f"{name}_denominator"),
        )  # fmt: skip

    category = rows.filter(pl.col("indicator") == RED).select(
        *keys, pl.col("value").cast(pl.Int8).alias("category")
    )
    table = (
        part(PENTA[0], "coverage").drop("coverage_denominator")
        .join(part(DROPOUT, "dropout"), on=keys, how="full", coalesce=True)
        .join(category, on=keys, how="full", coalesce=True)
    )  # fmt: skip
    return table.select(list(schema)).cast(schema).sort("org_unit_name")


def with_all_districts(
    table: pl.DataFrame, scope: Scope, area: str, url: str | None = None
) -> pl.DataFrame:
    """`red_table` with a row for every district of the area the scope sees (those without
    DHIS2 rows have no category), so a map has no holes."""
    units = queries.org_units(scope, url).filter(pl.col("level") == DISTRICT)
    if area != NATIONAL:
        units = units.filter(pl.col("parent") == area)
    districts = units.select(
        pl.col("code").alias("org_unit"), pl.col("name_en").alias("org_unit_name"),
        "adm1_code",
    )  # fmt: skip
    found = districts.join(table, on="org_unit", how="anti")
    return pl.concat([table, found], how="diagonal").sort("org_unit_name")


def dropout_rows(scope: Scope, year: str, area: str, url: str | None = None) -> pl.DataFrame:
    """Published Penta1 -> Penta3 dropout rows of the districts under `area` for `year`."""
    period = basis(scope, year, url)
    if period is None:
        return district_rows(scope, [DROPOUT], year, area, url).clear()
    return district_rows(scope, [_codes_at(period)[1]], period, area, url)


# --- the Data quality page ---------------------------------------------------------------------


def _periods_of(year: str, month: int | None) -> pl.Expr:
    if month:
        return pl.col("period") == month_period(year, month)
    return pl.col("period").str.contains(f"^{year}\\d\\d$")


def area_rows(
    scope: Scope, codes: list[str], area: dict, url: str | None = None, **selection: object
) -> pl.DataFrame:
    """Published rows of `codes` for the area itself and its children (one level down):
    two narrow queries rather than every level under the area."""
    own = queries.indicator_values(
        scope, indicators=codes, org_unit=area["code"], level=area["level"], url=url, **selection
    )
    children = queries.indicator_values(
        scope, indicators=codes, org_unit=area["code"], level=area["level"] + 1, url=url,
        **selection,
    )  # fmt: skip
    return pl.concat([own.filter(pl.col("org_unit") == area["code"]), children])


def quality_rows(
    scope: Scope, year: str, month: int | None, area: dict, url: str | None = None
) -> pl.DataFrame:
    """Published completeness, timeliness and outlier-count rows behind the view: the area
    and its children, the month's rows or every month of the year."""
    return area_rows(scope, list(QUALITY), area, url).filter(_periods_of(year, month))


def quality_table(rows: pl.DataFrame) -> pl.DataFrame:
    """Per org unit: reports expected / received / on time and values tested / flagged,
    summed over the rows' months, with their percentages."""
    keys = ["org_unit", "org_unit_name", "org_unit_level"]
    sums = (
        rows.group_by([*keys, "indicator"])
        .agg(pl.col("numerator").sum(), pl.col("denominator").sum(), pl.len().alias("months"))
    )  # fmt: skip

    def measure(code: str, numerator: str, denominator: str) -> pl.DataFrame:
        return sums.filter(pl.col("indicator") == code).select(
            *keys, pl.col("numerator").alias(numerator), pl.col("denominator").alias(denominator)
        )

    table = measure(COMPLETENESS, "received", "expected")
    others = [measure(TIMELINESS, "on_time", "_expected"), measure(OUTLIERS, "flagged", "tested")]
    for part in others:
        table = table.join(part, on=keys, how="full", coalesce=True)
    return (
        table.with_columns(pl.col("expected").fill_null(pl.col("_expected")))
        .with_columns(
            _share("received", "expected").alias("completeness"),
            _share("on_time", "expected").alias("timeliness"),
            _share("flagged", "tested").alias("outlier_share"),
        )
        .select(*keys, "expected", "received", "on_time", "completeness", "timeliness",
                "tested", "flagged", "outlier_share")
        .sort("org_unit_level", "org_unit_name")
    )  # fmt: skip


def _share(numerator: str, denominator: str) -> pl.Expr:
    return pl.when(pl.col(denominator) > 0).then(100 * pl.col(numerator) / pl.col(denominator))


def outlier_rows(
    scope: Scope, year: str, month: int | None, area: dict, url: str | None = None
) -> pl.DataFrame:
    """District-month rows of every antigen under `area` in `year` (sex all), with the
    district's median month of that antigen and year (`median`)."""
    codes = with_data(scope, coverage_codes(), url)
    if not codes:
        return pl.DataFrame()
    frames = [
        district_rows(scope, codes, month_period(year, m), area["code"], url)
        for m in months(scope, codes[:1], year, url)
    ]
    if not frames:
        return district_rows(scope, codes, year, area["code"], url).clear()
    rows = pl.concat(frames).with_columns(
        pl.col("numerator").median().over("indicator", "org_unit").alias("median")
    )
    return rows.filter(_periods_of(year, month))


def outlier_list(rows: pl.DataFrame) -> pl.DataFrame:
    """The rows flagged `outlier`, farthest from their median first."""
    if rows.is_empty():
        return rows
    flagged = rows.filter(pl.col("flags").str.split(";").list.contains("outlier"))
    ratio = pl.when(pl.col("median") > 0).then(pl.col("numerator") / pl.col("median"))
    distance = (ratio.log(2)).abs().fill_null(0.0)
    return (
        flagged.with_columns(ratio.alias("ratio"), distance.alias("_distance"))
        .sort(["_distance", "org_unit_name", "period"], descending=[True, False, False])
        .drop("_distance")
    )


def outlier_export(rows: pl.DataFrame) -> pl.DataFrame:
    """The outlier list as a plain table (district, antigen, month, doses, median, ratio)."""
    columns = ["org_unit", "org_unit_name", "indicator", "indicator_name", "period",
               "numerator", "median", "ratio", "value", "suppressed", "flags"]  # fmt: skip
    if rows.is_empty():
        return pl.DataFrame(schema={c: pl.String for c in columns})
    return rows.select(columns).rename(
        {"numerator": "doses_reported", "median": "district_median_month", "value": "coverage"}
    )


def triangulation_rows(
    scope: Scope, code: str, year: str, area: dict, url: str | None = None
) -> pl.DataFrame:
    """Published monthly triangulation rows of `year` for the area and its children."""
    rows = area_rows(scope, [code], area, url, sex=ALL, disability=ALL)
    return rows.filter(_periods_of(year, None))


def triangulation_table(rows: pl.DataFrame, year: str, month: int | None) -> pl.DataFrame:
    """Per org unit: DHIS2 doses, registry doses and their ratio for the month, or summed
    over the year's shown months (`months` shown of `months_total`)."""
    keys = ["org_unit", "org_unit_name", "org_unit_level"]
    chosen = rows.filter(_periods_of(year, month))
    shown = ~pl.col("suppressed")
    table = chosen.group_by(keys).agg(
        pl.col("numerator").filter(shown).sum().alias("dhis2"),
        pl.col("denominator").filter(shown).sum().alias("registry"),
        shown.sum().cast(pl.Int64).alias("months"),
        pl.len().cast(pl.Int64).alias("months_total"),
    )
    ratio = pl.when((pl.col("months") > 0) & (pl.col("registry") > 0))
    return table.with_columns(
        ratio.then(100 * pl.col("dhis2") / pl.col("registry")).alias("ratio"),
        *(pl.when(pl.col("months") > 0).then(pl.col(c)).alias(c) for c in ("dhis2", "registry")),
    ).sort("org_unit_level", "org_unit_name")


def series(rows: pl.DataFrame, code: str) -> pl.DataFrame:
    """One org unit's monthly rows, with `month`, in month order."""
    return (
        rows.filter(pl.col("org_unit") == code)
        .with_columns(pl.col("period").str.slice(4, 2).cast(pl.Int8).alias("month"))
        .sort("month")
    )
