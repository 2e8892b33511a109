"""The query cache: shared between processes, keyed by the data version, never stale."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from indicators import cache, queries, warmup
from indicators import warehouse as wh
from indicators.scope import Scope
from tests.dashboard import sample_warehouse

SELECTION = {"indicators": ["cov_penta3_12m"], "period": "2024", "org_unit": "IQG08", "level": 1}


@pytest.fixture
def url(sqlite_url: str, geo_pack: Path) -> str:
    sample_warehouse.build(sqlite_url, sample_warehouse.tiny_values())
    return sqlite_url


def _baghdad_numerator(url: str) -> float:
    rows = queries.indicator_values(Scope.national(), url=url, **SELECTION)
    return rows.filter(sex="all", disability="all")["numerator"].item()


def _change_behind_the_cache(url: str, numerator: float) -> None:
    """Edit the warehouse without a load (so without a new version): only a query that
    really reads the database can see it."""
    v = wh.indicator_values
    with wh.engine(url).begin() as connection:
        connection.execute(
            sa.update(v)
            .where(v.c.org_unit == "IQG08", v.c.period == "2024", v.c.sex == "all",
                   v.c.disability == "all", v.c.indicator == "cov_penta3_12m")
            .values(numerator=numerator)
        )  # fmt: skip


def _with_baghdad(numerator: float) -> pl.DataFrame:
    """The tiny warehouse's rows with another Baghdad 2024 Penta3 numerator."""
    values = sample_warehouse.tiny_values()
    cell = (
        (pl.col("org_unit") == "IQG08") & (pl.col("period") == "2024") & (pl.col("sex") == "all")
        & (pl.col("disability") == "all") & (pl.col("indicator") == "cov_penta3_12m")
    )  # fmt: skip
    return values.with_columns(numerator=pl.when(cell).then(numerator).otherwise("numerator"))


def _forget_this_process() -> None:
    """What a fresh gunicorn worker has: no answer in its own memory."""
    queries._indicator_values.cache_clear()


def test_another_process_gets_the_answer_from_the_shared_folder(url: str) -> None:
    assert _baghdad_numerator(url) == 450.0
    _change_behind_the_cache(url, 999.0)
    _forget_this_process()
    assert _baghdad_numerator(url) == 450.0  # served from the folder, not the database


def test_without_the_shared_folder_each_process_reads_the_database(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIZAN_CACHE_DIR", "off")
    assert _baghdad_numerator(url) == 450.0
    _change_behind_the_cache(url, 999.0)
    assert _baghdad_numerator(url) == 450.0  # this process still remembers
    _forget_this_process()
    assert _baghdad_numerator(url) == 999.0


def test_a_new_load_is_a_new_version(url: str) -> None:
    assert _baghdad_numerator(url) == 450.0
    sample_warehouse.build(url, _with_baghdad(451.0))  # a second successful load run
    assert _baghdad_numerator(url) == 451.0


def test_a_recreated_warehouse_never_meets_the_old_answers(url: str, tmp_path: Path) -> None:
    assert _baghdad_numerator(url) == 450.0
    wh.engine.cache_clear()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp_path / 'warehouse.db'}{suffix}").unlink(missing_ok=True)
    sample_warehouse.build(url, _with_baghdad(452.0))
    assert queries.data_version(url) == 1  # the same id as the first warehouse's load
    assert _baghdad_numerator(url) == 452.0


def test_old_versions_folders_are_deleted_once_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIZAN_CACHE_DIR", str(tmp_path / "cache"))
    old, recent = cache.shared_store((1, "a")), cache.shared_store((2, "b"))
    old.set("answer", (1,))
    recent.set("answer", (2,))
    long_ago = time.time() - cache.STALE_SECONDS - 60
    os.utime(old._path, (long_ago, long_ago))
    cache.shared_store((3, "c")).set("answer", (3,))
    folders = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(folders) == 2  # the stale one went, the recent one stays for its readers
    assert not Path(old._path).exists() and Path(recent._path).exists()
    assert recent.get("answer") == (2,)


def test_one_version_per_callback(url: str) -> None:
    """A callback's queries all key the version read first, even if a load commits meanwhile."""
    with queries.one_version():
        assert _baghdad_numerator(url) == 450.0
        sample_warehouse.build(url, _with_baghdad(453.0))
        assert queries.data_version(url) == 1  # still the version this callback started on
        assert _baghdad_numerator(url) == 450.0
    assert queries.data_version(url) == 2 and _baghdad_numerator(url) == 453.0


def test_the_warmer_reads_each_indicator_into_the_cache_and_stops(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the warmer has run, the whole-indicator read is answered from the cache: an
    edit made behind it afterwards (no new load, so no new version) is not seen."""
    monkeypatch.setenv("MIZAN_WARM_INTERVAL", "0.05")
    registry = queries.catalogue(url).filter(source="registry").height
    reads = queries._indicator_values.cache_info().misses
    stop = threading.Event()
    thread = warmup.start(url, stop)
    assert thread is not None
    deadline = time.monotonic() + 30
    while queries._indicator_values.cache_info().misses - reads < registry:
        assert time.monotonic() < deadline, "the warmer did not read every indicator"
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    _change_behind_the_cache(url, 1.0)  # the test itself has read nothing yet
    rows = queries.indicator_rows(Scope.national(), "cov_penta3_12m", url)
    baghdad = rows.filter(org_unit="IQG08", period="2024", sex="all", disability="all")
    assert baghdad["numerator"].item() == 450.0  # as loaded, not the 1.0 written behind it
    monkeypatch.setenv("MIZAN_WARM_INTERVAL", "0")
    assert warmup.start(url) is None  # switched off
