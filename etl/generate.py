"""A synthetic national registry export (spec/registry-export.md) for demos, tests and load tests.

Iraq has no open child-level immunisation data, so the platform is built and demonstrated on
a registry this module invents. It must look like the real thing where analysts will look
(coverage by governorate, district, sex and disability; timeliness; dropout; dirty rows), stay
exactly reproducible from a seed, and scale to a national five-year registry (5.5 M children,
about 60 M doses) on a small server. Hence everything is vectorised numpy/polars, children are
generated in chunks with one random stream per chunk, and each chunk is appended to the output
as soon as it exists, so memory stays bounded by the chunk size whatever the total.

Calibration (synthetic assumptions; sources in ../shared/reference/equity.md §4 and §2),
as measured on 500,000 children, coverage by 12 months (ever in brackets): BCG 96 %, HepB
birth dose 46 % (WUENIC 47-51 %), Penta1 90 % (90), Penta3 82 % (86), dropout 9 %
(WUENIC 2019-2024: DTP1 89-93, DTP3 74-93), MCV1 81 % (89), MCV2 by 24 months 74 %, PCV3 55 %
and Rota2 56 % (facility and national stock-outs, §4.1); KRI governorates ≈ 89-90 % Penta3
and Ninewa, Anbar, Salah al-Din ≈ 72-74 % (§4.2 synthetic assumptions); children with a
functional difficulty (5 %, UNICEF global 0-4: 4.3 %, §2.2) ≈ 10 pp lower Penta3, 7-8 pp lower
MCV1; girls 0.5 pp below boys (within ±3 pp); 1.7 % of children die before five.

Output types: CSV holds plain `YYYY-MM-DD` strings. In Parquet, `children.birth_date` is a
string (it must be able to carry impossible dates such as `2023-02-30`); every other date is
a typed Parquet DATE, which keeps the 60 M-row dose file small and fast to write and read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from etl.dhis2 import synthetic
from indicators import geography

DEFAULT_AS_OF = date(2026, 6, 30)
CSV_LIMIT = 1_000_000  # fmt="auto": CSV below this many children, Parquet from there
CHUNK = 250_000  # children per chunk: bounds memory (~1 GB peak) whatever the total
YEARS = 5  # births spread over the five years ending at as_of (an under-five registry)
EPOCH = date(1970, 1, 1)
MISSING = np.iinfo(np.int32).min

# The default schedule (spec/registry-export.md, etl/schedule.toml): code → due age in days.
DUE_DAYS = {
    "BCG": 0, "HEPB0": 0, "OPV0": 0,
    "PENTA1": 61, "OPV1": 61, "PCV1": 61, "ROTA1": 61,
    "PENTA2": 122, "OPV2": 122, "PCV2": 122, "ROTA2": 122,
    "PENTA3": 183, "OPV3": 183, "PCV3": 183, "IPV1": 183,
    "MCV1": 274,
    "MCV2": 548,
}  # fmt: skip
VACCINES = tuple(DUE_DAYS)
COL = {code: i for i, code in enumerate(VACCINES)}
# Contact (visit) at which each dose is given: 0 birth, 1-3 the 2/4/6-month visits, 4 MCV1, 5 MCV2.
VISIT_OF = np.array([{0: 0, 61: 1, 122: 2, 183: 3, 274: 4, 548: 5}[d] for d in DUE_DAYS.values()])
BAD_VACCINES = ("PENTA4", "OPV5", "MMR1", "HPV1")  # codes no schedule of ours has

GOVERNORATE_CODES = tuple(row[0] for row in geography.GOVERNORATES)
# Governorate effect on the logit of every contact. Synthetic (equity.md §4.2 [U]): KRI higher
# (MICS 2006: DPT3 65.7 % KRI vs 54.9 % national), post-conflict governorates lowest, parts of
# Diyala and Kirkuk low, the poorer South slightly low, Baghdad and the shrine cities slightly high.
GOVERNORATE_EFFECT = {
    "IQG09": 1.0, "IQG11": 0.9, "IQG06": 0.8,  # Duhok, Erbil, Sulaymaniyah (KRI)
    "IQG15": -0.9, "IQG01": -0.75, "IQG16": -0.7,  # Ninewa, Anbar, Salah al-Din
    "IQG10": -0.35, "IQG13": -0.3,  # Diyala, Kirkuk
    "IQG14": -0.2, "IQG03": -0.2, "IQG17": -0.15,  # Maysan, Muthanna, Dhi Qar
    "IQG08": 0.1, "IQG04": 0.1, "IQG12": 0.15,  # Baghdad, Najaf, Karbala
}  # fmt: skip
DISTRICT_SD = 0.35  # district random effect (logit): district coverage spreads by ~5-10 pp
CHILD_SD = 1.0  # child random effect (logit): shared by all contacts, so misses cluster
DISABILITY_EFFECT = (0.0, -0.8, -0.2)  # no / yes / unknown: yes ≈ 10 pp lower Penta3, MCV1
SEX_EFFECT = (-0.04, 0.0, 0.0, 0.0)  # F / M / U / empty: girls < 1 pp lower (gap within ±3 pp)
FACILITIES = 2_700  # primary health-care centres nationally (order of magnitude, synthetic)

# Contact model: logit intercept, mean delay (days, times a child's timeliness factor), share
# given late as catch-up. Intercepts were tuned on 1 M children to the national targets above.
BIRTH_INTERCEPT = 3.3
SERIES = ((2.9, 16.0, 0.02), (3.55, 18.0, 0.04), (3.65, 20.0, 0.05))  # 2, 4, 6 months
MCV1_MODEL = (3.6, 14.0, 0.04)
MCV2_MODEL = (2.3, 40.0, 0.06)
GAP_PENALTY = 4.0  # a contact without the previous one (out-of-series dose) is rare
CATCHUP_MIN, CATCHUP_MEAN = 30.0, 240.0  # catch-up doses: 1 month to years late
TIMELINESS_SD = 0.6  # child timeliness factor: lognormal
PCV_AVAILABILITY = (4.0, 1.3)  # Beta per facility: mean ≈ 0.75 (PCV stock-outs 2018-2022)
ROTA_AVAILABILITY = (3.0, 1.3)  # Beta per facility: mean ≈ 0.70 (Rota stock-outs 2018-2019)
ROTA_MAX_AGE = 240  # days; no Rota dose after 8 months
# National stock-out windows (synthetic dates): most doses due in the window are not given.
STOCKOUTS = (("PCV", date(2022, 4, 1), date(2022, 9, 30), 0.85),
             ("ROTA", date(2024, 10, 1), date(2024, 12, 31), 0.8))  # fmt: skip
DEATH_RISK = 0.02  # under-five deaths among registered children (Iraq U5MR ≈ 25 per 1,000)

# Deliberately bad rows: the share of rows of each kind (about 0.3 % of rows in all).
CHILD_BAD_RATE = 0.0005
CHILD_BAD_KINDS = (
    "duplicate_health_id",  # a second row for an existing child (the first row is loaded)
    "unknown_district",  # adm2_code truncated (IQG08Q0): not a district code
    "district_outside_governorate",  # adm2_code of a district of another governorate
    "impossible_birth_date",  # 2023-02-30, 2024-04-31 ...
    "birth_after_as_of",
    "invalid_sex",  # X or 9
)
DOSE_BAD_RATE = 0.0005
DOSE_BAD_KINDS = (
    "unknown_vaccine",  # PENTA4, MMR1 ...
    "dose_before_birth",
    "dose_after_as_of",
    "unknown_child",  # a health_id not in children
    "duplicate_dose",  # same child and vaccine again, a later date (a duplicate, not an error)
)
IMPOSSIBLE_DAYS = ("02-30", "02-31", "04-31", "06-31", "09-31", "11-31")
UID_FIRST = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)
UID_REST = np.frombuffer(b"0123456789" + UID_FIRST.tobytes(), np.uint8)
ID_MULTIPLIER, ID_SPACE = 2_654_435_761, 10**10  # coprime: index → ID is a bijection

CHILD_SCHEMA = pa.schema(
    [("health_id", pa.string()), ("birth_date", pa.string()), ("registration_date", pa.date32()),
     ("sex", pa.string()), ("disability", pa.string()), ("adm1_code", pa.string()),
     ("adm2_code", pa.string()), ("settlement_id", pa.string()), ("facility_id", pa.string()),
     ("death_date", pa.date32())]
)  # fmt: skip
DOSE_SCHEMA = pa.schema(
    [("health_id", pa.string()), ("vaccine", pa.string()), ("dose_date", pa.date32()),
     ("facility_id", pa.string())]
)  # fmt: skip


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _day(value: date) -> int:
    return (value - EPOCH).days


# --- geography: fixed for a seed, shared by all chunks -----------------------------------


@dataclass(frozen=True)
class Geography:
    """Districts, facilities and settlements with their weights and effects (index arrays)."""

    district_codes: pl.Series
    district_gov: np.ndarray
    district_effect: np.ndarray
    gov_first_district: np.ndarray
    gov_districts: np.ndarray
    facility_uids: pl.Series  # with a null appended: index -1 → null
    district_first_facility: np.ndarray
    district_facilities: np.ndarray
    facility_pcv: np.ndarray
    facility_rota: np.ndarray
    settlement_ids: pl.Series
    settlement_p: np.ndarray
    settlement_district: np.ndarray
    settlement_facility: np.ndarray


def _district_list() -> list[tuple[str, str]]:
    """(district, governorate) pairs from the boundary pack, or 3 synthetic ones each without."""
    known = geography.districts()
    if known:
        return sorted(known.items(), key=lambda pair: (pair[1], pair[0]))
    return [(f"{gov}Q{q:02d}", gov) for gov in GOVERNORATE_CODES for q in (1, 2, 3)]


def _governorate_weights() -> np.ndarray:
    """Birth shares by population (equal births per head, equity.md §4.3); equal without pack."""
    frame = geography.populations()
    if frame is None:
        return np.full(len(GOVERNORATE_CODES), 1 / len(GOVERNORATE_CODES))
    population = dict(zip(frame["adm1_code"], frame["population"], strict=True))
    weights = np.array([population.get(code, 0) for code in GOVERNORATE_CODES], dtype=float)
    weights[weights <= 0] = weights[weights > 0].mean()
    return weights / weights.sum()


def _uids(rng: np.random.Generator, n: int) -> list[str]:
    """DHIS2-style UIDs: 11 characters, a letter then letters or digits, unique."""
    while True:
        chars = np.column_stack([rng.choice(UID_FIRST, n), rng.choice(UID_REST, (n, 10))])
        uids = np.ascontiguousarray(chars, dtype=np.uint8).view("S11").ravel().astype(str)
        if len(np.unique(uids)) == n:
            return uids.tolist()


def _first_and_count(groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Start offset and size of each group in an array sorted by group."""
    counts = np.bincount(groups, minlength=n_groups)
    return np.cumsum(counts) - counts, counts


def build_geography(seed: int) -> Geography:
    """Districts with a random effect, facilities with UIDs, settlements with population weights."""
    rng = np.random.default_rng([seed, 0])
    pairs = _district_list()
    gov_index = {code: i for i, code in enumerate(GOVERNORATE_CODES)}
    district_gov = np.array([gov_index[gov] for _, gov in pairs])
    n_gov, n_district = len(GOVERNORATE_CODES), len(pairs)
    raw = rng.lognormal(0.0, 0.6, n_district)
    share = raw / np.bincount(district_gov, raw, n_gov)[district_gov]
    share *= _governorate_weights()[district_gov]
    effect = rng.normal(0.0, DISTRICT_SD, n_district)

    n_facilities = np.maximum(3, np.rint(FACILITIES * share)).astype(np.int64)
    facility_district = np.repeat(np.arange(n_district), n_facilities)
    n_settlements = rng.integers(2, 8, len(facility_district))
    settlement_facility = np.repeat(np.arange(len(facility_district)), n_settlements)
    settlement_district = facility_district[settlement_facility]
    weight = rng.lognormal(0.0, 0.8, len(settlement_facility))
    weight /= np.bincount(settlement_district, weight, n_district)[settlement_district]
    first_settlement, _ = _first_and_count(settlement_district, n_district)
    local = np.arange(len(settlement_district)) - first_settlement[settlement_district] + 1

    codes = pl.Series([code for code, _ in pairs])
    numbers = pl.Series(local).cast(pl.String).str.zfill(3)
    gov_first, gov_count = _first_and_count(district_gov, n_gov)
    fac_first, fac_count = _first_and_count(facility_district, n_district)
    return Geography(
        district_codes=codes,
        district_gov=district_gov,
        district_effect=effect,
        gov_first_district=gov_first,
        gov_districts=gov_count,
        facility_uids=pl.Series([*_uids(rng, len(facility_district)), None], dtype=pl.String),
        district_first_facility=fac_first,
        district_facilities=fac_count,
        facility_pcv=rng.beta(*PCV_AVAILABILITY, len(facility_district)),
        facility_rota=rng.beta(*ROTA_AVAILABILITY, len(facility_district)),
        settlement_ids=codes.gather(settlement_district) + "S" + numbers,
        settlement_p=weight * share[settlement_district],
        settlement_district=settlement_district,
        settlement_facility=settlement_facility,
    )


# --- one chunk of children ---------------------------------------------------------------


@dataclass
class Children:
    """One chunk of children as index arrays (dates in days since 1970, MISSING when empty)."""

    number: np.ndarray  # global child number 0..N-1: the health ID is derived from it
    birth: np.ndarray
    registration: np.ndarray
    death: np.ndarray
    sex: np.ndarray  # 0 F, 1 M, 2 U, 3 empty
    disability: np.ndarray  # 0 no, 1 yes, 2 unknown (empty)
    settlement: np.ndarray
    district: np.ndarray
    facility: np.ndarray

    def __len__(self) -> int:
        return len(self.number)


def health_ids(numbers: np.ndarray, seed: int) -> pl.Series:
    """`IQ` + 10 digits, a seed-dependent bijection of the child number (unique, not sequential)."""
    offset = int(np.random.default_rng([seed, 2]).integers(0, ID_SPACE))
    scrambled = (numbers.astype(np.int64) * ID_MULTIPLIER + offset) % ID_SPACE
    return "IQ" + pl.Series(scrambled).cast(pl.String).str.zfill(10)


def _first_birth_day(as_of: date) -> int:
    """The day after as_of minus YEARS years: the registry holds the under-fives."""
    day = 28 if (as_of.month, as_of.day) == (2, 29) else as_of.day
    return _day(as_of.replace(year=as_of.year - YEARS, day=day)) + 1


def _children(
    rng: np.random.Generator, geo: Geography, start: int, n: int, as_of: date
) -> Children:
    """Births over the five years to as_of, residence by population, sex, disability, deaths."""
    end = _day(as_of)
    birth = rng.integers(_first_birth_day(as_of), end + 1, n).astype(np.int32)
    u = rng.random(n)
    sex = np.where(u < 0.0025, 2, np.where(u < 0.005, 3, np.where(rng.random(n) < 105 / 205, 1, 0)))
    u = rng.random(n)
    disability = np.where(u < 0.05, 1, np.where(u < 0.08, 2, 0))
    settlement = rng.choice(len(geo.settlement_p), n, p=geo.settlement_p)
    return Children(
        number=np.arange(start, start + n, dtype=np.int64),
        birth=birth,
        registration=_registration(rng, birth, end),
        death=_death(rng, birth, end),
        sex=sex.astype(np.int8),
        disability=disability.astype(np.int8),
        settlement=settlement,
        district=geo.settlement_district[settlement],
        facility=geo.settlement_facility[settlement],
    )


def _registration(rng: np.random.Generator, birth: np.ndarray, end: int) -> np.ndarray:
    """85 % within a month of birth, 12 % late (months), 3 % never; none after as_of."""
    n = len(birth)
    u = rng.random(n)
    delay = np.where(u < 0.85, rng.exponential(6.0, n), 31 + rng.exponential(150.0, n))
    when = birth + delay.astype(np.int32)
    return np.where((u >= 0.97) | (when > end), MISSING, when).astype(np.int32)


def _death(rng: np.random.Generator, birth: np.ndarray, end: int) -> np.ndarray:
    """Half of under-five deaths neonatal, 30 % later in infancy, 20 % at 1-4 years."""
    n = len(birth)
    u = rng.random(n) / DEATH_RISK
    age = np.select(
        [u < 0.5, u < 0.8],
        [np.minimum(rng.exponential(5.0, n), 27), rng.uniform(28, 365, n)],
        rng.uniform(365, 5 * 365, n),
    )
    when = birth + age.astype(np.int32)
    return np.where((u < 1) & (when <= end), when, MISSING).astype(np.int32)


# --- doses -------------------------------------------------------------------------------


def _propensity(rng: np.random.Generator, geo: Geography, kids: Children) -> np.ndarray:
    """Each child's logit-scale propensity to be brought for vaccination."""
    gov_effect = np.array([GOVERNORATE_EFFECT.get(code, 0.0) for code in GOVERNORATE_CODES])
    return (
        gov_effect[geo.district_gov[kids.district]]
        + geo.district_effect[kids.district]
        + np.asarray(DISABILITY_EFFECT)[kids.disability]
        + np.asarray(SEX_EFFECT)[kids.sex]
        + rng.normal(0.0, CHILD_SD, len(kids))
    )


def _delay(
    rng: np.random.Generator, timeliness: np.ndarray, mean: float, late: float
) -> np.ndarray:
    """Days after the due age: mostly weeks, a share of catch-up doses months or years late."""
    n = len(timeliness)
    regular = timeliness * rng.exponential(mean, n)
    catchup = CATCHUP_MIN + rng.exponential(CATCHUP_MEAN, n)
    return np.where(rng.random(n) < late, catchup, regular).astype(np.int32)


def _contacts(
    rng: np.random.Generator, z: np.ndarray, birth: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(attended, date) of the six contacts; a series contact mostly needs the previous one."""
    n = len(z)
    timeliness = rng.lognormal(0.0, TIMELINESS_SD, n)
    attended = rng.random(n) < _expit(BIRTH_INTERCEPT + z)
    in_facility = rng.random(n) < 0.8
    days = np.where(in_facility, rng.integers(0, 2, n), rng.exponential(10.0, n).astype(np.int32))
    days = np.where(rng.random(n) < 0.04, 15 + rng.exponential(60.0, n).astype(np.int32), days)
    contacts = [(attended, birth + days.astype(np.int32))]
    previous = (np.ones(n, bool), birth)
    models = [(61, *SERIES[0]), (122, *SERIES[1]), (183, *SERIES[2])]
    for due, intercept, mean, late in models:
        gap = np.where(previous[0], 0.0, -GAP_PENALTY)
        attended = rng.random(n) < _expit(intercept + z + gap)
        when = birth + due + _delay(rng, timeliness, mean, late)
        when = np.where(previous[0], np.maximum(when, previous[1] + 28), when)
        contacts.append((attended, when))
        previous = (attended, when)
    penta1, penta3 = contacts[1][0], contacts[3][0]
    offset = np.where(penta3, 0.0, np.where(penta1, -1.2, -2.5))  # MCV1 mostly after Penta3
    for due, (intercept, mean, late) in ((274, MCV1_MODEL), (548, MCV2_MODEL)):
        attended = rng.random(n) < _expit(intercept + z + offset)
        when = birth + due + _delay(rng, timeliness, mean, late)
        when = np.where(previous[0], np.maximum(when, previous[1] + 28), when)
        contacts.append((attended, when))
        previous = (attended, when)
        offset = np.where(attended, 0.0, -2.5)  # MCV2 mostly after MCV1
    return contacts


def _dose_matrix(
    rng: np.random.Generator, geo: Geography, kids: Children, as_of: date
) -> np.ndarray:
    """Dose dates (children × VACCINES), MISSING where not given by as_of (or after death)."""
    n = len(kids)
    contacts = _contacts(rng, _propensity(rng, geo, kids), kids.birth)
    dates = np.full((n, len(VACCINES)), MISSING, np.int32)
    given = {code: contacts[VISIT_OF[COL[code]]][0].copy() for code in VACCINES}
    birth_days = contacts[0][1] - kids.birth
    given["OPV0"] &= (birth_days <= 14) & (rng.random(n) < 0.93)
    given["HEPB0"] &= np.where(birth_days <= 1, rng.random(n) < 0.6, rng.random(n) < 0.2)
    given["HEPB0"] &= birth_days <= 7
    for k in (1, 2, 3):
        given[f"OPV{k}"] &= rng.random(n) < 0.98
        given[f"PCV{k}"] &= rng.random(n) < geo.facility_pcv[kids.facility]
    for k in (1, 2):
        given[f"ROTA{k}"] &= rng.random(n) < geo.facility_rota[kids.facility]
    given["IPV1"] &= rng.random(n) < 0.95
    for code in VACCINES:
        dates[:, COL[code]] = np.where(given[code], contacts[VISIT_OF[COL[code]]][1], MISSING)
    bcg_catchup = ~given["BCG"] & contacts[1][0] & (rng.random(n) < 0.6)
    dates[:, COL["BCG"]] = np.where(bcg_catchup, contacts[1][1], dates[:, COL["BCG"]])
    for k in (1, 2):
        column = dates[:, COL[f"ROTA{k}"]]
        column[(column != MISSING) & (column - kids.birth > ROTA_MAX_AGE)] = MISSING
    _stockouts(rng, dates)
    late = (dates > _day(as_of)) | (
        (kids.death != MISSING)[:, None] & (dates >= kids.death[:, None])
    )
    dates[late] = MISSING
    return dates


def _stockouts(rng: np.random.Generator, dates: np.ndarray) -> None:
    """National stock-outs: most doses of the vaccine falling in the window are not given."""
    for prefix, first, last, lost in STOCKOUTS:
        for code in (c for c in VACCINES if c.startswith(prefix)):
            column = dates[:, COL[code]]
            hit = (column >= _day(first)) & (column <= _day(last))
            column[hit & (rng.random(len(column)) < lost)] = MISSING


def _contact_facilities(rng: np.random.Generator, geo: Geography, kids: Children) -> np.ndarray:
    """Facility per child and contact: the home facility, sometimes another one, a few unknown."""
    n, contacts = len(kids), 6
    first = geo.district_first_facility[kids.district][:, None]
    count = geo.district_facilities[kids.district][:, None]
    other = first + (rng.random((n, contacts)) * count).astype(np.int64)
    u = rng.random((n, contacts))
    return np.where(u < 0.85, kids.facility[:, None], np.where(u < 0.97, other, -1))


@dataclass
class Doses:
    """Dose rows as index arrays; `child` indexes the chunk, or beyond it an unknown child."""

    child: np.ndarray
    vaccine: np.ndarray  # index into VACCINES + BAD_VACCINES
    when: np.ndarray
    facility: np.ndarray  # -1: unknown


def _doses(rng: np.random.Generator, geo: Geography, kids: Children, as_of: date) -> Doses:
    """One row per dose given, child by child in schedule order."""
    dates = _dose_matrix(rng, geo, kids, as_of)
    facilities = _contact_facilities(rng, geo, kids)
    child, column = np.nonzero(dates != MISSING)
    return Doses(
        child=child.astype(np.int64),
        vaccine=column.astype(np.int64),
        when=dates[child, column],
        facility=facilities[child, VISIT_OF[column]],
    )


# --- deliberately bad rows ---------------------------------------------------------------


def _split(rng: np.random.Generator, pool: np.ndarray, rate: float, kinds: int) -> list[np.ndarray]:
    """Disjoint random picks from `pool`, one group per kind, about `rate` of it each."""
    counts = rng.binomial(len(pool), rate, kinds)
    picked = rng.choice(pool, min(int(counts.sum()), len(pool)), replace=False)
    return np.split(picked, np.cumsum(counts)[:-1])


def _spoil_children(
    rng: np.random.Generator, geo: Geography, kids: Children, frame: pl.DataFrame, as_of: date
) -> tuple[pl.DataFrame, dict[str, int], np.ndarray]:
    """Mutate a few rows and append duplicates; returns the rows the ETL must reject."""
    groups = dict(zip(CHILD_BAD_KINDS, _split(rng, np.arange(len(kids)), CHILD_BAD_RATE,
                                                len(CHILD_BAD_KINDS)), strict=True))  # fmt: skip
    adm2 = frame["adm2_code"].clone()
    rows = groups["unknown_district"]
    adm2.scatter(rows, adm2.gather(rows).str.slice(0, 7))
    rows = groups["district_outside_governorate"]
    adm2.scatter(rows, geo.district_codes.gather(_other_governorate_district(rng, geo, kids, rows)))
    birth = frame["birth_date"].clone()
    rows = groups["impossible_birth_date"]
    days = pl.Series(IMPOSSIBLE_DAYS).gather(rng.integers(0, len(IMPOSSIBLE_DAYS), len(rows)))
    birth.scatter(rows, birth.gather(rows).str.slice(0, 5) + days)
    rows = groups["birth_after_as_of"]
    later = _day(as_of) + rng.integers(1, 120, len(rows))
    birth.scatter(rows, pl.Series(later.astype(np.int32)).cast(pl.Date).cast(pl.String))
    sex = frame["sex"].clone()
    rows = groups["invalid_sex"]
    sex.scatter(rows, pl.Series(["X", "9"]).gather(rng.integers(0, 2, len(rows))))
    spoiled = frame.with_columns(adm2_code=adm2, birth_date=birth, sex=sex)
    duplicates = spoiled[groups["duplicate_health_id"]]
    rejected = np.concatenate([rows for kind, rows in groups.items() if kind != CHILD_BAD_KINDS[0]])
    counts = {kind: len(rows) for kind, rows in groups.items()}
    return pl.concat([spoiled, duplicates]), counts, rejected


def _other_governorate_district(
    rng: np.random.Generator, geo: Geography, kids: Children, rows: np.ndarray
) -> np.ndarray:
    """A random district of a governorate other than each child's own."""
    n_gov = len(geo.gov_districts)
    gov = (geo.district_gov[kids.district[rows]] + rng.integers(1, n_gov, len(rows))) % n_gov
    pick = (rng.random(len(rows)) * geo.gov_districts[gov]).astype(np.int64)
    return geo.gov_first_district[gov] + pick


def _spoil_doses(
    rng: np.random.Generator, doses: Doses, kids: Children, rejected_kids: np.ndarray, as_of: date
) -> tuple[Doses, dict[str, int]]:
    """Mutate or add bad dose rows, only among doses of children the ETL will load."""
    good = np.flatnonzero(~np.isin(doses.child, rejected_kids))
    groups = dict(zip(DOSE_BAD_KINDS, _split(rng, good, DOSE_BAD_RATE, len(DOSE_BAD_KINDS)),
                      strict=True))  # fmt: skip
    vaccine, when = doses.vaccine.copy(), doses.when.copy()
    rows = groups["unknown_vaccine"]
    vaccine[rows] = len(VACCINES) + rng.integers(0, len(BAD_VACCINES), len(rows))
    rows = groups["dose_before_birth"]
    when[rows] = kids.birth[doses.child[rows]] - rng.integers(1, 60, len(rows))
    rows = groups["dose_after_as_of"]
    when[rows] = _day(as_of) + rng.integers(1, 90, len(rows))
    rows = groups["duplicate_dose"]
    repeat_when = np.minimum(doses.when[rows] + rng.integers(1, 60, len(rows)), _day(as_of))
    unknown = groups["unknown_child"]  # these rows are added, for children not in the registry
    added = Doses(
        child=np.concatenate([doses.child[rows], len(kids) + np.arange(len(unknown))]),
        vaccine=np.concatenate([doses.vaccine[rows], rng.integers(0, len(VACCINES), len(unknown))]),
        when=np.concatenate([repeat_when, _day(as_of) - rng.integers(0, 1500, len(unknown))]),
        facility=np.concatenate([doses.facility[rows], doses.facility[unknown]]),
    )
    spoiled = Doses(
        child=np.concatenate([doses.child, added.child]),
        vaccine=np.concatenate([vaccine, added.vaccine]),
        when=np.concatenate([when, added.when]).astype(np.int32),
        facility=np.concatenate([doses.facility, added.facility]),
    )
    return spoiled, {kind: len(rows) for kind, rows in groups.items()}


# --- frames and writers ------------------------------------------------------------------


def _dates(days: np.ndarray) -> pl.Series:
    values = np.where(days == MISSING, np.nan, days.astype(np.float64))
    return pl.Series(values, nan_to_null=True).cast(pl.Int32).cast(pl.Date)


def _facility_ids(geo: Geography, index: np.ndarray) -> pl.Series:
    """UIDs by facility index; -1 (not recorded) → the null kept after the last facility."""
    last = len(geo.facility_uids) - 1
    return geo.facility_uids.gather(np.where(index < 0, last, index))


def _children_frame(
    geo: Geography, kids: Children, ids: pl.Series, rng: np.random.Generator
) -> pl.DataFrame:
    """The children table; 5 % of children have no facility recorded."""
    facility = np.where(rng.random(len(kids)) < 0.95, kids.facility, -1)
    district_codes = geo.district_codes.gather(kids.district)
    return pl.DataFrame(
        {
            "health_id": ids,
            "birth_date": _dates(kids.birth).cast(pl.String),
            "registration_date": _dates(kids.registration),
            "sex": pl.Series(["F", "M", "U", None], dtype=pl.String).gather(kids.sex),
            "disability": pl.Series(["no", "yes", None], dtype=pl.String).gather(kids.disability),
            "adm1_code": district_codes.str.slice(0, 5),
            "adm2_code": district_codes,
            "settlement_id": geo.settlement_ids.gather(kids.settlement),
            "facility_id": _facility_ids(geo, facility),
            "death_date": _dates(kids.death),
        }
    )


def _doses_frame(geo: Geography, doses: Doses, ids: pl.Series) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "health_id": ids.gather(doses.child),
            "vaccine": pl.Series([*VACCINES, *BAD_VACCINES]).gather(doses.vaccine),
            "dose_date": _dates(doses.when),
            "facility_id": _facility_ids(geo, doses.facility),
        }
    )


class _Sink:
    """Appends chunks to one output file, written under a temporary name until closed."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.path, self.schema = path, schema
        self.part = path.with_name(path.name + ".part")
        self.rows = 0
        if path.suffix == ".parquet":
            self.writer = pq.ParquetWriter(self.part, schema, compression="zstd")
        else:
            self.handle = self.part.open("wb")

    def write(self, frame: pl.DataFrame) -> None:
        if self.path.suffix == ".parquet":
            self.writer.write_table(frame.to_arrow().cast(self.schema))
        else:
            frame.write_csv(self.handle, include_header=self.rows == 0)
        self.rows += frame.height

    def close(self) -> None:
        (self.writer if self.path.suffix == ".parquet" else self.handle).close()
        os.replace(self.part, self.path)


# --- entry point -------------------------------------------------------------------------


def _chunk(
    seed: int, index: int, start: int, n: int, total: int, geo: Geography, as_of: date,
    tally: synthetic.Tally | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:  # fmt: skip
    """Children start..start+n with their doses and bad rows, from the chunk's own stream;
    the clean doses are also counted into `tally` for the synthetic DHIS2 instance."""
    rng = np.random.default_rng([seed, 1, index])
    kids = _children(rng, geo, start, n, as_of)
    doses = _doses(rng, geo, kids, as_of)
    if tally is not None:
        tally.add(kids.district, kids.birth, kids.sex, doses.child, doses.vaccine, doses.when,
                  VACCINES)  # fmt: skip
    ids = health_ids(kids.number, seed)
    children, child_bad, rejected = _spoil_children(
        rng, geo, kids, _children_frame(geo, kids, ids, rng), as_of
    )
    doses, dose_bad = _spoil_doses(rng, doses, kids, rejected, as_of)
    n_unknown = dose_bad["unknown_child"]
    unknown_ids = health_ids(np.arange(n_unknown, dtype=np.int64) + total + start, seed)
    counts = {**child_bad, **dose_bad}
    counts["vaccinations_of_rejected_children"] = int(np.isin(doses.child, rejected).sum())
    return children, _doses_frame(geo, doses, pl.concat([ids, unknown_ids])), counts


def generate(
    out_dir: Path,
    children: int = 60_000,
    seed: int = 1,
    fmt: str = "auto",
    as_of: date | None = None,
    progress: Callable[[int, int], None] | None = None,
    dhis2: bool = False,
) -> dict:
    """Write children, vaccinations and manifest.json to out_dir; return what was written.

    The same seed and size give byte-identical files (the manifest's `extracted_at` is derived
    from as_of for that reason). Files of the other format left there by an earlier run are
    removed so the folder holds exactly one export. With `dhis2`, a synthetic DHIS2 instance
    reporting these children's doses is written to `out_dir/dhis2` (`etl.dhis2.synthetic`).
    """
    if children < 1 or seed < 0:
        raise ValueError("children must be positive and seed non-negative")
    if fmt not in {"auto", "csv", "parquet"}:
        raise ValueError(f"unknown format {fmt!r}: csv, parquet or auto")
    ext = fmt if fmt != "auto" else ("csv" if children < CSV_LIMIT else "parquet")
    as_of = as_of or DEFAULT_AS_OF
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("children", "vaccinations"):
        (out_dir / f"{stale}.{'parquet' if ext == 'csv' else 'csv'}").unlink(missing_ok=True)
    geo = build_geography(seed)
    sinks = {
        "children": _Sink(out_dir / f"children.{ext}", CHILD_SCHEMA),
        "vaccinations": _Sink(out_dir / f"vaccinations.{ext}", DOSE_SCHEMA),
    }
    totals: dict[str, int] = {}
    tally = synthetic.Tally(as_of, len(geo.district_codes), seed) if dhis2 else None
    for index, start in enumerate(range(0, children, CHUNK)):
        n = min(CHUNK, children - start)
        kid_frame, dose_frame, counts = _chunk(seed, index, start, n, children, geo, as_of, tally)
        sinks["children"].write(kid_frame)
        sinks["vaccinations"].write(dose_frame)
        del kid_frame, dose_frame
        for kind, count in counts.items():
            totals[kind] = totals.get(kind, 0) + count
        if progress:
            progress(start + n, children)
    for sink in sinks.values():
        sink.close()
    manifest = out_dir / "manifest.json"
    manifest.write_text(json.dumps(_manifest(seed, as_of), indent=2) + "\n", encoding="utf-8")
    summary = _summary(sinks, manifest, ext, seed, children, as_of, totals)
    if tally is not None:
        summary["dhis2"] = _dhis2_instance(out_dir / "dhis2", geo, tally)
    return summary


def _dhis2_instance(out: Path, geo: Geography, tally: synthetic.Tally) -> dict:
    """The DHIS2 instance: facilities spread as the registry's (district weights)."""
    names = dict(geography.org_units().select("code", "name_en").rows())
    codes = geo.district_codes.to_list()
    return synthetic.write_instance(out, tally, codes, geo.district_facilities.astype(float), names)


def _manifest(seed: int, as_of: date) -> dict[str, str]:
    """Extracted at 02:00 Baghdad time the day after as_of: fixed, so reruns are identical."""
    return {
        "as_of": as_of.isoformat(),
        "source": f"Mizan synthetic registry (seed {seed})",
        "extracted_at": f"{(as_of + timedelta(days=1)).isoformat()}T02:00:00+03:00",
    }


def _summary(
    sinks: dict[str, _Sink], manifest: Path, ext: str, seed: int, children: int, as_of: date,
    totals: dict[str, int],
) -> dict:  # fmt: skip
    """Files, rows per file and the deliberately bad rows by kind (what the ETL should report)."""
    bad_children = {kind: totals.get(kind, 0) for kind in CHILD_BAD_KINDS}
    bad_doses = {kind: totals.get(kind, 0) for kind in DOSE_BAD_KINDS}
    return {
        "format": ext,
        "seed": seed,
        "children": children,
        "as_of": as_of.isoformat(),
        "files": {**{name: str(s.path) for name, s in sinks.items()}, "manifest": str(manifest)},
        "rows": {name: sink.rows for name, sink in sinks.items()},
        "bad_rows": {"children": bad_children, "vaccinations": bad_doses},
        "bad_rows_total": sum(bad_children.values()) + sum(bad_doses.values()),
        # Valid doses of children whose own row is rejected: the ETL rejects them too.
        "vaccinations_of_rejected_children": totals.get("vaccinations_of_rejected_children", 0),
    }
