"""Small runs of the benchmark scripts (the full runs are in BENCHMARKS.md, not in the suite).

They run the real thing at toy size: the load benchmark in fresh processes with the pandas
baseline, simulated users against gunicorn, and the first paint in headless Chromium.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmarks import callback_load, etl_scaling, first_paint
from tests.dashboard import environment_warehouse, sample_warehouse


def test_load_benchmark_reports_every_stage_and_the_pandas_ratio(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results.json"
    args = ["--sizes", "3000", "--pandas-max", "3000", "--workdir", str(tmp_path / "work"),
            "--json", str(results)]  # fmt: skip
    assert etl_scaling.main(args) == 0
    report = capsys.readouterr().out
    [run] = json.loads(results.read_text())
    assert run["children"] >= 3000 and run["doses"] > 10 * 3000  # about 11 doses a child
    stages = [stage["stage"] for stage in run["stages"]]
    assert stages[0] == "reading and checking children" and stages[-1] == "writing the warehouse"
    assert len(stages) == 7 and all(stage["seconds"] >= 0 for stage in run["stages"])
    assert run["pandas"]["rows"] == run["indicator_rows"]  # the same cube, every row published
    assert f"| {run['children']:,} |" in report and "x |" in report  # the pandas ratio
    assert "writing the warehouse" in report


@pytest.fixture
def served_warehouse(sqlite_url: str, geo_pack: Path) -> str:
    """Registry cohorts and facility environment data (so every page has steps)."""
    sample_warehouse.build(sqlite_url)
    environment_warehouse.build(sqlite_url)
    return sqlite_url


def test_simulated_users_get_answers_from_gunicorn(
    served_warehouse: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--db", served_warehouse, "--serve", "--workers", "2", "--users", "3",
            "--seconds", "4", "--think", "0.1"]  # fmt: skip
    assert callback_load.main(args) == 0, capsys.readouterr().out  # no error, no timeout
    report = capsys.readouterr().out
    assert "0 errors" in report
    steps = ("open a page", "overview map", "immunization view", "immunization periods",
             "equity view", "equity zero-dose", "environment cards",
             "environment chart")  # fmt: skip
    for step in steps:
        assert f"| {step} |" in report


@pytest.mark.e2e
def test_first_paint_is_measured_in_chromium(
    served_warehouse: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("needs Debian's chromium and chromium-driver")
    assert first_paint.main(["--db", served_warehouse, "--runs", "2", "--workers", "1"]) == 0
    timings = json.loads(capsys.readouterr().out.splitlines()[0])
    assert len(timings["cards_ms"]) == 2
    assert all(0 < cards <= drawn for cards, drawn in zip(timings["cards_ms"],
                                                          timings["map_ms"], strict=True))
