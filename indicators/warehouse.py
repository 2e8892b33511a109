"""The indicator warehouse: its tables and the one transaction that replaces a load's result.

SQLAlchemy Core, so the same code runs on the embedded SQLite file and on PostgreSQL.
A load's whole result (indicator values, org units, catalogue, rejects, its run record)
is written in a single transaction: readers see the previous complete data until it
commits, and a failure or a killed process leaves that data untouched.

Two kinds of load share the warehouse: the registry (source `registry`) and DHIS2
aggregate data (source `dhis2`). Each replaces only its own source's rows, so they can
run in either order; `registry_dose_counts` keeps the registry's published monthly dose
counts so that a later DHIS2 load can compare the two (`indicators.admin`). A DHIS2 load
whose mapping has a facility section also replaces the facility environment data (source
`facility` rows and the facilities, facility_months and climate_months tables) in its
transaction; any other load leaves them as they are.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from indicators import config, facility_data

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
    # "primary" (its own count is 1..4), "complementary" (hidden to protect another), or ""
    sa.Column("suppression", sa.String(16), nullable=False, server_default=""),
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
    # registry | dhis2: which source's rows the run replaces
    sa.Column("kind", sa.String(16), nullable=False, server_default="registry"),
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

# The registry's doses per month and org unit (the child's residence), published (a hidden
# count is NULL), for the registry-vs-DHIS2 triangulation; replaced by each registry load.
registry_dose_counts = sa.Table(
    "registry_dose_counts",
    metadata,
    sa.Column("dose", sa.String(16), nullable=False),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("org_unit", sa.String(16), nullable=False),
    sa.Column("org_unit_level", sa.SmallInteger, nullable=False),
    sa.Column("adm1_code", sa.String(16)),
    sa.Column("doses", sa.Float),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("load_run_id", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("dose", "period", "org_unit"),
)

SA_TYPES = {pl.String: sa.String(64), pl.Float64: sa.Float, pl.Int64: sa.Integer,
            pl.Boolean: sa.Boolean}  # fmt: skip


def _facility_table(name: str, schema: dict, key: tuple[str, ...]) -> sa.Table:
    """A table of the facility environment data, its columns from `indicators.facility_data`
    (one contract for the ETL, the build and the page); replaced by each DHIS2 load."""
    columns = [
        sa.Column(column, SA_TYPES[dtype], nullable=column not in key)
        for column, dtype in schema.items()
    ]
    return sa.Table(
        name, metadata, *columns, sa.Column("load_run_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint(*key),
    )  # fmt: skip


facilities = _facility_table("facilities", facility_data.FACILITIES, ("facility",))
facility_months = _facility_table(
    "facility_months", facility_data.STORED_MONTHS, ("facility", "period")
)
climate_months = _facility_table(
    "climate_months", facility_data.CLIMATE_MONTHS, ("district", "period")
)
FACILITY_TABLES = (facilities, facility_months, climate_months)
FACILITY_SOURCE = "facility"  # the indicator rows built from them

users = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("governorate", sa.String(16)),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("demo", sa.Boolean, nullable=False, default=False),  # made by `etl demo`
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("client", sa.String(64), nullable=False, server_default=""),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("ix_audit_client", "client", "event", "at"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 of the cookie value
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_seen", sa.DateTime, nullable=False),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(32), primary_key=True),
    sa.Column("value", sa.String(64), nullable=False),
)

# Bump when a table changes; an older warehouse is then refused with a clear message rather
# than failing half-way through a load.
SCHEMA_VERSION = "3"  # 2: load_runs.kind, registry_dose_counts; 3: facility environment

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

    _check_schema(created)
    metadata.create_all(created)
    _protect_audit(created)
    with created.begin() as connection:
        if (
            connection.execute(sa.select(meta.c.value).where(meta.c.key == "schema")).first()
            is None
        ):
            connection.execute(meta.insert().values(key="schema", value=SCHEMA_VERSION))
    return created


class SchemaError(RuntimeError):
    """The warehouse was made by another version of Mizan."""


def _check_schema(eng: sa.Engine) -> None:
    tables = set(sa.inspect(eng).get_table_names())
    if not tables & set(metadata.tables):
        return  # a new, empty warehouse
    found = None
    if "meta" in tables:
        with eng.connect() as connection:
            found = connection.execute(
                sa.select(meta.c.value).where(meta.c.key == "schema")
            ).scalar()
    if found != SCHEMA_VERSION:
        raise SchemaError(
            f"the warehouse at {eng.url.render_as_string(hide_password=True)} has schema "
            f"{found or 'unversioned'}, this Mizan needs {SCHEMA_VERSION}; load it into a new "
            "warehouse (for the demo: delete var/mizan.db and run make run again)"
        )


APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS audit_no_{op} BEFORE {OP} ON audit "
        "BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END"
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION mizan_audit_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'audit is append-only'; END $$ LANGUAGE plpgsql",
        "CREATE OR REPLACE TRIGGER audit_no_{op} BEFORE {OP} ON audit "
        "FOR EACH ROW EXECUTE FUNCTION mizan_audit_append_only()",
    ],
}


def _protect_audit(eng: sa.Engine) -> None:
    """Make the audit table append-only in the database itself, not just in our code."""
    with eng.begin() as connection:
        for op in ("update", "delete"):
            for statement in APPEND_ONLY.get(eng.dialect.name, []):
                connection.exec_driver_sql(statement.format(op=op, OP=op.upper()))


class LoadInProgress(RuntimeError):
    """Another load holds the warehouse's load lock."""


LOCK_KEY = 0x4D495A414E  # "MIZAN", the PostgreSQL advisory lock id


@contextmanager
def load_lock(eng: sa.Engine) -> Iterator[None]:
    """Refuse a second concurrent load. The lock dies with its process (a killed load never
    leaves a stale lock): an advisory lock on PostgreSQL, an flock beside the SQLite file."""
    busy = LoadInProgress("another load is running on this warehouse; try again when it ends")
    if eng.dialect.name == "postgresql":
        with eng.connect() as connection:
            if not connection.execute(sa.select(sa.func.pg_try_advisory_lock(LOCK_KEY))).scalar():
                raise busy
            try:
                yield
            finally:
                connection.execute(sa.select(sa.func.pg_advisory_unlock(LOCK_KEY)))
        return
    database = eng.url.database
    path = Path(f"{database}.load-lock") if database else config.var_dir() / "memory.load-lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _insert(connection: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    """Bulk insert by each database's fastest path: COPY on PostgreSQL, executemany of
    plain tuples elsewhere (SQLAlchemy's per-row dict handling costs more than the write)."""
    columns = [c.name for c in table.columns if c.name in frame.columns]
    if frame.is_empty():
        return
    if connection.dialect.name == "postgresql":
        _copy(connection, table, frame.select(columns))
        return
    marks = ", ".join("?" if connection.dialect.paramstyle == "qmark" else "%s" for _ in columns)
    quoted = ", ".join(connection.dialect.identifier_preparer.quote(c) for c in columns)
    statement = f"INSERT INTO {table.name} ({quoted}) VALUES ({marks})"
    for offset in range(0, frame.height, BATCH_ROWS):
        batch = frame.slice(offset, BATCH_ROWS).select(columns).rows()
        connection.exec_driver_sql(statement, batch)


def _copy(connection: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    quoted = ", ".join(f'"{c}"' for c in frame.columns)
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
        for offset in range(0, frame.height, BATCH_ROWS):
            for row in frame.slice(offset, BATCH_ROWS).rows():
                copy.write_row(row)


INTERRUPTED = "the load process ended before it finished (killed or crashed); nothing changed"


def start_run(eng: sa.Engine, started_at: datetime, source: str, kind: str = "registry") -> int:
    """Record a load as running. Call it holding the load lock: any run still marked
    running then belongs to a process that died, and is marked interrupted."""
    with eng.begin() as connection:
        connection.execute(
            load_runs.update()
            .where(load_runs.c.status == "running")
            .values(status="interrupted", message=INTERRUPTED)
        )
        result = connection.execute(
            load_runs.insert().values(
                started_at=started_at, status="running", source=source, kind=kind
            )
        )
        return int(result.inserted_primary_key[0])


def record_failure(
    eng: sa.Engine,
    started_at: datetime,
    source: str,
    message: str,
    run_id: int | None = None,
    kind: str = "registry",
) -> int:
    """Log a failed load; the data it would have replaced stays as it was."""
    values = {
        "finished_at": now(),
        "status": "failed",
        "message": message,
        "duration_s": (now() - started_at).total_seconds(),
    }
    with eng.begin() as connection:
        if run_id is not None:
            connection.execute(load_runs.update().where(load_runs.c.id == run_id).values(values))
            return run_id
        insert = load_runs.insert().values(
            started_at=started_at, source=source, kind=kind, **values
        )
        return int(connection.execute(insert).inserted_primary_key[0])


def replace_results(
    eng: sa.Engine,
    run: dict,
    values: pl.DataFrame,
    reject_rows: pl.DataFrame,
    units: pl.DataFrame,
    catalogue: pl.DataFrame,
    run_id: int | None = None,
    *,
    source: str = "registry",
    dose_counts: pl.DataFrame | None = None,
    also_replace: Iterable[str] = (),
    facility: dict[str, pl.DataFrame] | None = None,
) -> int:
    """Swap in a load's complete result in one transaction and return its run id (the
    running record `run_id` becomes succeeded in that same transaction).

    Replaced: every indicator row of `source` and every row of the indicators in
    `also_replace` (a registry load refreshes the triangulation rows, whose source is
    dhis2, even when it has none left); the other source's rows stay. Org units are
    merged: the new ones replace theirs, and an old one stays while a row still needs
    it. `dose_counts`, when given, replaces `registry_dose_counts`. `facility`, when given
    (a DHIS2 load with a facility section: `facilities`, `facility_months`,
    `climate_months` frames), replaces those three tables and every `facility` row, whose
    new rows are in `values`; without it they stay. `values` must already be published
    (suppressed): the warehouse never holds a small cell.
    """
    record = {
        **run,
        "kind": source,
        "inputs": json.dumps(run.get("inputs", [])),
        "accounting": json.dumps(run.get("accounting", {})),
        "status": "succeeded",
        "finished_at": now(),
        "duration_s": (now() - run["started_at"]).total_seconds(),
    }
    with eng.begin() as connection:
        if run_id is None:
            run_id = int(
                connection.execute(load_runs.insert().values(record)).inserted_primary_key[0]
            )
        else:
            connection.execute(load_runs.update().where(load_runs.c.id == run_id).values(record))
        sources = [source, *([FACILITY_SOURCE] if facility is not None else [])]
        _delete_values(connection, sources, list(also_replace))
        connection.execute(indicator_catalogue.delete())
        _insert(connection, indicator_catalogue, catalogue)
        _insert(connection, indicator_values, values.with_columns(load_run_id=pl.lit(run_id)))
        _merge_units(connection, units)
        _insert(connection, rejects, reject_rows.with_columns(load_run_id=pl.lit(run_id)))
        if dose_counts is not None:
            connection.execute(registry_dose_counts.delete())
            counts = dose_counts.with_columns(load_run_id=pl.lit(run_id))
            _insert(connection, registry_dose_counts, counts)
        for table in (FACILITY_TABLES if facility is not None else ()):
            connection.execute(table.delete())
            frame = facility.get(table.name)
            if frame is not None and frame.height:
                _insert(connection, table, frame.with_columns(load_run_id=pl.lit(run_id)))
    return run_id


def _delete_values(connection: sa.Connection, sources: list[str], indicators: list[str]) -> None:
    v = indicator_values
    connection.execute(v.delete().where(v.c.source.in_(sources)))
    if indicators:
        connection.execute(v.delete().where(v.c.indicator.in_(indicators)))


def _merge_units(connection: sa.Connection, units: pl.DataFrame) -> None:
    """New units replace theirs; an old unit stays only while some row still names it."""
    codes = units["code"].to_list()
    connection.execute(org_units.delete().where(org_units.c.code.in_(codes)))
    _insert(connection, org_units, units)
    used = sa.select(indicator_values.c.org_unit).distinct()
    connection.execute(
        org_units.delete().where(org_units.c.code.not_in(codes), org_units.c.code.not_in(used))
    )


def read_values(eng: sa.Engine, indicators: Iterable[str]) -> pl.DataFrame:
    """Stored rows of some indicators, every column (for the ETL; the dashboard reads
    through `indicators.queries`)."""
    query = sa.select(indicator_values).where(indicator_values.c.indicator.in_(list(indicators)))
    return _frame(eng, query, indicator_values)


def read_dose_counts(eng: sa.Engine) -> pl.DataFrame:
    """The registry's published monthly dose counts (empty before a registry load)."""
    return _frame(eng, sa.select(registry_dose_counts), registry_dose_counts)


def _frame(eng: sa.Engine, query: sa.Select, table: sa.Table) -> pl.DataFrame:
    types = {sa.Float: pl.Float64, sa.Date: pl.Date, sa.Boolean: pl.Boolean}
    schema = {
        c.name: next((t for k, t in types.items() if isinstance(c.type, k)), None)
        or (pl.Int64 if isinstance(c.type, sa.Integer) else pl.String)
        for c in table.columns
    }
    with eng.connect() as connection:
        found = connection.execute(query).all()
    return pl.DataFrame([tuple(r) for r in found], schema=schema, orient="row")


def rows(frame_rows: Iterable[sa.Row]) -> list[dict]:
    return [dict(row._mapping) for row in frame_rows]
