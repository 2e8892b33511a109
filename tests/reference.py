"""An independent, deliberately plain computation of spec/indicators.md for tests.

Pure Python over dicts, one child at a time: slow, obvious, and sharing no code with
`indicators/`, so that agreement between the two means something.
"""

from __future__ import annotations

import calendar
import math
from collections import defaultdict
from datetime import date

Z = 1.959963984540054
FULL_BASIC = ("BCG", "PENTA1", "PENTA2", "PENTA3", "OPV1", "OPV2", "OPV3", "MCV1")
COVERAGE = {
    "cov_bcg_12m": (("BCG",), 12),
    "cov_penta1_12m": (("PENTA1",), 12),
    "cov_penta3_12m": (("PENTA3",), 12),
    "cov_opv3_12m": (("OPV3",), 12),
    "cov_pcv3_12m": (("PCV3",), 12),
    "cov_mcv1_12m": (("MCV1",), 12),
    "cov_mcv2_24m": (("MCV2",), 24),
    "full_basic_12m": (FULL_BASIC, 12),
}


def add_months(day: date, months: int) -> date:
    """Calendar months later, falling back to the month's last day (29 Feb + 12 m = 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def periods(birth: date) -> tuple[str, str]:
    return str(birth.year), f"{birth.year}Q{(birth.month - 1) // 3 + 1}"


def cells(child: dict) -> list[tuple[str, str, str, str]]:
    """Every (period, org unit, sex, disability) cell a child counts in, rollups included."""
    out = []
    for period in periods(child["birth_date"]):
        for org in ("IQ", child["adm1_code"], child["adm2_code"]):
            for sex in ("all", child["sex"]):
                for disability in ("all", child["disability"]):
                    out.append((period, org, sex, disability))
    return out


def compute(children: list[dict], doses: list[dict], as_of: date) -> dict[tuple, list[int]]:
    """{(indicator, period, org, sex, disability): [numerator, denominator]} for non-zero
    denominators. Children carry date objects; doses are already de-duplicated."""
    given: dict[str, dict[str, date]] = defaultdict(dict)
    for dose in doses:
        given[dose["health_id"]][dose["vaccine"]] = dose["dose_date"]
    table: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])

    def add(code: str, child: dict, numerator: int, denominator: int) -> None:
        for cell in cells(child):
            entry = table[(code, *cell)]
            entry[0] += numerator
            entry[1] += denominator

    for child in children:
        mine = given[child["health_id"]]
        for months in (12, 24):
            anniversary = add_months(child["birth_date"], months)
            death = child["death_date"]
            if anniversary > as_of or (death is not None and death < anniversary):
                continue
            by_age = {v for v, d in mine.items() if d < anniversary}
            for code, (vaccines, age) in COVERAGE.items():
                if age == months:
                    add(code, child, int(set(vaccines) <= by_age), 1)
            if months == 12:
                add("zero_dose_12m", child, int("PENTA1" not in by_age), 1)
                if "PENTA1" in by_age:
                    add("dropout_penta1_penta3_12m", child, int("PENTA3" not in by_age), 1)
                elif "PENTA3" in by_age:
                    add("dropout_penta1_penta3_12m", child, -1, 0)
        if child["registration_date"] is not None:
            delay = (child["registration_date"] - child["birth_date"]).days
            add("birth_reg_30d", child, int(delay <= 30), 1)
    return {key: value for key, value in table.items() if value[1] != 0}


def wilson(numerator: int, denominator: int) -> tuple[float, float]:
    """Wilson score interval in percent, from the textbook formula."""
    p = numerator / denominator
    centre = (p + Z * Z / (2 * denominator)) / (1 + Z * Z / denominator)
    half = (Z / (1 + Z * Z / denominator)) * math.sqrt(
        p * (1 - p) / denominator + Z * Z / (4 * denominator * denominator)
    )
    return 100 * (centre - half), 100 * (centre + half)
