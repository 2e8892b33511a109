"""Loads that lose nothing: a load killed at any step leaves the previous good data, a rerun
repairs it, and a second concurrent load is refused. On SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from etl.cli import main
from etl.generate import generate
from indicators import queries
from indicators import warehouse as wh

PROJECT = Path(__file__).resolve().parents[2]
READ_DOSES, WRITE = "[2/7]", "[7/7]"  # etl.load.LOAD_STEPS steps


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two different registry exports: A is loaded first, B is the one killed mid-load."""
    base = tmp_path_factory.mktemp("robust")
    generate(base / "a", children=2000, seed=11, fmt="csv")
    generate(base / "b", children=12000, seed=12, fmt="csv")
    return base / "a", base / "b"


def _snapshot(url: str) -> bytes:
    from indicators.export import export_csv
    from indicators.scope import Scope

    return export_csv(Scope.national(), url=url)[0]


def _kill_during(url: str, folder: Path, step: str, delay: float) -> None:
    """Start `etl load` in its own process and SIGKILL it `delay` s after `step` began."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "etl", "load", "--registry", str(folder), "--db", url],
        cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith(step):
            time.sleep(delay)
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the load ended before it could be killed"


@pytest.fixture(scope="module")
def expected_b(exports: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Export B loaded once, undisturbed, into its own warehouse."""
    url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'w.db'}"
    assert main(["load", "--registry", str(exports[1]), "--db", url]) == 0
    return _snapshot(url)


@pytest.mark.parametrize("step,delay", [(READ_DOSES, 0.0), (WRITE, 0.3)])
def test_killed_load_leaves_previous_data_and_rerun_repairs(
    warehouse_url: str, exports: tuple[Path, Path], expected_b: bytes, step: str, delay: float
) -> None:
    first, second = exports
    assert main(["load", "--registry", str(first), "--db", warehouse_url]) == 0
    before, version = _snapshot(warehouse_url), queries.data_version(warehouse_url)

    _kill_during(warehouse_url, second, step, delay)
    wh.engine.cache_clear()  # a fresh connection, as a new process would have
    assert _snapshot(warehouse_url) == before
    assert queries.data_version(warehouse_url) == version
    assert queries.load_runs(warehouse_url)["status"].to_list() == ["running", "succeeded"]

    assert main(["load", "--registry", str(second), "--db", warehouse_url]) == 0
    assert _snapshot(warehouse_url) == expected_b != before
    runs = queries.load_runs(warehouse_url)
    assert runs["status"].to_list() == ["succeeded", "interrupted", "succeeded"]
    assert "killed or crashed" in runs["message"][1]


def test_a_second_concurrent_load_is_refused(
    warehouse_url: str, exports: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    first, _ = exports
    with wh.load_lock(wh.engine(warehouse_url)):
        assert main(["load", "--registry", str(first), "--db", warehouse_url]) == 1
    assert "another load is running" in capsys.readouterr().err
    assert queries.data_version(warehouse_url) == 0
    assert queries.load_runs(warehouse_url)["status"].to_list() == ["failed"]
    # once the first load is over, the same command goes through
    assert main(["load", "--registry", str(first), "--db", warehouse_url]) == 0


def test_run_records_inputs_accounting_and_duration(
    tmp_path: Path, exports: tuple[Path, Path]
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    first, _ = exports
    assert main(["load", "--registry", str(first), "--db", url]) == 0
    run = queries.latest_run(url)
    names = {item["name"]: item for item in run["inputs"]}
    assert set(names) == {"children.csv", "vaccinations.csv", "manifest.json"}
    assert names["children.csv"]["size"] == (first / "children.csv").stat().st_size
    assert len(names["children.csv"]["sha256"]) == 64
    children = run["accounting"]["children"]
    assert children["rows_read"] == sum(
        children[k] for k in ("rows_loaded", "rows_rejected", "duplicates")
    )
    assert run["duration_s"] > 0 and run["status"] == "succeeded"
    assert str(run["as_of"]) == "2026-06-30" and run["as_of_origin"] == "manifest"
