"""A hand-built facility warehouse for the Environment views and page: five facilities in
three districts of two governorates, 20 months (Jan 2024 to Aug 2025), published by the
real build (`indicators.environment.build`) and stored like a DHIS2 load.

    IQG08 Baghdad   IQG08Q01: F1 hospital urban, F2 PHC rural
                    IQG08Q02: F3 PHC urban (not immunizing)
    IQG02 Basrah    IQG02Q01: F4 hospital urban, F5 PHC rural (not immunizing, mostly blank)

Every month each facility answers the same (`ANSWERS`), except F3, whose bins become three
labelled bins in August 2025 (limited -> basic). Heat: heatwave days by calendar month
(`PROFILE`) plus a district offset in summer months, more in 2025 (Basrah +10). Cases of
heat illness at F1, F3 and F4 are 10 x their district's heatwave days of the month
before, and every district has 100,000 residents, so a district's heat illness per 10,000
in month m equals its heatwave days of month m - 1 exactly.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from indicators import catalogue, environment, geography
from indicators import facility_data as fd
from indicators import warehouse as wh
from tests.indicators import facility_builders as fb

AS_OF = date(2025, 8, 31)
MONTHS = tuple(f"{y}{m:02d}" for y in (2024, 2025) for m in range(1, 13))[:20]
LATEST = MONTHS[-1]  # 202508
PREVIOUS = MONTHS[-2]  # 202507
DISTRICTS = ("IQG08Q01", "IQG08Q02", "IQG02Q01")
POPULATION = 100_000
PROFILE = (0, 0, 0, 1, 4, 9, 14, 16, 8, 2, 0, 0)  # heatwave days, January..December
OFFSET = {"IQG08Q01": 0, "IQG08Q02": 1, "IQG02Q01": 3}  # summer months only
BOOST_2025 = {"IQG08Q01": 1, "IQG08Q02": 1, "IQG02Q01": 10}

FACILITIES = [  # facility, name, district, adm1, type, setting, immunizing
    ("F1", "Karkh Hospital", "IQG08Q01", "IQG08", "hospital", "urban", True),
    ("F2", "Mansour PHC", "IQG08Q01", "IQG08", "phc", "rural", True),
    ("F3", "Tarmiyah PHC", "IQG08Q02", "IQG08", "phc", "urban", False),
    ("F4", "Basrah Hospital", "IQG02Q01", "IQG02", "hospital", "urban", True),
    ("F5", "Faw PHC", "IQG02Q01", "IQG02", "phc", "rural", False),
]
ANSWERS: dict[str, dict] = {
    "F1": dict(bins="three_bins", sharps_disposal="autoclave",
               infectious_disposal="incinerator_two_chamber", autoclave_functional=True,
               incinerator_functional=True, waste_general_kg=1000.0, waste_hazardous_kg=200.0,
               beds=50, occupied_bed_days=1200.0, health_workers=100.0, sharps_injuries=0.0,
               electricity=True, power_availability="always", main_power_source="grid",
               backup_power=True, grid_hours=600.0, outage_hours=0.0, generator_hours=100.0,
               diesel_litres=200.0, kwh_grid=3000.0, kwh_generator=500.0, kwh_solar=1000.0,
               solar_kwp=20.0, vaccine_fridges=2, fridges_solar_direct=0, cases_awd=5.0),
    "F2": dict(bins="no_bins", sharps_disposal="open_burning_unprotected",
               infectious_disposal="dump_open_pit", autoclave_functional=False,
               incinerator_functional=False, waste_general_kg=80.0, waste_hazardous_kg=20.0,
               outpatient_visits=1000.0, health_workers=10.0, sharps_injuries=0.0,
               electricity=True, power_availability="sometimes", main_power_source="grid",
               backup_power=False, grid_hours=200.0, generator_hours=50.0, diesel_litres=100.0,
               kwh_grid=500.0, kwh_generator=100.0, kwh_solar=0.0, solar_kwp=0.0,
               vaccine_fridges=2, fridges_solar_direct=0, cases_heat_illness=0.0,
               cases_awd=3.0),
    "F3": dict(bins="bins_incomplete", sharps_disposal="offsite_protected",
               infectious_disposal="autoclave", autoclave_functional=True,
               waste_general_kg=60.0, waste_hazardous_kg=10.0, outpatient_visits=500.0,
               health_workers=8.0, electricity=True, power_availability="often",
               main_power_source="grid", diesel_litres=50.0, kwh_grid=800.0, kwh_generator=50.0,
               kwh_solar=200.0, solar_kwp=5.0, vaccine_fridges=0, fridges_solar_direct=0,
               cases_awd=2.0),
    "F4": dict(bins="three_bins", sharps_disposal="never",
               infectious_disposal="incinerator_single_chamber", incinerator_functional=True,
               waste_general_kg=2000.0, waste_hazardous_kg=500.0, beds=100,
               occupied_bed_days=2500.0, health_workers=120.0, electricity=False,
               diesel_litres=400.0, kwh_grid=0.0, kwh_generator=1200.0, kwh_solar=0.0,
               solar_kwp=0.0, vaccine_fridges=1, fridges_solar_direct=0, cases_awd=8.0),
    "F5": dict(sharps_disposal="dump_covered_pit"),
}  # fmt: skip
HEAT_CASES_AT = {"F1": "IQG08Q01", "F3": "IQG08Q02", "F4": "IQG02Q01"}


def heatwave_days(district: str, month: str) -> int:
    base = PROFILE[int(month[4:6]) - 1]
    if base == 0:
        return 0
    return base + OFFSET[district] + (BOOST_2025[district] if month >= "2025" else 0)


def facilities() -> pl.DataFrame:
    return pl.DataFrame(
        [(*row[:7], 33.0 + i / 10, 44.0 + i / 10) for i, row in enumerate(FACILITIES)],
        schema=fd.FACILITIES,
        orient="row",
    )


def months() -> pl.DataFrame:
    rows = []
    for facility, answers in ANSWERS.items():
        for index, month in enumerate(MONTHS):
            own = dict(answers)
            if facility == "F3" and month == LATEST:
                own["bins"] = "three_bins"
            if facility in HEAT_CASES_AT:
                before = heatwave_days(HEAT_CASES_AT[facility], MONTHS[index - 1]) if index else 0
                own["cases_heat_illness"] = 10.0 * before
            rows.append((facility, month, own))
    return fb.months(rows)


def climate() -> pl.DataFrame:
    frame = fb.climate([(d, m, heatwave_days(d, m), POPULATION) for d in DISTRICTS
                        for m in MONTHS])  # fmt: skip
    return frame.with_columns(
        (20.0 + pl.col("heatwave_days")).alias("tmax"),
        (15.0 + pl.col("heatwave_days")).alias("tmean"),
    )


def run() -> dict:
    return {"started_at": wh.now() - timedelta(seconds=5), "source": "tests: facility set",
            "as_of": AS_OF, "as_of_origin": "option", "inputs": [], "accounting": {}}  # fmt: skip


def build(url: str) -> str:
    """Publish the facility set with the real build and store it as a DHIS2 load would."""
    facility_frame, month_frame, climate_frame = facilities(), months(), climate()
    result = environment.build(facility_frame, month_frame, climate_frame, AS_OF)
    rejects = pl.DataFrame(schema={"file": pl.String, "line": pl.Int64, "rule": pl.String,
                                   "values": pl.String})  # fmt: skip
    tables = {"facilities": facility_frame, "facility_months": result.facility_months,
              "climate_months": climate_frame}  # fmt: skip
    wh.replace_results(wh.engine(url), run(), result.values, rejects,
                       geography.org_units(list(DISTRICTS)), catalogue.as_frame(),
                       source="dhis2", facility=tables)  # fmt: skip
    return url
