"""The only code that reads the warehouse. Every function takes the caller's `Scope`.

Results are small, already-published (suppressed) frames. They are cached per data version
(`indicators.cache`: in the process and in a folder the workers share): a new load changes
the version, so cached answers can never outlive their data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

import polars as pl
import sqlalchemy as sa

from indicators import catalogue as catalogue_module
from indicators import warehouse as wh
from indicators.cache import versioned
from indicators.scope import Scope

VALUE_SCHEMA = {
    "indicator": pl.String,
    "indicator_name": pl.String,
    "period": pl.String,
    "org_unit": pl.String,
    "org_unit_level": pl.Int8,
    "org_unit_name": pl.String,
    "adm1_code": pl.String,
    "sex": pl.String,
    "disability": pl.String,
    "numerator": pl.Float64,
    "denominator": pl.Float64,
    "value": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "suppressed": pl.Boolean,
    "suppression": pl.String,
    "flags": pl.String,
    "source": pl.String,
    "as_of": pl.Date,
    "definition_version": pl.Int32,
}
Version = tuple[int, str]  # see _stamp
_pinned: ContextVar[dict[str | None, Version] | None] = ContextVar("mizan_version", default=None)
SORT_KEYS = ["indicator", "period", "org_unit_level", "org_unit", "sex", "disability"]


def _engine(url: str | None) -> sa.Engine:
    return wh.engine(url)


def data_version(url: str | None = None) -> int:
    """Id of the latest successful load (0 when nothing was ever loaded)."""
    return _stamp(url)[0]


@contextmanager
def one_version() -> Iterator[None]:
    """Inside the block each warehouse's data version is read once: one round trip per
    callback instead of one per query, and every query of the callback keys the same
    version even if a load commits meanwhile."""
    token = _pinned.set({})
    try:
        yield
    finally:
        _pinned.reset(token)


def _stamp(url: str | None) -> Version:
    """The cache version: the latest successful load's id and start time (a recreated
    warehouse starts its ids at 1 again, its times differ)."""
    pinned = _pinned.get()
    if pinned is not None and url in pinned:
        return pinned[url]
    version = _read_stamp(url)
    if pinned is not None:
        pinned[url] = version
    return version


def _read_stamp(url: str | None) -> Version:
    runs = wh.load_runs
    query = (
        sa.select(runs.c.id, runs.c.started_at)
        .where(runs.c.status == "succeeded")
        .order_by(runs.c.id.desc())
        .limit(1)
    )
    with _engine(url).connect() as connection:
        latest = connection.execute(query).first()
    return (int(latest.id), str(latest.started_at)) if latest else (0, "")


def _scope_filter(scope: Scope, table: sa.Table = wh.indicator_values) -> sa.ColumnElement:
    """The row filter of a scope: a governorate user sees its governorate and districts."""
    if not scope.restricted:
        return sa.true()
    return table.c.adm1_code == scope.governorate


def indicator_values(
    scope: Scope,
    *,
    indicators: tuple[str, ...] | list[str] | None = None,
    period: str | None = None,
    org_unit: str | None = None,
    level: int | None = None,
    sex: str | None = None,
    disability: str | None = None,
    url: str | None = None,
) -> pl.DataFrame:
    """Published indicator rows for a selection, sorted as the CSV contract wants.

    `org_unit` selects that unit and its descendants; `level` keeps one level only.
    """
    key = (
        scope,
        tuple(indicators) if indicators else None,
        period,
        org_unit,
        level,
        sex,
        disability,
        url,
    )
    return _indicator_values(_stamp(url), *key).clone()


@versioned(maxsize=512)
def _indicator_values(
    _version: Version,
    scope: Scope,
    indicators: tuple[str, ...] | None,
    period: str | None,
    org_unit: str | None,
    level: int | None,
    sex: str | None,
    disability: str | None,
    url: str | None,
) -> pl.DataFrame:
    v, units, cat = wh.indicator_values, wh.org_units, wh.indicator_catalogue
    query = (
        sa.select(
            v.c.indicator,
            cat.c.name_en.label("indicator_name"),
            v.c.period,
            v.c.org_unit,
            v.c.org_unit_level,
            units.c.name_en.label("org_unit_name"),
            v.c.adm1_code,
            v.c.sex,
            v.c.disability,
            v.c.numerator,
            v.c.denominator,
            v.c.value,
            v.c.ci_low,
            v.c.ci_high,
            v.c.suppressed,
            v.c.suppression,
            v.c.flags,
            v.c.source,
            v.c.as_of,
            v.c.definition_version,
        )
        .join(units, units.c.code == v.c.org_unit)
        .join(cat, cat.c.code == v.c.indicator)
        .where(_scope_filter(scope))
    )
    if indicators:
        query = query.where(v.c.indicator.in_(indicators))
    if period:
        query = query.where(v.c.period == period)
    if org_unit and org_unit != "IQ":
        query = query.where(v.c.org_unit.startswith(org_unit, autoescape=True))
    if level is not None:
        query = query.where(v.c.org_unit_level == level)
    if sex:
        query = query.where(v.c.sex == sex)
    if disability:
        query = query.where(v.c.disability == disability)
    with _engine(url).connect() as connection:
        rows = connection.execute(query).all()
    frame = pl.DataFrame([tuple(r) for r in rows], schema=VALUE_SCHEMA, orient="row")
    return frame.sort(SORT_KEYS)


def indicator_rows(scope: Scope, indicator: str, url: str | None = None) -> pl.DataFrame:
    """Every published row of one indicator the scope may see, all periods and places.

    One cached read of the whole indicator serves every scope and place: an SQL query for
    one area costs as much as one for the whole indicator, so views that cut many areas
    (equity) cut this frame in memory. The scope is applied here, as in SQL."""
    rows = _indicator_values(
        _stamp(url), Scope.national(), (indicator,), None, None, None, None, None, url
    )
    if scope.restricted:
        return rows.filter(pl.col("adm1_code") == scope.governorate)
    return rows.clone()


def warm(url: str | None = None, source: str = "registry") -> int:
    """Read every indicator of a source into the cache (the shared store is filled once per
    data version for all workers); returns how many. Run in the background after a start or
    a load, so that no user waits for a whole-indicator read."""
    codes = catalogue(url).filter(pl.col("source") == source)["code"].to_list()
    for code in codes:
        indicator_rows(Scope.national(), code, url)
    return len(codes)


def periods(scope: Scope, indicator: str, url: str | None = None) -> list[str]:
    """Periods that have data for an indicator, oldest first (years and quarters)."""
    return list(_periods(_stamp(url), scope, indicator, url))


@versioned(maxsize=128)
def _periods(_version: Version, scope: Scope, indicator: str, url: str | None) -> tuple[str, ...]:
    v = wh.indicator_values
    query = (
        sa.select(v.c.period)
        .distinct()
        .where(v.c.indicator == indicator, _scope_filter(scope))
        .order_by(v.c.period)
    )
    with _engine(url).connect() as connection:
        return tuple(connection.execute(query).scalars())


def latest_complete_cohort(scope: Scope, indicator: str, url: str | None = None) -> str | None:
    """The latest birth year whose every child had reached the indicator's age by the
    as-of date (its last child, born 31 December, included), so its figure is final.
    Without a complete year, the latest year with data."""
    years = [p for p in periods(scope, indicator, url) if len(p) == 4]
    run = latest_run(url)
    known = catalogue_module.by_code().get(indicator)
    if run and run["as_of"] and known:
        age_years = known.age_months // 12
        complete = [y for y in years if date(int(y) + age_years, 12, 31) <= run["as_of"]]
        if complete:
            return complete[-1]
    return years[-1] if years else None


def org_units(scope: Scope, url: str | None = None) -> pl.DataFrame:
    """Org units the scope may see: code, level, parent, names and centroid."""
    return _org_units(_stamp(url), scope, url).clone()


@versioned(maxsize=32)
def _org_units(_version: Version, scope: Scope, url: str | None) -> pl.DataFrame:
    units = wh.org_units
    query = sa.select(units).order_by(units.c.level, units.c.code)
    if scope.restricted:
        query = query.where(units.c.adm1_code == scope.governorate)
    with _engine(url).connect() as connection:
        rows = connection.execute(query).all()
    schema = {c.name: _polars_type(c) for c in units.columns}
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def catalogue(url: str | None = None) -> pl.DataFrame:
    """The indicator catalogue as loaded with the data (codes, names, versions)."""
    return _catalogue(_stamp(url), url).clone()


@versioned(maxsize=8)
def _catalogue(_version: Version, url: str | None) -> pl.DataFrame:
    with _engine(url).connect() as connection:
        rows = connection.execute(sa.select(wh.indicator_catalogue)).all()
    schema = {c.name: _polars_type(c) for c in wh.indicator_catalogue.columns}
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def latest_run(url: str | None = None, kind: str = "registry") -> dict | None:
    """The latest successful load run of a kind (`registry` or `dhis2`): its as-of date,
    source and accounting. The registry's is the one the cohort pages describe."""
    return _latest_run(_stamp(url), url, kind)


@versioned(maxsize=8)
def _latest_run(version: Version, url: str | None, kind: str) -> dict | None:
    if not version[0]:
        return None
    runs = load_runs(url).filter(pl.col("status") == "succeeded", pl.col("kind") == kind)
    return runs.to_dicts()[0] if runs.height else None


def load_runs(url: str | None = None) -> pl.DataFrame:
    """Every load run, newest first, with its accounting decoded."""
    r = wh.load_runs
    with _engine(url).connect() as connection:
        rows = connection.execute(sa.select(r).order_by(r.c.id.desc())).all()
    records = [
        {
            **row._mapping,
            "inputs": json.loads(row.inputs or "[]"),
            "accounting": json.loads(row.accounting or "{}"),
        }
        for row in rows
    ]
    schema = {c.name: _polars_type(c) for c in r.columns} | {
        "inputs": pl.Object,
        "accounting": pl.Object,
    }
    return pl.DataFrame(records, schema=schema) if records else pl.DataFrame(schema=schema)


def rejects_by_rule(run_id: int, url: str | None = None) -> pl.DataFrame:
    """How many rows each rule rejected in a run, per file, most first."""
    j = wh.rejects
    query = (
        sa.select(j.c.file, j.c.rule, sa.func.count().label("rows"))
        .where(j.c.load_run_id == run_id)
        .group_by(j.c.file, j.c.rule)
        .order_by(sa.func.count().desc(), j.c.file, j.c.rule)
    )
    with _engine(url).connect() as connection:
        rows = connection.execute(query).all()
    schema = {"file": pl.String, "rule": pl.String, "rows": pl.Int64}
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def reject_rows(
    run_id: int, rule: str | None = None, limit: int = 500, url: str | None = None
) -> pl.DataFrame:
    """The rejected rows of a run (file, line, rule, raw values), first lines first."""
    j = wh.rejects
    query = sa.select(j.c.file, j.c.line, j.c.rule, j.c["values"]).where(j.c.load_run_id == run_id)
    if rule:
        query = query.where(j.c.rule == rule)
    query = query.order_by(j.c.file, j.c.line).limit(limit)
    with _engine(url).connect() as connection:
        rows = connection.execute(query).all()
    schema = {"file": pl.String, "line": pl.Int64, "rule": pl.String, "values": pl.String}
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def _polars_type(column: sa.Column) -> pl.DataType:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return pl.Boolean
    if isinstance(kind, sa.Integer):
        return pl.Int64
    if isinstance(kind, sa.Float):
        return pl.Float64
    if isinstance(kind, sa.DateTime):
        return pl.Datetime("us")
    if isinstance(kind, sa.Date):
        return pl.Date
    return pl.String
