"""A synthetic DHIS2 instance consistent with the synthetic registry (`etl generate --dhis2`).

Iraq has no open facility-level immunisation data either, so the administrative side is
invented like the registry: the instance's facilities report the registry's own doses
(by the child's district, month, age band and sex), spread over the district's
facilities, with the imperfections analysts look for:

- reporting accuracy: each facility reports its doses times a factor around 0.97
  (under-reporting), a few facilities around 1.2 (double counting), with Poisson noise;
- target populations: the registry's births per district and year times a district
  error around 1, and 0.75 for three districts (administrative coverage above 100 %);
- missing reports: facilities miss about 4 % of months, a few are silent for a quarter;
  a missed month has neither values nor a complete registration; 2 % of reported months
  are never marked complete;
- late reports: 15 % of registrations come 16 to 75 days after the month (on time is
  within the data set's 15 timely days);
- outliers: 0.2 % of facility values are typed with an extra zero (x 10);
- negative dropout: three districts report Penta1 and Penta3 swapped for two months;
- a few bad records: values for governorates (not placeable in a district), an unknown
  org unit, a non-numeric value.

Layout of `OUT/dhis2/`: `metadata.json` (org units Iraq > 18 governorates > districts >
facilities with points, data elements, age x sex category combo, data sets),
`data/epi_YYYYMM.json` monthly data value sets (one month as CSV, one as DXF2 XML),
`population.json` (yearly targets per district), `registrations.json` (complete data
set registrations) and `mapping.yaml` (the instance's mapping, by codes). Deterministic
from the seed (its own random stream: the registry files do not change) and vectorised.

The facility environment side (issue 7) has a stream of its own, so the files above do
not depend on it: the metadata's org unit groups (facility type, urban/rural) and
facility data set, `facility/facility_YYYYMM.json` (`synthetic_facility`) and
`climate/district_months.csv` (`synthetic_climate`), both mapped in the `facility:`
section of the instance's mapping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from etl.dhis2 import synthetic_climate, synthetic_facility
from indicators import geography

FACILITIES = 1_885  # health facilities reporting immunization (the figure)
DOSES = ("BCG", "HEPB0", "PENTA1", "PENTA2", "PENTA3", "OPV1", "OPV2", "OPV3", "PCV1",
         "PCV2", "PCV3", "ROTA1", "ROTA2", "IPV1", "MCV1", "MCV2")  # fmt: skip
YEARS_BACK = 2  # January two years before the as-of year, to the as-of month
INFANT_SURVIVAL, SURVIVAL_TO_2 = 0.978, 0.972
TIMELY_DAYS = 15
AGE_CODES = ("MZ_AGE_U1", "MZ_AGE_1P")
SEX_CODES = ("MZ_SEX_F", "MZ_SEX_M")
DATA_SET_CODE = "MZ_EPI_MONTHLY"
POPULATION_CODES = {"live_births": "MZ_POP_LIVEBIRTHS", "surviving_infants": "MZ_POP_U1",
                    "under_2": "MZ_POP_U2"}  # fmt: skip
EPOCH_MONTH = np.datetime64("1970-01", "M")


def window_months(as_of: date) -> list[tuple[int, int]]:
    """(year, month) from January YEARS_BACK years before as_of to the last month over."""
    months, year, month = [], as_of.year - YEARS_BACK, 1
    while True:
        last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        if last > as_of:
            return months
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


@dataclass
class Tally:
    """The registry's clean doses and births, counted as the generator makes them.

    `doses[district, month, dose, age, sex]` (age 0 under one year, 1 older; sex 0 F, 1 M),
    `births[district, year, sex]` for the window's years and the one before.
    """

    as_of: date
    n_districts: int
    seed: int

    def __post_init__(self) -> None:
        self.months = window_months(self.as_of)
        self.first = (self.months[0][0] - 1970) * 12 + self.months[0][1] - 1
        self.years = list(range(self.as_of.year - YEARS_BACK - 1, self.as_of.year + 1))
        self.doses = np.zeros((self.n_districts, len(self.months), len(DOSES), 2, 2), np.int64)
        self.births = np.zeros((self.n_districts, len(self.years), 2), np.int64)
        self.rng = np.random.default_rng([self.seed, 7])

    def add(self, district: np.ndarray, birth: np.ndarray, sex: np.ndarray, dose_child: np.ndarray,
            dose_vaccine: np.ndarray, dose_day: np.ndarray, vaccines: tuple[str, ...]
            ) -> None:  # fmt: skip
        """One chunk: children (district, birth day, sex 0 F 1 M 2-3 unknown) and their
        doses (child row, vaccine as an index into `vaccines`, day), days since 1970."""
        sex2 = np.where(sex >= 2, self.rng.integers(0, 2, len(sex)), sex).astype(np.int64)
        year = birth.astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
        slot = year - self.years[0]
        keep = (slot >= 0) & (slot < len(self.years))
        _count(self.births, (district[keep], slot[keep], sex2[keep]))
        index = {code: i for i, code in enumerate(DOSES)}
        code = np.array([index.get(v, -1) for v in vaccines], np.int64)[dose_vaccine]
        month = dose_day.astype("datetime64[D]").astype("datetime64[M]").astype(int) - self.first
        age = (dose_day - birth[dose_child] >= 365).astype(np.int64)
        keep = (code >= 0) & (month >= 0) & (month < len(self.months))
        child = dose_child[keep]
        _count(self.doses, (district[child], month[keep], code[keep], age[keep], sex2[child]))


def _count(into: np.ndarray, index: tuple[np.ndarray, ...]) -> None:
    """Add one per index tuple (a bincount over the flat index: fast at 60 M doses)."""
    flat = np.ravel_multi_index(index, into.shape)
    into += np.bincount(flat, minlength=into.size).reshape(into.shape)


# --- identifiers and metadata -----------------------------------------------------------------


UID_FIRST = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)
UID_REST = np.frombuffer(b"0123456789" + UID_FIRST.tobytes(), np.uint8)


def uids(rng: np.random.Generator, n: int) -> list[str]:
    """Unique DHIS2-style uids (a letter, then ten letters or digits)."""
    while True:
        chars = np.column_stack([rng.choice(UID_FIRST, n), rng.choice(UID_REST, (n, 10))])
        found = np.ascontiguousarray(chars, dtype=np.uint8).view("S11").ravel().astype(str)
        if len(np.unique(found)) == n:
            return found.tolist()


@dataclass
class Instance:
    """The instance's objects: uids by role, org units, facility placement."""

    root: str
    governorates: dict[str, str]  # p-code -> uid
    districts: list[tuple[str, str, str]]  # (uid, p-code, name)
    facility_uids: list[str]
    facility_district: np.ndarray
    facility_weight: np.ndarray
    facility_accuracy: np.ndarray
    facility_opening: list[str]
    dose_uids: dict[str, str]
    population_uids: dict[str, str]
    outreach_uid: str
    cocs: dict[tuple[int, int], str]  # (age, sex) -> uid
    data_set: str
    population_set: str
    options: dict[str, str]  # code -> uid
    categories: dict[str, str]
    combo: str


def _facility_counts(weights: np.ndarray) -> np.ndarray:
    """FACILITIES split over districts by weight (largest remainder, at least one each)."""
    raw = weights / weights.sum() * (FACILITIES - len(weights))
    counts = np.floor(raw).astype(np.int64) + 1
    short = FACILITIES - counts.sum()
    counts[np.argsort(-(raw - np.floor(raw)), kind="stable")[:short]] += 1
    return counts


def build_instance(rng: np.random.Generator, district_codes: list[str], weights: np.ndarray,
                   names: dict[str, str]) -> Instance:  # fmt: skip
    """Uids for every object; facilities per district by the registry's facility weights."""
    counts = _facility_counts(weights)
    n = int(counts.sum())
    ids = iter(uids(rng, 1 + 18 + len(district_codes) + n + len(DOSES) + 30))
    accuracy = rng.lognormal(-0.03, 0.07, n)
    accuracy[rng.random(n) < 0.03] = 1.2
    opening = np.where(rng.random(n) < 0.01, "2025-03-01", "1990-01-01").tolist()
    return Instance(
        root=next(ids),
        governorates={code: next(ids) for code, *_ in geography.GOVERNORATES},
        districts=[(next(ids), code, names.get(code, code)) for code in district_codes],
        facility_uids=[next(ids) for _ in range(n)],
        facility_district=np.repeat(np.arange(len(district_codes)), counts),
        facility_weight=_weights(rng, counts),
        facility_accuracy=accuracy,
        facility_opening=opening,
        dose_uids={dose: next(ids) for dose in DOSES},
        population_uids={name: next(ids) for name in POPULATION_CODES},
        outreach_uid=next(ids),
        cocs={(a, s): next(ids) for a in (0, 1) for s in (0, 1)},
        data_set=next(ids),
        population_set=next(ids),
        options={code: next(ids) for code in (*AGE_CODES, *SEX_CODES)},
        categories={"age": next(ids), "sex": next(ids)},
        combo=next(ids),
    )


def _weights(rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
    """Facility shares of their district's doses (lognormal sizes)."""
    district = np.repeat(np.arange(len(counts)), counts)
    size = rng.lognormal(0.0, 0.7, len(district))
    return size / np.bincount(district, size)[district]


def _unit(
    uid: str,
    name: str,
    code: str,
    level: int,
    path: str,
    parent: str | None,
    point: tuple[float, float] | None = None,
    opening: str = "1990-01-01",
) -> dict:
    unit = {"id": uid, "name": name, "shortName": name[:50], "code": code, "level": level,
            "path": path, "openingDate": f"{opening}T00:00:00.000"}  # fmt: skip
    if parent:
        unit["parent"] = {"id": parent}
    if point:
        unit["geometry"] = {
            "type": "Point",
            "coordinates": [round(point[1], 5), round(point[0], 5)],
        }
    return unit


def _org_units(rng: np.random.Generator, inst: Instance) -> list[dict]:
    """Iraq > governorates > districts > facilities, with paths and facility points."""
    centre = {code: (lat, lon) for code, _, _, _, lat, lon in geography.GOVERNORATES}
    names = {code: en for code, _, en, *_ in geography.GOVERNORATES}
    units = [_unit(inst.root, "Iraq", "IQ", 1, f"/{inst.root}", None)]
    for code, uid in inst.governorates.items():
        units.append(_unit(uid, names[code], code, 2, f"/{inst.root}/{uid}", inst.root))
    jitter = rng.normal(0.0, 0.25, (len(inst.facility_uids), 2))
    for d, (uid, code, name) in enumerate(inst.districts):
        gov = inst.governorates[code[:5]]
        path = f"/{inst.root}/{gov}/{uid}"
        units.append(_unit(uid, name, code, 3, path, gov))
        for f in np.flatnonzero(inst.facility_district == d).tolist():
            lat, lon = centre[code[:5]]
            units.append(_unit(
                inst.facility_uids[f], f"{name} PHC {f + 1}", f"{code}F{f + 1:04d}", 4,
                f"{path}/{inst.facility_uids[f]}", uid,
                (lat + jitter[f, 0], lon + jitter[f, 1]), inst.facility_opening[f],
            ))  # fmt: skip
    return units


def metadata(rng: np.random.Generator, inst: Instance) -> dict:
    """The instance's /api/metadata export (default category objects excluded)."""
    opt = inst.options
    option_names = {"MZ_AGE_U1": "<1 year", "MZ_AGE_1P": "1+ year", "MZ_SEX_F": "Female",
                    "MZ_SEX_M": "Male"}  # fmt: skip
    cocs = [
        {"id": uid, "name": f"{option_names[AGE_CODES[a]]}, {option_names[SEX_CODES[s]]}",
         "categoryCombo": {"id": inst.combo},
         "categoryOptions": [{"id": opt[SEX_CODES[s]]}, {"id": opt[AGE_CODES[a]]}]}
        for (a, s), uid in inst.cocs.items()
    ]  # fmt: skip
    elements = [
        {"id": inst.dose_uids[d], "name": f"EPI - {d} doses given", "shortName": f"{d} given",
         "code": f"MZ_{d}_GIVEN", "valueType": "INTEGER_ZERO_OR_POSITIVE",
         "aggregationType": "SUM", "domainType": "AGGREGATE",
         "categoryCombo": {"id": inst.combo}}
        for d in DOSES
    ]  # fmt: skip
    elements += [
        {"id": inst.population_uids[name], "name": f"GEN - Population ({name.replace('_', ' ')})",
         "code": code, "valueType": "NUMBER", "aggregationType": "AVERAGE_SUM_ORG_UNIT",
         "domainType": "AGGREGATE"}
        for name, code in POPULATION_CODES.items()
    ]  # fmt: skip
    elements.append({"id": inst.outreach_uid, "name": "EPI - Outreach sessions held",
                     "code": "MZ_OUTREACH_HELD", "valueType": "INTEGER_ZERO_OR_POSITIVE",
                     "aggregationType": "SUM", "domainType": "AGGREGATE"})  # fmt: skip
    return {
        "system": {"id": "mizan-synthetic", "version": "2.40.4"},
        "organisationUnitLevels": [{"id": f"lvl{i}uidXXX"[:11], "level": i, "name": n}
                                   for i, n in enumerate(("National", "Governorate", "District",
                                                          "Facility"), start=1)],
        "organisationUnits": _org_units(rng, inst),
        "categoryOptions": [{"id": uid, "name": option_names[code], "code": code}
                            for code, uid in opt.items()],
        "categories": [
            {"id": inst.categories["age"], "name": "Age (immunization)", "code": "MZ_AGE",
             "dataDimensionType": "DISAGGREGATION",
             "categoryOptions": [{"id": opt[c]} for c in AGE_CODES]},
            {"id": inst.categories["sex"], "name": "Sex", "code": "MZ_SEX",
             "dataDimensionType": "DISAGGREGATION",
             "categoryOptions": [{"id": opt[c]} for c in SEX_CODES]},
        ],
        "categoryCombos": [{"id": inst.combo, "name": "Age and sex (immunization)",
                            "dataDimensionType": "DISAGGREGATION",
                            "categories": [{"id": inst.categories["age"]},
                                           {"id": inst.categories["sex"]}]}],
        "categoryOptionCombos": cocs,
        "dataElements": elements,
        "dataSets": [
            {"id": inst.data_set, "name": "EPI monthly report", "code": DATA_SET_CODE,
             "periodType": "Monthly", "timelyDays": TIMELY_DAYS, "expiryDays": 30,
             "openFuturePeriods": 0,
             "dataSetElements": [{"dataElement": {"id": e["id"]}} for e in elements
                                 if e["id"] not in inst.population_uids.values()],
             "organisationUnits": [{"id": uid} for uid in inst.facility_uids]},
            {"id": inst.population_set, "name": "Population estimates", "code": "MZ_POPULATION",
             "periodType": "Yearly", "timelyDays": 0,
             "dataSetElements": [{"dataElement": {"id": uid}}
                                 for uid in inst.population_uids.values()],
             "organisationUnits": [{"id": uid} for uid, _, _ in inst.districts]},
        ],
    }  # fmt: skip


# --- reported values ---------------------------------------------------------------------------


@dataclass
class Reports:
    """Which facility-months reported, when they were registered, and the reported doses."""

    reported: np.ndarray  # facility x month (values were sent)
    registered: np.ndarray  # facility x month (marked complete)
    delay: np.ndarray  # facility x month: days after the month's end
    doses: np.ndarray  # facility x month x dose x age x sex


def reports(rng: np.random.Generator, inst: Instance, tally: Tally) -> Reports:
    """Facility doses from the registry's district counts, with the module's imperfections."""
    n, months = len(inst.facility_uids), len(tally.months)
    chronic = rng.beta(1.0, 25.0, n)
    reported = rng.random((n, months)) >= chronic[:, None]
    silent = rng.choice(n, 6, replace=False)
    start = rng.integers(0, max(1, months - 3), 6)
    for f, m in zip(silent, start, strict=True):
        reported[f, m : m + 3] = False
    opening = np.array([_month_index(tally, o) for o in inst.facility_opening])
    reported &= np.arange(months)[None, :] >= opening[:, None]
    share = inst.facility_weight * inst.facility_accuracy
    lam = tally.doses[inst.facility_district] * share[:, None, None, None, None]
    doses = rng.poisson(lam * reported[:, :, None, None, None])
    _spoil(rng, inst, tally, doses)
    late = rng.random((n, months)) < 0.15
    delay = np.where(late, rng.integers(TIMELY_DAYS + 1, 76, (n, months)),
                     rng.integers(1, TIMELY_DAYS + 1, (n, months)))  # fmt: skip
    registered = reported & (rng.random((n, months)) >= 0.02)
    return Reports(reported, registered, delay, doses)


def _month_index(tally: Tally, opening: str) -> int:
    year, month = int(opening[:4]), int(opening[5:7])
    return (year - 1970) * 12 + month - 1 - tally.first


def _spoil(rng: np.random.Generator, inst: Instance, tally: Tally, doses: np.ndarray) -> None:
    """Outliers (x 10) and Penta1/Penta3 swapped in three districts for two months."""
    values = doses.reshape(-1)
    nonzero = np.flatnonzero(values)
    picked = rng.choice(nonzero, max(1, len(nonzero) // 500), replace=False) if nonzero.size else []
    values[picked] *= 10
    p1, p3 = DOSES.index("PENTA1"), DOSES.index("PENTA3")
    for d in rng.choice(len(inst.districts), min(3, len(inst.districts)), replace=False):
        facilities = np.flatnonzero(inst.facility_district == d)
        for m in rng.choice(len(tally.months), min(2, len(tally.months)), replace=False):
            first = doses[facilities, m, p1].copy()
            doses[facilities, m, p1] = doses[facilities, m, p3]
            doses[facilities, m, p3] = first


def value_rows(inst: Instance, tally: Tally, rep: Reports) -> pl.DataFrame:
    """One row per non-zero reported value: month index, org unit, element, combo, value."""
    f, m, d, a, s = np.nonzero(rep.doses)
    coc = np.array([inst.cocs[(0, 0)], inst.cocs[(0, 1)], inst.cocs[(1, 0)], inst.cocs[(1, 1)]])
    return pl.DataFrame({
        "month": m.astype(np.int32),
        "orgUnit": pl.Series(inst.facility_uids).gather(f),
        "dataElement": pl.Series([inst.dose_uids[x] for x in DOSES]).gather(d),
        "categoryOptionCombo": pl.Series(coc).gather(a * 2 + s),
        "value": pl.Series(rep.doses[f, m, d, a, s]).cast(pl.String),
    })  # fmt: skip


# --- writers ------------------------------------------------------------------------------------


def _period(tally: Tally, m: int) -> str:
    year, month = tally.months[m]
    return f"{year}{month:02d}"


def _write_json(path: Path, frame: pl.DataFrame, head: dict) -> None:
    rows = frame.write_json() if frame.height else "[]"
    prefix = json.dumps(head)[:-1]
    path.write_text(f'{prefix}, "dataValues": {rows}}}\n', encoding="utf-8")


def _write_csv(path: Path, frame: pl.DataFrame, period: str) -> None:
    out = frame.select(
        pl.col("dataElement").alias("dataelement"),
        pl.lit(period).alias("period"),
        pl.col("orgUnit").alias("orgunit"),
        pl.col("categoryOptionCombo").alias("categoryoptioncombo"),
        pl.lit("").alias("attributeoptioncombo"),
        "value",
        pl.lit("mizan").alias("storedby"),
        pl.lit(f"{period[:4]}-{period[4:]}-28").alias("lastupdated"),
        pl.lit("").alias("comment"),
        pl.lit("false").alias("followup"),
        pl.lit("false").alias("deleted"),
    )
    out.write_csv(path)


def _write_xml(path: Path, frame: pl.DataFrame, data_set: str, period: str) -> None:
    template = '  <dataValue dataElement="{}" orgUnit="{}" categoryOptionCombo="{}" value="{}"/>'
    columns = ("dataElement", "orgUnit", "categoryOptionCombo", "value")
    lines = frame.select(pl.format(template, *columns)).to_series()
    body = "\n".join(lines.to_list())
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<dataValueSet xmlns="http://dhis2.org/schema/dxf/2.0" dataSet="{data_set}" '
        f'period="{period}">\n{body}\n</dataValueSet>\n',
        encoding="utf-8",
    )


def _bad_records(inst: Instance, tally: Tally, month: int) -> pl.DataFrame:
    """Values the load must reject: governorate level, unknown org unit, not a number."""
    gov = list(inst.governorates.values())[:3]
    uid = inst.dose_uids["BCG"]
    coc = inst.cocs[(0, 0)]
    return pl.DataFrame({
        "month": [month] * 5,
        "orgUnit": [*gov, "UnknownUnit1", inst.facility_uids[0]],
        "dataElement": [uid] * 5,
        "categoryOptionCombo": [coc] * 5,
        "value": ["12", "8", "30", "5", "12a"],
    }).with_columns(pl.col("month").cast(pl.Int32))  # fmt: skip


def write_values(out: Path, inst: Instance, tally: Tally, rep: Reports) -> dict[str, int]:
    """Monthly files: JSON, the second month as CSV and the third as XML."""
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    for stale in data.glob("epi_*"):
        stale.unlink()
    rows = value_rows(inst, tally, rep)
    months = len(tally.months)
    bad_month = months - 1
    rows = pl.concat([rows, _bad_records(inst, tally, bad_month)])
    written = {}
    for m, part in rows.partition_by("month", as_dict=True, maintain_order=True).items():
        month = int(m[0])
        period = _period(tally, month)
        frame = part.drop("month")
        if month == 1 and months > 2:
            path = data / f"epi_{period}.csv"
            _write_csv(path, frame, period)
        elif month == 2 and months > 2:
            path = data / f"epi_{period}.xml"
            _write_xml(path, frame, inst.data_set, period)
        else:
            path = data / f"epi_{period}.json"
            _write_json(path, frame, {"dataSet": inst.data_set, "period": period})
        written[path.name] = frame.height
    return written


def write_population(out: Path, inst: Instance, tally: Tally, rng: np.random.Generator) -> int:
    """Yearly targets per district: births times a district error (0.75 for three)."""
    error = rng.lognormal(0.0, 0.06, len(inst.districts))
    error[rng.choice(len(inst.districts), min(3, len(inst.districts)), replace=False)] = 0.75
    births = tally.births.sum(axis=2).astype(float)
    values = []
    for y, year in enumerate(tally.years[1:], start=1):
        complete = date(year, 12, 31) <= tally.as_of
        live = births[:, y] if complete else births[:, y - 1]
        previous = births[:, y - 1]
        targets = {"live_births": live * error, "surviving_infants": live * error * INFANT_SURVIVAL,
                   "under_2": previous * error * SURVIVAL_TO_2}  # fmt: skip
        for name, target in targets.items():
            values += [{"dataElement": inst.population_uids[name], "period": str(year),
                        "orgUnit": uid, "value": str(int(round(t)))}
                       for (uid, _, _), t in zip(inst.districts, target, strict=True)
                       if t > 0]  # fmt: skip
    path = out / "population.json"
    path.write_text(json.dumps({"dataSet": inst.population_set, "dataValues": values}) + "\n")
    return len(values)


def write_registrations(out: Path, inst: Instance, tally: Tally, rep: Reports) -> int:
    f, m = np.nonzero(rep.registered)
    ends = [date(y + mo // 12, mo % 12 + 1, 1) - timedelta(days=1) for y, mo in tally.months]
    records = [
        {"dataSet": inst.data_set, "period": _period(tally, int(mi)),
         "organisationUnit": inst.facility_uids[fi],
         "attributeOptionCombo": "HllvX50cXC0",
         "date": (ends[mi] + timedelta(days=int(rep.delay[fi, mi]))).isoformat()
         + "T10:00:00.000",
         "storedBy": "mizan", "completed": True}
        for fi, mi in zip(f.tolist(), m.tolist(), strict=True)
    ]  # fmt: skip
    path = out / "registrations.json"
    path.write_text(json.dumps({"completeDataSetRegistrations": records}) + "\n")
    return len(records)


def mapping_text(name: str) -> str:
    """The instance's mapping.yaml, by codes."""
    doses = "\n".join(f"  {d}: MZ_{d}_GIVEN" for d in DOSES)
    return f"""# Mizan mapping for {name} (written by `etl generate --dhis2`).
# Identifiers are this instance's codes; see etl/dhis2/mapping.yaml for every key.
version: 1
name: {name}
doses:
{doses}
age:
  under_1: [MZ_AGE_U1]
  over_1: [MZ_AGE_1P]
sex:
  F: [MZ_SEX_F]
  M: [MZ_SEX_M]
population:
  live_births: MZ_POP_LIVEBIRTHS
  surviving_infants: MZ_POP_U1
  under_2: MZ_POP_U2
data_sets: [{DATA_SET_CODE}]
org_units:
  match: code
  level: 3
{synthetic_facility.mapping_section()}"""


def write_instance(out: Path, tally: Tally, district_codes: list[str], weights: np.ndarray,
                   names: dict[str, str]) -> dict:  # fmt: skip
    """Write the whole instance to `out` and return what was written."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([tally.seed, 8])
    inst = build_instance(rng, district_codes, weights, names)
    meta = metadata(rng, inst)
    rep = reports(rng, inst, tally)
    values = write_values(out, inst, tally, rep)
    population = write_population(out, inst, tally, rng)
    environment = _environment(out, inst, tally, rep, meta, weights)
    (out / "metadata.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
    name = f"Mizan synthetic DHIS2 (seed {tally.seed})"
    (out / "mapping.yaml").write_text(mapping_text(name), encoding="utf-8")
    return {
        "folder": str(out),
        "facilities": len(inst.facility_uids),
        "districts": len(inst.districts),
        "months": [_period(tally, 0), _period(tally, len(tally.months) - 1)],
        "data_values": sum(values.values()),
        "files": values,
        "population_values": population,
        "registrations": write_registrations(out, inst, tally, rep),
        "missed_reports": int((~rep.reported).sum()),
        **environment,
    }


def _environment(out: Path, inst: Instance, tally: Tally, rep: Reports, meta: dict,
                 weights: np.ndarray) -> dict:  # fmt: skip
    """Facility types, the facility data set's reports and the climate file, from their own
    random stream (the EPI files above do not change)."""
    rng = np.random.default_rng([tally.seed, 9])
    taken = {obj["id"] for objects in meta.values() if isinstance(objects, list)
             for obj in objects if isinstance(obj, dict) and "id" in obj}  # fmt: skip
    wanted = synthetic_facility.uid_count()
    fresh = [u for u in uids(rng, wanted + 20) if u not in taken][:wanted]
    size = inst.facility_weight * weights[inst.facility_district]
    fs = synthetic_facility.build(rng, fresh, size)
    codes = [code for _, code, _ in inst.districts]
    climate = synthetic_climate.simulate(rng, codes, weights, tally.months)
    context = synthetic_facility.Context(
        district=inst.facility_district, share=inst.facility_weight, months=tally.months,
        climate=climate, reported=rep.reported, codes=codes,
    )  # fmt: skip
    answers = synthetic_facility.simulate(rng, fs, context)
    rows = synthetic_facility.value_rows(fs, answers, inst.facility_uids)
    rows = synthetic_facility.spoil(rows, fs, inst.districts[0][0], len(tally.months) - 1)
    synthetic_facility.add_metadata(meta, fs, inst.facility_uids)
    periods = [_period(tally, m) for m in range(len(tally.months))]
    files = synthetic_facility.write_values(out, rows, fs.data_set, periods)
    return {
        "hospitals": int(fs.hospital.sum()),
        "urban_facilities": int(fs.urban.sum()),
        "facility_values": rows.height,
        "facility_files": files,
        "climate_rows": synthetic_climate.write(out, climate),
    }
