"""A hand-built facility set for the environment, waste/energy and alert tests.

Seven facilities in three districts of two governorates:

    IQG08 Baghdad   IQG08Q01: F1 hospital urban, F2 PHC urban
                    IQG08Q02: F3 PHC rural,      F4 hospital urban (not immunizing)
    IQG02 Basrah    IQG02Q01: F5 PHC rural,      F6 hospital urban, F7 PHC rural (blank)

`JULY` is what each facility reported for 202407 (absent keys: not reported); the
expected values of the tests are worked out by hand from it, in the tests' comments.
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from indicators import facility_data as fd
from indicators import warehouse as wh

FACILITY_ROWS = [  # facility, name, district, adm1, type, setting, immunizing
    ("F1", "Karkh Hospital", "IQG08Q01", "IQG08", "hospital", "urban", True),
    ("F2", "Mansour PHC", "IQG08Q01", "IQG08", "phc", "urban", True),
    ("F3", "Tarmiyah PHC", "IQG08Q02", "IQG08", "phc", "rural", True),
    ("F4", "Tarmiyah Hospital", "IQG08Q02", "IQG08", "hospital", "urban", False),
    ("F5", "Faw PHC", "IQG02Q01", "IQG02", "phc", "rural", True),
    ("F6", "Basrah Hospital", "IQG02Q01", "IQG02", "hospital", "urban", True),
    ("F7", "Siba PHC", "IQG02Q01", "IQG02", "phc", "rural", False),
]

JULY: dict[str, dict] = {
    "F1": dict(bins="three_bins", sharps_disposal="incinerator_two_chamber",
               infectious_disposal="autoclave", autoclave_functional=True,
               incinerator_functional=True, waste_general_kg=1000.0, waste_hazardous_kg=200.0,
               beds=50, occupied_bed_days=400.0, sharps_injuries=2.0, health_workers=100.0,
               electricity=True, power_availability="always", main_power_source="grid",
               backup_power=True, grid_hours=620.0, generator_hours=120.0,
               diesel_litres=1000.0, kwh_grid=50000.0, kwh_generator=3000.0, kwh_solar=0.0,
               solar_kwp=0.0, vaccine_fridges=4, fridges_solar_direct=0,
               cases_heat_illness=30.0, cases_awd=10.0, cases_cholera=0.0),
    "F2": dict(bins="no_bins", sharps_disposal="open_burning_unprotected",
               infectious_disposal="dump_open_pit", autoclave_functional=False,
               incinerator_functional=False, waste_general_kg=80.0, waste_hazardous_kg=20.0,
               outpatient_visits=1000.0, sharps_injuries=0.0, health_workers=10.0,
               electricity=True, power_availability="sometimes", main_power_source="grid",
               backup_power=False, grid_hours=186.0, generator_hours=60.0, diesel_litres=100.0,
               kwh_grid=2000.0, kwh_generator=300.0, solar_kwp=0.0, vaccine_fridges=2,
               fridges_solar_direct=1, cases_heat_illness=12.0, cases_cholera=0.0),
    "F3": dict(bins="no_bins", sharps_disposal="offsite_covered",
               infectious_disposal="dump_protected", autoclave_functional=False,
               waste_general_kg=60.0, outpatient_visits=500.0, sharps_injuries=1.0,
               health_workers=8.0, electricity=False, vaccine_fridges=1,
               fridges_solar_direct=1, cases_heat_illness=3.0, cases_cholera=0.0),
    "F4": dict(bins="bins_incomplete", sharps_disposal="incinerator_single_chamber",
               infectious_disposal="autoclave", incinerator_functional=True,
               waste_hazardous_kg=150.0, beds=40, occupied_bed_days=300.0, health_workers=50.0,
               electricity=True, power_availability="often", main_power_source="grid",
               backup_power=True, grid_hours=496.0, generator_hours=100.0, diesel_litres=500.0,
               kwh_grid=30000.0, kwh_generator=1500.0, kwh_solar=500.0, solar_kwp=5.0,
               vaccine_fridges=0, fridges_solar_direct=0),
    "F5": dict(bins="three_bins", sharps_disposal="never", infectious_disposal="autoclave",
               autoclave_functional=True, waste_general_kg=40.0, waste_hazardous_kg=10.0,
               outpatient_visits=400.0, sharps_injuries=0.0, health_workers=5.0,
               electricity=True, main_power_source="solar", grid_hours=0.0, diesel_litres=0.0,
               kwh_grid=0.0, kwh_generator=0.0, kwh_solar=600.0, solar_kwp=3.0,
               vaccine_fridges=2, fridges_solar_direct=0, cases_heat_illness=20.0,
               cases_cholera=0.0),
    "F6": dict(bins="three_bins", sharps_disposal="autoclave", infectious_disposal="other",
               autoclave_functional=False, incinerator_functional=False,
               waste_general_kg=2000.0, waste_hazardous_kg=500.0, beds=100,
               occupied_bed_days=1250.0, sharps_injuries=3.0, health_workers=120.0,
               electricity=True, power_availability="sometimes", main_power_source="grid",
               backup_power=True, grid_hours=372.0, generator_hours=200.0, diesel_litres=2000.0,
               kwh_grid=40000.0, kwh_generator=6000.0, kwh_solar=4000.0, solar_kwp=20.0,
               vaccine_fridges=3, cases_heat_illness=25.0, cases_cholera=0.0),
    "F7": dict(sharps_disposal="dump_covered_pit"),
}  # fmt: skip
CLIMATE_JULY = [  # district, heatwave days, population
    ("IQG08Q01", 5, 1_000_000),
    ("IQG08Q02", 2, 500_000),
    ("IQG02Q01", 10, 800_000),
]


def facilities() -> pl.DataFrame:
    rows = [(*row, None, None) for row in FACILITY_ROWS]
    return pl.DataFrame(rows, schema=fd.FACILITIES, orient="row")


def months(rows: list[tuple[str, str, dict]]) -> pl.DataFrame:
    """Facility months from (facility, period, answers); unlisted answers are empty."""
    records = [{**dict.fromkeys(fd.FACILITY_MONTHS), **answers, "facility": facility,
                "period": period} for facility, period, answers in rows]  # fmt: skip
    return pl.DataFrame(records, schema=fd.FACILITY_MONTHS)


def climate(rows: list[tuple[str, str, int, int]]) -> pl.DataFrame:
    """Climate months from (district, period, heatwave days, population)."""
    records = [
        {**dict.fromkeys(fd.CLIMATE_MONTHS), "district": d, "period": p, "heatwave_days": h,
         "population": n}
        for d, p, h, n in rows
    ]  # fmt: skip
    return pl.DataFrame(records, schema=fd.CLIMATE_MONTHS)


def july() -> tuple[pl.DataFrame, pl.DataFrame]:
    """The July 2024 months and climate."""
    month_rows = [(f, "202407", answers) for f, answers in JULY.items()]
    climate_rows = [(d, "202407", h, n) for d, h, n in CLIMATE_JULY]
    return months(month_rows), climate(climate_rows)


def store(
    url: str,
    facility_frame: pl.DataFrame,
    stored_months: pl.DataFrame,
    climate_frame: pl.DataFrame,
    names: dict[str, str] | None = None,
) -> None:
    """Write the three facility tables (and district names) as a succeeded load would."""
    engine = wh.engine(url)
    with engine.begin() as connection:
        run = connection.execute(
            wh.load_runs.insert().values(
                started_at=wh.now(), finished_at=wh.now(), status="succeeded", kind="dhis2"
            )
        )
        run_id = run.inserted_primary_key[0]
        for table, frame in (
            (wh.facilities, facility_frame),
            (wh.facility_months, stored_months),
            (wh.climate_months, climate_frame),
        ):
            connection.execute(sa.delete(table))
            if frame.height:
                records = frame.with_columns(load_run_id=pl.lit(run_id)).to_dicts()
                connection.execute(table.insert(), records)
        for code, name in (names or {}).items():
            connection.execute(
                wh.org_units.insert().values(
                    code=code, level=2, parent=code[:5], adm1_code=code[:5], name_en=name
                )
            )
