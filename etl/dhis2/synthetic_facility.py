"""Synthetic facility environment reports for the synthetic instance (`etl generate --dhis2`).

The instance's facilities get a type and a setting as DHIS2 org unit groups (MZ_FT_HOSPITAL
for about 10 %, the larger ones more often, MZ_FT_PHC; MZ_LOC_URBAN for 90 % of hospitals
and 55 % of PHC centres, MZ_LOC_RURAL) and report a second monthly data set,
MZ_FACILITY_MONTHLY, with one data element per `indicators.facility_data.FACILITY_MONTHS`
column (`MZ_FAC_<COLUMN>`: numbers NUMBER or INTEGER_ZERO_OR_POSITIVE, answers TEXT with an
option set whose codes are Mizan's vocabularies, yes/no BOOLEAN), in
`facility/facility_YYYYMM.json` for the EPI data's months. A facility reports in the months
it reports EPI doses. Calibration ([A] assumptions of climate.md §1.5, §2.6, §2.7, §4):

- hospitals: 20-800 beds (median 120), occupancy 60-80 %; hazardous waste lognormal, median
  0.7 kg per occupied bed-day (5-95 %: 0.3-1.6), general 1.2-1.8 kg per bed-day; PHC
  centres 0.03-0.08 kg hazardous per visit, 15-35 % of their waste hazardous;
- JMP waste ladder at the start: basic 32 / 25 % (hospitals urban / rural), 23 / 14 % (PHC
  urban / rural), so about 20 % basic, 34 % no service, segregation 55 %, safe treatment
  26 % (the 2017 baseline, §4.6); 6 % of facilities a year move up a level (a programme);
  open burning and dumping among the unsafe methods; 1 % of PHC centres "never" have
  infectious waste;
- grid hours a day: hospitals 16-22 in winter and 4-6 fewer in July-August, PHC centres
  10-18 and 4-8 fewer; south and centre 1-1.5 h fewer in summer, Kurdistan 3 h more;
  generators (hospitals 250-1,000 kVA, 60 % of PHC centres 20-60 kW, 25 % on a
  neighbourhood generator whose diesel is not theirs) cover most of the gap, with fuel
  shortages; diesel from §2.6's litres-per-hour table by size and load; solar PV in 5 % of
  PHC centres at the start and 15 % at the end (3-15 kWp, 3.5-6 kWh/kWp/day), each new
  system with a solar direct-drive vaccine fridge;
- cases per 10,000 a month (catchment = district population x the facility's share of the
  district's doses): heat illness 0.05 + 0.6 per heatwave day of the month; acute watery
  diarrhoea 25 + 0.8 and 0.5 per heatwave day one and two months before (so outbreaks
  follow heat, Aug-Oct); suspected cholera in a few district-years, September-December;
  respiratory visits 120 (more in winter) + 10 per dust day; cutaneous leishmaniasis
  0.16, peaking December-February, + 0.004 per heatwave day three and four months before.
  Every element has zeroIsSignificant, so a zero is written (DHIS2 stores no zero
  otherwise, and a missing count would read as "not reported").
- about 0.5 % of answers are left blank, and four bad values are injected in the last
  month: an unknown disposal option, a negative kg, grid hours above the month's hours, and
  a value for a district (not a facility).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from etl.dhis2.synthetic_climate import ZONE_OF, Climate
from indicators import facility_data as fd

DATA_SET_CODE = "MZ_FACILITY_MONTHLY"
GROUPS = {"MZ_FT_HOSPITAL": "Hospitals", "MZ_FT_PHC": "Primary health-care centres",
          "MZ_LOC_URBAN": "Urban facilities", "MZ_LOC_RURAL": "Rural facilities"}  # fmt: skip
OPTION_COLUMNS = {"bins": fd.BINS, "sharps_disposal": fd.DISPOSAL,
                  "infectious_disposal": fd.DISPOSAL, "main_power_source": fd.POWER_SOURCES,
                  "power_availability": fd.AVAILABILITY}  # fmt: skip
WHOLE = {"beds", "outpatient_visits", "health_workers", "sharps_injuries", "vaccine_fridges",
         "fridges_solar_direct", *fd.CASE_COLUMNS}  # fmt: skip
HOSPITAL_SHARE = 0.10
URBAN = (0.55, 0.90)  # PHC, hospital
BASIC = np.array([[0.14, 0.23], [0.25, 0.32]])  # [hospital][urban]
NO_SERVICE = np.array([[0.40, 0.31], [0.25, 0.18]])
UPGRADES_A_YEAR = 0.06
SAFE = {  # option -> weight, hospitals / PHC centres
    "hospital": {"autoclave": 0.20, "incinerator_two_chamber": 0.30,
                 "incinerator_single_chamber": 0.25, "offsite_covered": 0.20,
                 "open_burning_protected": 0.05},
    "phc": {"offsite_covered": 0.35, "offsite_protected": 0.10, "open_burning_protected": 0.20,
            "dump_protected": 0.20, "incinerator_single_chamber": 0.10, "autoclave": 0.05},
}  # fmt: skip
UNSAFE = {"open_burning_unprotected": 0.30, "dump_unprotected": 0.17, "dump_open_pit": 0.15,
          "dump_covered_pit": 0.15, "offsite_unprotected": 0.15, "other": 0.08}  # fmt: skip
# Summer stress on the grid by calendar month (1 in July-August), climate.md §2.7.
STRESS = np.array([0.0, 0.0, 0.05, 0.15, 0.4, 0.75, 1.0, 1.0, 0.7, 0.3, 0.05, 0.05])
ZONE_GRID = np.array([[0.0, -1.5], [0.0, -1.0], [0.5, 0.0], [3.0, 0.0]])  # [zone]: all year, summer
# Diesel generator litres per hour by rating (kW) and load (climate.md §2.6).
GEN_KW = np.array([20.0, 30, 60, 100, 200, 500, 1000])
GEN_LOAD = np.array([0.25, 0.5, 0.75, 1.0])
GEN_LPH = np.array([[2.3, 3.4, 4.9, 6.1], [4.9, 6.8, 9.1, 11.0], [6.8, 11.0, 14.4, 18.2],
                    [9.8, 15.5, 22.0, 28.0], [17.8, 29.1, 41.6, 54.5],
                    [41.6, 70.0, 99.9, 135.1], [81.8, 137.8, 197.2, 269.1]])  # fmt: skip
SOLAR = {"phc": (0.05, 0.10), "hospital": (0.02, 0.03)}  # share at the start, added by the end


@dataclass
class FacilitySet:
    """The facility data set's objects and every facility's type and setting."""

    groups: dict[str, str]  # code -> uid
    elements: dict[str, str]  # column -> uid
    option_sets: dict[str, str]  # column -> uid
    options: dict[tuple[str, str], str]  # (column, code) -> uid
    data_set: str
    hospital: np.ndarray
    urban: np.ndarray


def build(rng: np.random.Generator, new_uids: list[str], weights: np.ndarray) -> FacilitySet:
    """Uids (from `new_uids`, unused elsewhere) and facility types, larger ones hospitals."""
    n = len(weights)
    ids = iter(new_uids)
    hospital = np.zeros(n, bool)
    hospital[rng.choice(n, round(HOSPITAL_SHARE * n), replace=False, p=weights / weights.sum())] = 1
    urban = rng.random(n) < np.where(hospital, URBAN[1], URBAN[0])
    return FacilitySet(
        groups={code: next(ids) for code in GROUPS},
        elements={column: next(ids) for column in fd.REPORTED},
        option_sets={column: next(ids) for column in OPTION_COLUMNS},
        options={(c, o): next(ids) for c, vocab in OPTION_COLUMNS.items() for o in vocab},
        data_set=next(ids),
        hospital=hospital,
        urban=urban,
    )


def uid_count() -> int:
    return (
        len(GROUPS)
        + len(fd.REPORTED)
        + len(OPTION_COLUMNS)
        + 1
        + sum(len(v) for v in OPTION_COLUMNS.values())
    )


def _value_type(column: str) -> str:
    dtype = fd.FACILITY_MONTHS[column]
    if dtype == pl.Boolean:
        return "BOOLEAN"
    if dtype == pl.String:
        return "TEXT"
    return "INTEGER_ZERO_OR_POSITIVE" if dtype == pl.Int64 else "NUMBER"


def add_metadata(meta: dict, fs: FacilitySet, facility_uids: list[str]) -> None:
    """Groups, option sets, data elements and the data set, added to the instance's export;
    hospitals are named as such."""
    hospitals = {u for u, h in zip(facility_uids, fs.hospital, strict=True) if h}
    for unit in meta["organisationUnits"]:
        if unit["id"] in hospitals:
            unit["name"] = unit["name"].replace(" PHC ", " Hospital ")
            unit["shortName"] = unit["name"][:50]
    members = {
        "MZ_FT_HOSPITAL": fs.hospital, "MZ_FT_PHC": ~fs.hospital,
        "MZ_LOC_URBAN": fs.urban, "MZ_LOC_RURAL": ~fs.urban,
    }  # fmt: skip
    meta["organisationUnitGroups"] = [
        {"id": fs.groups[code], "code": code, "name": name, "shortName": name,
         "organisationUnits": [{"id": u} for u, m in zip(facility_uids, members[code],
                                                         strict=True) if m]}
        for code, name in GROUPS.items()
    ]  # fmt: skip
    meta["options"] = [
        {"id": uid, "code": code, "name": code.replace("_", " "),
         "optionSet": {"id": fs.option_sets[column]}}
        for (column, code), uid in fs.options.items()
    ]  # fmt: skip
    meta["optionSets"] = [
        {"id": uid, "code": f"MZ_OS_{column.upper()}", "name": f"FAC {column.replace('_', ' ')}",
         "valueType": "TEXT",
         "options": [{"id": fs.options[(column, o)]} for o in OPTION_COLUMNS[column]]}
        for column, uid in fs.option_sets.items()
    ]  # fmt: skip
    elements = []
    for column, uid in fs.elements.items():
        element = {
            "id": uid, "code": f"MZ_FAC_{column.upper()}",
            "name": f"FAC - {column.replace('_', ' ')}", "shortName": column[:50],
            "valueType": _value_type(column), "domainType": "AGGREGATE",
            "aggregationType": "SUM" if column not in OPTION_COLUMNS else "NONE",
            "zeroIsSignificant": True,
        }  # fmt: skip
        if column in OPTION_COLUMNS:
            element["optionSet"] = {"id": fs.option_sets[column]}
        elements.append(element)
    meta["dataElements"] += elements
    meta["dataSets"].append({
        "id": fs.data_set, "name": "Facility environment monthly report", "code": DATA_SET_CODE,
        "periodType": "Monthly", "timelyDays": 15, "expiryDays": 30, "openFuturePeriods": 0,
        "dataSetElements": [{"dataElement": {"id": e["id"]}} for e in elements],
        "organisationUnits": [{"id": u} for u in facility_uids],
    })  # fmt: skip


def mapping_section() -> str:
    """The instance mapping's `facility:` section, by codes."""
    elements = "\n".join(f"    {c}: MZ_FAC_{c.upper()}" for c in fd.REPORTED)
    return f"""facility:
  data_set: {DATA_SET_CODE}
  data_elements:
{elements}
  groups:
    hospital: [MZ_FT_HOSPITAL]
    phc: [MZ_FT_PHC]
    urban: [MZ_LOC_URBAN]
    rural: [MZ_LOC_RURAL]
  climate: ["climate/*.csv"]
"""


# --- the monthly reports --------------------------------------------------------------------


@dataclass
class Context:
    """What the reports depend on: facilities, months, the climate, who reported."""

    district: np.ndarray  # facility -> district index
    share: np.ndarray  # facility's share of its district's catchment
    months: list[tuple[int, int]]
    climate: Climate
    reported: np.ndarray  # facility x month
    codes: list[str]  # district codes


def _days(months: list[tuple[int, int]]) -> np.ndarray:
    from calendar import monthrange

    return np.array([monthrange(y, m)[1] for y, m in months], dtype=float)


def simulate(rng: np.random.Generator, fs: FacilitySet, ctx: Context) -> dict[str, np.ndarray]:
    """Facility x month arrays per FACILITY_MONTHS column: floats with NaN for no answer,
    answers as vocabulary indexes (-1 none), yes/no as 1/0 (-1 none)."""
    days = _days(ctx.months)[None, :]
    moy = np.array([mo for _, mo in ctx.months]) - 1
    hosp, urban = fs.hospital, fs.urban
    out: dict[str, np.ndarray] = {}
    occupied, visits = _activity(rng, out, hosp, urban, days, moy)
    _waste(rng, out, hosp, urban, occupied, visits, len(ctx.months))
    _energy(rng, out, hosp, urban, ctx, days, moy)
    _cases(rng, out, ctx, moy)
    _blank(rng, out, ctx.reported)
    return out


def _activity(rng: np.random.Generator, out: dict, hosp: np.ndarray, urban: np.ndarray,
              days: np.ndarray, moy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    n, m = len(hosp), days.shape[1]
    beds = np.where(hosp, np.clip(rng.lognormal(np.log(120), 0.6, n), 20, 800).round(), 0)
    occupancy = np.clip(rng.uniform(0.6, 0.8, n)[:, None] + rng.normal(0, 0.04, (n, m)), 0.3, 1)
    occupied = beds[:, None] * days * occupancy
    base = np.where(hosp, 6000, np.where(urban, 3200, 1500)) * rng.lognormal(0, 0.35, n)
    season = 1 + 0.12 * np.cos(2 * np.pi * moy / 12)
    visits = rng.poisson(base[:, None] * season[None, :] * rng.lognormal(0, 0.08, (n, m)))
    workers = np.where(hosp, beds * rng.uniform(1.8, 3.0, n),
                       rng.uniform(12, 40, n) * np.where(urban, 1.3, 1.0)).round()  # fmt: skip
    nan = np.full((n, m), np.nan)
    out["beds"] = np.where(hosp[:, None], np.repeat(beds[:, None], m, axis=1), nan)
    out["occupied_bed_days"] = np.where(hosp[:, None], occupied.round(), nan)
    out["outpatient_visits"] = visits.astype(float)
    out["health_workers"] = np.repeat(workers[:, None], m, axis=1)
    return occupied, visits.astype(float)


def _pick(rng: np.random.Generator, weights: dict[str, float], size: int) -> np.ndarray:
    """Vocabulary indexes (of DISPOSAL) drawn by weight."""
    codes = list(weights)
    p = np.array(list(weights.values()))
    index = np.array([fd.DISPOSAL.index(c) for c in codes])
    return index[rng.choice(len(codes), size, p=p / p.sum())]


def _answers(rng: np.random.Generator, level: np.ndarray, hosp: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Bins, sharps and infectious disposal consistent with a JMP level (0 basic, 1 limited,
    2 no service): limited is 77 % bins with unsafe treatment, 12 % safe treatment without
    three bins, 11 % neither."""
    n = len(level)
    safe = np.where(hosp, _pick(rng, SAFE["hospital"], n), _pick(rng, SAFE["phc"], n))
    safe2 = np.where(hosp, _pick(rng, SAFE["hospital"], n), _pick(rng, SAFE["phc"], n))
    unsafe = _pick(rng, UNSAFE, n)
    same = rng.random(n) < 0.7
    u = rng.random(n)
    three, incomplete, none = (fd.BINS.index(b) for b in fd.BINS)
    treat_ok = (level == 0) | ((level == 1) & (u >= 0.77) & (u < 0.89))
    bins = np.select(
        [level == 0, level == 2, u < 0.77, rng.random(n) < 0.7],
        [three, none, three, incomplete], default=none,
    )  # fmt: skip
    bins = np.where((level == 1) & (u >= 0.89), incomplete, bins)
    sharps = np.where(treat_ok, safe, unsafe)
    infectious = np.where(treat_ok, np.where(same, safe, safe2), np.where(same, unsafe, safe2))
    return bins, sharps, infectious


def _waste(rng: np.random.Generator, out: dict, hosp: np.ndarray, urban: np.ndarray,
           occupied: np.ndarray, visits: np.ndarray, m: int) -> None:  # fmt: skip
    n = len(hosp)
    haz_rate = rng.lognormal(np.log(0.7), 0.5, n)
    general_rate = rng.uniform(1.2, 1.8, n) * np.sqrt(haz_rate / 0.7)
    per_visit, share = rng.uniform(0.03, 0.08, n), rng.uniform(0.15, 0.35, n)
    noise = rng.lognormal(0, 0.1, (n, m))
    haz = np.where(hosp[:, None], occupied * haz_rate[:, None], visits * per_visit[:, None])
    haz = haz * noise
    general = np.where(hosp[:, None], occupied * general_rate[:, None],
                       haz * (1 / share - 1)[:, None]) * rng.lognormal(0, 0.08, (n, m))  # fmt: skip
    out["waste_hazardous_kg"] = haz.round(1)
    out["waste_general_kg"] = general.round(1)
    cell = (hosp.astype(int), urban.astype(int))
    u = rng.random(n)
    start = np.where(u < BASIC[cell], 0, np.where(u < BASIC[cell] + NO_SERVICE[cell], 2, 1))
    years = m / 12
    upgrade = np.where((start > 0) & (rng.random(n) < UPGRADES_A_YEAR * years),
                       rng.integers(1, max(2, m), n), m + 1)  # fmt: skip
    before = _answers(rng, start, hosp)
    after = _answers(rng, np.maximum(start - 1, 0), hosp)
    moved = np.arange(m)[None, :] >= upgrade[:, None]
    bins, sharps, infectious = (np.where(moved, a[:, None], b[:, None])
                                for b, a in zip(before, after, strict=True))  # fmt: skip
    never = (~hosp) & (rng.random(n) < 0.01)
    infectious = np.where(never[:, None], fd.DISPOSAL.index("never"), infectious)
    out["bins"], out["sharps_disposal"], out["infectious_disposal"] = bins, sharps, infectious
    autoclave = fd.DISPOSAL.index("autoclave")
    incinerators = [fd.DISPOSAL.index(c) for c in ("incinerator_two_chamber",
                                                   "incinerator_single_chamber")]  # fmt: skip
    uses_autoclave = (sharps == autoclave) | (infectious == autoclave)
    has_autoclave = rng.random(n) < np.where(hosp, 0.6, 0.15)
    uses_incinerator = np.isin(sharps, incinerators) | np.isin(infectious, incinerators)
    working = rng.random((n, m))
    out["autoclave_functional"] = (uses_autoclave | has_autoclave[:, None]) & (working > 0.05)
    out["incinerator_functional"] = (uses_incinerator | (hosp & (rng.random(n) < 0.1))[:, None]
                                     ) & (rng.random((n, m)) > 0.08)  # fmt: skip
    workers = out["health_workers"]
    rate = 0.02 / 12 * np.where(bins == fd.BINS.index("three_bins"), 1.0, 1.6)
    out["sharps_injuries"] = rng.poisson(workers * rate).astype(float)


def litres_per_hour(kw: np.ndarray, load: np.ndarray) -> np.ndarray:
    """Diesel use of generators rated `kw` at a load fraction, from the §2.6 table
    (bilinear in rating and load; proportional to the rating outside the table)."""
    per_kw = np.stack([np.interp(load, GEN_LOAD, row) for row in GEN_LPH]) / GEN_KW[:, None]
    i = np.clip(np.searchsorted(GEN_KW, kw) - 1, 0, len(GEN_KW) - 2)
    w = np.clip((kw - GEN_KW[i]) / (GEN_KW[i + 1] - GEN_KW[i]), 0, 1)
    columns = np.arange(len(kw))
    return (per_kw[i, columns] * (1 - w) + per_kw[i + 1, columns] * w) * kw


def _energy(rng: np.random.Generator, out: dict, hosp: np.ndarray, urban: np.ndarray,
            ctx: Context, days: np.ndarray, moy: np.ndarray) -> None:  # fmt: skip
    n, m = len(hosp), len(moy)
    zone = np.array([ZONE_OF.get(code[:5], 1) for code in ctx.codes])[ctx.district]
    stress = STRESS[moy][None, :]
    winter = np.where(hosp, rng.uniform(16, 22, n), rng.uniform(10, 18, n))
    summer = winter - np.where(hosp, rng.uniform(4, 6, n), rng.uniform(4, 8, n))
    per_day = (winter[:, None] - (winter - summer)[:, None] * stress
               + ZONE_GRID[zone, 0][:, None] + ZONE_GRID[zone, 1][:, None] * stress
               + rng.normal(0, 1.0, (n, m)))  # fmt: skip
    no_power = (~hosp) & (~urban) & (rng.random(n) < 0.012)
    per_day = np.where(no_power[:, None], 0.0, np.clip(per_day, 1.0, 24.0))
    open_hours = np.where(hosp, 24.0, 8.0)[:, None]
    open_days = np.where(hosp[:, None], days, np.round(days * 6 / 7))
    gap = open_days * open_hours * (1 - per_day / 24)
    # generators: own (hospitals, 60 % of PHC centres) or a neighbourhood subscription
    kind = np.where(hosp, 0, rng.choice(3, n, p=[0.6, 0.25, 0.15]))  # 0 own, 1 shared, 2 none
    kind = np.where(hosp & (rng.random(n) < 0.02), 2, kind)
    kind = np.where(no_power, 2, kind)
    gen_kw = np.where(hosp, rng.uniform(250, 1000, n) * 0.8, rng.uniform(20, 60, n))
    solar_kwp, sdd = _solar(rng, hosp, no_power, m)
    cover = np.where(solar_kwp > 0, np.where(hosp, 0.05, 0.4)[:, None], 0.0)
    fuel = np.where(hosp[:, None], rng.uniform(0.9, 1.0, (n, m)), rng.uniform(0.5, 1.0, (n, m)))
    fuel = np.clip(fuel - 0.1 * stress, 0, 1)  # fuel shortages, worse in summer
    gen_hours = np.where(kind[:, None] < 2, gap * (1 - cover) * fuel, 0.0)
    outage = np.maximum(gap * (1 - cover) - gen_hours, 0.0)
    demand = np.where(hosp, out["beds"][:, 0] * rng.uniform(1.0, 1.6, n),
                      rng.uniform(6, 20, n))[:, None] * (1 + 0.4 * stress)  # fmt: skip
    demand = np.nan_to_num(demand)
    open_share = open_hours / 24
    grid_hours = per_day * days
    grid_kw = np.where(hosp[:, None], demand, open_share * demand + (1 - open_share) * 1.5)
    load_kw = np.minimum(demand, gen_kw[:, None] * 0.9)
    load = (load_kw / gen_kw[:, None]).ravel()
    lph = litres_per_hour(np.repeat(gen_kw, m), load).reshape(n, m)
    yield_ = 4.75 + 1.25 * np.cos(2 * np.pi * (moy - 6.5) / 12)[None, :]
    kwh_solar = solar_kwp * days * yield_ * rng.uniform(0.85, 1.0, (n, m))
    kwh_grid, kwh_gen = grid_hours * grid_kw, gen_hours * load_kw
    electricity = ~no_power
    outage_a_day = outage / open_days
    availability = np.select([outage_a_day < 0.25, outage_a_day < 2], [0, 1], default=2)
    source = np.argmax(np.stack([kwh_grid, kwh_gen, kwh_solar]), axis=0)
    out["electricity"] = np.repeat(electricity[:, None], m, axis=1)
    out["main_power_source"] = np.where(electricity[:, None], source, -1)
    out["backup_power"] = np.where(electricity[:, None], (kind[:, None] < 2) | (solar_kwp > 0), -1)
    out["power_availability"] = np.where(electricity[:, None], availability, -1)
    out["grid_hours"] = grid_hours.round(1)
    out["outage_hours"] = outage.round(1)
    out["generator_hours"] = gen_hours.round(1)
    out["diesel_litres"] = np.where(kind[:, None] == 0, gen_hours * lph, 0.0).round(1)
    out["kwh_grid"], out["kwh_generator"] = kwh_grid.round(1), kwh_gen.round(1)
    out["kwh_solar"], out["solar_kwp"] = kwh_solar.round(1), solar_kwp.round(1) + 0 * days
    fridges = np.where(hosp, rng.integers(2, 5, n), np.where(urban, rng.integers(1, 3, n), 1))
    broken = rng.random((n, m)) < 0.03
    out["vaccine_fridges"] = (fridges[:, None] - broken).astype(float)
    out["fridges_solar_direct"] = np.minimum(sdd, out["vaccine_fridges"])


def _solar(rng: np.random.Generator, hosp: np.ndarray, no_power: np.ndarray, m: int
           ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Installed kWp (facility x month) and solar direct-drive fridges, adoption growing."""
    n = len(hosp)
    start, added = (np.where(hosp, SOLAR["hospital"][i], SOLAR["phc"][i]) for i in (0, 1))
    u = rng.random(n)
    later = ((u - start) / added * m).astype(int)
    month = np.where(u < start, 0, np.where(u < start + added, later, m + 1))
    month = np.where(no_power, m + 1, month)
    kwp = np.where(hosp, rng.uniform(50, 200, n), rng.uniform(3, 15, n))
    installed = np.arange(m)[None, :] >= month[:, None]
    kwp_months = np.where(installed, kwp[:, None], 0.0)
    direct = (~hosp) & (rng.random(n) < 0.04)
    sdd = (installed & ~hosp[:, None]) | direct[:, None]
    return kwp_months, sdd.astype(float)


def _lag(values: np.ndarray, months: int) -> np.ndarray:
    """District x month values `months` earlier (0 before the window)."""
    shifted = np.zeros_like(values, dtype=float)
    shifted[:, months:] = values[:, : values.shape[1] - months]
    return shifted


def _cases(rng: np.random.Generator, out: dict, ctx: Context, moy: np.ndarray) -> None:
    climate = ctx.climate
    hw = climate.heatwave_days.astype(float)
    zone = np.array([ZONE_OF.get(code[:5], 1) for code in ctx.codes])
    winter = np.cos(2 * np.pi * moy / 12)[None, :]  # 1 in January
    n_d, m = hw.shape
    years = np.array([y for y, _ in ctx.months])
    outbreak = np.zeros((n_d, m))
    for year in np.unique(years):
        hit = rng.random(n_d) < np.where(zone == 3, 0.03, 0.08)
        months = np.flatnonzero((years == year) & (moy >= 8))  # September-December
        shape = np.array([0.6, 1.0, 0.7, 0.3])[moy[months] - 8]
        outbreak[np.ix_(hit, months)] = rng.uniform(0.3, 2.0, (hit.sum(), 1)) * shape
    rates = {  # per 10,000 a month
        # hot days bring some heat illness every summer; heatwaves bring most of it
        "cases_heat_illness": 0.05 + 0.08 * np.maximum(climate.tmax - 38, 0) ** 1.5 + 0.6 * hw,
        "cases_awd": 25 + 0.8 * _lag(hw, 1) + 0.5 * _lag(hw, 2),
        "cases_cholera": 0.005 + outbreak * (1 + 0.02 * (_lag(hw, 1) + _lag(hw, 2))),
        "cases_respiratory": 120 * (1 + 0.25 * winter) + 10 * climate.dust_days,
        "cases_leishmaniasis": np.array([1.3, 1.3, 1.0, 0.3])[zone][:, None] * 0.16
        * (1 + 0.9 * winter) + 0.004 * (_lag(hw, 3) + _lag(hw, 4)),
    }  # fmt: skip
    catchment = climate.population[ctx.district] * ctx.share / 10_000
    pull = rng.gamma(4.0, 0.25, len(ctx.district))
    for column, rate in rates.items():
        out[column] = rng.poisson(rate[ctx.district] * (catchment * pull)[:, None]).astype(float)


def _blank(rng: np.random.Generator, out: dict, reported: np.ndarray) -> None:
    """No answers in months without a report; about 0.5 % of answers left blank."""
    for column, values in out.items():
        blank = ~reported | (rng.random(reported.shape) < 0.005)
        if values.dtype.kind == "f":
            out[column] = np.where(blank, np.nan, values)
        else:
            out[column] = np.where(blank, -1, values.astype(np.int64))


# --- writing --------------------------------------------------------------------------------


def value_rows(fs: FacilitySet, values: dict[str, np.ndarray], facility_uids: list[str]
               ) -> pl.DataFrame:  # fmt: skip
    """One row per answer (month index, org unit, data element, value text), by month."""
    n, m = next(iter(values.values())).shape
    columns = {"f": np.repeat(np.arange(n), m), "month": np.tile(np.arange(m), n)}
    for column in fd.REPORTED:
        array = values[column].ravel()
        if column in OPTION_COLUMNS or fd.FACILITY_MONTHS[column] == pl.Boolean:
            words = OPTION_COLUMNS.get(column, ("false", "true"))
            text = pl.Series(np.array([*words, None], dtype=object)[array], dtype=pl.String)
        else:
            number = pl.Series(array).fill_nan(None)
            text = (number.cast(pl.Int64) if column in WHOLE else number).cast(pl.String)
        columns[fs.elements[column]] = text
    wide = pl.DataFrame(columns)
    long = wide.unpivot(index=["f", "month"], variable_name="dataElement").drop_nulls("value")
    long = long.sort("month", maintain_order=True)
    return long.select(
        pl.col("month").cast(pl.Int32),
        pl.Series("orgUnit", facility_uids).gather(long["f"]),
        "dataElement",
        "value",
    )


def spoil(rows: pl.DataFrame, fs: FacilitySet, district_uid: str, month: int) -> pl.DataFrame:
    """The four bad values of `month` (see the module docstring)."""
    picks = (("sharps_disposal", "burned"), ("waste_general_kg", "-12.5"), ("grid_hours", "900"))
    rows = rows.with_row_index("_i")
    value = pl.col("value")
    for offset, (column, bad) in enumerate(picks):
        hits = rows.filter(pl.col("month") == month, pl.col("dataElement") == fs.elements[column])
        if hits.height > offset:
            value = pl.when(pl.col("_i") == hits["_i"][offset]).then(pl.lit(bad)).otherwise(value)
    rows = rows.with_columns(value.alias("value")).drop("_i")
    extra = pl.DataFrame({"month": [month], "orgUnit": [district_uid],
                          "dataElement": [fs.elements["waste_hazardous_kg"]], "value": ["40"]},
                         schema=rows.schema)  # fmt: skip
    return pl.concat([rows, extra])


def write_values(out: Path, rows: pl.DataFrame, data_set: str, periods: list[str]
                 ) -> dict[str, int]:  # fmt: skip
    """facility/facility_YYYYMM.json, one data value set per month."""
    folder = out / "facility"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("facility_*"):
        stale.unlink()
    written = {}
    for (month,), part in rows.partition_by("month", as_dict=True, maintain_order=True).items():
        period = periods[int(month)]
        path = folder / f"facility_{period}.json"
        frame = part.drop("month")
        head = json.dumps({"dataSet": data_set, "period": period})[:-1]
        path.write_text(f'{head}, "dataValues": {frame.write_json()}}}\n', encoding="utf-8")
        written[f"facility/{path.name}"] = frame.height
    return written
