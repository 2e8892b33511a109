"""The administrative views' query helpers on a warehouse the real loaders built from the
tiny hand-made DHIS2 instance and a hand-made registry (`tests/dashboard/admin_warehouse`).

Every expected number is recomputed here from the instance's raw data values
(`tiny_instance.FACILITY_DOSES`, `SPECIAL`, `MISSING`, `LATE`, its population values) and
the registry's doses (`REGISTRY_PENTA1`), not read back from the warehouse.
"""

from __future__ import annotations

import ast
from pathlib import Path
from statistics import mean, median

import polars as pl
import pytest

from indicators import admin_views as av
from indicators import queries
from indicators.scope import Scope
from tests.dashboard.admin_warehouse import D1, D2, GOVERNORATE, REGISTRY_PENTA1, build
from tests.etl.dhis2 import tiny_instance as tiny

NATIONAL = Scope.national()
BAGHDAD = Scope("governorate", GOVERNORATE)
BASRA = Scope("governorate", "IQG02")
FACILITIES = {D1: ("F1", "F2"), D2: ("F3",)}
MONTHS = range(1, 13)


def doses(district: str, dose: str, month: int) -> int:
    """Doses to children under 1 a district's facilities reported for a month."""
    return sum(
        tiny.SPECIAL.get((f, dose, month), tiny.FACILITY_DOSES[f][dose])
        for f in FACILITIES[district]
    )


def annual_target(district: str) -> float:
    """The population values of the district (a yearly value, or its quarters averaged)."""
    values = tiny.population(tiny.FIRST)["dataValues"]
    units = {D1: {tiny.FIRST.uid("Rusafa")}, D2: {tiny.FIRST.uid("F3")}}[district]
    return mean(float(v["value"]) for v in values if v["orgUnit"] in units)


def both(function, *args):  # noqa: ANN001, ANN201
    return {d: function(d, *args) for d in (D1, D2)}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("admin-views")
    empty = folder / "no-geo"
    empty.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MIZAN_GEO_DIR", str(empty))  # district codes, no boundary pack
        return build(folder, f"sqlite:///{folder / 'warehouse.db'}")


def unit(url: str, code: str, scope: Scope = NATIONAL) -> dict:
    return queries.org_units(scope, url).filter(pl.col("code") == code).row(0, named=True)


def by_unit(frame: pl.DataFrame, column: str = "value") -> dict[str, float]:
    return dict(zip(frame["org_unit"], frame[column], strict=True))


# ---- choices -------------------------------------------------------------------------------


def test_antigens_years_months_and_basis(url):
    mapped = av.with_data(NATIONAL, av.coverage_codes(), url)
    assert mapped == ["admin_cov_penta1", "admin_cov_penta3", "admin_cov_mcv1"]
    assert [av.dose_label(c) for c in mapped] == ["Penta1", "Penta3", "MCV1"]
    assert av.years(NATIONAL, [av.ytd(mapped[0])], url) == ["2024"]
    assert av.months(NATIONAL, list(av.QUALITY), "2024", url) == list(MONTHS)
    assert av.basis(NATIONAL, "2024", url) == "2024"  # every month of 2024 is loaded
    assert av.basis(NATIONAL, "2023", url) is None
    assert av.with_data(BASRA, av.coverage_codes(), url) == []


# ---- monitoring chart ----------------------------------------------------------------------


def test_monitoring_rows_are_cumulative_doses_and_targets(url):
    rows = av.monitoring(NATIONAL, "admin_cov_penta1", "2024", unit(url, D1), url)
    assert set(rows["indicator"]) == {
        "admin_cov_penta1_ytd", "admin_cov_penta3_ytd", "admin_dropout_penta1_penta3_ytd"
    }  # fmt: skip
    penta1 = rows.filter(pl.col("indicator") == "admin_cov_penta1_ytd").sort("month")
    running = [sum(doses(D1, "PENTA1", m) for m in range(1, k + 1)) for k in MONTHS]
    assert penta1["numerator"].to_list() == running
    assert penta1["denominator"].to_list() == pytest.approx(
        [annual_target(D1) * k / 12 for k in MONTHS]
    )
    dropout = rows.filter(pl.col("indicator") == "admin_dropout_penta1_penta3_ytd").sort("month")
    penta3 = [sum(doses(D1, "PENTA3", m) for m in range(1, k + 1)) for k in MONTHS]
    assert dropout["value"].to_list() == pytest.approx(
        [100 * (p1 - p3) / p1 for p1, p3 in zip(running, penta3, strict=True)]
    )


def test_target_line_reaches_the_annual_target_in_december(url):
    baghdad = unit(url, GOVERNORATE)
    rows = av.monitoring(NATIONAL, "admin_cov_penta1", "2024", baghdad, url)
    target = av.target_line(rows, "admin_cov_penta1")
    annual = annual_target(D1) + annual_target(D2)  # 1,200 + 900
    assert target["month"].to_list() == list(MONTHS)
    assert target["target"].to_list() == pytest.approx([annual * m / 12 for m in MONTHS])
    # A dose outside the Penta pair is drawn alone, without the dropout.
    mcv1 = av.monitoring(NATIONAL, "admin_cov_mcv1", "2024", baghdad, url)
    assert set(mcv1["indicator"]) == {"admin_cov_mcv1_ytd"}
    assert mcv1.sort("month")["numerator"][6] == sum(
        doses(d, "MCV1", m) for d in (D1, D2) for m in range(1, 8)
    )  # July holds F3's 550


# ---- RED/REC and dropout -------------------------------------------------------------------


def test_red_table_equals_the_hand_computation(url):
    table = av.red_table(av.red_rows(NATIONAL, "2024", GOVERNORATE, url))
    p1 = both(lambda d: sum(doses(d, "PENTA1", m) for m in MONTHS))
    p3 = both(lambda d: sum(doses(d, "PENTA3", m) for m in MONTHS))
    coverage = {d: 100 * p1[d] / annual_target(d) for d in p1}
    dropout = {d: 100 * (p1[d] - p3[d]) / p1[d] for d in p1}
    assert by_unit(table, "coverage") == pytest.approx(coverage)  # 90 %, 80 %
    assert by_unit(table, "dropout") == pytest.approx(dropout)  # 16.7 %, 6.25 %

    def category(d: str) -> int:
        good_access, good_use = coverage[d] >= 90, dropout[d] <= 10
        return {(True, True): 1, (True, False): 2, (False, True): 3, (False, False): 4}[
            (good_access, good_use)
        ]

    assert by_unit(table, "category") == {D1: category(D1), D2: category(D2)} == {D1: 2, D2: 3}
    # National asks every district: the same two.
    assert av.red_table(av.red_rows(NATIONAL, "2024", "IQ", url)).height == 2


def test_dropout_rows_are_the_districts_year_rows(url):
    rows = av.dropout_rows(NATIONAL, "2024", GOVERNORATE, url)
    assert set(rows["indicator"]) == {"admin_dropout_penta1_penta3"}
    assert set(rows["period"]) == {"2024"}
    assert by_unit(rows, "numerator") == {
        d: sum(doses(d, "PENTA1", m) - doses(d, "PENTA3", m) for m in MONTHS) for d in (D1, D2)
    }


# ---- data quality --------------------------------------------------------------------------


def reports(district: str, months: range | list[int]) -> tuple[int, int, int]:
    """Expected, received and on-time reports from the instance's registration rules."""
    expected = received = on_time = 0
    for facility in FACILITIES[district]:
        for m in months:
            expected += 1
            if (facility, m) not in tiny.MISSING:
                received += 1
                on_time += (facility, m) not in tiny.LATE
    return expected, received, on_time


def test_reporting_over_a_year_and_a_month(url):
    baghdad = unit(url, GOVERNORATE)
    year = av.quality_table(av.quality_rows(NATIONAL, "2024", None, baghdad, url))
    assert year["org_unit"].to_list() == [GOVERNORATE, D1, D2]
    for district in (D1, D2):
        expected, received, on_time = reports(district, MONTHS)
        row = year.filter(pl.col("org_unit") == district).row(0, named=True)
        assert (row["expected"], row["received"], row["on_time"]) == (expected, received, on_time)
        assert row["completeness"] == pytest.approx(100 * received / expected)
        assert row["timeliness"] == pytest.approx(100 * on_time / expected)
    total = year.filter(pl.col("org_unit") == GOVERNORATE).row(0, named=True)
    assert (total["expected"], total["received"], total["on_time"]) == (36, 34, 32)
    april = av.quality_table(av.quality_rows(NATIONAL, "2024", 4, baghdad, url))
    assert april.filter(pl.col("org_unit") == D1)["timeliness"].item() == pytest.approx(
        100 * reports(D1, [4])[2] / reports(D1, [4])[0]
    )  # F2 was late: 50 %


def test_a_year_sums_its_months_as_the_year_row_does(url):
    baghdad = unit(url, GOVERNORATE)
    summed = av.quality_table(av.quality_rows(NATIONAL, "2024", None, baghdad, url))
    year_rows = queries.indicator_values(
        NATIONAL, indicators=["report_completeness"], period="2024", org_unit=GOVERNORATE, url=url
    )
    assert by_unit(summed, "completeness") == pytest.approx(by_unit(year_rows))


def test_outlier_counts_and_list(url):
    baghdad = unit(url, GOVERNORATE)
    table = av.quality_table(av.quality_rows(NATIONAL, "2024", None, baghdad, url))
    antigens = len(tiny.FACILITY_DOSES["F1"])
    flagged = len(tiny.SPECIAL)  # F3's Penta3 in February and MCV1 in July
    assert by_unit(table, "tested") == {
        GOVERNORATE: 3 * antigens * 12, D1: 2 * antigens * 12, D2: antigens * 12
    }  # fmt: skip
    assert by_unit(table, "flagged") == {GOVERNORATE: flagged, D1: 0, D2: flagged}
    listed = av.outlier_list(av.outlier_rows(NATIONAL, "2024", None, baghdad, url))
    expected = []
    for (_facility, dose, month), value in tiny.SPECIAL.items():
        series = [doses(D2, dose, m) for m in MONTHS]
        expected.append((f"admin_cov_{dose.lower()}", f"2024{month:02d}", value,
                         median(series), value / median(series)))  # fmt: skip
    expected.sort(key=lambda row: -abs(row[4]))
    assert listed.select("indicator", "period").rows() == [row[:2] for row in expected]
    numbers = listed.select("numerator", "median", "ratio").rows()
    assert [list(row) for row in numbers] == [pytest.approx(row[2:]) for row in expected]
    assert set(listed["org_unit"]) == {D2}
    july = av.outlier_list(av.outlier_rows(NATIONAL, "2024", 7, baghdad, url))
    assert july["indicator"].to_list() == ["admin_cov_mcv1"]
    export = av.outlier_export(listed)
    assert export.columns[:5] == ["org_unit", "org_unit_name", "indicator", "indicator_name",
                                  "period"]  # fmt: skip


# ---- registry vs DHIS2 ---------------------------------------------------------------------


def test_triangulation_rows_series_and_table(url):
    baghdad = unit(url, GOVERNORATE)
    rows = av.triangulation_rows(NATIONAL, "triangulation_penta1", "2024", baghdad, url)
    months = sorted({m for counts in REGISTRY_PENTA1.values() for m in counts})
    series = av.series(rows, D1)
    assert series["month"].to_list() == months
    assert series["numerator"].to_list() == [doses(D1, "PENTA1", m) for m in months]
    assert series["denominator"].to_list() == [REGISTRY_PENTA1[D1][m] for m in months]
    governorate = av.series(rows, GOVERNORATE)
    assert governorate["value"].to_list() == pytest.approx([
        100 * sum(doses(d, "PENTA1", m) for d in (D1, D2))
        / sum(REGISTRY_PENTA1[d][m] for d in (D1, D2))
        for m in months
    ])  # fmt: skip
    year = av.triangulation_table(rows, "2024", None)
    for district in (D1, D2):
        row = year.filter(pl.col("org_unit") == district).row(0, named=True)
        dhis2 = sum(doses(district, "PENTA1", m) for m in months)
        registry = sum(REGISTRY_PENTA1[district].values())
        assert (row["dhis2"], row["registry"], row["months"]) == (dhis2, registry, len(months))
        assert row["ratio"] == pytest.approx(100 * dhis2 / registry)
    january = av.triangulation_table(rows, "2024", 1)
    assert by_unit(january, "ratio")[D1] == pytest.approx(
        100 * doses(D1, "PENTA1", 1) / REGISTRY_PENTA1[D1][1]
    )  # 90 / 80


# ---- scope ---------------------------------------------------------------------------------


def test_a_governorate_scope_reads_its_governorate_only(url):
    baghdad = unit(url, GOVERNORATE, BAGHDAD)
    rows = av.quality_rows(BAGHDAD, "2024", None, baghdad, url)
    assert set(rows["org_unit"]) == {GOVERNORATE, D1, D2}
    national = av.monitoring(BAGHDAD, "admin_cov_penta1", "2024", unit(url, "IQ"), url)
    assert national.is_empty()  # Iraq's own rows are not Baghdad's
    assert av.red_table(av.red_rows(BAGHDAD, "2024", "IQ", url)).height == 2
    # Basra's user asking for Baghdad gets nothing: the query layer filters by scope.
    assert av.red_rows(BASRA, "2024", GOVERNORATE, url).is_empty()
    assert av.quality_rows(BASRA, "2024", None, baghdad, url).is_empty()
    assert av.triangulation_rows(BASRA, "triangulation_penta1", "2024", baghdad, url).is_empty()
    assert av.outlier_rows(BASRA, "2024", None, baghdad, url).is_empty()


def test_years_without_data_give_empty_frames(url):
    baghdad = unit(url, GOVERNORATE)
    assert av.red_rows(NATIONAL, "2023", GOVERNORATE, url).is_empty()
    assert av.dropout_rows(NATIONAL, "2023", GOVERNORATE, url).is_empty()
    assert av.outlier_list(av.outlier_rows(NATIONAL, "2023", None, baghdad, url)).is_empty()
    assert av.target_line(av.monitoring(NATIONAL, "admin_cov_penta1", "2023", baghdad, url),
                          "admin_cov_penta1").is_empty()  # fmt: skip


def test_module_reads_through_the_query_layer_only():
    tree = ast.parse(Path(av.__file__).read_text())
    imported = {
        f"{node.module}.{alias.name}" if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__.annotations", "re", "polars", "indicators.catalogue",
                        "indicators.queries", "indicators.scope.Scope"}  # fmt: skip
