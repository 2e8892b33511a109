"""The synthetic DHIS2 instance `etl generate --dhis2` writes: its shape, that it normalizes
and loads, that it stays close to the registry, and that registry and DHIS2 loads keep
each other's rows in either order (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from etl.dhis2.folder import export_files
from etl.dhis2.load import load_dhis2
from etl.dhis2.metadata import read_metadata
from etl.dhis2.normalize import normalize
from etl.dhis2.registrations import read_registrations, with_timeliness
from etl.generate import generate
from etl.load import load_registry
from indicators import warehouse as wh
from tests.etl.dhis2 import tiny_instance

CHILDREN = 3000


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory, no_pack: None) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("generated")
    summary = generate(folder, children=CHILDREN, seed=5, fmt="csv", dhis2=True)
    return folder, summary


def test_the_instance_has_the_expected_shape(export: tuple[Path, dict]) -> None:
    folder, summary = export
    dhis2 = folder / "dhis2"
    info = summary["dhis2"]
    assert info["facilities"] == 1885 and info["districts"] == 54  # 3 per governorate
    assert info["months"] == ["202401", "202606"]
    names = sorted(p.name for p in (dhis2 / "data").iterdir())
    assert len(names) == 30 and names[1] == "epi_202402.csv" and names[2] == "epi_202403.xml"
    assert all(n.endswith(".json") for n in names[3:])
    meta = json.loads((dhis2 / "metadata.json").read_text())
    levels = pl.DataFrame(meta["organisationUnits"])["level"].value_counts().sort("level")
    assert levels["count"].to_list() == [1, 18, 54, 1885]
    facility = next(u for u in meta["organisationUnits"] if u["level"] == 4)
    assert facility["geometry"]["type"] == "Point" and facility["path"].count("/") == 4
    monthly = next(d for d in meta["dataSets"] if d["periodType"] == "Monthly")
    assert monthly["timelyDays"] == 15 and len(monthly["organisationUnits"]) == 1885
    combo_options = {len(c["categoryOptions"]) for c in meta["categoryOptionCombos"]}
    assert combo_options == {2} and len(meta["categoryOptionCombos"]) == 4  # age x sex
    assert (dhis2 / "mapping.yaml").is_file() and (dhis2 / "population.json").is_file()


def test_the_same_seed_writes_the_same_instance(
    export: tuple[Path, dict], tmp_path: Path, no_pack: None
) -> None:
    folder, _ = export
    again = tmp_path / "again"
    generate(again, children=CHILDREN, seed=5, fmt="csv", dhis2=True)
    for path in sorted((folder / "dhis2").rglob("*")):
        if path.is_file():
            twin = again / "dhis2" / path.relative_to(folder / "dhis2")
            assert twin.read_bytes() == path.read_bytes(), path.name
    # The registry files are those of a generation without DHIS2.
    alone = tmp_path / "alone"
    generate(alone, children=CHILDREN, seed=5, fmt="csv")
    assert (alone / "vaccinations.csv").read_bytes() == (folder / "vaccinations.csv").read_bytes()


def test_every_file_normalizes_and_only_the_injected_records_are_rejected(
    export: tuple[Path, dict],
) -> None:
    folder, summary = export
    files = export_files(folder / "dhis2", {}, {(folder / "dhis2" / "mapping.yaml").resolve()})
    assert [p.name for p in files.metadata] == ["metadata.json"]
    assert [p.name for p in files.registrations] == ["registrations.json"]
    meta = read_metadata(files.metadata)
    result = normalize(files.data_values, meta)
    assert not result.errors
    kinds = {s.kind for s in result.files}
    assert kinds == {"dataValueSet JSON", "dataValueSet CSV", "dataValueSet XML"}
    rejected = sorted(p.code for p in result.problems if p.outcome == "rejected")
    assert rejected == ["org_unit_unknown", "value_not_numeric"]
    population = summary["dhis2"]["population_values"]
    facility = summary["dhis2"]["facility_values"]
    assert result.table.height == summary["dhis2"]["data_values"] + population + facility - 2
    assert [path.name for path, _ in files.ignored] == ["district_months.csv"]
    registrations = read_registrations(files.registrations[0])
    timed = with_timeliness(registrations.table, meta.data_sets)
    late = timed.filter(~pl.col("on_time")).height / timed.height
    assert 0.10 < late < 0.20  # 15 % of reports come after the 15 timely days


def _read(url: str, source: str) -> pl.DataFrame:
    v = wh.indicator_values
    with wh.engine(url).connect() as connection:
        rows = connection.execute(sa.select(v).where(v.c.source == source)).all()
    names = [c.name for c in v.columns]
    frame = pl.DataFrame([tuple(r) for r in rows], schema=names, orient="row",
                         infer_schema_length=None)  # fmt: skip
    return frame.drop("load_run_id").sort("indicator", "period", "org_unit", "sex", "disability")


def test_registry_and_dhis2_loads_keep_each_others_rows_in_either_order(
    export: tuple[Path, dict], tmp_path: Path, warehouse_url: str, no_pack: None
) -> None:
    """The generated registry with the tiny hand-made DHIS2 instance (Baghdad, 2024): small
    enough to load four times on both databases."""
    folder, _ = export
    tiny = tiny_instance.write(tmp_path / "tiny")
    # Order 1 on the parametrised warehouse: registry, then DHIS2.
    load_registry(folder, warehouse_url)
    registry_alone = _read(warehouse_url, "registry")
    load_dhis2(tiny, warehouse_url)
    assert _read(warehouse_url, "registry").equals(registry_alone)
    first = {s: _read(warehouse_url, s) for s in ("registry", "dhis2")}
    # Order 2 on another warehouse: DHIS2, then the registry.
    other = f"sqlite:///{tmp_path / 'other.db'}"
    load_dhis2(tiny, other)
    dhis2_alone = _read(other, "dhis2")
    assert not dhis2_alone["indicator"].str.starts_with("triangulation").any()
    load_registry(folder, other)
    second = {s: _read(other, s) for s in ("registry", "dhis2")}
    assert second["registry"].equals(first["registry"])
    assert second["dhis2"].equals(first["dhis2"])
    # The registry load only added the triangulation to the DHIS2 rows.
    kept = second["dhis2"].filter(~pl.col("indicator").str.starts_with("triangulation"))
    assert kept.equals(dhis2_alone)
    triangulation = second["dhis2"].filter(pl.col("indicator") == "triangulation_penta1")
    assert set(triangulation["period"]) <= {f"2024{m:02d}" for m in range(1, 13)}
    assert set(triangulation["org_unit"]) >= {"IQ", "IQG08"}
    shown = triangulation.filter(~pl.col("suppressed"))
    # DHIS2 doses (numerator) are the published Penta1 numerators of the same cells.
    coverage = second["dhis2"].filter(pl.col("indicator") == "admin_cov_penta1")
    joined = shown.join(coverage, on=["period", "org_unit", "sex"], suffix="_cov")
    assert joined.height == shown.height > 0
    assert (joined["numerator"] == joined["numerator_cov"]).all()
    # A registry reload keeps the DHIS2 rows and gives the same triangulation.
    load_registry(folder, other)
    assert _read(other, "dhis2").equals(second["dhis2"])


def test_the_generated_instance_loads_with_its_data_quality_problems(
    export: tuple[Path, dict], sqlite_url: str
) -> None:
    folder, _ = export
    result = load_dhis2(folder / "dhis2", sqlite_url)
    assert result.as_of.isoformat() == "2026-06-30"
    for name, counts in result.accounting.items():
        if "rows_read" in counts:
            assert counts["rows_read"] == counts["rows_loaded"] + counts["rows_rejected"], name
    rejected = sorted(p.code for p in result.problems if p.outcome == "rejected")
    assert rejected == sorted(
        ["org_unit_outside_districts"] * 3 + ["org_unit_unknown", "value_not_numeric"]
        # the facility report's four bad values and the climate file's bad line
        + ["option_unknown", "value_negative", "value_out_of_range", "org_unit_not_facility",
           "district_unknown"]
    )  # fmt: skip
    rows = _read(sqlite_url, "dhis2")
    flags = set(rows["flags"].str.split(";").explode().to_list()) - {""}
    assert {"over_100", "negative_dropout", "outlier", "missing_reports"} <= flags
    indicators = set(rows["indicator"])
    assert {"red_category", "report_completeness", "report_timeliness", "dq_outliers",
            "admin_cov_mcv2", "admin_cov_bcg_ytd"} <= indicators  # fmt: skip
    completeness = rows.filter(
        pl.col("indicator") == "report_completeness", pl.col("org_unit") == "IQ",
        pl.col("period") == "2025",
    )  # fmt: skip
    assert 0.92 < completeness["value"][0] / 100 < 0.97  # about 4 % of months missed


def test_a_registry_without_common_months_leaves_no_stale_triangulation(
    export: tuple[Path, dict], tmp_path: Path, sqlite_url: str, no_pack: None
) -> None:
    folder, _ = export
    load_dhis2(tiny_instance.write(tmp_path / "tiny"), sqlite_url)
    load_registry(folder, sqlite_url)
    assert _read(sqlite_url, "dhis2")["indicator"].str.starts_with("triangulation").any()
    older = tmp_path / "older"
    generate(older, children=500, seed=6, fmt="csv", as_of=date(2023, 6, 30))
    load_registry(older, sqlite_url)  # its doses end before the DHIS2 data begin
    assert not _read(sqlite_url, "dhis2")["indicator"].str.starts_with("triangulation").any()
