"""Facility environment indicators on the hand-built set of `facility_builders` (7
facilities, 3 districts, 2 governorates). Every expected value is worked out by hand in
the comments from `facility_builders.JULY` (period 202407, 31 days), one August month of
F1 and one June month of F6."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from indicators import catalogue, environment
from indicators import facility_data as fd
from indicators import warehouse as wh
from indicators.publish import COLUMNS
from tests.indicators import facility_builders as fb

AS_OF = date(2024, 8, 31)
JUL, AUG, JUN = "202407", "202408", "202406"
AUGUST_F1 = dict(diesel_litres=500.0, kwh_grid=10000.0, kwh_solar=0.0, generator_hours=50.0,
                 waste_general_kg=900.0, waste_hazardous_kg=100.0)  # fmt: skip
JUNE_F6 = dict(diesel_litres=1000.0)


def inputs() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    july, climate = fb.july()
    extra = fb.months([("F1", AUG, AUGUST_F1), ("F6", JUN, JUNE_F6)])
    return fb.facilities(), pl.concat([july, extra]), climate


@pytest.fixture(scope="module")
def result() -> environment.EnvironmentResult:
    facilities, months, climate = inputs()
    return environment.build(facilities, months, climate, AS_OF)


@pytest.fixture(scope="module")
def rows(result: environment.EnvironmentResult) -> dict[tuple[str, str, str], dict]:
    return {(r["indicator"], r["period"], r["org_unit"]): r for r in result.values.to_dicts()}


def row(rows: dict, code: str, unit: str = "IQ", period: str = JUL) -> dict:
    return rows[(code, period, unit)]


def counts(rows: dict, code: str, unit: str = "IQ", period: str = JUL) -> tuple:
    r = row(rows, code, unit, period)
    return r["numerator"], r["denominator"], r["value"]


def total(rows: dict, code: str, unit: str = "IQ", period: str = JUL) -> float:
    """The value of a total, checking that it is one (no denominator, value = numerator)."""
    numerator, denominator, value = counts(rows, code, unit, period)
    assert denominator is None and value == numerator, code
    return value


# ---- derived facility months ---------------------------------------------------------------


def test_derived_columns_per_facility(result: environment.EnvironmentResult) -> None:
    stored = result.facility_months
    assert stored.schema == pl.Schema(fd.STORED_MONTHS)
    july = stored.filter(pl.col("period") == JUL).sort("facility")
    # F1 3 bins + safe: basic; F2 no bins + open burning: none; F3 no bins + safe: limited;
    # F4 bins incomplete: limited; F5 3 bins, sharps never + infectious autoclave: basic;
    # F6 3 bins + infectious "other": limited; F7 bins blank: no level
    assert july["hcwm_level"].to_list() == ["basic", "none", "limited", "limited", "basic",
                                            "limited", None]  # fmt: skip
    # F5 has electricity but no availability answer; F7 answered nothing
    assert july["electricity_level"].to_list() == ["reliable", "unreliable", "none", "reliable",
                                                   None, "unreliable", None]  # fmt: skip
    # heat alert (>= 3 days) in IQG08Q01 (5) and IQG02Q01 (10), not IQG08Q02 (2)
    assert july["heat_stress"].to_list() == [False, True, False, False, None, True, None]
    # F1 reliable: 4; F2 1 SDD of 2; F3 its only fridge is SDD; F4 none; F5 level unknown;
    # F6 SDD count unknown on unreliable power
    assert july["fridges_reliable_power"].to_list() == [4, 1, 1, 0, None, None, None]
    assert july["unsafe_disposal"].to_list() == [False, True, False, False, False, False, True]
    f1 = july.row(0, named=True)
    assert (f1["co2e_scope1_kg"], f1["co2e_scope2_kg"], f1["co2e_avoided_kg"]) == pytest.approx(
        (1000 * 2.68, 50000 * 0.52, 0.0)
    )
    assert stored.height == 9  # 7 July months + F1 August + F6 June, nothing added


# ---- waste ---------------------------------------------------------------------------------


def test_jmp_ladder_by_org_unit(rows: dict) -> None:
    # levels: basic F1 F5, limited F3 F4 F6, none F2; F7 has none: 6 facilities
    assert counts(rows, "hcwm_basic") == (2, 6, pytest.approx(100 * 2 / 6))
    assert counts(rows, "hcwm_limited") == (3, 6, 50.0)
    assert counts(rows, "hcwm_no_service") == (1, 6, pytest.approx(100 / 6))
    # Baghdad: F1 basic, F2 none, F3 F4 limited
    assert counts(rows, "hcwm_basic", "IQG08") == (1, 4, 25.0)
    # Karkh district (F1, F2): no limited facility is a published zero, not a missing row
    assert counts(rows, "hcwm_limited", "IQG08Q01") == (0, 2, 0.0)
    # Basrah district: F5 basic, F6 limited, F7 out of the denominator
    assert counts(rows, "hcwm_basic", "IQG02Q01") == (1, 2, 50.0)
    assert counts(rows, "hcwm_basic", "IQG02") == (1, 2, 50.0)


def test_waste_sub_indicators(rows: dict) -> None:
    # three bins: F1 F5 F6 of the six that answered (F7 blank)
    assert counts(rows, "hcwm_segregation") == (3, 6, 50.0)
    # safe treatment: F1 F3 F4 F5 of six (F2 burns, F6 "other"; F7 infectious blank)
    assert counts(rows, "hcwm_safe_treatment") == (4, 6, pytest.approx(400 / 6))
    # unsafe: F2 (open burning) and F7 (covered pit, its other answer blank) of seven
    assert counts(rows, "hcwm_unsafe_disposal") == (2, 7, pytest.approx(200 / 7))
    assert counts(rows, "hcwm_unsafe_disposal", "IQG02") == (1, 3, pytest.approx(100 / 3))
    # equipment: F1 yes, F2 no, F3 (no, blank) unknown, F4 (blank, yes) yes, F5 yes, F6 no
    assert counts(rows, "hcwm_treatment_equipment") == (3, 5, 60.0)


def test_waste_quantities_and_rates(rows: dict) -> None:
    # total: facilities with both weights: F1 1200 + F2 100 + F5 50 + F6 2500 = 3850 kg
    assert total(rows, "waste_total_kg") == 3850
    # F3 (general only) and F4 (hazardous only) have no total: no Tarmiyah row
    assert (("waste_total_kg", JUL, "IQG08Q02")) not in rows
    # hazardous share: (200 + 20 + 10 + 500) / 3850
    assert counts(rows, "waste_haz_fraction") == (730, 3850, pytest.approx(100 * 730 / 3850))
    # hospitals: (200 + 150 + 500) kg / (400 + 300 + 1250) bed-days
    assert counts(rows, "waste_haz_kg_per_bed_day") == (850, 1950, pytest.approx(850 / 1950))
    assert counts(rows, "waste_haz_kg_per_bed_day", "IQG02Q01") == (500, 1250, 0.4)
    # PHC: (20 + 10) kg / (1000 + 400) visits x 100 (F3 gave no hazardous weight)
    assert counts(rows, "waste_haz_kg_per_100_visits") == (30, 1400, pytest.approx(3000 / 1400))
    assert counts(rows, "waste_haz_kg_per_100_visits", "IQG08Q01") == (20, 1000, 2.0)
    assert ("waste_haz_kg_per_100_visits", JUL, "IQG08Q02") not in rows


def test_sharps_injuries_are_suppressed_like_people(rows: dict) -> None:
    # (2 + 0 + 1 + 0 + 3) injuries / (100 + 10 + 8 + 5 + 120) workers x 100; F4 blank
    assert counts(rows, "sharps_injuries_per_100_staff") == (6, 243, pytest.approx(600 / 243))
    karkh = row(rows, "sharps_injuries_per_100_staff", "IQG08Q01")  # 2 injuries
    assert (karkh["suppressed"], karkh["suppression"], karkh["numerator"]) == (
        True, "primary", None)  # fmt: skip
    assert karkh["denominator"] == 110


# ---- energy --------------------------------------------------------------------------------


def test_electricity_ladder_and_backup(rows: dict) -> None:
    # any electricity: F1 F2 F4 F5 F6 of the six that answered
    assert counts(rows, "elec_any") == (5, 6, pytest.approx(500 / 6))
    # ladder: reliable F1 F4, unreliable F2 F6, none F3 (F5 availability blank)
    assert counts(rows, "elec_reliable") == (2, 5, 40.0)
    assert counts(rows, "elec_unreliable") == (2, 5, 40.0)
    assert counts(rows, "elec_none") == (1, 5, 20.0)
    # backup, facilities with electricity that answered: F1 yes, F2 no, F4 yes, F6 yes
    assert counts(rows, "backup_power") == (3, 4, 75.0)
    # grid hours: (620 + 186 + 496 + 0 + 372) / (5 facilities x 31 days) = 10.8
    assert counts(rows, "grid_hours_per_day") == (1674, 155, pytest.approx(10.8))


def test_fuel_solar_and_fridges(rows: dict) -> None:
    assert total(rows, "generator_hours") == 480  # 120 + 60 + 100 + 200
    assert total(rows, "diesel_litres") == 3600  # 1000 + 100 + 500 + 0 + 2000
    # hospitals: (1000 + 500 + 2000) L / (50 + 40 + 100) beds
    assert counts(rows, "diesel_litres_per_bed") == (3500, 190, pytest.approx(3500 / 190))
    # solar / all kWh of the facilities with all three sources (F2 lacks solar):
    # (0 + 500 + 600 + 4000) / (53000 + 32000 + 600 + 50000)
    assert counts(rows, "renewable_share") == (5100, 135600, pytest.approx(510000 / 135600))
    assert counts(rows, "solar_facilities") == (3, 5, 60.0)  # F4 F5 F6 of F1 F2 F4 F5 F6
    assert total(rows, "solar_kwp") == 28
    # fridges: (4 + 1 + 1 + 0) of (4 + 2 + 1 + 0); F5 and F6 cannot be told
    assert counts(rows, "fridges_reliable_power") == (6, 7, pytest.approx(600 / 7))


def test_carbon(rows: dict) -> None:
    # scope 1: (1000 + 100 + 500 + 0 + 2000) L x 2.68 = 9648 kg
    assert total(rows, "co2e_scope1_t") == pytest.approx(9.648)
    # scope 2: (50000 + 2000 + 30000 + 0 + 40000) kWh x 0.52 = 63440 kg
    assert total(rows, "co2e_scope2_t") == pytest.approx(63.44)
    assert total(rows, "co2e_t") == pytest.approx(73.088)
    # avoided: (0 + 500 + 600 + 4000) solar kWh x 0.52 = 2652 kg
    assert total(rows, "solar_avoided_co2e_t") == pytest.approx(2.652)
    # Karkh: F1 + F2: 1100 L x 2.68 = 2948 kg; 52000 kWh x 0.52 = 27040 kg
    assert total(rows, "co2e_t", "IQG08Q01") == pytest.approx(29.988)


def test_quarterly_totals(rows: dict) -> None:
    # Q3: July + F1's August (500 L, 10000 kWh grid, 50 h, 1000 kg waste)
    assert total(rows, "diesel_litres", period="2024Q3") == 4100
    assert total(rows, "diesel_litres", "IQG08Q01", "2024Q3") == 1600
    assert total(rows, "generator_hours", period="2024Q3") == 530
    assert total(rows, "waste_total_kg", period="2024Q3") == 4850
    # 73.088 t + (500 x 2.68 + 10000 x 0.52) / 1000 = 73.088 + 6.54
    assert total(rows, "co2e_t", period="2024Q3") == pytest.approx(79.628)
    # Q2 has F6's June diesel only: scope 1 2.68 t, no scope-2 row, no Baghdad row
    assert total(rows, "co2e_t", period="2024Q2") == pytest.approx(2.68)
    assert total(rows, "diesel_litres", "IQG02", "2024Q2") == 1000
    assert ("co2e_scope2_t", "2024Q2", "IQ") not in rows
    assert ("diesel_litres", "2024Q2", "IQG08") not in rows
    quarterly = {code for code, period, _ in rows if "Q" in period}
    assert quarterly == set(environment.QUARTERLY)


# ---- climate-sensitive cases and heat ------------------------------------------------------


def test_case_rates_per_10k_with_suppression(rows: dict) -> None:
    code = "cases_heat_illness_per_10k"
    # Karkh 30 + 12 = 42, Tarmiyah 3 (small), Basrah district 20 + 25 = 45
    assert counts(rows, code) == (90, 2_300_000, pytest.approx(90 / 230))
    assert counts(rows, code, "IQG08") == (45, 1_500_000, pytest.approx(0.3))
    assert counts(rows, code, "IQG02Q01") == (45, 800_000, pytest.approx(0.5625))
    tarmiyah, karkh = row(rows, code, "IQG08Q02"), row(rows, code, "IQG08Q01")
    assert (tarmiyah["suppression"], tarmiyah["numerator"], tarmiyah["value"]) == (
        "primary", None, None)  # fmt: skip
    # else Karkh = Baghdad 45 - Tarmiyah: hidden too, its population still shown
    assert (karkh["suppression"], karkh["numerator"], karkh["denominator"]) == (
        "complementary", None, 1_000_000)  # fmt: skip
    assert not row(rows, code, "IQG08")["suppressed"]


def test_case_rates_zero_and_partly_reported(rows: dict) -> None:
    # cholera: every count 0, published as zeros
    assert counts(rows, "cases_cholera_per_10k", "IQG08Q02") == (0, 500_000, 0.0)
    # AWD: only F1 reported (10): Baghdad's rate uses Karkh's population alone
    assert counts(rows, "cases_awd_per_10k", "IQG08") == (10, 1_000_000, pytest.approx(0.1))
    assert ("cases_awd_per_10k", JUL, "IQG08Q02") not in rows
    assert not any(code == "cases_respiratory_per_10k" for code, _, _ in rows)  # never reported


def test_heatwave_days_and_heat_stress(rows: dict) -> None:
    # (1e6 x 5 + 0.5e6 x 2 + 0.8e6 x 10) / 2.3e6 person-weighted days
    assert counts(rows, "heatwave_days") == (14_000_000, 2_300_000, pytest.approx(140 / 23))
    assert row(rows, "heatwave_days", "IQG08")["value"] == pytest.approx(4.0)  # 6e6 / 1.5e6
    # F2 (Karkh, unreliable) and F6 (Basrah, unreliable); Tarmiyah has 2 days only
    assert total(rows, "facilities_heat_stress") == 2
    assert total(rows, "facilities_heat_stress", "IQG08Q02") == 0
    assert total(rows, "facilities_heat_stress", "IQG02") == 1


# ---- published rows ------------------------------------------------------------------------


def test_published_rows_are_facility_rows_without_flags(result) -> None:  # noqa: ANN001
    values = result.values
    assert values.columns == COLUMNS
    assert set(values["source"]) == {"facility"} and set(values["flags"]) == {""}
    assert set(values["sex"]) == set(values["disability"]) == {"all"}
    levels = values.select("org_unit", "org_unit_level", "adm1_code").unique().sort("org_unit")
    assert levels.rows() == [("IQ", 0, None), ("IQG02", 1, "IQG02"), ("IQG02Q01", 2, "IQG02"),
                             ("IQG08", 1, "IQG08"), ("IQG08Q01", 2, "IQG08"),
                             ("IQG08Q02", 2, "IQG08")]  # fmt: skip
    people = values.filter(pl.col("suppressed"))
    assert set(people["indicator"]) <= {*environment.CASE_RATES.values(),
                                        *environment.SUPPRESSED}  # fmt: skip
    assert values["as_of"].unique().to_list() == [AS_OF]


def test_catalogue_has_every_code_and_nothing_more(result) -> None:  # noqa: ANN001
    facility = {i.code: i for i in catalogue.indicators() if i.source == "facility"}
    produced = set(result.values["indicator"]) | {"cases_respiratory_per_10k",
                                                  "cases_leishmaniasis_per_10k"}  # fmt: skip
    assert produced == set(facility)
    assert {i.kind for i in facility.values()} == {"facility"}
    assert all(i.doses == () and i.age_months == 0 for i in facility.values())
    assert facility["cases_awd_per_10k"].scale == 10_000 and facility["co2e_t"].scale == 1
    width = wh.indicator_catalogue.c.unit.type.length  # PostgreSQL refuses a longer unit
    assert all(len(i.unit) <= width for i in facility.values())


def test_empty_input_gives_empty_tables() -> None:
    facilities, months, climate = inputs()
    built = environment.build(facilities, months.clear(), climate, AS_OF)
    assert built.facility_months.is_empty() and built.values.is_empty()
    assert built.values.columns == COLUMNS


# ---- aggregate: facility type and urban/rural ----------------------------------------------


@pytest.fixture(scope="module")
def july_frame(result: environment.EnvironmentResult) -> pl.DataFrame:
    stored = result.facility_months.filter(pl.col("period") == JUL)
    return stored.join(fb.facilities(), on="facility")


def aggregated(frame: pl.DataFrame, by: list[str]) -> dict:
    table = environment.aggregate(frame, by)
    assert table.columns == [*by, "indicator", "numerator", "denominator", "value"]
    return {(*r[: len(by)], r[len(by)]): r[len(by) + 1 :] for r in table.rows()}


def test_aggregate_by_facility_type(july_frame: pl.DataFrame) -> None:
    by_type = aggregated(july_frame, ["facility_type"])
    # hospitals F1 basic, F4 F6 limited; PHC F2 none, F3 limited, F5 basic (F7 no level)
    assert by_type[("hospital", "hcwm_basic")] == (1, 3, pytest.approx(100 / 3))
    assert by_type[("phc", "hcwm_no_service")] == (1, 3, pytest.approx(100 / 3))
    assert by_type[("hospital", "waste_haz_kg_per_bed_day")] == (
        850,
        1950,
        pytest.approx(850 / 1950),
    )
    assert ("phc", "waste_haz_kg_per_bed_day") not in by_type  # hospitals only
    assert ("hospital", "waste_haz_kg_per_100_visits") not in by_type  # PHC only


def test_aggregate_by_setting(july_frame: pl.DataFrame) -> None:
    by_setting = aggregated(july_frame, ["setting"])
    # urban F1 reliable, F2 unreliable, F4 reliable, F6 unreliable; rural F3 none
    assert by_setting[("urban", "elec_reliable")] == (2, 4, 50.0)
    assert by_setting[("rural", "elec_reliable")] == (0, 1, 0.0)
    # rural diesel: F5 reported 0 (F3, F7 blank): a zero row, not a missing one
    assert by_setting[("rural", "diesel_litres")] == (0, None, 0)
    # a selection of codes computes only those
    diesel = environment.aggregate(july_frame, ["setting"], ["diesel_litres"])
    assert diesel.rows() == [("rural", "diesel_litres", 0.0, None, 0.0),
                             ("urban", "diesel_litres", 3600.0, None, 3600.0)]  # fmt: skip


def test_aggregate_matches_the_published_national_rows(july_frame: pl.DataFrame,
                                                       rows: dict) -> None:  # fmt: skip
    national = aggregated(july_frame, [])
    assert len(national) == 30  # every facility-based code has a national July row
    for (code,), (num, den, value) in national.items():
        num_, den_, value_ = counts(rows, code)
        assert (num_, value_) == pytest.approx((num, value)) and den_ == den, code
