"""`python -m etl dhis2-normalize` as an operator runs it."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from etl.cli import main
from etl.dhis2.normalize import COLUMNS

REPO = Path(__file__).resolve().parents[3]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_fixtures_with_metadata_and_a_problems_file(
    fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out, problems = tmp_path / "out.csv", tmp_path / "problems.csv"
    code = main([
        "dhis2-normalize", str(fixtures / "dvs_bulk_sex_age.json"),
        str(fixtures / "dvs_single_dataset_coc_aoc.json"), str(fixtures / "dvs_bulk_B.xml"),
        "--metadata", str(fixtures / "metadata_sex_age_catcombos.json"),
        str(fixtures / "metadata_orgunits_levels_sierra_leone.json"),
        "--out", str(out), "--problems", str(problems),
    ])  # fmt: skip
    printed = capsys.readouterr().out.splitlines()
    assert code == 0
    assert printed[0].endswith(
        "dvs_bulk_sex_age.json (dataValueSet JSON): 231 records, 231 rows, 231 numeric values, "
        "0 rejected, 0 warnings"
    )
    assert printed[2].endswith(
        "dvs_bulk_B.xml (dataValueSet XML): 12 records, 0 rows, 0 numeric values, "
        "12 rejected, 0 warnings"
    )  # its data elements are not in the metadata given
    assert printed[-1] == f"233 rows written to {out}"
    rows = _rows(out)
    assert list(rows[0]) == list(COLUMNS) and len(rows) == 233
    reported = _rows(problems)
    assert list(reported[0]) == ["file", "position", "code", "outcome", "reason"]
    assert {r["code"] for r in reported} == {"data_element_unknown"} and len(reported) == 12
    assert reported[0]["position"] == "/dataValueSet[1]/dataValue[1]"


def test_an_unreadable_file_fails_with_one_line_and_writes_nothing(
    fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out.csv"
    out.write_text("previous run\n")
    broken = tmp_path / "broken.xml"
    broken.write_text('<dataValueSet><dataValue dataElement="a"')
    code = main(
        ["dhis2-normalize", str(fixtures / "dvs_bulk_B.csv"), str(broken), "--out", str(out)]
    )
    captured = capsys.readouterr()
    assert code == 1
    error = [line for line in captured.err.splitlines() if line.startswith("mizan: error:")]
    assert error == [f"mizan: error: {broken}: not valid XML: unclosed token: line 1, column 14; "
                     f"{out} not written"]  # fmt: skip
    assert "dvs_bulk_B.csv (dataValueSet CSV): 12 records, 12 rows" in captured.out
    assert out.read_text() == "previous run\n"  # untouched
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_problems_go_to_stderr_without_a_problems_file(
    fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "o.csv"
    assert (
        main(["dhis2-normalize", str(fixtures / "datavalues_dash_periods.csv"), "--out", str(out)])
        == 0
    )
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 5
    assert err[0].endswith("datavalues_dash_periods.csv line 29: value_not_numeric (kept): "
                           "'true' is not a number; value left empty")  # fmt: skip
    assert len(_rows(out)) == 32


def test_broken_metadata_is_fatal(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "d.csv"
    data.write_text("dataelement,period,orgunit,value\na,2024,o,1\n")
    meta = tmp_path / "m.json"
    meta.write_text("{}")
    out = tmp_path / "o.csv"
    assert main(["dhis2-normalize", str(data), "--metadata", str(meta), "--out", str(out)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"mizan: error: metadata {meta}: no metadata lists (organisationUnits, "
        "organisationUnitLevels, dataElements, ...) in this JSON"
    )
    assert not out.exists()


def test_as_a_module(tmp_path: Path) -> None:
    data = tmp_path / "d.json"
    data.write_text(
        '{"period":"2024Q1","orgUnit":"o","dataValues":[{"dataElement":"a","value":"2"}]}'
    )
    out = tmp_path / "o.csv"
    run = subprocess.run(
        [sys.executable, "-m", "etl", "dhis2-normalize", str(data), "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert _rows(out)[0]["period_end"] == "2024-03-31"
    usage = subprocess.run(
        [sys.executable, "-m", "etl", "dhis2-normalize", str(data)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert usage.returncode == 2 and "--out" in usage.stderr
