"""`indicators.admin` on hand-built inputs: the modified z-score, targets, the month window,
suppression of the dose rows (year to date included), unsuppressed report rows, RED
thresholds, and the triangulation's two inputs. The full path from DHIS2 files is in
tests/etl/dhis2/test_admin_load.py."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from indicators import admin
from indicators.admin import (
    DOSE_SCHEMA,
    POPULATION_SCHEMA,
    AdminInputs,
    admin_values,
    modified_z,
    red_category,
    registry_dose_counts,
    targets,
    triangulation,
    window,
)

D1, D2 = "IQG08Q01", "IQG08Q02"
EXPECTED_SCHEMA = {
    "data_set": pl.String, "org_unit": pl.String, "district": pl.String, "adm1_code": pl.String,
    "opening_date": pl.String, "closed_date": pl.String,
}  # fmt: skip
REPORT_SCHEMA = {"data_set": pl.String, "org_unit": pl.String, "period": pl.String,
                 "on_time": pl.Boolean}  # fmt: skip


def _z(values: list[float]) -> list[float]:
    series = pl.DataFrame({"unit": ["f"] * len(values), "value": values})
    return modified_z(series, ["unit"])["z"].to_list()


def test_modified_z_score_by_hand() -> None:
    # median 12; |x - 12| = 2 0 1 1 0 38, whose median (MAD) is 1: Mz = 0.6745 (x - 12) / 1.
    z = _z([10, 12, 11, 13, 12, 50])
    assert z == pytest.approx([-1.349, 0, -0.6745, 0.6745, 0, 25.631])
    # MAD 0: the mean absolute deviation 4 / 6 stands in: 0.7979 x 4 / (4 / 6) = 4.787.
    assert _z([5, 5, 5, 5, 5, 9])[-1] == pytest.approx(4.7874)
    assert _z([3] * 6) == [0.0] * 6  # nothing deviates


def _population(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=POPULATION_SCHEMA, orient="row")


def _inputs(doses: list[tuple], population: list[tuple], **extra: object) -> AdminInputs:
    return AdminInputs(
        doses=pl.DataFrame(doses, schema=DOSE_SCHEMA, orient="row"),
        population=_population(population),
        rules=pl.DataFrame({"dose": ["PENTA1", "PENTA3"], "ages": ["under_1"] * 2,
                            "denominator": ["surviving_infants"] * 2}),  # fmt: skip
        expected=extra.pop("expected", pl.DataFrame(schema=EXPECTED_SCHEMA)),
        reports=extra.pop("reports", pl.DataFrame(schema=REPORT_SCHEMA)),
        **extra,
    )


def test_targets_average_a_years_periods_and_split_by_sex() -> None:
    inputs = _inputs([], [
        (D1, "IQG08", "2024Q1", 2024, "surviving_infants", None, 880.0),
        (D1, "IQG08", "2024Q3", 2024, "surviving_infants", None, 920.0),  # mean 900
        (D2, "IQG08", "2024", 2024, "surviving_infants", None, 500.0),
        (D2, "IQG08", "2024", 2024, "surviving_infants", "F", 240.0),  # by sex: F is given
    ])  # fmt: skip
    found = {(r["district"], r["sex"]): r["target"] for r in targets(inputs).to_dicts()}
    assert found[(D1, "all")] == 900 and found[(D1, "F")] == pytest.approx(900 * 0.488)
    assert found[(D2, "all")] == 740  # every value of the district and period is summed
    assert found[(D2, "F")] == 240 and found[(D2, "M")] == pytest.approx(740 * 0.512)


def test_the_window_ends_with_the_last_month_over() -> None:
    doses = pl.DataFrame([("f", D1, "IQG08", "202411", "PENTA1", None, None, 1.0)],
                         schema=DOSE_SCHEMA, orient="row")  # fmt: skip
    months = window(doses, date(2025, 2, 27))  # February is not over
    assert months.rows() == [(2024, 11), (2024, 12), (2025, 1)]


def _year(counts: dict[str, int], target: float = 1200.0) -> AdminInputs:
    """District IQG08Q01 reports `counts[month]` Penta1 doses (and as many Penta3)."""
    rows = [
        ("f", D1, "IQG08", f"2024{m:02d}", dose, "under_1", None, float(counts.get(m, 100)))
        for m in range(1, 13)
        for dose in ("PENTA1", "PENTA3")
    ]
    rows += [("g", D2, "IQG08", f"2024{m:02d}", "PENTA1", "under_1", None, 100.0)
             for m in range(1, 13)]  # fmt: skip
    population = [(d, "IQG08", "2024", 2024, "surviving_infants", None, target) for d in (D1, D2)]
    return _inputs(rows, population)


def _get(rows: pl.DataFrame, indicator: str, period: str, unit: str) -> dict:
    hit = rows.filter(pl.col("indicator") == indicator, pl.col("period") == period,
                      pl.col("org_unit") == unit, pl.col("sex") == "all")  # fmt: skip
    assert hit.height == 1
    return hit.row(0, named=True)


def test_small_dose_counts_are_suppressed_and_year_to_date_follows_its_months() -> None:
    rows = admin_values(_year({3: 3}), date(2024, 12, 31))
    march = _get(rows, "admin_cov_penta1", "202403", D1)
    assert march["suppressed"] and march["suppression"] == "primary"
    assert march["numerator"] is None and march["value"] is None
    assert march["denominator"] == pytest.approx(100)  # the target is no small count
    # The quarter, the year or the governorate would give March away: some are hidden.
    complements = [_get(rows, "admin_cov_penta1", p, u)["suppressed"]
                   for p, u in (("2024Q1", D1), ("202403", "IQG08"), ("202403", D2))]  # fmt: skip
    assert any(complements)
    # Year to date is hidden from the first hidden month on (January or February may hide
    # with March, for the first quarter), shown before it.
    months = [f"2024{m:02d}" for m in range(1, 13)]
    hidden = [_get(rows, "admin_cov_penta1", m, D1)["suppressed"] for m in months]
    first = hidden.index(True)
    ytd = [_get(rows, "admin_cov_penta1_ytd", m, D1)["suppressed"] for m in months]
    assert ytd == [False] * first + [True] * (12 - first) and first <= 2
    # The RED category of a district whose inputs are hidden is hidden too.
    red = _get(rows, "red_category", "2024", D1)
    if _get(rows, "admin_cov_penta1", "2024", D1)["suppressed"]:
        assert red["suppressed"] and red["value"] is None


def test_report_counts_are_never_suppressed_nor_flagged_for_small_denominators() -> None:
    expected = pl.DataFrame([("DS", "f", D1, "IQG08", None, None)], schema=EXPECTED_SCHEMA,
                            orient="row")  # fmt: skip
    reports = pl.DataFrame([("DS", "f", f"2024{m:02d}", m != 5) for m in range(1, 13) if m != 7],
                           schema=REPORT_SCHEMA, orient="row")  # fmt: skip
    inputs = _year({})
    inputs.expected, inputs.reports = expected, reports
    rows = admin_values(inputs, date(2024, 12, 31))
    year = _get(rows, "report_completeness", "2024", D1)
    assert (year["numerator"], year["denominator"]) == (11, 12) and not year["suppressed"]
    assert year["flags"] == ""  # 91.7 % >= 90 %, and no low_denominator for 12 reports
    july = _get(rows, "report_completeness", "202407", D1)
    assert (july["numerator"], july["denominator"], july["flags"]) == (0, 1, "missing_reports")
    assert _get(rows, "report_timeliness", "202405", D1)["value"] == 0
    # July's missing report flags that month's doses too.
    assert "missing_reports" in _get(rows, "admin_cov_penta1", "202407", D1)["flags"]


@pytest.mark.parametrize(
    ("coverage", "dropout", "category"),
    [(90, 10, 1), (95, 10.5, 2), (89.9, 0, 3), (89.9, 10.1, 4), (120, -5, 1)],
)
def test_red_categories_at_the_thresholds(coverage: float, dropout: float, category: int) -> None:
    frame = pl.DataFrame({"cov": [coverage], "drop": [dropout]})
    assert frame.select(red_category(pl.col("cov"), pl.col("drop"))).item() == category


def test_red_thresholds_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIZAN_RED_COVERAGE", "80")
    monkeypatch.setenv("MIZAN_RED_DROPOUT", "5")
    frame = pl.DataFrame({"cov": [85.0], "drop": [6.0]})
    assert frame.select(red_category(pl.col("cov"), pl.col("drop"))).item() == 2
    monkeypatch.setenv("MIZAN_RED_DROPOUT", "ten")
    with pytest.raises(ValueError, match="MIZAN_RED_DROPOUT='ten' is not a number"):
        frame.select(red_category(pl.col("cov"), pl.col("drop")))


def test_registry_counts_follow_the_administrative_age_rule() -> None:
    children = pl.DataFrame({
        "birth_date": [date(2023, 3, 15), date(2024, 1, 10)],
        "adm1_code": ["IQG08", "IQG08"], "adm2_code": [D1, D1],
    })  # fmt: skip
    doses = pl.DataFrame({
        "child_index": [0, 0, 1, 1],
        "vaccine": ["PENTA1", "MCV2", "PENTA1", "PENTA1"],
        "dose_date": [date(2024, 3, 15), date(2024, 3, 20), date(2024, 3, 1), date(2024, 7, 1)],
    })  # fmt: skip
    counts = registry_dose_counts(children, doses, date(2024, 6, 30))
    # Child 0's Penta1 on its first birthday is not before it: not counted; its MCV2 counts
    # at any age; July is after the as-of date. March has 1 Penta1 dose: hidden (1..4).
    march = counts.filter(pl.col("period") == "202403", pl.col("org_unit") == D1)
    assert dict(march.select("dose", "doses").rows()) == {"PENTA1": None, "MCV2": None}
    assert counts["period"].unique().to_list() == ["202403"]


def test_triangulation_shows_a_row_only_when_both_counts_are_shown() -> None:
    admin_rows = pl.DataFrame({
        "indicator": ["admin_cov_penta1"] * 3, "period": ["202401", "202402", "202403"],
        "org_unit": [D1] * 3, "org_unit_level": [2] * 3, "adm1_code": ["IQG08"] * 3,
        "sex": ["all"] * 3, "disability": ["all"] * 3, "numerator": [90.0, None, 80.0],
        "suppressed": [False, True, False], "as_of": [date(2024, 12, 31)] * 3,
    })  # fmt: skip
    registry = pl.DataFrame({
        "dose": ["PENTA1"] * 3, "period": ["202401", "202402", "202403"], "org_unit": [D1] * 3,
        "doses": [100.0, 60.0, None],
    })  # fmt: skip
    rows = triangulation(admin_rows, registry).sort("period")
    assert rows["indicator"].unique().to_list() == ["triangulation_penta1"]
    january, february, march = rows.to_dicts()
    assert (january["numerator"], january["denominator"], january["value"]) == (90, 100, 90)
    assert february["suppressed"] and february["denominator"] == 60  # the registry's is shown
    assert march["suppressed"] and march["denominator"] is None
    assert admin.triangulation(admin_rows.clear(), registry).is_empty()


@pytest.mark.parametrize("cut", [None, date(2025, 5, 14)])  # month end; mid-month
def test_monthly_registry_doses_equal_a_plain_join(tmp_path, cut) -> None:  # noqa: ANN001
    """The bincount counting equals the obvious join-and-group-by, on a generated registry
    with every awkward case the generator makes (invalid rows, duplicates, deaths)."""
    from etl.generate import generate
    from etl.registry import read_registry

    generate(tmp_path / "r", children=3000, seed=3, fmt="parquet")
    extract = read_registry(tmp_path / "r")
    as_of = cut or extract.as_of
    tracer = list(admin.triangulation_doses())
    kids = extract.children.with_row_index("child_index").with_columns(
        pl.col("child_index").cast(pl.Int32)
    )
    expected = (
        extract.doses.with_columns(pl.col("vaccine").cast(pl.String))
        .filter(pl.col("vaccine").is_in(tracer))
        .join(kids, on="child_index")
        .filter((pl.col("vaccine") == "MCV2")
                | (pl.col("dose_date") < pl.col("birth_date").dt.offset_by("12mo")))
        .filter(pl.col("dose_date").dt.month_end() <= as_of)
        .group_by(pl.col("vaccine").alias("dose"), pl.col("adm2_code").alias("district"),
                  "adm1_code", pl.col("dose_date").dt.year().cast(pl.Int32).alias("year"),
                  pl.col("dose_date").dt.month().cast(pl.Int8).alias("month"))
        .agg(pl.len().cast(pl.Float64).alias("doses"))
    )  # fmt: skip
    got = admin._monthly_doses(extract.children, extract.doses, tracer, as_of)
    columns = ["dose", "district", "adm1_code", "year", "month", "doses"]
    assert expected.height > 100
    assert got.select(columns).sort(columns).equals(expected.select(columns).sort(columns))
