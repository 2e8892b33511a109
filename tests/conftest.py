"""Shared fixtures: the `../shared` folder (skipped with a reason when absent) and warehouses."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from indicators import warehouse as wh

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


@pytest.fixture(scope="session", autouse=True)
def query_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The shared query cache of this test session (not the project's `var/cache`)."""
    folder = tmp_path_factory.mktemp("query-cache")
    previous = os.environ.get("MIZAN_CACHE_DIR")
    os.environ["MIZAN_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("MIZAN_CACHE_DIR", None)
    else:
        os.environ["MIZAN_CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def validated_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every figure a test builds is validated by plotly (the app skips that for speed), so
    a builder writing an invalid property fails the tests."""
    from dashboard import figures

    monkeypatch.setattr(figures, "UNCHECKED", {})


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data`, or skip: these tests need the boundary pack and DHIS2 fixtures."""
    data = SHARED / "data"
    if not (data / "iraq_adm2.csv").is_file():
        pytest.skip(f"needs the shared data folder {data} (boundary pack), which is absent")
    return data


@pytest.fixture
def geo_pack(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point Mizan at the real boundary pack for this test."""
    monkeypatch.setenv("MIZAN_GEO_DIR", str(shared_data))
    return shared_data


@pytest.fixture
def no_geo_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run without a boundary pack (an empty folder), as a deployment without it would."""
    empty = tmp_path / "no-geo"
    empty.mkdir()
    monkeypatch.setenv("MIZAN_GEO_DIR", str(empty))
    return empty


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh embedded warehouse file for one test."""
    return f"sqlite:///{tmp_path / 'warehouse.db'}"


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on a Unix socket (no TCP), or `MIZAN_TEST_PG_URL`."""
    if os.environ.get("MIZAN_TEST_PG_URL"):
        yield os.environ["MIZAN_TEST_PG_URL"]
        return
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server installed (Debian package postgresql)")
    base = Path(tempfile.mkdtemp(prefix="mizan-pg-"))  # under /tmp: the postgres user can reach it
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the Debian postgres user
        shutil.chown(base, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", "55432"
    subprocess.run(
        [*as_postgres, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "mizan"],
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-k {base} -p {port} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "start",
         "-l", str(base / "log")],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield f"postgresql+psycopg://mizan@/postgres?host={base}&port={port}"
    finally:
        subprocess.run(
            [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_warehouse(postgres_url: str) -> Iterator[str]:
    """An empty warehouse on the PostgreSQL server (a clean schema for every test)."""
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    wh.engine.cache_clear()
    yield postgres_url
    wh.engine.cache_clear()


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on the embedded SQLite warehouse and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return request.getfixturevalue("postgres_warehouse")
