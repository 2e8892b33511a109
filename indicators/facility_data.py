"""The facility environment data: what a facility reports each month, what is derived
from it, and the district-month climate inputs (issue 7, reference/climate.md).

One place for the column contract that the ETL fills (`etl.dhis2.facility`), the
indicator build computes from (`indicators.environment`), the warehouse stores
(`facilities`, `facility_months`, `climate_months`) and the Environment page reads
(`indicators.environment_views`). Option vocabularies follow the WHO HHFA-aligned Health
Facility Profile (HFP) items where one exists, with an added `autoclave` disposal option
(climate.md §1.4: the HHFA list has none).

Every reported column may be empty (a facility that left a question blank): an empty
answer is "not reported", never "no".
"""

from __future__ import annotations

import polars as pl

S, F, N, B = pl.String, pl.Float64, pl.Int64, pl.Boolean  # N: a whole number

# Facility attributes (from the DHIS2 metadata: the org unit, its district, its groups).
FACILITY_TYPES = ("hospital", "phc")
SETTINGS = ("urban", "rural")
FACILITIES: dict[str, pl.DataType] = {
    "facility": S,  # the DHIS2 org unit UID
    "name": S,
    "district": S,  # IQGnnQnn
    "adm1_code": S,  # IQGnn
    "facility_type": S,  # FACILITY_TYPES
    "setting": S,  # SETTINGS
    "immunizing": B,  # offers immunization (in the EPI data set)
    "lat": F,
    "lon": F,
}

# W1 (JMP core question): waste segregated into three labelled bins in the consultation area.
BINS = ("three_bins", "bins_incomplete", "no_bins")
# Final disposal of sharps / infectious waste (HFP_HHFA_1214 / 1216 options + autoclave).
DISPOSAL = (
    "autoclave",  # treated on site by autoclave / non-burn technology (added for Iraq)
    "incinerator_two_chamber",
    "incinerator_single_chamber",
    "open_burning_protected",  # burning in a pit or protected ground
    "open_burning_unprotected",
    "dump_unprotected",
    "dump_covered_pit",  # covered pit or pit latrine: not lined, unsafe [A]
    "dump_open_pit",
    "dump_protected",  # protected ground or pit: a lined, protected pit [A]
    "offsite_covered",
    "offsite_protected",
    "offsite_unprotected",
    "other",
    "never",  # never has this waste: out of the denominator
)
# HFP_HHFA_1207 main source and HFP_HHFA_1209 availability in the past 7 days.
POWER_SOURCES = ("grid", "generator", "solar", "other")
AVAILABILITY = ("always", "often", "sometimes")  # often: interruptions < 2 h a day

FACILITY_MONTHS: dict[str, pl.DataType] = {
    "facility": S,
    "period": S,  # DHIS2 month, YYYYMM
    # activity, for rates
    "beds": N,
    "occupied_bed_days": F,
    "outpatient_visits": F,
    "health_workers": F,
    # health-care waste
    "waste_general_kg": F,
    "waste_hazardous_kg": F,
    "bins": S,  # BINS
    "sharps_disposal": S,  # DISPOSAL
    "infectious_disposal": S,  # DISPOSAL
    "autoclave_functional": B,
    "incinerator_functional": B,
    "sharps_injuries": F,
    # energy
    "electricity": B,  # HFP_HHFA_1206: electricity from any source
    "main_power_source": S,  # POWER_SOURCES
    "backup_power": B,  # HFP_HHFA_1208
    "power_availability": S,  # AVAILABILITY
    "grid_hours": F,  # hours of grid supply in the month
    "outage_hours": F,  # hours without any power while open
    "generator_hours": F,
    "diesel_litres": F,
    "kwh_grid": F,
    "kwh_generator": F,
    "kwh_solar": F,
    "solar_kwp": F,  # installed PV capacity
    "vaccine_fridges": N,  # functional vaccine refrigerators
    "fridges_solar_direct": N,  # of which solar direct-drive
    # climate-sensitive conditions (new cases in the month)
    "cases_heat_illness": F,
    "cases_awd": F,  # acute watery diarrhoea
    "cases_cholera": F,  # suspected cholera
    "cases_respiratory": F,  # respiratory visits
    "cases_leishmaniasis": F,
}
REPORTED = tuple(c for c in FACILITY_MONTHS if c not in ("facility", "period"))
CASE_COLUMNS = tuple(c for c in FACILITY_MONTHS if c.startswith("cases_"))

# Derived per facility-month by `indicators.environment` and stored beside the reports.
HCWM_LEVELS = ("basic", "limited", "none")
ELECTRICITY_LEVELS = ("reliable", "unreliable", "none")
DERIVED: dict[str, pl.DataType] = {
    "segregation_ok": B,  # JMP wman_seg
    "treatment_ok": B,  # JMP wman_trd: sharps and infectious disposal both safe
    "hcwm_level": S,  # HCWM_LEVELS, empty when W1-W3 were not all reported
    "unsafe_disposal": B,  # open burning or dumping of sharps or infectious waste
    "electricity_level": S,  # ELECTRICITY_LEVELS
    "co2e_scope1_kg": F,  # diesel
    "co2e_scope2_kg": F,  # grid electricity
    "co2e_avoided_kg": F,  # by solar
    "fridges_reliable_power": N,  # vaccine fridges on reliable power (or solar direct-drive)
    "heat_stress": B,  # in a district under heat alert without reliable electricity
}
STORED_MONTHS: dict[str, pl.DataType] = {**FACILITY_MONTHS, **DERIVED}

# District-month climate inputs (a separate file; columns as Chap's, climate.md §3.6).
CLIMATE_MONTHS: dict[str, pl.DataType] = {
    "district": S,  # IQGnnQnn
    "period": S,  # YYYYMM
    "tmean": F,  # mean daily mean temperature, °C
    "tmax": F,  # mean daily maximum temperature, °C
    "tmax_peak": F,  # hottest day's maximum, °C
    "heatwave_days": N,  # days in a heatwave (definition: etl/climate.py)
    "dust_days": N,
    "population": N,  # district population, for cases per 10,000
}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)
