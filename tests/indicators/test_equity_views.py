"""The Equity page's query layer on published warehouses.

Every expected number is worked out here from the published rows themselves (plain Python:
Wilson values as published, binomial SEs, D, R, BGV, PAR, pooled fifths, zero-dose ranks,
IA2030 arithmetic), never by calling `equity_views`.
"""

from __future__ import annotations

import math

import polars as pl
import pytest

from indicators import equity_views as ev
from indicators.equity_measures import SUPPRESSED, TOO_FEW
from indicators.heat_export import HEAT_PLUS_COLUMNS, SUPPRESSED_NOTE
from indicators.scope import Scope
from tests.dashboard import sample_warehouse

Z = 1.959963984540054
NATIONAL = Scope.national()
PENTA3 = "cov_penta3_12m"
GOVERNORATES = ("IQG02", "IQG08")


@pytest.fixture(scope="module")
def published() -> pl.DataFrame:
    """The published rows the warehouse holds (two governorates, three years and a quarter)."""
    return sample_warehouse.values_frame(governorates=GOVERNORATES)


@pytest.fixture(scope="module")
def url(published, tmp_path_factory) -> str:  # noqa: ANN001
    url = f"sqlite:///{tmp_path_factory.mktemp('equity') / 'w.db'}"
    sample_warehouse.build(url, published)
    return url


def cell(frame: pl.DataFrame, unit: str, period: str, sex="all", disability="all", ind=PENTA3):
    rows = frame.filter(
        (pl.col("indicator") == ind)
        & (pl.col("period") == period)
        & (pl.col("org_unit") == unit)
        & (pl.col("sex") == sex)
        & (pl.col("disability") == disability)
    ).to_dicts()
    return rows[0] if rows else None


def se(row: dict) -> float:
    p = row["numerator"] / row["denominator"]
    return 100 * math.sqrt(p * (1 - p) / row["denominator"])


def difference(a: dict, b: dict) -> tuple[float, float, float]:
    d = a["value"] - b["value"]
    half = Z * math.hypot(se(a), se(b))
    return d, d - half, d + half


def ratio(a: dict, b: dict) -> tuple[float, float, float]:
    r = a["value"] / b["value"]
    log_half = Z * math.sqrt((se(a) ** 2 + r**2 * se(b) ** 2) / b["value"] ** 2) / r
    return r, r * math.exp(-log_half), r * math.exp(log_half)


def measure(rows: pl.DataFrame, name: str) -> dict:
    return rows.filter(pl.col("measure") == name).row(0, named=True)


def assert_interval(row: dict, expected: tuple[float, float, float]) -> None:
    got = (row["estimate"], row["ci_lower"], row["ci_upper"])
    assert got == pytest.approx(expected, rel=1e-9)
    assert row["status"] == "ok"


def districts_of(frame: pl.DataFrame, period: str, prefix: str = "", ind: str = PENTA3):
    return frame.filter(
        (pl.col("indicator") == ind)
        & (pl.col("period") == period)
        & (pl.col("org_unit_level") == 2)
        & pl.col("org_unit").str.starts_with(prefix)
        & (pl.col("sex") == "all")
        & (pl.col("disability") == "all")
    ).to_dicts()


# ---------------------------------------------------------------- subgroups and the gap


def test_sex_by_disability_subgroups_are_the_published_cells(published, url):
    view = ev.View(PENTA3, "2024", "IQG02", ev.SEX_DISABILITY)
    frame = ev.subgroups(NATIONAL, view, url)
    assert frame["subgroup"].to_list() == ["F:yes", "F:no", "M:yes", "M:no"]
    assert frame["reference"].to_list() == [False, False, False, True]
    for row, (sex, disability) in zip(
        frame.to_dicts(), [("F", "yes"), ("F", "no"), ("M", "yes"), ("M", "no")], strict=True
    ):
        expected = cell(published, "IQG02", "2024", sex, disability)
        assert (row["numerator"], row["denominator"]) == (
            expected["numerator"],
            expected["denominator"],
        )
        assert (row["value"], row["ci_low"], row["ci_high"]) == pytest.approx(
            (expected["value"], expected["ci_low"], expected["ci_high"])
        )


def test_the_headline_gap_is_boys_without_minus_girls_with_disabilities(published, url):
    view = ev.View(PENTA3, "2024", "IQG02", ev.SEX_DISABILITY)
    rows = ev.gap(NATIONAL, view, url)
    boys = cell(published, "IQG02", "2024", "M", "no")
    girls = cell(published, "IQG02", "2024", "F", "yes")
    d = measure(rows, "D")
    assert (d["subgroup_a"], d["subgroup_b"]) == ("M:no", "F:yes")
    assert (d["label_b"], d["value_b"]) == ("Girls with disabilities", girls["value"])
    assert_interval(d, difference(boys, girls))
    assert_interval(measure(rows, "R"), ratio(boys, girls))


def test_an_adverse_indicator_puts_the_focus_group_first(published, url):
    """Zero-dose: D = girls − boys, so a positive gap still means girls are worse off."""
    view = ev.View("zero_dose_12m", "2024", "IQG08", ev.SEX)
    d = measure(ev.gap(NATIONAL, view, url), "D")
    girls = cell(published, "IQG08", "2024", "F", ind="zero_dose_12m")
    boys = cell(published, "IQG08", "2024", "M", ind="zero_dose_12m")
    assert (d["subgroup_a"], d["subgroup_b"]) == ("F", "M")
    assert_interval(d, difference(girls, boys))


def test_district_measures_compare_highest_and_lowest(published, url):
    view = ev.View(PENTA3, "2024", "IQG02Q03", ev.DISTRICT)  # a district: its governorate's
    rows = ev.measures(NATIONAL, view, url)
    districts = districts_of(published, "2024", "IQG02")
    best = max(districts, key=lambda r: r["value"])
    worst = min(districts, key=lambda r: r["value"])
    assert_interval(measure(rows, "D"), difference(best, worst))
    total = sum(r["denominator"] for r in districts)
    mu = sum(r["denominator"] / total * r["value"] for r in districts)
    bgv = sum(r["denominator"] / total * (r["value"] - mu) ** 2 for r in districts)
    assert measure(rows, "BGV")["estimate"] == pytest.approx(bgv)
    assert measure(rows, "PAR")["estimate"] == pytest.approx(best["value"] - mu)
    assert "SII" not in rows["measure"].to_list()  # districts are not ordered
    assert ev.setting_of(NATIONAL, view, url)["code"] == "IQG02"


def test_fifths_pool_districts_ranked_by_the_previous_cohort(published, url):
    view = ev.View(PENTA3, "2024", "IQ", ev.FIFTH)
    before = {r["org_unit"]: r["value"] for r in districts_of(published, "2023")}
    now = sorted(
        (r for r in districts_of(published, "2024") if r["org_unit"] in before),
        key=lambda r: (before[r["org_unit"]], r["org_unit"]),
    )
    n = len(now)
    pooled = {}
    for i, row in enumerate(now):
        fifth = i * 5 // n + 1
        num, den = pooled.get(fifth, (0.0, 0.0))
        pooled[fifth] = (num + row["numerator"], den + row["denominator"])
    frame = ev.subgroups(NATIONAL, view, url)
    assert frame["order"].to_list() == [1, 2, 3, 4, 5]
    assert frame["units"].sum() == n
    expected = [100 * num / den for num, den in pooled.values()]
    assert frame["value"].to_list() == pytest.approx(expected)
    rows = ev.measures(NATIONAL, view, url)
    assert {"SII", "RII", "ACI", "RCI"} <= set(rows["measure"].to_list())
    d = measure(rows, "D")
    assert (d["subgroup_a"], d["subgroup_b"]) == ("Q5", "Q1")
    assert d["estimate"] == pytest.approx(expected[4] - expected[0])
    assert measure(rows, "SII")["status"] == "ok"


def test_no_fifths_without_a_previous_cohort(url):
    gap = ev.gap(NATIONAL, ev.View(PENTA3, "2022", "IQ", ev.FIFTH), url)
    assert measure(gap, "D")["status"] == ev.NO_PREVIOUS
    gap = ev.gap(NATIONAL, ev.View(PENTA3, "2024", "IQG02", ev.GOVERNORATE), url)
    assert measure(gap, "D")["status"] == ev.NATIONAL_ONLY


def test_the_gap_trend_follows_the_same_pair_every_cohort(published, url):
    view = ev.View(PENTA3, "2025Q1", "IQG02", ev.SEX)
    trend = ev.gap_trend(NATIONAL, view, url).filter(pl.col("measure") == "D")
    assert trend["period"].to_list() == ["2022", "2023", "2024"]  # years only
    for row in trend.to_dicts():
        boys = cell(published, "IQG02", row["period"], "M")
        girls = cell(published, "IQG02", row["period"], "F")
        assert row["estimate"] == pytest.approx(boys["value"] - girls["value"])
    measures = ev.measure_trend(NATIONAL, view, url)
    assert measures.height == 3 * 4  # D, R, PAR, PAF per cohort


def test_widest_gaps_rank_districts_by_their_disability_gap(published, url):
    view = ev.View(PENTA3, "2024", "IQ", ev.DISABILITY)
    expected, withheld = [], 0
    for district in districts_of(published, "2024"):
        without = cell(published, district["org_unit"], "2024", disability="no")
        with_ = cell(published, district["org_unit"], "2024", disability="yes")
        pair = [without, with_]
        if any(r is None or r["suppressed"] or r["denominator"] < 25 for r in pair):
            withheld += 1
            continue
        expected.append((without["value"] - with_["value"], district["org_unit"]))
    expected.sort(reverse=True)
    gaps = ev.widest_gaps(NATIONAL, view, url)
    shown = gaps.filter(pl.col("estimate").is_not_null())
    assert shown["org_unit"].to_list() == [code for _, code in expected]
    assert shown["estimate"].to_list() == pytest.approx([d for d, _ in expected])
    assert gaps.height - shown.height == withheld > 0  # small disability cells exist
    assert set(gaps.filter(pl.col("estimate").is_null())["status"]) <= {
        ev.LOW_DENOMINATOR,
        SUPPRESSED,
        TOO_FEW,
    }
    assert ev.widest_gaps(NATIONAL, ev.View(PENTA3, "2024", "IQ", ev.DISTRICT), url).is_empty()


def test_heat_plus_rows_of_a_view(published, url):
    view = ev.View(PENTA3, "2024", "IQG02", ev.SEX_DISABILITY)
    rows = ev.heat_plus(NATIONAL, view, url)
    assert rows.columns == HEAT_PLUS_COLUMNS
    published_cells = [
        (year, sex, dis)
        for year in ("2022", "2023", "2024")
        for sex in ("F", "M")
        for dis in ("yes", "no")
        if not cell(published, "IQG02", year, sex, dis)["suppressed"]
    ]
    assert rows.height == len(published_cells)
    assert set(rows["setting"]) == {"Basrah"} and rows["iso3"].null_count() == rows.height
    assert set(rows.filter(pl.col("reference_subgroup") == 1)["subgroup"]) == {
        "Boys without disabilities"
    }
    first = rows.filter(
        (pl.col("date") == "2024") & (pl.col("subgroup") == "Girls with disabilities")
    )
    girls = cell(published, "IQG02", "2024", "F", "yes")
    assert first["estimate"][0] == pytest.approx(girls["value"])
    assert first["se"][0] == pytest.approx(se(girls))
    assert first["population"][0] == girls["denominator"]
    assert first["setting_average"][0] == pytest.approx(cell(published, "IQG02", "2024")["value"])
    national = ev.heat_plus(NATIONAL, ev.View(PENTA3, "2024", "IQ", ev.GOVERNORATE), url)
    assert set(national["iso3"]) == {"IRQ"} and set(national["subgroup"]) == {"Basrah", "Baghdad"}


def test_the_view_rows_are_what_the_view_is_computed_from(published, url):
    personal = ev.view_rows(NATIONAL, ev.View(PENTA3, "2024", "IQG02", ev.SEX), url)
    cells = published.filter(
        (pl.col("indicator") == PENTA3)
        & (pl.col("period") == "2024")
        & (pl.col("org_unit") == "IQG02")
    )
    assert set(personal["org_unit"]) == {"IQG02"} and personal.height == cells.height
    fifths = ev.view_rows(NATIONAL, ev.View(PENTA3, "2024", "IQG02", ev.FIFTH), url)
    assert set(fifths["period"]) == {"2023", "2024"}
    assert fifths.filter(pl.col("org_unit") == "IQG02")["period"].to_list() == ["2024"]


# ---------------------------------------------------------------- suppression


def hand_cube() -> pl.DataFrame:
    """Baghdad: a suppressed girls-with-disabilities cell in 2024, a low-denominator one in
    2023, a suppressed boys-with-disabilities cell in 2022; one district per case."""
    cells = [
        ("2024", "IQG08", "F", "yes", 3, 40),
        ("2024", "IQG08", "F", "no", 200, 220),
        ("2024", "IQG08", "M", "yes", 30, 40),
        ("2024", "IQG08", "M", "no", 210, 230),
        ("2024", "IQG08", "F", "all", 203, 260),
        ("2024", "IQG08", "M", "all", 240, 270),
        ("2023", "IQG08", "F", "yes", 15, 20),
        ("2023", "IQG08", "F", "no", 200, 220),
        ("2023", "IQG08", "M", "yes", 30, 40),
        ("2023", "IQG08", "M", "no", 210, 230),
        ("2022", "IQG08", "F", "yes", 20, 30),
        ("2022", "IQG08", "F", "no", 200, 220),
        ("2022", "IQG08", "M", "yes", 2, 30),
        ("2022", "IQG08", "M", "no", 210, 230),
        ("2024", "IQG08Q01", "F", "yes", 3, 20),
        ("2024", "IQG08Q01", "M", "no", 100, 110),
        ("2024", "IQG08Q02", "F", "yes", 25, 40),
        ("2024", "IQG08Q02", "M", "no", 100, 110),
    ]
    rows = [
        (PENTA3, year, unit, 2 if len(unit) > 5 else 1, "IQG08", sex, dis, float(n), float(d))
        for year, unit, sex, dis, n, d in cells
    ]
    rows += [
        (PENTA3, year, unit, 2 if len(unit) > 5 else 1, "IQG08", "all", "all", 900.0, 1000.0)
        for year in ("2022", "2023", "2024")
        for unit in ("IQG08", "IQG08Q01", "IQG08Q02")
    ]
    names = [
        "indicator",
        "period",
        "org_unit",
        "org_unit_level",
        "adm1_code",
        "sex",
        "disability",
        "numerator",
        "denominator",
    ]
    return sample_warehouse.publish(pl.DataFrame(rows, schema=names, orient="row"))


@pytest.fixture(scope="module")
def hand_url(tmp_path_factory) -> str:  # noqa: ANN001
    url = f"sqlite:///{tmp_path_factory.mktemp('hand') / 'w.db'}"
    sample_warehouse.build(url, hand_cube())
    return url


def test_no_measure_next_to_a_suppressed_subgroup(hand_url):
    view = ev.View(PENTA3, "2024", "IQG08", ev.SEX_DISABILITY)
    rows = ev.measures(NATIONAL, view, hand_url)
    assert rows.height == 17  # every measure of a non-ordered dimension with a reference
    assert set(rows["status"]) == {SUPPRESSED}
    assert rows["estimate"].null_count() == rows["ci_lower"].null_count() == rows.height
    assert ev.reason(ev.gap(NATIONAL, view, hand_url)) == SUPPRESSED
    heat = ev.heat_plus(NATIONAL, view, hand_url)
    y2024 = heat.filter(pl.col("date") == "2024")
    assert "Girls with disabilities" not in y2024["subgroup"].to_list()
    assert y2024.height == 3 and all(SUPPRESSED_NOTE in note for note in y2024["note"])
    assert ev.subgroups(NATIONAL, view, hand_url)["value"][0] is None  # still hidden


def test_no_measure_next_to_a_subgroup_under_25(hand_url):
    view = ev.View(PENTA3, "2023", "IQG08", ev.SEX_DISABILITY)
    assert set(ev.measures(NATIONAL, view, hand_url)["status"]) == {ev.LOW_DENOMINATOR}
    assert ev.reason(ev.gap(NATIONAL, view, hand_url)) == ev.LOW_DENOMINATOR


def test_the_headline_pair_needs_only_its_own_two_cells(hand_url):
    """2022: boys with disabilities are suppressed, so HEAT's measures over the four groups
    are withheld, but girls with vs boys without (both published) is shown."""
    view = ev.View(PENTA3, "2022", "IQG08", ev.SEX_DISABILITY)
    assert set(ev.measures(NATIONAL, view, hand_url)["status"]) == {SUPPRESSED}
    d = measure(ev.gap(NATIONAL, view, hand_url), "D")
    assert d["estimate"] == pytest.approx(100 * 210 / 230 - 100 * 20 / 30)


def test_widest_gaps_list_withheld_districts_last_with_the_reason(hand_url):
    view = ev.View(PENTA3, "2024", "IQG08", ev.SEX_DISABILITY)
    gaps = ev.widest_gaps(NATIONAL, view, hand_url)
    assert gaps["org_unit"].to_list() == ["IQG08Q02", "IQG08Q01"]
    assert gaps["status"].to_list() == ["ok", SUPPRESSED]
    assert gaps["estimate"][0] == pytest.approx(100 * 100 / 110 - 100 * 25 / 40)


def test_a_governorate_scope_sees_nothing_outside_it(url):
    basra = Scope("governorate", "IQG02")
    for place in ("IQG08", "IQG08Q01", "IQ"):
        view = ev.View(PENTA3, "2024", place, ev.SEX_DISABILITY)
        assert ev.subgroups(basra, view, url).is_empty()
        assert ev.reason(ev.gap(basra, view, url)) == ev.NO_DATA
        assert ev.heat_plus(basra, view, url).is_empty()
        assert ev.widest_gaps(basra, view, url).is_empty()
        assert ev.zero_dose_districts(basra, "2024", place, url).is_empty()
    own = ev.widest_gaps(basra, ev.View(PENTA3, "2024", "IQG02", ev.SEX), url)
    assert own.height > 0 and all(code.startswith("IQG02") for code in own["org_unit"])


# ---------------------------------------------------------------- zero-dose focus


def test_districts_ranked_by_zero_dose_count(published, url):
    districts = districts_of(published, "2024", "IQG02", ind="zero_dose_12m")
    total = cell(published, "IQG02", "2024", ind="zero_dose_12m")["numerator"]
    expected = sorted(districts, key=lambda r: (-r["numerator"], r["org_unit"]))
    ranked = ev.zero_dose_districts(NATIONAL, "2024", "IQG02", url)
    assert ranked["org_unit"].to_list() == [r["org_unit"] for r in expected]
    assert ranked["rank"].to_list() == list(range(1, len(expected) + 1))
    shares = [100 * r["numerator"] / total for r in expected]
    assert ranked["share"].to_list() == pytest.approx(shares)
    assert ranked["cumulative_share"][-1] == pytest.approx(sum(shares))
    table = ev.zero_dose_table(ranked)
    assert (
        table["zero_dose"].dtype == pl.Int64 and table["zero_dose"][0] == expected[0]["numerator"]
    )


def test_zero_dose_by_sex_and_disability(published, url):
    frame = ev.zero_dose_subgroups(NATIONAL, "2024", "IQG08", url)
    assert frame["dimension"].to_list() == ["sex"] * 2 + ["disability"] * 2 + ["sex_disability"] * 4
    girls = cell(published, "IQG08", "2024", "F", ind="zero_dose_12m")
    assert frame.row(0, named=True)["numerator"] == girls["numerator"]


def test_ia2030_progress_from_the_earliest_complete_cohort(published, url):
    counts = {
        year: cell(published, "IQG02", year, ind="zero_dose_12m")["numerator"]
        for year in ("2022", "2023", "2024")
    }
    progress = ev.ia2030_progress(NATIONAL, "IQG02", "2025Q1", url=url)
    assert progress["years"] == ["2022", "2023", "2024"]  # 2025Q1 is not a complete year
    assert (progress["baseline_period"], progress["current_period"]) == ("2022", "2024")
    assert progress["target"] == counts["2022"] / 2
    reduction = 100 * (counts["2022"] - counts["2024"]) / counts["2022"]
    assert progress["reduction"] == pytest.approx(reduction)
    assert progress["progress"] == pytest.approx(reduction / 50 * 100)
    expected = counts["2022"] * (1 - 0.5 * 2 / 8)  # two of the eight years to 2030
    assert progress["expected"] == pytest.approx(expected)
    assert progress["on_track"] == (counts["2024"] <= expected)
    chosen = ev.ia2030_progress(NATIONAL, "IQG02", "2024", baseline="2023", url=url)
    assert chosen["baseline_period"] == "2023" and chosen["target"] == counts["2023"] / 2
    same = ev.ia2030_progress(NATIONAL, "IQG02", "2022", url=url)
    assert same["status"] == ev.ONE_COHORT and "reduction" not in same


def test_previous_period():
    assert ev.previous_period("2024") == "2023"
    assert ev.previous_period("2024Q1") == "2023Q4"
    assert ev.previous_period("2024Q3") == "2024Q2"
