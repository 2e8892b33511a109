"""The synthetic instance's facility environment data: its shape, its calibration
(climate.md §1.5, §2.7, §4; checked with a second, simple classification here) and an
end-to-end load that fills the facility tables and `facility` rows (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa

from etl.climate import read_climate
from etl.dhis2.facility import facility_facts, resolve_facility
from etl.dhis2.load import load_dhis2
from etl.dhis2.mapping import read_mapping, resolve
from etl.dhis2.metadata import read_metadata
from etl.dhis2.normalize import normalize
from etl.dhis2.synthetic_climate import ZONE_OF
from etl.generate import generate
from indicators import facility_data as fd
from indicators import warehouse as wh

SAFE = {"autoclave", "incinerator_two_chamber", "incinerator_single_chamber",
        "open_burning_protected", "dump_protected", "offsite_covered",
        "offsite_protected"}  # fmt: skip


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory, no_pack: None) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("generated")
    summary = generate(folder, children=3000, seed=1, fmt="csv", dhis2=True)
    return folder / "dhis2", summary["dhis2"]


@pytest.fixture(scope="module")
def frames(instance: tuple[Path, dict]) -> dict[str, pl.DataFrame]:
    """The instance read by the ETL's reader: facilities (with zone), months, climate."""
    folder, _ = instance
    mapping = read_mapping(folder / "mapping.yaml")
    meta = read_metadata([folder / "metadata.json"])
    resolved = resolve(mapping, meta)
    section = resolve_facility(mapping, meta, resolved)
    found = facility_facts(normalize(sorted((folder / "facility").glob("*.json")), meta), section)
    districts = resolved.districts["district"].unique().to_list()
    climate = read_climate([folder / "climate" / "district_months.csv"], districts)
    zone = pl.col("adm1_code").replace_strict(ZONE_OF, default=1).alias("zone")
    facilities = found.facilities.with_columns(zone)
    months = found.months.join(facilities, on="facility").with_columns(
        pl.col("period").str.slice(4, 2).cast(pl.Int32).alias("month"),
        pl.col("period").str.slice(0, 4).cast(pl.Int32).alias("year"),
    )
    weather = climate.frame.with_columns(
        pl.col("district").str.slice(0, 5).replace_strict(ZONE_OF, default=1).alias("zone"),
        pl.col("period").str.slice(4, 2).cast(pl.Int32).alias("month"),
        pl.col("period").str.slice(0, 4).cast(pl.Int32).alias("year"),
    )
    return {"facilities": facilities, "months": months, "climate": weather,
            "problems": found.problems, "climate_problems": climate.problems}  # fmt: skip


def test_the_instance_has_facility_groups_a_data_set_and_the_climate_file(
    instance: tuple[Path, dict],
) -> None:
    folder, summary = instance
    meta = json.loads((folder / "metadata.json").read_text())
    groups = {g["code"]: len(g["organisationUnits"]) for g in meta["organisationUnitGroups"]}
    assert groups["MZ_FT_HOSPITAL"] + groups["MZ_FT_PHC"] == 1885
    assert groups["MZ_LOC_URBAN"] + groups["MZ_LOC_RURAL"] == 1885
    assert groups["MZ_FT_HOSPITAL"] == summary["hospitals"] == 188
    facility_set = next(d for d in meta["dataSets"] if d["code"] == "MZ_FACILITY_MONTHLY")
    assert len(facility_set["dataSetElements"]) == len(fd.REPORTED)
    names = sorted(p.name for p in (folder / "facility").iterdir())
    assert len(names) == 30 and names[0] == "facility_202401.json"
    header = (folder / "climate" / "district_months.csv").read_text().splitlines()[0]
    assert header == ",".join(fd.CLIMATE_MONTHS)
    assert summary["climate_rows"] == 54 * 30 + 1


def test_only_the_injected_values_are_rejected(frames: dict) -> None:
    rules = sorted(p.code for p in frames["problems"])
    assert rules == ["option_unknown", "org_unit_not_facility", "value_negative",
                     "value_out_of_range"]  # fmt: skip
    assert [p.code for p in frames["climate_problems"]] == ["district_unknown"]
    months = frames["months"]
    assert months.height > 0.95 * 1885 * 30  # facilities report in their EPI months
    blank = months.select(pl.col("bins").is_null().mean()).item()
    assert 0.002 < blank < 0.1  # a few answers blank


def _level(frame: pl.DataFrame) -> pl.DataFrame:
    """The JMP classification rule (climate.md §1.2), written again here."""
    known = frame.filter(
        pl.col("bins").is_not_null(), pl.col("sharps_disposal").is_not_null(),
        pl.col("infectious_disposal").is_not_null(), pl.col("infectious_disposal") != "never",
    )  # fmt: skip
    treated = pl.col("sharps_disposal").is_in(SAFE) & pl.col("infectious_disposal").is_in(SAFE)
    return known.with_columns(
        pl.when((pl.col("bins") == "three_bins") & treated).then(pl.lit("basic"))
        .when((pl.col("bins") == "no_bins") & ~treated).then(pl.lit("none"))
        .otherwise(pl.lit("limited")).alias("level"),
        (pl.col("bins") == "three_bins").alias("seg"), treated.alias("trt"),
    )  # fmt: skip


def _share(frame: pl.DataFrame, level: str) -> float:
    return frame.select((pl.col("level") == level).mean()).item() * 100


def test_the_waste_ladder_starts_near_the_jmp_baseline_and_improves(frames: dict) -> None:
    levels = _level(frames["months"])
    first = levels.filter(pl.col("period") == "202401")
    assert abs(_share(first, "basic") - 20.5) < 3
    assert abs(_share(first, "limited") - 45.4) < 4
    assert abs(_share(first, "none") - 34.1) < 4
    assert abs(first["seg"].mean() * 100 - 55.4) < 4
    assert abs(first["trt"].mean() * 100 - 26.1) < 4
    hospitals = first.filter(pl.col("facility_type") == "hospital")
    phc = first.filter(pl.col("facility_type") == "phc")
    assert _share(hospitals, "basic") > _share(phc, "basic") + 5
    urban, rural = (first.filter(pl.col("setting") == s) for s in ("urban", "rural"))
    assert _share(urban, "basic") > _share(rural, "basic") + 5
    last = levels.filter(pl.col("period") == "202606")
    assert _share(last, "basic") > _share(first, "basic") + 2
    burning = first.select((pl.col("sharps_disposal") == "open_burning_unprotected").mean()).item()
    assert 0.05 < burning < 0.3


def test_waste_quantities_follow_the_calibration(frames: dict) -> None:
    months = frames["months"]
    hospitals = months.filter(pl.col("facility_type") == "hospital")
    per_bed_day = (hospitals["waste_hazardous_kg"] / hospitals["occupied_bed_days"]).median()
    assert 0.6 < per_bed_day < 0.8
    days = hospitals.select(
        (pl.col("period") + "01").str.to_date("%Y%m%d").dt.month_end().dt.day()
    ).to_series()
    occupancy = (hospitals["occupied_bed_days"] / (hospitals["beds"] * days)).median()
    assert 0.62 < occupancy < 0.78
    phc = months.filter(pl.col("facility_type") == "phc")
    per_visit = (phc["waste_hazardous_kg"] / phc["outpatient_visits"]).median()
    assert 0.045 < per_visit < 0.065
    share = months.select(
        pl.col("waste_hazardous_kg").sum() / (pl.col("waste_hazardous_kg")
                                              + pl.col("waste_general_kg")).sum()
    ).item()  # fmt: skip
    assert 0.15 < share < 0.35


def test_summer_grid_hours_are_lower_in_the_south_than_in_kurdistan(frames: dict) -> None:
    months = frames["months"].filter(
        pl.col("month").is_in([7, 8]), pl.col("facility_type") == "phc"
    )
    per_day = months.group_by("zone").agg((pl.col("grid_hours") / 31).mean().alias("hours"))
    hours = dict(per_day.rows())
    assert hours[3] > hours[0] + 3  # Kurdistan (3) vs south (0)
    assert 4 < hours[0] < 12
    winter = frames["months"].filter(pl.col("month") == 1, pl.col("facility_type") == "phc")
    assert (winter["grid_hours"] / 31).mean() > (months["grid_hours"] / 31).mean() + 3
    hospital = frames["months"].filter(pl.col("month").is_in([7, 8]),
                                       pl.col("facility_type") == "hospital")  # fmt: skip
    assert 12 < (hospital["grid_hours"] / 31).mean() < 20
    diesel = hospital.filter(pl.col("generator_hours") > 0)
    per_hour = (diesel["diesel_litres"] / diesel["generator_hours"]).median()
    assert 20 < per_hour < 150  # 200-800 kW generators (§2.6)


def test_solar_grows_from_5_to_15_percent_of_phc_centres(frames: dict) -> None:
    phc = frames["months"].filter(pl.col("facility_type") == "phc")
    share = phc.group_by("period").agg((pl.col("solar_kwp") > 0).mean().alias("s")).sort("period")
    assert 0.03 < share["s"][0] < 0.07 and 0.12 < share["s"][-1] < 0.18
    solar = phc.filter(pl.col("solar_kwp") > 0)
    assert solar["solar_kwp"].min() >= 3 and solar["solar_kwp"].max() <= 15
    assert (solar["fridges_solar_direct"].drop_nulls() >= 1).mean() > 0.9


def test_heat_follows_the_zones(frames: dict) -> None:
    summer = frames["climate"].filter(pl.col("year") == 2025)
    waves = summer.group_by("zone", "district").agg(pl.col("heatwave_days").sum())
    per_zone = dict(waves.group_by("zone").agg(pl.col("heatwave_days").mean()).rows())
    assert per_zone[0] > per_zone[1] > per_zone[2] > per_zone[3]
    assert 40 < per_zone[0] < 90 and per_zone[3] < 15
    july_august = summer.filter(pl.col("month").is_in([7, 8]))
    tmax = dict(july_august.group_by("zone").agg(pl.col("tmax").mean()).rows())
    for zone, (low, high) in enumerate([(46, 48), (44, 46), (42, 44), (38, 42)]):
        assert low - 0.7 < tmax[zone] < high + 0.7, zone


def _district_rates(frames: dict) -> pl.DataFrame:
    cases = (
        frames["months"]
        .group_by("district", "period")
        .agg(pl.col(c).sum() for c in fd.CASE_COLUMNS)
    )
    return (
        frames["climate"].join(cases, on=["district", "period"])
        .with_columns((pl.col(c) / pl.col("population") * 10_000).alias(c)
                      for c in fd.CASE_COLUMNS)
        .sort("district", "period")
    )  # fmt: skip


def test_cases_follow_heat_with_a_lag_and_dust(frames: dict) -> None:
    rates = (
        _district_rates(frames)
        .with_columns(
            pl.col("heatwave_days").shift(1).over("district").alias("hw_before"),
            pl.col("heatwave_days").shift(-1).over("district").alias("hw_after"),
        )
        .drop_nulls(["hw_before", "hw_after"])
    )

    def corr(a: str, b: str) -> float:
        return float(np.corrcoef(rates[a].to_numpy(), rates[b].cast(pl.Float64).to_numpy())[0, 1])

    assert corr("cases_heat_illness", "heatwave_days") > 0.9
    assert corr("cases_awd", "hw_before") > corr("cases_awd", "heatwave_days") + 0.1
    assert corr("cases_awd", "hw_before") > corr("cases_awd", "hw_after") + 0.3
    assert corr("cases_respiratory", "dust_days") > 0.5
    cholera = _district_rates(frames).group_by("month").agg(pl.col("cases_cholera").sum())
    late = cholera.filter(pl.col("month") >= 9)["cases_cholera"].sum()
    assert late / cholera["cases_cholera"].sum() > 0.6  # outbreaks September-December
    leish = _district_rates(frames).group_by("month").agg(pl.col("cases_leishmaniasis").mean())
    by_month = dict(leish.rows())
    assert by_month[1] > 2 * by_month[7]  # winter peak


def test_the_instance_loads_into_the_facility_tables(
    instance: tuple[Path, dict], warehouse_url: str
) -> None:
    folder, summary = instance
    result = load_dhis2(folder, warehouse_url)
    engine = wh.engine(warehouse_url)
    with engine.connect() as connection:
        count = {t.name: connection.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                 for t in wh.FACILITY_TABLES}  # fmt: skip
        v = wh.indicator_values
        facility = connection.execute(
            sa.select(sa.func.count()).select_from(v).where(v.c.source == "facility")
        ).scalar()
        levels = {r[0] for r in connection.execute(
            sa.select(v.c.org_unit_level).distinct().where(v.c.source == "facility"))}  # fmt: skip
    assert count["facilities"] == 1885 and count["climate_months"] == 54 * 30
    assert count["facility_months"] > 0.95 * 1885 * 30
    assert facility == result.facility_rows > 0 and levels == {0, 1, 2}
    account = result.accounting
    assert account["climate/district_months.csv"]["rows_rejected"] == 1
    loaded = sum(a.get("facility", {}).get("loaded", 0) for a in account.values())
    values = sum(a.get("facility", {}).get("values", 0) for a in account.values())
    assert values == summary["facility_values"] and loaded == values - 4
