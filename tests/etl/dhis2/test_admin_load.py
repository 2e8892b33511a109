"""Administrative indicators from a tiny hand-made DHIS2 export equal a hand computation.

The export (`tiny_instance`) is written as real files (JSON, CSV and XML data value sets,
metadata, population, registrations) and loaded with `etl load --dhis2`'s function into
the warehouse, on SQLite and PostgreSQL. The expected values are computed by hand in the
comments from the raw data values listed in `tiny_instance`'s docstring:

Penta1 <1 y per month: IQG08Q01 = F1 50 + F2 40 = 90; IQG08Q02 = F3 60.
Penta3 <1 y per month: IQG08Q01 = 45 + 30 = 75; IQG08Q02 = 55 (70 in February).
Targets (surviving infants): IQG08Q01 1,200; IQG08Q02 (880 + 920) / 2 = 900; Baghdad and
Iraq 2,100. A month's target is the annual one / 12.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from etl.dhis2.load import load_dhis2
from etl.load import LoadError
from indicators import warehouse as wh
from tests.etl.dhis2 import tiny_instance

D1, D2, GOV = "IQG08Q01", "IQG08Q02", "IQG08"


@pytest.fixture
def tiny(tmp_path: Path, no_geo_pack: Path) -> Path:
    return tiny_instance.write(tmp_path / "tiny")


def _rows(url: str) -> pl.DataFrame:
    with wh.engine(url).connect() as connection:
        found = connection.execute(sa.select(wh.indicator_values)).all()
    return pl.DataFrame([dict(r._mapping) for r in found], infer_schema_length=None)


def _row(rows: pl.DataFrame, indicator: str, period: str, unit: str, sex: str = "all") -> dict:
    hit = rows.filter(
        pl.col("indicator") == indicator, pl.col("period") == period,
        pl.col("org_unit") == unit, pl.col("sex") == sex,
    )  # fmt: skip
    assert hit.height == 1, (indicator, period, unit, sex)
    return hit.row(0, named=True)


def _close(row: dict, numerator: float, denominator: float, value: float) -> None:
    assert row["numerator"] == pytest.approx(numerator)
    assert row["denominator"] == pytest.approx(denominator)
    assert row["value"] == pytest.approx(value)
    assert row["suppressed"] is False and row["ci_low"] is None and row["ci_high"] is None


def test_coverage_dropout_and_red_equal_the_hand_computation(tiny: Path, warehouse_url: str):
    result = load_dhis2(tiny, warehouse_url)
    assert result.as_of.isoformat() == "2024-12-31"  # the end of the last month with doses
    rows = _rows(warehouse_url)
    assert set(rows["source"]) == {"dhis2"} and set(rows["disability"]) == {"all"}
    # Penta1 coverage 2024: IQG08Q01 12 x 90 = 1,080 / 1,200 = 90 %; IQG08Q02 12 x 60 = 720 /
    # 900 = 80 %; Baghdad and Iraq 1,800 / 2,100 = 85.71 %. The 10 monthly doses per facility
    # for children of 1 year and more are not counted (else IQG08Q01 would be 1,320).
    _close(_row(rows, "admin_cov_penta1", "2024", D1), 1080, 1200, 90.0)
    _close(_row(rows, "admin_cov_penta1", "2024", D2), 720, 900, 80.0)
    _close(_row(rows, "admin_cov_penta1", "2024", GOV), 1800, 2100, 100 * 1800 / 2100)
    _close(_row(rows, "admin_cov_penta1", "2024", "IQ"), 1800, 2100, 100 * 1800 / 2100)
    # January: 90 / (1,200 / 12 = 100) = 90 %; IQG08Q02 60 / 75 = 80 %.
    _close(_row(rows, "admin_cov_penta1", "202401", D1), 90, 100, 90.0)
    _close(_row(rows, "admin_cov_penta1", "202401", D2), 60, 75, 80.0)
    # First quarter: 3 x 90 = 270 / (1,200 x 3 / 12 = 300) = 90 %.
    _close(_row(rows, "admin_cov_penta1", "2024Q1", D1), 270, 300, 90.0)
    # Year to date to March, Penta3 in IQG08Q02: 55 + 70 + 55 = 180 / (900 x 3/12 = 225) = 80 %.
    _close(_row(rows, "admin_cov_penta3_ytd", "202403", D2), 180, 225, 80.0)
    # Penta3 2024: IQG08Q01 12 x 75 = 900 / 1,200 = 75 %; IQG08Q02 11 x 55 + 70 = 675 / 900.
    _close(_row(rows, "admin_cov_penta3", "2024", D1), 900, 1200, 75.0)
    _close(_row(rows, "admin_cov_penta3", "2024", D2), 675, 900, 75.0)
    # Dropout 2024: IQG08Q01 (1,080 - 900) / 1,080 = 16.67 %; IQG08Q02 (720 - 675) / 720 =
    # 6.25 %; Baghdad (1,800 - 1,575) / 1,800 = 12.5 %.
    _close(_row(rows, "admin_dropout_penta1_penta3", "2024", D1), 180, 1080, 100 * 180 / 1080)
    _close(_row(rows, "admin_dropout_penta1_penta3", "2024", D2), 45, 720, 6.25)
    _close(_row(rows, "admin_dropout_penta1_penta3", "2024", GOV), 225, 1800, 12.5)
    _close(_row(rows, "admin_dropout_penta1_penta3", "2024", "IQ"), 225, 1800, 12.5)  # Iraq too
    # February in IQG08Q02: (60 - 70) / 60 = -16.67 %, flagged, not capped.
    february = _row(rows, "admin_dropout_penta1_penta3", "202402", D2)
    _close(february, -10, 60, -100 * 10 / 60)
    assert "negative_dropout" in february["flags"].split(";")
    # RED/REC 2024 (90 % / 10 %): IQG08Q01 coverage 90 >= 90, dropout 16.7 > 10 -> 2;
    # IQG08Q02 coverage 80 < 90, dropout 6.25 <= 10 -> 3. Districts only.
    assert _row(rows, "red_category", "2024", D1)["value"] == 2
    assert _row(rows, "red_category", "2024", D2)["value"] == 3
    assert rows.filter(pl.col("indicator") == "red_category").height == 2


def test_flags_reports_and_outliers_equal_the_hand_computation(tiny: Path, sqlite_url: str):
    load_dhis2(tiny, sqlite_url)
    rows = _rows(sqlite_url)
    # MCV1 in IQG08Q02, July: 550 / 75 = 733 %: over 100 and an outlier. F3's MCV1 series
    # (ages summed) is 65 eleven times and 560: median 65, MAD 0, so the mean absolute
    # deviation 495 / 12 = 41.25 stands in: Mz = 0.7979 x 495 / 41.25 = 9.57 > 3.5.
    july = _row(rows, "admin_cov_mcv1", "202407", D2)
    _close(july, 550, 75, 100 * 550 / 75)
    assert july["flags"].split(";") == ["over_100", "outlier"]
    assert "outlier" in _row(rows, "admin_cov_mcv1", "2024", GOV)["flags"]
    assert "outlier" not in _row(rows, "admin_cov_mcv1", "202406", D2)["flags"]
    # F3's Penta3 series (65 eleven times, 80 in February) has the same shape: an outlier.
    # Values tested in 2024: 3 facilities x 3 antigens x 12 months = 108; 2 outliers.
    _close(_row(rows, "dq_outliers", "2024", GOV), 2, 108, 100 * 2 / 108)
    _close(_row(rows, "dq_outliers", "202407", D2), 1, 3, 100 / 3)
    # Completeness 2024: 36 facility-months expected; F2 never registered November and
    # December: IQG08Q01 22 / 24 = 91.7 %, Baghdad 34 / 36; on time (F2 April and May 20
    # days late, after the 15 timely days): IQG08Q01 20 / 24, Baghdad 32 / 36.
    _close(_row(rows, "report_completeness", "2024", D1), 22, 24, 100 * 22 / 24)
    _close(_row(rows, "report_completeness", "2024", GOV), 34, 36, 100 * 34 / 36)
    _close(_row(rows, "report_timeliness", "2024", D1), 20, 24, 100 * 20 / 24)
    _close(_row(rows, "report_timeliness", "202404", D1), 1, 2, 50.0)
    # Report counts identify no child: small counts stay, without reliability flags.
    november = _row(rows, "report_completeness", "202411", D1)
    _close(november, 1, 2, 50.0)
    assert november["flags"] == "missing_reports"  # 50 % < 90 %
    # The doses of a unit and period with missing reports carry the flag too.
    assert "missing_reports" in _row(rows, "admin_cov_penta1", "2024Q4", D1)["flags"]
    assert "missing_reports" not in _row(rows, "admin_cov_penta1", "2024", D1)["flags"]


def test_red_thresholds_come_from_the_environment(
    tiny: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIZAN_RED_COVERAGE", "80")
    load_dhis2(tiny, sqlite_url)
    rows = _rows(sqlite_url)
    # IQG08Q02: coverage 80 >= 80 and dropout 6.25 <= 10 -> 1; IQG08Q01 stays 2.
    assert _row(rows, "red_category", "2024", D2)["value"] == 1
    assert _row(rows, "red_category", "2024", D1)["value"] == 2


def test_another_instance_loads_with_only_its_mapping(
    tmp_path: Path, warehouse_url: str, no_geo_pack: Path
) -> None:
    """Other uids and codes, districts found by name in the mapping's table, doses by sex,
    CSV + XML + JSON: the same figures for all children, plus F and M rows."""
    folder = tiny_instance.write(tmp_path / "other", tiny_instance.OTHER)
    load_dhis2(folder, warehouse_url)
    rows = _rows(warehouse_url)
    _close(_row(rows, "admin_cov_penta1", "2024", D1), 1080, 1200, 90.0)
    _close(_row(rows, "admin_dropout_penta1_penta3", "2024", D2), 45, 720, 6.25)
    assert _row(rows, "red_category", "2024", D2)["value"] == 3
    # Girls get the odd half: F1 25 + F2 20 = 45 Penta1 doses a month in IQG08Q01, 540 in
    # 2024, over the target split by sex_shares: 1,200 x 0.488 = 585.6 -> 92.2 %; boys 540
    # over 614.4 -> 87.9 %.
    _close(_row(rows, "admin_cov_penta1", "2024", D1, "F"), 540, 585.6, 100 * 540 / 585.6)
    _close(_row(rows, "admin_cov_penta1", "2024", D1, "M"), 540, 614.4, 100 * 540 / 614.4)
    assert rows.filter(pl.col("indicator") == "admin_cov_penta1_ytd")["sex"].unique().to_list() == [
        "all"
    ]


def _snapshot(url: str) -> pl.DataFrame:
    return _rows(url).drop("load_run_id").sort("indicator", "period", "org_unit", "sex")


def test_a_file_that_cannot_be_parsed_fails_with_one_line_and_changes_nothing(
    tiny: Path, tmp_path: Path, warehouse_url: str
) -> None:
    load_dhis2(tiny, warehouse_url)
    before = _snapshot(warehouse_url)
    broken = tmp_path / "broken"
    shutil.copytree(tiny, broken)
    xml = broken / "data" / "sep_dec.xml"
    xml.write_text(xml.read_text()[:5000])  # cut in the middle of an element
    with pytest.raises(LoadError) as failure:
        load_dhis2(broken, warehouse_url)
    message = str(failure.value)
    assert "\n" not in message and "sep_dec.xml" in message and "nothing was loaded" in message
    assert _snapshot(warehouse_url).equals(before)
    with wh.engine(warehouse_url).connect() as connection:
        runs = connection.execute(
            sa.select(wh.load_runs.c.status, wh.load_runs.c.kind).order_by(wh.load_runs.c.id)
        ).all()
    assert [tuple(r) for r in runs] == [("succeeded", "dhis2"), ("failed", "dhis2")]


def test_bad_records_are_rejected_with_file_position_and_reason(tiny: Path, sqlite_url: str):
    early = tiny / "data" / "jan_apr.json"
    doc = json.loads(early.read_text())
    v = tiny_instance.FIRST
    doc["dataValues"] += [
        {"dataElement": v.uid("DePENTA1"), "period": "202401", "orgUnit": v.uid("Baghdad"),
         "categoryOptionCombo": v.uid("CocU1"), "value": "99"},  # not inside a district
        {"dataElement": v.uid("DePENTA1"), "period": "202401", "orgUnit": v.uid("F1"),
         "categoryOptionCombo": v.uid("CocO1"), "value": "many"},  # not a number
        {"dataElement": v.uid("DePENTA1"), "period": "2024Q1", "orgUnit": v.uid("F1"),
         "categoryOptionCombo": v.uid("CocU1"), "value": "7"},  # doses are monthly
    ]  # fmt: skip
    early.write_text(json.dumps(doc))
    result = load_dhis2(tiny, sqlite_url)
    counts = result.accounting["data/jan_apr.json"]
    assert counts["rows_read"] == counts["rows_loaded"] + counts["rows_rejected"]
    assert counts["rows_rejected"] == 3
    with wh.engine(sqlite_url).connect() as connection:
        stored = connection.execute(
            sa.select(wh.rejects).where(wh.rejects.c.load_run_id == result.run_id)
        ).all()
    found = {(r.file, r.line, r.rule) for r in stored}
    last = len(doc["dataValues"]) - 1
    assert found == {
        ("data/jan_apr.json", last - 2, "org_unit_outside_districts"),
        ("data/jan_apr.json", last - 1, "value_not_numeric"),
        ("data/jan_apr.json", last, "period_not_monthly"),
    }
    reasons = {r.rule: json.loads(r.values) for r in stored}
    assert reasons["period_not_monthly"]["position"] == f"$.dataValues[{last}]"
    # The figures are those of the clean export.
    _close(_row(_rows(sqlite_url), "admin_cov_penta1", "202401", D1), 90, 100, 90.0)


def test_a_second_load_is_refused_while_one_holds_the_lock(tiny: Path, sqlite_url: str):
    engine = wh.engine(sqlite_url)
    with wh.load_lock(engine), pytest.raises(LoadError, match="another load is running"):
        load_dhis2(tiny, sqlite_url)
    with engine.connect() as connection:
        runs = connection.execute(sa.select(wh.load_runs.c.status, wh.load_runs.c.kind)).all()
    assert [tuple(r) for r in runs] == [("failed", "dhis2")]
