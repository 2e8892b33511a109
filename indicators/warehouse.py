"""The indicator warehouse: its tables and the one transaction that replaces a load's result.

SQLAlchemy Core, so the same code runs on the embedded SQLite file and on PostgreSQL.
A load's whole result (indicator values, org units, catalogue, rejects, its run record)
is written in a single transaction: readers see the previous complete data until it
commits, and a failure or a killed process leaves that data untouched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from indicators import config

metadata = sa.MetaData()

org_units = sa.Table(
    "org_units",
    metadata,
    sa.Column("code", sa.String(16), primary_key=True),
    sa.Column("level", sa.SmallInteger, nullable=False),
    sa.Column("parent", sa.String(16)),
    sa.Column("adm1_code", sa.String(16)),
    sa.Column("name_en", sa.String(120), nullable=False),
    sa.Column("name_ar", sa.String(120)),
    sa.Column("lat", sa.Float),
    sa.Column("lon", sa.Float),
)

indicator_catalogue = sa.Table(
    "indicators",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name_en", sa.String(200), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("unit", sa.String(16)),
    sa.Column("favourable", sa.String(8)),
    sa.Column("source", sa.String(16)),
    sa.Column("definition_version", sa.Integer, nullable=False),
)

indicator_values = sa.Table(
    "indicator_values",
    metadata,
    sa.Column("indicator", sa.String(64), nullable=False),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("org_unit", sa.String(16), nullable=False),
    sa.Column("org_unit_level", sa.SmallInteger, nullable=False),
    sa.Column("adm1_code", sa.String(16)),
    sa.Column("sex", sa.String(4), nullable=False),
    sa.Column("disability", sa.String(8), nullable=False),
    sa.Column("numerator", sa.Float),
    sa.Column("denominator", sa.Float),
    sa.Column("value", sa.Float),
    sa.Column("ci_low", sa.Float),
    sa.Column("ci_high", sa.Float),
    sa.Column("suppressed", sa.Boolean, nullable=False),
    sa.Column("flags", sa.String(120), nullable=False, default=""),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("definition_version", sa.Integer, nullable=False),
    sa.Column("load_run_id", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("indicator", "period", "org_unit", "sex", "disability"),
    sa.Index("ix_values_lookup", "indicator", "period", "org_unit_level", "adm1_code"),
)

load_runs = sa.Table(
    "load_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("status", sa.String(16), nullable=False),  # succeeded | failed
    sa.Column("source", sa.String(200)),
    sa.Column("as_of", sa.Date),
    sa.Column("as_of_origin", sa.String(16)),  # option | manifest | data
    sa.Column("inputs", sa.Text),  # JSON: files with size and sha256
    sa.Column("accounting", sa.Text),  # JSON: per file rows_read/loaded/rejected/duplicates
    sa.Column("duration_s", sa.Float),
    sa.Column("message", sa.Text),
)

rejects = sa.Table(
    "rejects",
    metadata,
    sa.Column("load_run_id", sa.Integer, nullable=False, index=True),
    sa.Column("file", sa.String(200), nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("rule", sa.String(64), nullable=False),
    sa.Column("values", sa.Text, nullable=False),  # JSON of the raw row
)

VALUE_COLUMNS = [c.name for c in indicator_values.columns]
BATCH_ROWS = 20_000


@cache
def engine(url: str | None = None) -> sa.Engine:
    """One engine per URL and process; SQLite gets WAL so readers never wait for a load."""
    url = url or config.db_url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    created = sa.create_engine(url)
    if created.dialect.name == "sqlite":

        @sa.event.listens_for(created, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

    metadata.create_all(created)
    return created


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _batches(frame: pl.DataFrame, columns: list[str]) -> Iterator[list[dict]]:
    for offset in range(0, frame.height, BATCH_ROWS):
        yield frame.slice(offset, BATCH_ROWS).select(columns).to_dicts()


def _insert(connection: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    columns = [c.name for c in table.columns if c.name in frame.columns]
    for batch in _batches(frame, columns):
        connection.execute(table.insert(), batch)


def record_failure(eng: sa.Engine, started_at: datetime, source: str, message: str) -> int:
    """Log a failed load; the data it would have replaced stays as it was."""
    with eng.begin() as connection:
        result = connection.execute(
            load_runs.insert().values(
                started_at=started_at,
                finished_at=now(),
                status="failed",
                source=source,
                message=message,
                duration_s=(now() - started_at).total_seconds(),
            )
        )
        return int(result.inserted_primary_key[0])


def replace_results(
    eng: sa.Engine,
    run: dict,
    values: pl.DataFrame,
    reject_rows: pl.DataFrame,
    units: pl.DataFrame,
    catalogue: pl.DataFrame,
) -> int:
    """Swap in a load's complete result in one transaction and return its run id.

    `values` must already be published (suppressed) by `indicators.publish`: the warehouse
    never holds a small cell.
    """
    with eng.begin() as connection:
        run_id = int(
            connection.execute(
                load_runs.insert().values(
                    **{**run, "inputs": json.dumps(run.get("inputs", [])),
                       "accounting": json.dumps(run.get("accounting", {}))},
                    status="succeeded",
                    finished_at=now(),
                    duration_s=(now() - run["started_at"]).total_seconds(),
                )
            ).inserted_primary_key[0]
        )
        for table in (indicator_values, org_units, indicator_catalogue):
            connection.execute(table.delete())
        _insert(connection, org_units, units)
        _insert(connection, indicator_catalogue, catalogue)
        _insert(connection, indicator_values, values.with_columns(load_run_id=pl.lit(run_id)))
        _insert(connection, rejects, reject_rows.with_columns(load_run_id=pl.lit(run_id)))
    return run_id


def rows(frame_rows: Iterable[sa.Row]) -> list[dict]:
    return [dict(row._mapping) for row in frame_rows]
