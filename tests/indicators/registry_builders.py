"""Small registries for the indicator tests, and a pure-Python calendar helper.

Kept free of the code under test: `add_months` is written from `calendar`, not polars.
"""

from __future__ import annotations

import calendar
import random
from datetime import date, timedelta

import polars as pl

from indicators import geography
from indicators.cohort import CUBE_SCHEMA

AS_OF = date(2024, 6, 30)
DISTRICTS = {
    "IQG01Q01": "IQG01",
    "IQG01Q02": "IQG01",
    "IQG02Q01": "IQG02",
    "IQG02Q02": "IQG02",
    "IQG02Q03": "IQG02",
    "IQG03Q01": "IQG03",
}
VACCINES = ["BCG", "PENTA1", "PENTA2", "PENTA3", "OPV1", "OPV2", "OPV3", "PCV3", "MCV1",
            "MCV2", "ROTA1"]
CHILD_SCHEMA = {
    "health_id": pl.String,
    "birth_date": pl.Date,
    "registration_date": pl.Date,
    "sex": pl.String,
    "disability": pl.String,
    "adm1_code": pl.String,
    "adm2_code": pl.String,
    "death_date": pl.Date,
}
DOSE_SCHEMA = {"health_id": pl.String, "vaccine": pl.String, "dose_date": pl.Date}


def add_months(day: date, months: int) -> date:
    """Calendar months later, falling back to the month's last day (29 Feb + 12 m = 28 Feb)."""
    year, month0 = divmod(day.month - 1 + months, 12)
    year += day.year
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def units() -> pl.DataFrame:
    """Iraq, three governorates and their districts (no boundary pack needed)."""
    rows = [(geography.NATIONAL, 0, None, None)]
    rows += [(gov, 1, geography.NATIONAL, gov) for gov in sorted(set(DISTRICTS.values()))]
    rows += [(code, 2, gov, gov) for code, gov in DISTRICTS.items()]
    frame = pl.DataFrame(rows, schema=["code", "level", "parent", "adm1_code"], orient="row")
    return frame.with_columns(pl.col("level").cast(pl.Int8))


def child(
    health_id: str,
    birth: date,
    *,
    district: str = "IQG01Q01",
    sex: str = "F",
    disability: str = "no",
    registered: date | None = None,
    died: date | None = None,
) -> dict:
    return {
        "health_id": health_id, "birth_date": birth, "registration_date": registered,
        "sex": sex, "disability": disability, "adm1_code": DISTRICTS.get(district, district[:5]),
        "adm2_code": district, "death_date": died,
    }


def frames(children: list[dict], doses: list[tuple[str, str, date]]) -> tuple[pl.DataFrame, ...]:
    kids = pl.DataFrame(children, schema=CHILD_SCHEMA)
    given = pl.DataFrame(doses, schema=DOSE_SCHEMA, orient="row")
    return kids, given


def _birth(rng: random.Random) -> date:
    special = [date(2020, 2, 29), date(2021, 1, 31), date(2022, 3, 31), date(2022, 8, 31),
               date(2023, 6, 30), date(2023, 7, 1), date(2023, 12, 31), date(2022, 1, 1)]
    if rng.random() < 0.2:
        return rng.choice(special)
    return date(2020, 1, 1) + timedelta(days=rng.randint(0, 1612))


def _dose_day(rng: random.Random, birth: date) -> date:
    at12, at24 = add_months(birth, 12), add_months(birth, 24)
    choices = [at12, at12 - timedelta(days=1), at24, at24 - timedelta(days=1)]
    if rng.random() < 0.3:
        return rng.choice(choices)
    return birth + timedelta(days=rng.randint(0, 900))


def _death(rng: random.Random, birth: date) -> date | None:
    at12 = add_months(birth, 12)
    draw = rng.random()
    if draw < 0.04:
        return at12 - timedelta(days=1)
    if draw < 0.08:
        return at12
    if draw < 0.12:
        return birth + timedelta(days=rng.randint(0, 900))
    return None


def random_registry(seed: int, n: int = 400, coverage: float = 0.75) -> tuple[pl.DataFrame, ...]:
    """A registry with the edge cases over-represented (month ends, anniversaries, deaths)."""
    rng = random.Random(seed)
    children, doses = [], []
    for number in range(n):
        birth = _birth(rng)
        registered = None
        if rng.random() < 0.85:
            delay = rng.choice([0, 5, 29, 30, 31, 45, rng.randint(0, 400)])
            registered = birth + timedelta(days=delay)
        health_id = f"C{number:05d}"
        children.append(child(
            health_id, birth, district=rng.choice(list(DISTRICTS)), sex=rng.choice("FFMMU"),
            disability=rng.choice(["no", "no", "no", "yes", "unknown"]),
            registered=registered, died=_death(rng, birth),
        ))
        given = [v for v in VACCINES if rng.random() < coverage]
        doses += [(health_id, v, _dose_day(rng, birth)) for v in given]
    return frames(children, doses)


def make_cube(rows: list[tuple]) -> pl.DataFrame:
    """Rows of (indicator, period, org_unit, sex, disability, numerator, denominator)."""
    full = []
    for indicator, period, org, sex, disability, num, den in rows:
        level = 0 if org == "IQ" else 1 if len(org) == 5 else 2
        adm1 = None if level == 0 else org[:5]
        full.append((indicator, period, org, level, adm1, sex, disability, num, den))
    return pl.DataFrame(full, schema=CUBE_SCHEMA, orient="row")
