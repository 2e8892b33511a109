"""The Equity page's query layer on published warehouses.

Every expected number is worked out here from the published rows themselves (plain Python:
Wilson values as published, binomial SEs, D, R, BGV, PAR, pooled fifths, zero-dose ranks,
IA2030 arithmetic), never by calling `equity_views`; except at the end, where the vectorised
gaps (widest gaps, trend) are held to `summary_measures` group by group.
"""

from __future__ import annotations

import math
import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

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
    return sample_warehouse.published_rows(rows)


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


# ---------------------------------------------------------------- the vectorised gaps
# The widest gaps and the trend compute the headline D and R of every district (every cohort)
# in one pipeline (`equity_views._gaps`). `equity_measures.summary_measures` stays the one
# definition: group by group, through `_measures_of` (its withholding rules and labels), it
# must give exactly the same estimates, intervals, reasons and compared subgroups.


def per_group(frame: pl.DataFrame, info: dict, dimension: str, reason: str | None):
    """The D and R rows of one group, the way the page computed them before `_gaps`."""
    rows = ev._measures_of(frame, info, dimension, reason)
    return rows.filter(pl.col("measure").is_in(ev.GAP_MEASURES))


def info_of(indicator: str, url: str) -> dict:
    return ev.indicator_info(indicator, url)


def reference_widest(scope: Scope, view: ev.View, url: str) -> pl.DataFrame:
    """`widest_gaps` district by district: each district's own pair through summary_measures."""
    info = info_of(view.indicator, url)
    place = ev.place_of(scope, view.place, url)
    cube = ev._cube(scope, view.indicator, ev.area_of(place), url)
    frames = []
    for district in ev._units(cube, [view.period], 2).iter_rows(named=True):
        one = ev.View(view.indicator, view.period, district["org_unit"], view.dimension)
        pair = ev._pair(ev.subgroups(scope, one, url), view.dimension)
        frames.append(
            per_group(pair, info, view.dimension, ev.NO_DATA)
            .filter(pl.col("measure") == "D")
            .with_columns(
                org_unit=pl.lit(district["org_unit"]),
                org_unit_name=pl.lit(district["org_unit_name"]),
            )
        )
    if not frames:
        return pl.DataFrame(schema=ev.GAP_SCHEMA)
    gaps = pl.concat(frames).select(list(ev.GAP_SCHEMA)).cast(ev.GAP_SCHEMA)
    shown = gaps.filter(pl.col("estimate").is_not_null())
    return pl.concat(
        [
            shown.sort(["estimate", "org_unit_name"], descending=[True, False]),
            gaps.filter(pl.col("estimate").is_null()).sort("org_unit_name"),
        ]
    )


def reference_trend(scope: Scope, view: ev.View, url: str) -> pl.DataFrame:
    """`gap_trend` cohort by cohort: the pair (sex, disability) or all the subgroups (places,
    fifths, as `measures` gives them) of each cohort through summary_measures."""
    info = info_of(view.indicator, url)
    frames = []
    for year in ev.cohorts(scope, view, url):
        one = ev.View(view.indicator, year, view.place, view.dimension)
        if view.dimension in ev.PERSONAL:
            pair = ev._pair(ev.subgroups(scope, one, url), view.dimension)
            rows = per_group(pair, info, view.dimension, None if pair.height else ev.NO_DATA)
        else:
            rows = ev.measures(scope, one, url).filter(pl.col("measure").is_in(ev.GAP_MEASURES))
        frames.append(rows.select(pl.lit(year).alias("period"), pl.all()))
    return pl.concat(frames) if frames else pl.DataFrame()


@pytest.mark.parametrize("indicator", [PENTA3, "zero_dose_12m", "birth_reg_30d"])
def test_vectorised_widest_gaps_equal_summary_measures_district_by_district(url, indicator):
    checked = 0
    for period in ("2022", "2024", "2025Q1"):
        for place in ("IQ", "IQG08Q01"):  # every district; a district: its governorate's
            for dimension in ev.PERSONAL:
                view = ev.View(indicator, period, place, dimension)
                expected = reference_widest(NATIONAL, view, url)
                assert_frame_equal(ev.widest_gaps(NATIONAL, view, url), expected, check_exact=True)
                checked += expected.height
    assert checked > 100


@pytest.mark.parametrize("indicator", [PENTA3, "zero_dose_12m"])
def test_vectorised_trend_equals_summary_measures_cohort_by_cohort(url, indicator):
    statuses = set()
    for place in ("IQ", "IQG02", "IQG08", "IQG02Q03"):
        for dimension in ev.DIMENSIONS:
            view = ev.View(indicator, "2024", place, dimension)
            expected = reference_trend(NATIONAL, view, url)
            trend = ev.gap_trend(NATIONAL, view, url)
            assert_frame_equal(trend, expected, check_exact=True)
            statuses |= set(trend["status"]) if trend.height else set()
            # the caption's gap is the trend's in the selected cohort
            gap = ev.gap(NATIONAL, view, url)
            assert_frame_equal(gap, trend.filter(pl.col("period") == "2024").drop("period"))
    assert {"ok", ev.NO_PREVIOUS, ev.NATIONAL_ONLY} <= statuses


def subgroup_rows(key: str, *cells: tuple) -> list[dict]:
    """One group of hand-made subgroups: (subgroup, numerator, denominator[, suppressed,
    flags, value, order])."""
    rows = []
    for cell in cells:
        subgroup, num, den, *rest = cell
        hidden, flags, value, order = (*rest, *[None] * (4 - len(rest)))
        if value is None and num is not None and den:
            value = 100.0 * num / den
        if flags is None:
            flags = "low_denominator" if den is not None and den < 25 else ""
        rows.append(
            {
                "period": "2024",
                "subgroup": subgroup,
                "label": f"label of {subgroup}",
                "org_unit": key,
                "numerator": None if hidden else num,
                "denominator": None if hidden else den,
                "value": None if hidden else value,
                "ci_low": None if hidden or value is None else value - 1.0,
                "ci_high": None if hidden or value is None else value + 1.0,
                "suppressed": bool(hidden),
                "flags": flags,
                "order": order,
                "reference": False,
                "units": 1,
            }
        )
    return rows


AWKWARD = {  # group → its subgroups (focus first, reference second for sex)
    "suppressed focus": [("F", 3, 40, True), ("M", 30, 40)],
    "suppressed reference": [("F", 30, 40), ("M", 2, 40, True)],
    "low denominator": [("F", 15, 20), ("M", 30, 40)],
    "low denominator, both": [("F", 15, 20), ("M", 10, 24)],
    "0 % vs 100 %": [("F", 0, 40), ("M", 40, 40)],
    "100 % vs 0 %": [("F", 40, 40), ("M", 0, 40)],
    "both 0 %": [("F", 0, 40), ("M", 0, 60)],
    "both 100 %": [("F", 40, 40), ("M", 60, 60)],
    "equal values": [("F", 30, 40), ("M", 60, 80)],
    "only the focus": [("F", 30, 40)],
    "only the reference": [("M", 30, 40)],
    "no estimate": [("F", 30, 40, False, "", float("nan")), ("M", 30, 40)],
    "missing estimate": [("F", None, 40, False, ""), ("M", 30, 40)],
    "no population": [("F", 0, 0, False, "", 50.0), ("M", 30, 40)],
    "above 100 % (no SE)": [("F", 50, 40), ("M", 30, 40)],
    # summary_measures squares SEs with C's pow, which for this one differs from x·x
    "pow(x, 2) is not x·x": [("F", 2970, 5000), ("M", 3100, 5000)],
    "large": [("F", 61234, 81852), ("M", 1792, 2704)],
}


def awkward_frame(groups: dict[str, list[tuple]]) -> pl.DataFrame:
    rows = [row for key, cells in groups.items() for row in subgroup_rows(key, *cells)]
    return pl.DataFrame(rows, schema=ev.SUBGROUP_SCHEMA)


def assert_gaps_equal_group_by_group(frame, info, dimension, keys, reasons):
    vectorised = ev._gaps(frame, info, dimension, "org_unit", keys, reasons).collect()
    expected = pl.concat(
        [
            per_group(
                frame.filter(pl.col("org_unit") == key), info, dimension, reasons.get(key)
            ).select(pl.lit(key).alias("org_unit"), pl.all())
            for key in keys
        ]
    )
    assert_frame_equal(vectorised, expected, check_exact=True)
    lazily = ev._gaps(frame.lazy(), info, dimension, "org_unit", keys, reasons).collect()
    assert_frame_equal(lazily, expected, check_exact=True)
    return vectorised


@pytest.mark.parametrize("favourable", [True, False])
def test_vectorised_gaps_equal_summary_measures_on_awkward_groups(favourable):
    info = {"code": "x", "name_en": "x", "favourable": favourable, "scale": 100.0}
    keys = [*AWKWARD, "no rows", "no rows, no reason"]
    reasons = {"no rows": ev.NO_DATA}
    gaps = assert_gaps_equal_group_by_group(awkward_frame(AWKWARD), info, ev.SEX, keys, reasons)
    d = {row["org_unit"]: row for row in gaps.filter(pl.col("measure") == "D").to_dicts()}
    assert d["suppressed focus"]["status"] == SUPPRESSED
    assert d["low denominator"]["status"] == ev.LOW_DENOMINATOR
    assert d["low denominator"]["subgroup_a"] is not None  # computed, then withheld
    assert d["0 % vs 100 %"]["estimate"] == (100.0 if favourable else -100.0)
    assert d["equal values"]["estimate"] == 0.0
    assert d["only the focus"]["status"] == TOO_FEW
    assert d["no rows"]["status"] == ev.NO_DATA and d["no rows, no reason"]["status"] == TOO_FEW
    statuses = set(gaps["status"])
    assert {"ok", ev.NO_SE, "a subgroup has no estimate", "a subgroup has no population"} <= (
        statuses
    )
    assert {"all estimates are 0", "the compared subgroup's estimate is 0"} <= statuses
    assert "no interval: the ratio is not positive" in statuses


@pytest.mark.parametrize("favourable", [True, False])
def test_vectorised_gaps_choose_the_pair_as_summary_measures_does(favourable):
    """More than two subgroups: the reference and the other furthest from it (or, without the
    reference, the highest and the lowest), the first of equal values; fifths: best-off and
    worst-off; every group of one frame of many, and a reused frame of the empty case."""
    info = {"code": "x", "name_en": "x", "favourable": favourable, "scale": 100.0}
    four = {
        "ties among the others": [
            ("F:yes", 30, 40),
            ("F:no", 30, 40),
            ("M:yes", 60, 80),
            ("M:no", 35, 40),
        ],
        "no reference": [("F:yes", 20, 40), ("F:no", 35, 40), ("M:yes", 35, 40)],
        "reference in the middle": [
            ("F:yes", 10, 40),
            ("F:no", 39, 40),
            ("M:yes", 25, 40),
            ("M:no", 30, 40),
        ],
        "all equal": [("F:yes", 20, 40), ("F:no", 20, 40), ("M:no", 40, 80)],
    }
    frame = awkward_frame(four)
    assert_gaps_equal_group_by_group(frame, info, ev.SEX_DISABILITY, list(four), {})
    places = {  # districts (no reference): highest − lowest, the first of equal values
        "ties": [("IQG01Q01", 30, 40), ("IQG01Q02", 36, 40), ("IQG01Q03", 36, 40),
                 ("IQG01Q04", 30, 40)],
        "one low": [("IQG02Q01", 30, 40), ("IQG02Q02", 3, 40, False, "")],
    }  # fmt: skip
    frame = awkward_frame(places)
    assert_gaps_equal_group_by_group(frame, info, ev.DISTRICT, list(places), {})
    fifths = {
        "fifths": [(f"Q{i}", 10 * i + 3, 100, False, "", None, i) for i in (3, 1, 5, 2, 4)],
        "one hidden": [(f"Q{i}", 10 * i, 100, i == 2, "", None, i) for i in range(1, 6)],
    }
    frame = awkward_frame(fifths)
    assert_gaps_equal_group_by_group(frame, info, ev.FIFTH, list(fifths), {})
    rng = random.Random(7)  # many groups at once, some with squares pow(x, 2) ≠ x·x
    many = {
        f"g{i}": [("F", rng.randint(0, n), n), ("M", rng.randint(0, m), m)]
        for i, (n, m) in enumerate(
            (rng.randint(20, 6000), rng.randint(20, 6000)) for _ in range(300)
        )
    }
    assert_gaps_equal_group_by_group(awkward_frame(many), info, ev.SEX, list(many), {})
    empty = awkward_frame({})
    assert_gaps_equal_group_by_group(empty, info, ev.SEX, ["a", "b"], {"a": ev.NATIONAL_ONLY})
