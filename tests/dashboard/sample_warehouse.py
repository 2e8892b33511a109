"""A small, deterministic, already-published warehouse for dashboard tests.

Counts are generated per district × sex × disability cell and summed up the hierarchy,
then published the way the indicator layer does it (Wilson 95 % interval, primary small-
cell suppression, reliability flags), so the pages meet every display case: ordinary
values, `caution`, `low_denominator` and suppressed cells. Also used by the e2e tests.
"""

from __future__ import annotations

import json
import math
import random
from datetime import date, datetime, timedelta

import polars as pl
import sqlalchemy as sa

from indicators import catalogue, geography, warehouse

AS_OF = date(2025, 12, 31)
SOURCE = "registry"
RUN_SOURCE = "registry export 2025-12-31 (synthetic test data)"
HEADLINE_INDICATORS = (
    "cov_penta3_12m",
    "cov_mcv1_12m",
    "zero_dose_12m",
    "dropout_penta1_penta3_12m",
    "birth_reg_30d",
)
# Coverage-like rate of each indicator (before place and subgroup effects).
RATES = {
    "cov_bcg_12m": 0.95,
    "cov_penta1_12m": 0.9,
    "cov_penta3_12m": 0.8,
    "cov_opv3_12m": 0.8,
    "cov_pcv3_12m": 0.75,
    "cov_mcv1_12m": 0.78,
    "cov_mcv2_24m": 0.65,
    "full_basic_12m": 0.6,
    "zero_dose_12m": 0.1,
    "dropout_penta1_penta3_12m": 0.11,
    "birth_reg_30d": 0.85,
}
SEX_SHARE = {"F": 0.49, "M": 0.5, "U": 0.01}
DISABILITY_SHARE = {"yes": 0.03, "no": 0.9, "unknown": 0.07}
Z = 1.959963984540054


def wilson(numerator: float, denominator: float) -> tuple[float, float]:
    """95 % Wilson score interval, in percent."""
    p = numerator / denominator
    centre = p + Z * Z / (2 * denominator)
    spread = Z * math.sqrt(p * (1 - p) / denominator + Z * Z / (4 * denominator * denominator))
    scale = 1 + Z * Z / denominator
    return 100 * (centre - spread) / scale, 100 * (centre + spread) / scale


def _cells(
    units: pl.DataFrame,
    indicators: tuple[str, ...],
    periods: tuple[str, ...],
    seed: int,
    births: tuple[int, int],
) -> pl.DataFrame:
    """Numerator and denominator of each district × sex × disability × indicator × period."""
    rng = random.Random(seed)
    districts = units.filter(pl.col("level") == 2).to_dicts()
    records = []
    for district in districts:
        size = rng.randint(*births)
        place_effect = rng.uniform(-0.15, 0.08)
        for period in periods:
            scale = 0.25 if "Q" in period else 1.0
            for sex, sex_share in SEX_SHARE.items():
                for disability, dis_share in DISABILITY_SHARE.items():
                    denominator = round(size * scale * sex_share * dis_share)
                    if denominator == 0:
                        continue
                    for code in indicators:
                        rate = RATES.get(code, 0.8)
                        effect = place_effect - (0.1 if disability == "yes" else 0.0)
                        if code in ("zero_dose_12m", "dropout_penta1_penta3_12m"):
                            effect = -effect / 2
                        p = min(max(rate + effect + rng.uniform(-0.03, 0.03), 0.01), 0.99)
                        records.append(
                            (
                                district["code"],
                                district["parent"],
                                period,
                                sex,
                                disability,
                                code,
                                float(round(denominator * p)),
                                float(denominator),
                            )
                        )
    return pl.DataFrame(
        records,
        schema=[
            "district",
            "adm1",
            "period",
            "sex",
            "disability",
            "indicator",
            "numerator",
            "denominator",
        ],
        orient="row",
    )


def _cube(cells: pl.DataFrame) -> pl.DataFrame:
    """Sum the cells to every org-unit level and every sex/disability total."""
    levels = {
        0: pl.lit(geography.NATIONAL),
        1: pl.col("adm1"),
        2: pl.col("district"),
    }
    parts = []
    for level, unit in levels.items():
        for sex_all in (False, True):
            for dis_all in (False, True):
                frame = cells.with_columns(
                    org_unit=unit,
                    adm1_code=pl.lit(None, pl.String) if level == 0 else pl.col("adm1"),
                    org_unit_level=pl.lit(level, pl.Int16),
                    sex=pl.lit("all") if sex_all else pl.col("sex"),
                    disability=pl.lit("all") if dis_all else pl.col("disability"),
                )
                parts.append(
                    frame.group_by(
                        [
                            "indicator",
                            "period",
                            "org_unit",
                            "org_unit_level",
                            "adm1_code",
                            "sex",
                            "disability",
                        ]
                    ).agg(pl.col("numerator").sum(), pl.col("denominator").sum())
                )
    return pl.concat(parts)


def publish(cube: pl.DataFrame, as_of: date = AS_OF) -> pl.DataFrame:
    """Value, interval, flags and primary suppression, as `indicators.publish` would."""
    num, den = pl.col("numerator"), pl.col("denominator")
    p = num / den
    centre = p + Z * Z / (2 * den)
    spread = Z * (p * (1 - p) / den + Z * Z / (4 * den * den)).sqrt()
    scale = 1 + Z * Z / den
    small_num = (num >= 1) & (num <= 4)
    small_den = (den >= 1) & (den <= 4)
    suppressed = small_num | small_den
    hide = pl.when(~suppressed)
    return cube.select(
        pl.col("indicator"),
        pl.col("period"),
        pl.col("org_unit"),
        pl.col("org_unit_level").cast(pl.Int16),
        pl.col("adm1_code"),
        pl.col("sex"),
        pl.col("disability"),
        hide.then(num).cast(pl.Float64).alias("numerator"),
        pl.when(~small_den).then(den).cast(pl.Float64).alias("denominator"),
        hide.then(100 * p).cast(pl.Float64).alias("value"),
        hide.then(100 * (centre - spread) / scale).cast(pl.Float64).alias("ci_low"),
        hide.then(100 * (centre + spread) / scale).cast(pl.Float64).alias("ci_high"),
        suppressed.alias("suppressed"),
        pl.when(den < 25)
        .then(pl.lit("low_denominator"))
        .when(den < 50)
        .then(pl.lit("caution"))
        .otherwise(pl.lit(""))
        .alias("flags"),
        pl.lit(SOURCE).alias("source"),
        pl.lit(as_of).alias("as_of"),
        pl.lit(1, pl.Int32).alias("definition_version"),
    )


def units_frame(governorates: tuple[str, ...] | None = None) -> pl.DataFrame:
    """Org units from the boundary pack (or, without one, two districts per governorate)."""
    units = geography.org_units()
    if units.filter(pl.col("level") == 2).is_empty():
        extra = [f"{code}Q0{i}" for code, *_ in geography.GOVERNORATES for i in (1, 2)]
        units = geography.org_units(extra)
    if governorates:
        units = units.filter((pl.col("level") < 2) | pl.col("parent").is_in(governorates))
    return units


def values_frame(
    *,
    indicators: tuple[str, ...] = HEADLINE_INDICATORS,
    periods: tuple[str, ...] = ("2022", "2023", "2024", "2025Q1"),
    governorates: tuple[str, ...] | None = None,
    seed: int = 7,
    births: tuple[int, int] = (300, 1500),
) -> pl.DataFrame:
    units = units_frame(governorates)
    return publish(_cube(_cells(units, indicators, periods, seed, births)))


def rejects_frame() -> pl.DataFrame:
    rows = [
        (
            "children.csv",
            12,
            "birth_date_after_as_of",
            {"health_id": "H12", "birth_date": "2026-01-02"},
        ),
        ("children.csv", 57, "unknown_adm2_code", {"health_id": "H57", "adm2_code": "IQG99Q01"}),
        ("children.csv", 58, "unknown_adm2_code", {"health_id": "H58", "adm2_code": "=1+1"}),
        ("vaccinations.csv", 3, "unknown_vaccine", {"health_id": "H1", "vaccine": "XYZ"}),
        ("vaccinations.csv", 9, "dose_before_birth", {"health_id": "H2", "vaccine": "BCG"}),
        ("vaccinations.csv", 10, "unknown_adm2_code", {"health_id": "H3"}),
    ]
    return pl.DataFrame(
        [(f, line, rule, json.dumps(values)) for f, line, rule, values in rows],
        schema={"file": pl.String, "line": pl.Int64, "rule": pl.String, "values": pl.String},
        orient="row",
    )


def run_dict(started_at: datetime | None = None) -> dict:
    return {
        "started_at": started_at or warehouse.now() - timedelta(seconds=42),
        "source": RUN_SOURCE,
        "as_of": AS_OF,
        "as_of_origin": "option",
        "inputs": [{"file": "children.csv", "bytes": 123456, "sha256": "ab" * 32}],
        "accounting": {
            "children": {
                "rows_read": 1003,
                "rows_loaded": 1000,
                "rows_rejected": 3,
                "duplicates": 0,
            },
            "vaccinations": {
                "rows_read": 8010,
                "rows_loaded": 8000,
                "rows_rejected": 3,
                "duplicates": 7,
            },
        },
    }


def build(url: str, values: pl.DataFrame | None = None, **options: object) -> sa.Engine:
    """Create the warehouse at `url` and load one successful run into it."""
    engine = warehouse.engine(url)
    frame = values if values is not None else values_frame(**options)
    districts = frame.filter(pl.col("org_unit_level") == 2)["org_unit"].unique().to_list()
    warehouse.replace_results(
        engine,
        run_dict(),
        frame,
        rejects_frame(),
        geography.org_units(districts),
        catalogue.as_frame(),
    )
    return engine


# A hand-built cube for exact assertions: (indicator, period, org_unit, sex, disability,
# numerator, denominator). Published by `publish`, so flags and suppression follow the rules.
TINY_ROWS = [
    ("cov_penta3_12m", "2023", "IQ", "all", "all", 850, 1000),
    ("cov_penta3_12m", "2024", "IQ", "all", "all", 900, 1000),
    ("cov_penta3_12m", "2025Q1", "IQ", "all", "all", 200, 250),  # partial cohort
    ("cov_penta3_12m", "2024", "IQG08", "all", "all", 450, 500),
    ("cov_penta3_12m", "2024", "IQG15", "all", "all", 36, 40),  # caution
    ("cov_penta3_12m", "2024", "IQG08Q01", "all", "all", 3, 20),  # suppressed
    ("cov_penta3_12m", "2024", "IQG08Q02", "all", "all", 15, 20),  # low denominator
    ("cov_penta3_12m", "2024", "IQG08Q03", "all", "all", 400, 460),
    ("cov_penta3_12m", "2024", "IQG08", "F", "all", 220, 250),
    ("cov_penta3_12m", "2024", "IQG08", "M", "all", 228, 246),
    ("cov_penta3_12m", "2024", "IQG08", "U", "all", 2, 4),  # suppressed with its denominator
    ("cov_penta3_12m", "2024", "IQG08", "all", "yes", 20, 30),  # caution
    ("cov_penta3_12m", "2024", "IQG08", "all", "no", 400, 440),
    ("cov_penta3_12m", "2024", "IQG08", "all", "unknown", 30, 30),
    ("cov_penta3_12m", "2024", "IQG08", "F", "yes", 9, 14),  # low denominator
    ("cov_penta3_12m", "2024", "IQG08", "F", "no", 200, 220),
    ("cov_mcv1_12m", "2024", "IQ", "all", "all", 870, 1000),
    ("zero_dose_12m", "2024", "IQ", "all", "all", 80, 1000),
    ("dropout_penta1_penta3_12m", "2024", "IQ", "all", "all", 20, 920),
    ("birth_reg_30d", "2024", "IQ", "all", "all", 700, 1000),
]


CUBE_COLUMNS = ["indicator", "period", "org_unit", "org_unit_level", "adm1_code", "sex",
                "disability", "numerator", "denominator"]  # fmt: skip


def tiny_values() -> pl.DataFrame:
    """The hand-built published frame (a few places, every display case)."""
    cube = pl.DataFrame(
        [
            (
                indicator,
                period,
                unit,
                0 if unit == "IQ" else (1 if len(unit) == 5 else 2),
                None if unit == "IQ" else unit[:5],
                sex,
                disability,
                float(num),
                float(den),
            )
            for indicator, period, unit, sex, disability, num, den in TINY_ROWS
        ],
        schema=CUBE_COLUMNS,
        orient="row",
    )
    return publish(cube)


def published_rows(rows: list[tuple]) -> pl.DataFrame:
    """A hand-written cube, one tuple of CUBE_COLUMNS per cell, published as loads do."""
    return publish(pl.DataFrame(rows, schema=CUBE_COLUMNS, orient="row"))
