"""The CLI as an operator uses it: fatal errors, failed loads that change nothing, reloads,
export filters, and the same export from SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import random
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl.cli import main
from indicators import queries
from tests.etl.test_end_to_end import make_registry, write_export


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    children, doses = make_registry(random.Random(7), 600)
    folder = tmp_path_factory.mktemp("cli") / "export"
    write_export(folder, children, doses)
    return folder


@pytest.fixture(autouse=True)
def _no_pack(no_geo_pack: Path) -> None:
    """District codes of the test registry are checked by p-code form, not the pack."""


def _export_bytes(url: str, capsysbinary: pytest.CaptureFixture, *options: str) -> bytes:
    """`python -m etl export - …`: the CSV as written to standard output."""
    capsysbinary.readouterr()
    assert main(["export", "-", "--db", url, *options]) == 0
    return capsysbinary.readouterr().out


def _export(url: str, capsysbinary: pytest.CaptureFixture, *options: str) -> list[dict]:
    text = _export_bytes(url, capsysbinary, *options).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _values(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT * FROM indicator_values ORDER BY indicator, period, org_unit, sex, "
                    "disability")
        ).all()
    engine.dispose()
    return [tuple(r)[:-1] for r in rows]  # all but load_run_id


def test_fatal_errors_exit_1_with_one_line(tmp_path: Path, capsys, export_dir: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    broken = tmp_path / "broken"
    shutil.copytree(export_dir, broken)
    (broken / "vaccinations.csv").write_text("health_id,vaccine\nH1,BCG\n")
    cases = [
        (["load", "--registry", str(tmp_path / "missing"), "--db", url], "not found"),
        (["load", "--registry", str(broken), "--db", url],
         "vaccinations.csv: required column 'dose_date' is missing"),
        (["export", str(tmp_path / "x.csv"), "--db", url, "--indicator", "nope"],
         "unknown indicator code(s): nope"),
        (["load", "--registry", str(export_dir), "--db", "nonsense://"], "warehouse:"),
    ]  # fmt: skip
    for argv, message in cases:
        capsys.readouterr()
        assert main(argv) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("mizan: error: ") and message in err[-1], err


def test_failed_load_keeps_the_last_good_data(tmp_path: Path, export_dir: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    assert main(["load", "--registry", str(export_dir), "--db", url]) == 0
    before = _values(url)
    broken = tmp_path / "broken"
    shutil.copytree(export_dir, broken)
    (broken / "children.csv").write_bytes(b"health_id,birth_date,adm1_code,adm2_code\n\xff\n")
    assert main(["load", "--registry", str(broken), "--db", url]) == 1
    assert _values(url) == before
    runs = queries.load_runs(url)
    assert runs["status"].to_list() == ["failed", "succeeded"]
    assert "not valid UTF-8" in runs["message"][0]
    assert queries.data_version(url) == runs["id"][1]


def test_loading_twice_gives_identical_tables(tmp_path: Path, export_dir: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    assert main(["load", "--registry", str(export_dir), "--db", url]) == 0
    first = _values(url)
    assert main(["load", "--registry", str(export_dir), "--db", url]) == 0
    assert _values(url) == first and len(first) > 1000


def test_export_filters(tmp_path: Path, export_dir: Path, capsysbinary) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    assert main(["load", "--registry", str(export_dir), "--db", url]) == 0
    everything = _export(url, capsysbinary)
    selection = ["--indicator", "cov_penta3_12m", "zero_dose_12m", "--period", "2023",
                 "--org-unit", "IQG08", "--sex", "F", "--disability", "all"]  # fmt: skip
    rows = _export(url, capsysbinary, *selection)
    expected = [
        r for r in everything
        if r["indicator"] in ("cov_penta3_12m", "zero_dose_12m") and r["period"] == "2023"
        and r["org_unit"].startswith("IQG08") and r["sex"] == "F" and r["disability"] == "all"
    ]  # fmt: skip
    assert rows == expected
    assert {r["org_unit"] for r in rows} == {"IQG08", "IQG08Q01", "IQG08Q02"}


def test_postgresql_gives_the_same_export_as_sqlite(
    tmp_path: Path, export_dir: Path, capsysbinary, postgres_warehouse: str
) -> None:
    sqlite = f"sqlite:///{tmp_path / 'w.db'}"
    for url in (sqlite, postgres_warehouse):
        assert main(["load", "--registry", str(export_dir), "--db", url]) == 0
    from_sqlite = _export_bytes(sqlite, capsysbinary)
    from_postgres = _export_bytes(postgres_warehouse, capsysbinary)
    assert from_postgres == from_sqlite and from_sqlite.count(b"\n") > 1000
