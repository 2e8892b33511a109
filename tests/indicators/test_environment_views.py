"""The Environment page's reads on the hand-built facility warehouse
(`tests/dashboard/environment_warehouse.py`): every expected number is worked out by hand
from its answers in the comments; the lag correlation is checked against a second, plain
implementation of Spearman's rho."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

from indicators import environment_views as ev
from indicators.scope import Scope
from tests.dashboard import environment_warehouse as ew

NATIONAL = Scope.national()
BASRA = Scope("governorate", "IQG02")
BAGHDAD = Scope("governorate", "IQG08")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder: Path = tmp_path_factory.mktemp("environment")
    return ew.build(f"sqlite:///{folder / 'warehouse.db'}")


def value(frame: pl.DataFrame, indicator: str, org_unit: str) -> float | None:
    found = frame.filter((pl.col("indicator") == indicator) & (pl.col("org_unit") == org_unit))
    assert found.height == 1, (indicator, org_unit, found)
    return found["value"][0]


# --- a second, plain Spearman -------------------------------------------------------------------


def average_ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def plain_spearman(xs: list[float], ys: list[float]) -> float:
    a, b = average_ranks(xs), average_ranks(ys)
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    cov = sum((p - mean_a) * (q - mean_b) for p, q in zip(a, b, strict=True))
    spread = math.sqrt(sum((p - mean_a) ** 2 for p in a) * sum((q - mean_b) ** 2 for q in b))
    return cov / spread


# --- periods --------------------------------------------------------------------------------------


def test_periods_months_quarters_and_the_status_month(url):
    found = ev.periods(NATIONAL, url)
    assert found[ev.MONTHLY] == list(ew.MONTHS)
    assert found[ev.QUARTERLY] == ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1",
                                   "2025Q2", "2025Q3"]  # fmt: skip
    assert ev.status_month("2025Q3", found[ev.MONTHLY]) == "202508"  # Sep not loaded yet
    assert ev.status_month("2025Q2", found[ev.MONTHLY]) == "202506"
    assert ev.status_month("202503", found[ev.MONTHLY]) == "202503"
    assert ev.previous("202508", found[ev.MONTHLY]) == "202507"
    assert ev.previous("2025Q1", found[ev.QUARTERLY]) == "2024Q4"
    assert ev.previous("202401", found[ev.MONTHLY]) is None
    assert ev.months_of("2024Q4") == ("202410", "202411", "202412")
    assert ev.shift_month("202502", -3) == "202411"
    assert ev.quarter_of("202512") == "2025Q4"
    assert ev.latest(NATIONAL, url) == {"month": "202508", "quarter": "2025Q3"}


# --- indicator rows ----------------------------------------------------------------------------


def test_the_ladder_by_facility_type_by_hand(url):
    # August 2025: F1 basic; F2 no bins, unsafe -> no service; F3 three bins now, off-site
    # sharps, autoclaved infectious -> basic; F4 three bins, no sharps ("never"), single
    # chamber incinerator -> basic; F5 did not answer the bins -> no level.
    everyone = ev.rows(NATIONAL, ev.Choice("202508"), ev.LADDER, url)
    assert value(everyone, "hcwm_basic", "IQ") == pytest.approx(75.0)  # 3 of 4
    assert value(everyone, "hcwm_no_service", "IQ") == pytest.approx(25.0)
    assert value(everyone, "hcwm_basic", "IQG08") == pytest.approx(200 / 3)
    phc = ev.rows(NATIONAL, ev.Choice("202508", facility_type="phc"), ev.LADDER, url)
    assert value(phc, "hcwm_basic", "IQ") == pytest.approx(50.0)  # F3 of F2, F3
    assert value(phc, "hcwm_limited", "IQ") == pytest.approx(0.0)
    assert value(phc, "hcwm_no_service", "IQ") == pytest.approx(50.0)
    assert phc.filter(pl.col("org_unit") == "IQ")["denominator"].to_list() == [2.0] * 3
    assert set(phc["org_unit"]) == {"IQ", "IQG08"}  # Basrah's only PHC has no level
    assert set(phc["facility_type"]) == {"phc"} and set(phc["setting"]) == {"all"}
    hospitals = ev.rows(NATIONAL, ev.Choice("202508", facility_type="hospital"), ev.LADDER, url)
    assert value(hospitals, "hcwm_basic", "IQ") == pytest.approx(100.0)  # F1, F4
    rural = ev.rows(NATIONAL, ev.Choice("202508", setting="rural"), ev.LADDER, url)
    assert value(rural, "hcwm_no_service", "IQ") == pytest.approx(100.0)  # F2 (F5 no level)


def test_the_ladder_by_group_of_a_governorate(url):
    groups = ev.ladder_by_group(NATIONAL, ev.Choice("202507", "IQG08"), url)
    basic = {(r["dimension"], r["group"]): r["value"]
             for r in groups.filter(pl.col("indicator") == "hcwm_basic").to_dicts()}  # fmt: skip
    # July 2025 in Baghdad: F1 basic (hospital, urban), F2 none (PHC, rural), F3 limited
    # (PHC, urban).
    assert basic == pytest.approx({("all", "all"): 100 / 3, ("facility_type", "hospital"): 100.0,
                                   ("facility_type", "phc"): 0.0, ("setting", "urban"): 50.0,
                                   ("setting", "rural"): 0.0})  # fmt: skip


def test_an_unfiltered_computation_equals_the_published_rows(url):
    """The page's breakdown path (aggregate over stored facility months) and the load's
    published rows agree: same function, and the plumbing keeps org units and periods."""
    codes = ("hcwm_basic", "elec_reliable", "renewable_share", "solar_facilities", "co2e_t")
    for period in ("202508", "2025Q2"):
        choice = ev.Choice(period, "IQG08")
        published = ev.rows(NATIONAL, choice, codes, url)
        totals = tuple(c for c in codes if c in ev.ADDITIVE)
        states = tuple(c for c in codes if c not in ev.ADDITIVE)
        at = ev.status_month(period, list(ew.MONTHS))
        computed = pl.concat([ev._computed(NATIONAL, choice, totals, period, url, False),
                              ev._computed(NATIONAL, choice, states, at, url, False)])
        own = pl.concat([ev._computed(NATIONAL, choice, totals, period, url, True),
                         ev._computed(NATIONAL, choice, states, at, url, True)])
        assert set(own["org_unit"]) == {"IQG08"}  # the cards' path: the place alone, the same
        assert own.sort("indicator").equals(
            computed.filter(pl.col("org_unit") == "IQG08").sort("indicator")
        )
        keys = ["indicator", "period", "org_unit"]
        left = published.select(*keys, "numerator", "denominator", "value").sort(keys)
        right = computed.select(*keys, "numerator", "denominator", "value").sort(keys)
        assert left.height == right.height > 0
        assert left.select(keys).equals(right.select(keys))
        for column in ("numerator", "denominator", "value"):
            assert left[column].to_list() == pytest.approx(right[column].to_list(), nan_ok=True)


def test_quarter_totals_and_states_at_the_status_month(url):
    # Diesel: F1 200, F2 100, F3 50 litres a month in Baghdad; F4 400 in Basrah.
    q2 = ev.rows(NATIONAL, ev.Choice("2025Q2", "IQG08"), ("diesel_litres", "hcwm_basic"), url)
    assert value(q2, "diesel_litres", "IQG08") == pytest.approx(1050.0)
    assert value(q2, "diesel_litres", "IQG08Q01") == pytest.approx(900.0)
    assert value(q2, "diesel_litres", "IQG08Q02") == pytest.approx(150.0)
    assert set(q2.filter(pl.col("indicator") == "hcwm_basic")["period"]) == {"202506"}
    hospitals = ev.rows(NATIONAL, ev.Choice("2025Q2", "IQG08", facility_type="hospital"),
                        ("diesel_litres",), url)  # fmt: skip
    assert value(hospitals, "diesel_litres", "IQG08") == pytest.approx(600.0)
    # The current quarter to date: July and August. Carbon a month: Scope 1 = 750 L x 2.68
    # = 2,010 kg; Scope 2 = 4,300 grid kWh x 0.52 = 2,236 kg; 4.246 t.
    q3 = ev.rows(NATIONAL, ev.Choice("2025Q3"), ("co2e_t", "solar_avoided_co2e_t"), url)
    assert value(q3, "co2e_t", "IQ") == pytest.approx(2 * 4.246)
    assert value(q3, "solar_avoided_co2e_t", "IQ") == pytest.approx(2 * 1200 * 0.52 / 1000)


def test_headline_rows_with_the_change_since_the_previous_month(url):
    now, then, since = ev.headline(NATIONAL, ev.Choice("202508", "IQG08"), url)
    assert since == "202507"
    assert now["hcwm_basic"]["value"] == pytest.approx(200 / 3)  # F3 turned basic
    assert then["hcwm_basic"]["value"] == pytest.approx(100 / 3)
    assert now["elec_reliable"]["value"] == pytest.approx(200 / 3)  # F1 always, F3 often
    # Solar kWh over all kWh: (1000 + 0 + 200) / (4500 + 600 + 1050)
    assert now["renewable_share"]["value"] == pytest.approx(100 * 1200 / 6150)
    assert now["diesel_litres"]["value"] == pytest.approx(350.0)
    assert now["facilities_heat_stress"]["value"] == pytest.approx(1.0)  # F2: 17 days, unreliable
    national, _, _ = ev.headline(NATIONAL, ev.Choice("202508"), url)
    assert national["facilities_heat_stress"]["value"] == pytest.approx(2.0)  # and F4: none
    assert national["co2e_t"]["value"] == pytest.approx(4.246)


def test_trend_of_the_carbon_rows(url):
    trend = ev.trend(NATIONAL, ev.Choice("202508"), ev.CARBON, url)
    assert trend.filter(pl.col("indicator") == "co2e_scope1_t")["period"].to_list() == list(
        ew.MONTHS
    )
    quarters = ev.trend(NATIONAL, ev.Choice("2025Q3", facility_type="hospital"), ev.CARBON, url)
    scope1 = quarters.filter(pl.col("indicator") == "co2e_scope1_t").sort("period")
    assert scope1["period"].to_list()[-2:] == ["2025Q2", "2025Q3"]
    # Hospitals: F1 200 L + F4 400 L a month, 3 months in Q2.
    assert scope1["value"].to_list()[-2] == pytest.approx(3 * 600 * 2.68 / 1000)


def test_treatment_method_mix(url):
    mix = ev.method_mix(NATIONAL, ev.Choice("202508"), url)
    counts = {r["method"]: (r["sharps"], r["infectious"]) for r in mix.to_dicts()
              if r["sharps"] or r["infectious"]}  # fmt: skip
    assert counts == {
        "autoclave": (1, 1),
        "open_burning_unprotected": (1, 0),
        "offsite_protected": (1, 0),
        "dump_covered_pit": (1, 0),
        "incinerator_two_chamber": (0, 1),
        "dump_open_pit": (0, 1),
        "incinerator_single_chamber": (0, 1),
    }  # fmt: skip  (F4's sharps: "never", left out; F5's infectious: blank)
    flags = {r["method"]: (r["safe"], r["open_burning_or_dumping"]) for r in mix.to_dicts()}
    assert flags["autoclave"] == (True, False)
    assert flags["open_burning_unprotected"] == (False, True)
    assert flags["offsite_unprotected"] == (False, False)
    assert "never" not in flags


def test_facility_table_puts_unsafe_and_heat_stressed_facilities_first(url):
    table = ev.facility_table(NATIONAL, ev.Choice("202508", "IQG08"), url)
    assert table["facility"].to_list() == ["F2", "F1", "F3"]
    f1 = table.row(1, named=True)
    assert f1["co2e_t"] == pytest.approx((200 * 2.68 + 3000 * 0.52) / 1000)
    assert f1["hcwm_level"] == "basic" and f1["electricity_level"] == "reliable"
    assert table.row(0, named=True)["unsafe_disposal"] and table.row(0, named=True)["heat_stress"]
    quarter = ev.facility_table(NATIONAL, ev.Choice("2025Q2", "IQG08Q01"), url)
    assert dict(zip(quarter["facility"], quarter["diesel_litres"], strict=True)) == {
        "F2": 300.0, "F1": 600.0}  # fmt: skip
    assert set(quarter["months_reported"]) == {3}
    assert ev.facility_table(NATIONAL, ev.Choice("202508", setting="rural"), url)[
        "facility"].to_list() == ["F2", "F5"]  # fmt: skip


def test_a_facility_year_hides_small_case_counts(url):
    year = ev.facility_year(NATIONAL, "F1", "202508", url)
    assert year["period"].to_list() == [ev.shift_month("202508", -k) for k in range(11, -1, -1)]
    # Heat illness at F1 = 10 x Karkh's heatwave days of the month before: Aug 2024 16 days
    # -> Sep 160; Jul 2025 15 days -> Aug 150. None is 1..4: all shown.
    heat = dict(zip(year["period"], year["cases_heat_illness"], strict=True))
    assert heat["202409"] == 160.0 and heat["202508"] == 150.0 and heat["202501"] == 0.0
    assert not any(year["cases_heat_illness_hidden"])
    # AWD: F2 reports 3 (hidden); the only other count of the district-month, F1's 5, is
    # hidden too, or Karkh's published 8 minus 5 would give F2's 3 away.
    assert year["cases_awd"].to_list() == [None] * 12
    assert all(year["cases_awd_hidden"])
    assert year["diesel_litres"].to_list() == [200.0] * 12
    f4 = ev.facility_year(NATIONAL, "F4", "202508", url)
    assert f4["cases_awd"].to_list() == [8.0] * 12  # alone with F5, which reports none


def test_heat_against_cases(url):
    series = ev.heat_cases(NATIONAL, "IQG08Q01", "heat_illness", url)
    august = series.filter(pl.col("period") == "202508").row(0, named=True)
    # 150 cases for 100,000 residents; Karkh had 16 + 1 heatwave days in August 2025.
    assert august["value"] == pytest.approx(15.0) and not august["suppressed"]
    assert august["heatwave_days"] == pytest.approx(17.0)
    assert august["tmax"] == pytest.approx(37.0)
    national = ev.heat_cases(NATIONAL, "IQ", "heat_illness", url)
    row = national.filter(pl.col("period") == "202508").row(0, named=True)
    # Equal populations: the plain mean of 17, 18 and 29 heatwave days.
    assert row["heatwave_days"] == pytest.approx((17 + 18 + 29) / 3)


def test_lag_correlation_of_a_series_whose_answer_is_known():
    heat = [0, 0, 1, 3, 6, 10, 15, 12, 5, 1, 0, 0]
    months = [f"2024{m:02d}" for m in range(1, 13)]
    rates = [None, *[float(h) for h in heat[:-1]]]  # cases follow heat one month later
    frame = pl.DataFrame({"district": ["D"] * 12, "period": months, "rate": rates,
                          "heatwave_days": [float(h) for h in heat]})  # fmt: skip
    lags = {r["lag"]: r for r in ev.lag_correlation(frame).to_dicts()}
    assert lags[1]["rho"] == pytest.approx(1.0) and lags[1]["pairs"] == 11
    same = [(heat[i], rates[i]) for i in range(1, 12)]
    assert lags[0]["rho"] == pytest.approx(plain_spearman(*map(list, zip(*same, strict=True))))
    assert lags[0]["pairs"] == 11
    two = [(heat[i - 2], rates[i]) for i in range(2, 12)]
    assert lags[2]["rho"] == pytest.approx(plain_spearman(*map(list, zip(*two, strict=True))))
    assert lags[3]["pairs"] == 9
    # Too few pairs, or a constant series: no correlation.
    assert ev.lag_correlation(frame.head(3))["rho"].to_list()[2:] == [None, None]
    flat = frame.with_columns(pl.lit(2.0).alias("heatwave_days"))
    assert ev.lag_correlation(flat)["rho"].to_list() == [None] * 4


def test_lag_correlation_over_the_district_months_in_scope(url):
    frame = ev.district_months(NATIONAL, "IQ", "heat_illness", url)
    assert frame.height == 3 * 20
    lags = {r["lag"]: r for r in ev.lag_correlation(frame).to_dicts()}
    assert lags[1]["rho"] == pytest.approx(1.0)  # rate(m) = heatwave days(m - 1) exactly
    assert lags[1]["pairs"] == 3 * 19
    pairs = [(r["heatwave_days"], r["rate"]) for r in frame.to_dicts()]
    assert lags[0]["rho"] == pytest.approx(plain_spearman(*map(list, zip(*pairs, strict=True))))
    temperature = {r["lag"]: r["rho"] for r in ev.lag_correlation(frame, "tmax").to_dicts()}
    assert temperature[1] == pytest.approx(1.0)  # Tmax = 20 + heatwave days: same ranks


def test_a_governorate_user_never_sees_another_governorate(url):
    table = ev.facility_table(BASRA, ev.Choice("202508"), url)
    assert set(table["facility"]) == {"F4", "F5"}
    # Asking for Baghdad's district (or Iraq) gives Basrah, as the page does.
    asked = ev.facility_table(BASRA, ev.Choice("202508", "IQG08Q01"), url)
    assert set(asked["facility"]) == {"F4", "F5"}
    assert ev.facility_year(BASRA, "F1", "202508", url).is_empty()
    assert set(ev.facilities(BASRA, url=url)["facility"]) == {"F4", "F5"}
    assert set(ev.district_months(BASRA, "IQ", "heat_illness", url)["district"]) == {"IQG02Q01"}
    rows = ev.rows(BASRA, ev.Choice("202508", "IQ", facility_type="hospital"), ev.LADDER, url)
    assert set(rows["org_unit"]) == {"IQG02", "IQG02Q01"}  # no national or Baghdad row
    assert ev.heat_cases(BASRA, "IQG08Q01", "heat_illness", url)["value"].drop_nulls().len() > 0
    assert set(ev.rows(BASRA, ev.Choice("202508", "IQG02"), ev.LADDER, url)["adm1_code"]) == {
        "IQG02"}  # fmt: skip
    mix = ev.method_mix(BAGHDAD, ev.Choice("202508"), url)
    assert mix.filter(pl.col("method") == "dump_covered_pit")["sharps"].item() == 0  # F5's


def test_alerts_are_scoped(url):
    # Latest month Aug 2025. Open burning: F2 (Karkh), F5 (Basrah). Heat illness: Basrah
    # 270 cases against 1.5 x 170 = 255. Fridges: F2 (2 mains fridges, unreliable), F4
    # (1, no electricity). Heat stress: F2 in Karkh (17 days), F4 in Basrah (29 days).
    everyone = ev.active_alerts(NATIONAL, url)
    assert everyone.height == 7
    basra = ev.active_alerts(BASRA, url)
    assert set(basra["adm1_code"]) == {"IQG02"} and basra.height == 4
    heat = basra.filter(pl.col("rule") == "heat_illness_above_baseline").row(0, named=True)
    assert (heat["value"], heat["threshold"]) == pytest.approx((270.0, 255.0))
    baghdad = ev.active_alerts(BAGHDAD, url)
    assert set(baghdad["adm1_code"]) == {"IQG08"}
    assert sorted(baghdad["rule"]) == ["fridge_unreliable_power", "heat_stress_facilities",
                                       "open_burning"]  # fmt: skip


def test_the_views_answer_alike_on_postgresql(url, postgres_warehouse):  # noqa: ANN001
    """The same facility set stored in PostgreSQL: every view reads it to the same frames."""
    pg = ew.build(postgres_warehouse)
    month, quarter = ew.MONTHS[-1], "2025Q2"
    views = {
        "rows": lambda u: ev.rows(NATIONAL, ev.Choice(quarter, "IQG08"), ev.HEADLINE, u),
        "filtered rows": lambda u: ev.rows(BAGHDAD, ev.Choice(month, "IQ", "phc"), ev.LADDER, u),
        "ladder by group": lambda u: ev.ladder_by_group(NATIONAL, ev.Choice(month), u),
        "methods": lambda u: ev.method_mix(NATIONAL, ev.Choice(month), u),
        "facilities": lambda u: ev.facility_table(BASRA, ev.Choice(month, "IQG02"), u),
        "facility year": lambda u: ev.facility_year(NATIONAL, "F1", month, u),
        "heat": lambda u: ev.heat_cases(NATIONAL, "IQ", "heat_illness", u),
        "district months": lambda u: ev.district_months(NATIONAL, "IQ", "heat_illness", u),
        "alerts": lambda u: ev.active_alerts(NATIONAL, u),
    }
    for name, view in views.items():
        on_sqlite, on_postgres = view(url), view(pg)
        assert on_sqlite.height > 0, name
        assert on_postgres.equals(on_sqlite), name
