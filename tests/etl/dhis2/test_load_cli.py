"""`python -m etl load --dhis2 DIR` and `etl generate --dhis2` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl.cli import main
from tests.etl.dhis2 import tiny_instance


def test_load_prints_the_accounting_and_writes_the_report(
    tmp_path: Path, sqlite_url: str, no_geo_pack: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tiny_instance.write(tmp_path / "tiny")
    report = tmp_path / "report.json"
    assert main(["load", "--dhis2", str(folder), "--db", sqlite_url, "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("as of 2024-12-31 (end of the last month with dose values)")
    assert "data/may_aug.csv" in out and out.rstrip().endswith("indicator rows published")
    written = json.loads(report.read_text())
    assert written["as_of"] == "2024-12-31" and written["rejects"] == []
    assert written["files"]["data/sep_dec.xml"]["kind"] == "dataValueSet XML"


def test_a_mapping_elsewhere_and_its_errors(
    tmp_path: Path, sqlite_url: str, no_geo_pack: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tiny_instance.write(tmp_path / "tiny", with_mapping=False)
    assert main(["load", "--dhis2", str(folder), "--db", sqlite_url]) == 1
    error = capsys.readouterr().err.splitlines()[-1]  # after the progress lines
    assert error.startswith("mizan: error: ") and "no mapping.yaml" in error
    mapping = tmp_path / "ministry.yaml"
    mapping.write_text(tiny_instance.mapping(tiny_instance.FIRST).replace("A_PENTA3", "A_PENTA9"))
    args = ["load", "--dhis2", str(folder), "--mapping", str(mapping), "--db", sqlite_url]
    assert main(args) == 1
    error = capsys.readouterr().err.splitlines()[-1]
    assert error == (
        f"mizan: error: {mapping}: doses.PENTA3: data element A_PENTA9 is not in the "
        "instance's metadata"
    )
    mapping.write_text(tiny_instance.mapping(tiny_instance.FIRST))
    assert main(args) == 0


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as both:
        main(["load", "--dhis2", str(tmp_path), "--registry", str(tmp_path)])
    assert both.value.code == 2
    assert main(["load", "--registry", str(tmp_path), "--mapping", "m.yaml"]) == 1
    assert "--mapping goes with --dhis2" in capsys.readouterr().err


def test_generate_writes_the_instance_next_to_the_registry(
    tmp_path: Path, no_geo_pack: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["generate", str(tmp_path / "out"), "--children", "400", "--dhis2"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["dhis2"]["facilities"] == 1885
    assert (tmp_path / "out" / "dhis2" / "mapping.yaml").is_file()
    assert (tmp_path / "out" / "children.csv").is_file()
