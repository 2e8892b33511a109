"""Active alerts of the facility environment data (issue 7), for the Overview and
Environment pages and `python -m etl alerts`.

Rules (thresholds in indicators/config.py), all on the latest month in the warehouse:
- `open_burning` (high): a facility reporting open burning without protection or unsafe
  dumping of sharps or infectious waste (`unsafe_disposal`).
- `heat_illness_above_baseline` (high): a district whose heat-illness cases exceed its
  seasonal baseline (mean of the same calendar month's district totals in earlier years)
  x MIZAN_ALERT_BASELINE_RATIO and are at least MIZAN_ALERT_MIN_CASES. No earlier year, no
  baseline, no alert.
- `fridge_unreliable_power` (high): an immunizing facility with vaccine fridges not all
  solar direct-drive (an unreported solar direct-drive count counts as none) whose
  electricity is unreliable or none.
- `heat_stress_facilities` (medium): a district with at least MIZAN_HEAT_ALERT_DAYS
  heatwave days whose facilities include some without reliable electricity (evaluated
  with the settings of now, not those of the load).

Within a rule the most important come first: the most hazardous waste burnt, the most
fridges, the furthest above baseline, the most facilities under heat stress. Every alert
names its district and governorate, so the scope filter applies to alerts as to every
query. The English `message` comes from `TEMPLATES[rule]` with the row's fields;
the page translates the template and fills in the same fields.
"""

from __future__ import annotations

from string import Formatter

import polars as pl
import sqlalchemy as sa

from indicators import config
from indicators import facility_data as fd
from indicators import warehouse as wh
from indicators.cache import versioned
from indicators.queries import Version, _engine, _scope_filter, _stamp
from indicators.scope import Scope

S, F = pl.String, pl.Float64
ALERT_SCHEMA = {
    "rule": S, "severity": S, "district": S, "district_name": S, "adm1_code": S, "facility": S,
    "facility_name": S, "period": S, "value": F, "threshold": F, "message": S,
}  # fmt: skip
SEVERITY = {"open_burning": "high", "heat_illness_above_baseline": "high",
            "fridge_unreliable_power": "high", "heat_stress_facilities": "medium"}  # fmt: skip
TEMPLATES = {
    "open_burning": "{facility_name} ({district_name}) reported open burning or unsafe "
    "dumping of sharps or infectious waste in {period}.",
    "heat_illness_above_baseline": "{district_name}: {value} heat-illness cases in {period}, "
    "above {threshold} ({ratio} x the seasonal baseline of {baseline}).",
    "fridge_unreliable_power": "{facility_name} ({district_name}): {value} vaccine fridges "
    "not on solar direct-drive and no reliable electricity in {period}.",
    "heat_stress_facilities": "{district_name}: {value} facilities without reliable "
    "electricity during {heatwave_days} heatwave days in {period}.",
}
SINGULAR = {  # the same, for a value of 1
    "fridge_unreliable_power": "{facility_name} ({district_name}): {value} vaccine fridge "
    "not on solar direct-drive and no reliable electricity in {period}.",
    "heat_stress_facilities": "{district_name}: {value} facility without reliable "
    "electricity during {heatwave_days} heatwave days in {period}.",
}
MONTH_COLUMNS = ("facility", "period", "unsafe_disposal", "electricity_level",
                 "vaccine_fridges", "fridges_solar_direct", "cases_heat_illness",
                 "waste_hazardous_kg")  # fmt: skip
MONTH_SCHEMA = {
    **{c: fd.STORED_MONTHS[c] for c in MONTH_COLUMNS},
    "facility_name": S, "district": S, "adm1_code": S, "immunizing": pl.Boolean,
    "district_name": S,
}  # fmt: skip


def alerts(scope: Scope, url: str | None = None) -> pl.DataFrame:
    """Active alerts in the scope (ALERT_SCHEMA), high severity first, in a stable order."""
    settings = (config.heat_alert_days(), config.alert_baseline_ratio(), config.alert_min_cases())
    return _alerts(_stamp(url), scope, url, *settings).clone()


@versioned(maxsize=32)
def _alerts(_version: Version, scope: Scope, url: str | None, heat_days: int, ratio: float,
            min_cases: int) -> pl.DataFrame:  # fmt: skip
    months, climate, latest = _read(scope, url)
    if latest is None:
        return pl.DataFrame(schema=ALERT_SCHEMA)
    now = months.filter(pl.col("period") == latest)
    found = pl.concat([
        _open_burning(now),
        _heat_illness(months, latest, ratio, min_cases),
        _fridges(now),
        _heat_stress(now, climate, heat_days),
    ], how="diagonal_relaxed")  # fmt: skip
    return _finish(found)


# ---- reads ---------------------------------------------------------------------------------


def _read(scope: Scope, url: str | None) -> tuple[pl.DataFrame, pl.DataFrame, str | None]:
    """Scoped facility months of the latest month's calendar month (every year, for the
    baseline) with facility and district names, and the latest month's climate."""
    with _engine(url).connect() as connection:
        latest = connection.execute(sa.select(sa.func.max(wh.facility_months.c.period))).scalar()
        if latest is None:
            return pl.DataFrame(), pl.DataFrame(), None
        month_rows = connection.execute(_months_query(scope, latest)).all()
        climate_rows = connection.execute(_climate_query(scope, latest)).all()
    months = pl.DataFrame([tuple(r) for r in month_rows], schema=MONTH_SCHEMA, orient="row")
    heat = pl.DataFrame(
        [tuple(r) for r in climate_rows],
        schema={"district": S, "heatwave_days": pl.Int64},
        orient="row",
    )
    return months, heat, latest


def _months_query(scope: Scope, latest: str) -> sa.Select:
    fm, fac, units = wh.facility_months, wh.facilities, wh.org_units
    return (
        sa.select(*(fm.c[c] for c in MONTH_COLUMNS), fac.c.name.label("facility_name"),
                  fac.c.district, fac.c.adm1_code, fac.c.immunizing,
                  sa.func.coalesce(units.c.name_en, fac.c.district).label("district_name"))
        .join(fac, fac.c.facility == fm.c.facility)
        .join(units, units.c.code == fac.c.district, isouter=True)
        .where(_scope_filter(scope, fac), fm.c.period.endswith(latest[4:]))
    )  # fmt: skip


def _climate_query(scope: Scope, latest: str) -> sa.Select:
    climate = wh.climate_months
    query = sa.select(climate.c.district, climate.c.heatwave_days).where(climate.c.period == latest)
    if scope.restricted:
        query = query.where(climate.c.district.startswith(scope.governorate, autoescape=True))
    return query


# ---- rules ---------------------------------------------------------------------------------


def _facility_alert(frame: pl.DataFrame, rule: str, value: pl.Expr, weight: pl.Expr
                    ) -> pl.DataFrame:  # fmt: skip
    """Facility alerts; `weight` orders a rule's alerts, the most important first."""
    return frame.select(
        pl.lit(rule).alias("rule"), "district", "district_name", "adm1_code", "facility",
        "facility_name", "period", value.cast(F).alias("value"),
        pl.lit(None, F).alias("threshold"), weight.cast(F).alias("_weight"),
    )  # fmt: skip


def _open_burning(now: pl.DataFrame) -> pl.DataFrame:
    """Facilities burning or dumping hazardous waste, those with the most of it first."""
    hits = now.filter(pl.col("unsafe_disposal").fill_null(False))
    return _facility_alert(hits, "open_burning", pl.lit(None, F), pl.col("waste_hazardous_kg"))


def _fridges(now: pl.DataFrame) -> pl.DataFrame:
    mains = pl.col("vaccine_fridges") - pl.col("fridges_solar_direct").fill_null(0)
    hits = now.filter(
        pl.col("immunizing").fill_null(False),
        mains > 0,
        pl.col("electricity_level").is_in(["unreliable", "none"]),
    )
    return _facility_alert(hits, "fridge_unreliable_power", mains, mains)


def _district_cases(months: pl.DataFrame) -> pl.DataFrame:
    """Heat-illness cases per district-month, where some facility reported a count."""
    return months.group_by("district", "district_name", "adm1_code", "period").agg(
        pl.col("cases_heat_illness").sum().alias("cases"),
        pl.col("cases_heat_illness").count().alias("reports"),
    ).filter(pl.col("reports") > 0)  # fmt: skip


def _heat_illness(months: pl.DataFrame, latest: str, ratio: float, min_cases: int
                  ) -> pl.DataFrame:  # fmt: skip
    """Cases of the latest month against the mean of the same month in earlier years."""
    cases = _district_cases(months)
    baseline = (
        cases.filter(pl.col("period") < latest)
        .group_by("district").agg(pl.col("cases").mean().alias("baseline"))
    )  # fmt: skip
    now = cases.filter(pl.col("period") == latest).join(baseline, on="district")
    threshold = pl.col("baseline") * ratio
    hits = now.filter(pl.col("cases") >= min_cases, pl.col("cases") > threshold)
    return hits.select(
        pl.lit("heat_illness_above_baseline").alias("rule"), "district", "district_name",
        "adm1_code", "period", pl.col("cases").alias("value"), threshold.alias("threshold"),
        pl.col("baseline"), pl.lit(ratio).alias("ratio"),
        (pl.col("cases") / threshold).alias("_weight"),  # the furthest above baseline first
    )  # fmt: skip


def _heat_stress(now: pl.DataFrame, climate: pl.DataFrame, heat_days: int) -> pl.DataFrame:
    """Districts under heat alert with facilities lacking reliable electricity."""
    alert = climate.filter(pl.col("heatwave_days") >= heat_days)
    stressed = now.join(alert, on="district").filter(
        pl.col("electricity_level").is_in(["unreliable", "none"])
    )
    counts = stressed.group_by("district", "district_name", "adm1_code", "period").agg(
        pl.len().cast(F).alias("value"), pl.col("heatwave_days").first()
    )
    return counts.select(
        pl.lit("heat_stress_facilities").alias("rule"), "district", "district_name",
        "adm1_code", "period", "value", pl.lit(float(heat_days)).alias("threshold"),
        "heatwave_days", pl.col("value").alias("_weight"),
    )  # fmt: skip


# ---- messages ------------------------------------------------------------------------------


def _text(column: str) -> pl.Expr:
    """A number as people write it: whole numbers without decimals, others with one."""
    value = pl.col(column).cast(F)
    whole = value.round(0).cast(pl.Int64).cast(S)
    return pl.when(value == value.round(0)).then(whole).otherwise(value.round(1).cast(S))


def _message(rule: str, columns: list[str]) -> pl.Expr:
    """The rule's template (SINGULAR for a value of 1) filled from the row's columns."""
    if rule in SINGULAR:
        one = _filled(SINGULAR[rule], rule, columns)
        return pl.when(pl.col("value") == 1).then(one).otherwise(
            _filled(TEMPLATES[rule], rule, columns)
        )
    return _filled(TEMPLATES[rule], rule, columns)


def _filled(template: str, rule: str, columns: list[str]) -> pl.Expr:
    """`template` filled from the row's columns (numbers through `_text`)."""
    numeric = {"value", "threshold", "baseline", "ratio", "heatwave_days"}
    parts: list[pl.Expr] = []
    for literal, field, _, _ in Formatter().parse(template):
        parts.append(pl.lit(literal))
        if field:
            if field not in columns:
                raise KeyError(f"template of {rule} needs {field}")
            parts.append(_text(field) if field in numeric else pl.col(field).fill_null(""))
    return pl.concat_str(parts)


def _finish(found: pl.DataFrame) -> pl.DataFrame:
    """Severity, message and the stable order; only the ALERT_SCHEMA columns."""
    if found.is_empty():
        return pl.DataFrame(schema=ALERT_SCHEMA)
    found = found.with_columns(
        pl.col("rule").replace_strict(SEVERITY).alias("severity"),
        pl.col("rule").replace_strict({r: i for i, r in enumerate(SEVERITY)}).alias("_rule_rank"),
        pl.col("rule").replace_strict({r: ["high", "medium"].index(s) for r, s in SEVERITY.items()})
        .alias("severity_rank"),
    )  # fmt: skip
    message = pl.coalesce(
        [pl.when(pl.col("rule") == rule).then(_message(rule, found.columns)) for rule in TEMPLATES]
    )
    for column in ALERT_SCHEMA:
        if column not in found.columns:
            found = found.with_columns(pl.lit(None, ALERT_SCHEMA[column]).alias(column))
    return (
        found.with_columns(message.alias("message"))
        .sort(["severity_rank", "_rule_rank", "_weight", "adm1_code", "district", "facility"],
              descending=[False, False, True, False, False, False], nulls_last=True)
        .select(pl.col(c).cast(t) for c, t in ALERT_SCHEMA.items())
    )  # fmt: skip
