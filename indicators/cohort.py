"""Registry birth-cohort indicators (spec/indicators.md), computed as a full cube.

Everything is driven by the catalogue (kind, doses, age_months), so a new registry
indicator needs a catalogue entry, not code. The work is done in three vectorised steps
so that 5.5 M children and 60 M doses fit the load budget:

1. the doses become per-child flags, one per (vaccine, age) the catalogue needs
   ("received before that age"): one health_id join (skipped when the loader passes
   `child_index`), then numpy compares and boolean scatters on the child's row number;
2. per-child 0/1 numerator and denominator columns, one pair per indicator, summed in a
   single group_by at the finest grain (residence x sex x disability x birth quarter);
   residence codes are resolved against the org units only on that small table;
3. rollups of that small wide table to years, `all` sex and disability, governorates and
   Iraq, then one row per indicator with a non-zero denominator.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from indicators import catalogue, geography
from indicators.catalogue import Indicator

ALL = "all"
REGISTRY = "registry"
TIMELY_REGISTRATION_DAYS = 30
CUBE_KEYS = ["indicator", "period", "org_unit", "org_unit_level", "adm1_code", "sex", "disability"]
CUBE_SCHEMA = {
    "indicator": pl.String,
    "period": pl.String,
    "org_unit": pl.String,
    "org_unit_level": pl.Int8,
    "adm1_code": pl.String,
    "sex": pl.String,
    "disability": pl.String,
    "numerator": pl.Int64,
    "denominator": pl.Int64,
}
_GRAIN = ["gov", "district", "sex", "disability"]  # plus the period columns
CHILD_INDEX = "child_index"  # optional vaccinations column: the child's row in `children`
CHILD_COLUMNS = ["health_id", "birth_date", "registration_date", "death_date", "sex",
                 "disability", "adm1_code", "adm2_code"]


def registry_indicators() -> tuple[Indicator, ...]:
    return tuple(i for i in catalogue.indicators() if i.source == REGISTRY)


def _needs(indicators: tuple[Indicator, ...]) -> list[tuple[str, int]]:
    """Every (vaccine, age in months) that some indicator asks about."""
    return sorted({(dose, i.age_months) for i in indicators for dose in i.doses})


def _has_column(vaccine: str, age: int) -> str:
    return f"_has_{vaccine}_{age}"


def anniversary(age_months: int) -> pl.Expr:
    """birth_date + A calendar months; polars clamps to month end (29 Feb + 12 mo = 28 Feb)."""
    return pl.col("birth_date").dt.offset_by(f"{age_months}mo")


def _located_doses(
    kids: pl.DataFrame, vaccinations: pl.LazyFrame, vaccines: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The doses of `vaccines` given to a child of `kids`, as three aligned arrays: the
    child's row in `kids`, the vaccine's position in `vaccines` and the day (days since
    1970; a missing date is far in the future, so it never counts).

    With a `child_index` column (the child's row in `children`, which the loader has
    already computed) no string is joined; otherwise the health_id is joined once. A
    `child_index` next to a health_id is checked on a sample; without one (the registry
    reader's compact doses) it is trusted.
    """
    day = pl.col("dose_date").cast(pl.Int32).fill_null(np.iinfo(np.int32).max).alias("_day")
    names = vaccinations.collect_schema().names()
    if CHILD_INDEX in names and "health_id" in names:
        _check_child_index(kids, vaccinations)
    if CHILD_INDEX in names:
        doses = vaccinations.select(CHILD_INDEX, "vaccine", day).collect()
        child = _kid_rows(kids, doses[CHILD_INDEX].fill_null(-1).to_numpy())
    else:
        row = pl.int_range(pl.len(), dtype=pl.Int64).alias("_child")
        index = kids.lazy().select("health_id", row)
        joined = vaccinations.join(index, on="health_id", how="inner")
        doses = joined.select("_child", "vaccine", day).collect()
        child = doses["_child"].to_numpy()
    number, day = _vaccine_numbers(doses["vaccine"], vaccines), doses["_day"].to_numpy()
    keep = (child >= 0) & (number >= 0)
    if keep.all():  # the usual case: no copies of 60 M-element arrays
        return child, number, day
    return child[keep], number[keep], day[keep]


def _kid_rows(kids: pl.DataFrame, given: np.ndarray) -> np.ndarray:
    """Rows of `children` (as passed) -> rows of `kids` (-1: none, or a skipped child)."""
    inputs = kids["_input"].to_numpy()
    if inputs.size and inputs[-1] == inputs.size - 1:  # no child was skipped: same rows
        return np.where(given < kids.height, given, -1)
    size = max(int(given.max(initial=-1)), int(inputs.max(initial=0))) + 1
    position = np.full(size, -1, dtype=np.int64)
    position[inputs] = np.arange(kids.height)
    return np.where(given >= 0, position[np.clip(given, 0, None)], -1)


def _vaccine_numbers(vaccine: pl.Series, vaccines: list[str]) -> np.ndarray:
    """Each dose's position in `vaccines`, -1 for any other code. An Enum column (the
    reader's) is mapped through its small category table, so no string is compared."""
    if not isinstance(vaccine.dtype, pl.Enum):
        vaccine = vaccine.cast(pl.Enum(vaccines), strict=False)
        return vaccine.to_physical().cast(pl.Int16).fill_null(-1).to_numpy()
    table = np.array([vaccines.index(c) if c in vaccines else -1 for c in vaccine.dtype.categories])
    physical = vaccine.to_physical()
    return np.where(physical.is_null().to_numpy(), -1, table[physical.fill_null(0).to_numpy()])


def _check_child_index(kids: pl.DataFrame, vaccinations: pl.LazyFrame) -> None:
    """Refuse a `child_index` that does not point at the dose's child (on rows sampled from
    both ends, enough to catch a shifted or reordered children table)."""
    pairs = vaccinations.select(pl.col(CHILD_INDEX).cast(pl.Int64), "health_id")
    sample = pl.concat([pairs.head(1_000_000), pairs.tail(1_000_000)]).gather_every(499)
    expected = kids.select(pl.col("_input").cast(pl.Int64), pl.col("health_id").alias("_expected"))
    joined = sample.collect().join(expected, left_on=CHILD_INDEX, right_on="_input", how="left")
    if (joined["_expected"] != joined["health_id"]).fill_null(True).any():
        raise ValueError("vaccinations.child_index does not match the children's rows")


def _dose_flags(
    kids: pl.DataFrame, vaccinations: pl.LazyFrame, needs: list[tuple[str, int]]
) -> list[pl.Series]:
    """Per need (vaccine, age), per child (row of `kids`): was it given before that age?

    Per vaccine, one integer compare selects its doses; per age, one gather of the child's
    anniversary and a boolean scatter on the child rows. Setting True is idempotent, so a
    repeated dose cannot double count, and a boolean array per need keeps the random writes
    in cache.
    """
    if not needs:
        return []
    vaccines = sorted({vaccine for vaccine, _ in needs})
    child, number, day = _located_doses(kids, vaccinations, vaccines)
    due = {
        age: kids.select(anniversary(age).cast(pl.Int32)).to_series().to_numpy()
        for age in sorted({age for _, age in needs})
    }
    hits = {need: np.zeros(kids.height, dtype=bool) for need in needs}
    for position, vaccine in enumerate(vaccines):
        rows = np.flatnonzero(number == position)
        children, days = child[rows], day[rows]
        for age in [at for name, at in needs if name == vaccine]:
            hits[(vaccine, age)][children[days < due[age][children]]] = True
    return [pl.Series(_has_column(*need), hit) for need, hit in hits.items()]


def _eligible(age: int, as_of: date) -> pl.Expr:
    at = anniversary(age)
    return (at <= as_of) & (pl.col("death_date").is_null() | (pl.col("death_date") >= at))


def _terms(indicator: Indicator, as_of: date) -> tuple[pl.Expr, pl.Expr]:
    """Per-child numerator and denominator contributions of one indicator."""
    age, doses = indicator.age_months, indicator.doses
    if indicator.kind == "timely_registration":
        registered = pl.col("registration_date").is_not_null()
        delay = (pl.col("registration_date") - pl.col("birth_date")).dt.total_days()
        return registered & (delay <= TIMELY_REGISTRATION_DAYS), registered
    eligible = _eligible(age, as_of)
    has = [pl.col(_has_column(dose, age)) for dose in doses]
    if indicator.kind == "coverage":
        return eligible & pl.all_horizontal(has), eligible
    if indicator.kind == "zero_dose":
        return eligible & ~pl.any_horizontal(has), eligible
    if indicator.kind == "dropout":
        first, last = (eligible & has[0]), (eligible & has[-1])
        return first.cast(pl.Int8) - last.cast(pl.Int8), first
    raise ValueError(f"indicator {indicator.code}: unknown kind {indicator.kind!r}")


def _residence(units: pl.DataFrame) -> tuple[pl.Expr, pl.Expr, pl.DataFrame]:
    """Known district and its governorate (from the org units, so districts add up)."""
    district_parent = units.filter(pl.col("level") == 2).select(
        pl.col("code").alias("adm2_code"), pl.col("parent").alias("_district_gov")
    )
    governorates = units.filter(pl.col("level") == 1).get_column("code").to_list()
    gov = pl.coalesce("_district_gov", "adm1_code")
    gov = pl.when(gov.is_in(governorates)).then(gov)
    district = pl.when(pl.col("_district_gov").is_not_null()).then(pl.col("adm2_code"))
    return gov.alias("gov"), district.alias("district"), district_parent


def _finest(
    children: pl.LazyFrame,
    vaccinations: pl.LazyFrame,
    as_of: date,
    units: pl.DataFrame,
    indicators: tuple[Indicator, ...],
) -> pl.DataFrame:
    """Wide sums (n_<code>, d_<code>) per district x sex x disability x birth quarter."""
    kids = (
        children.with_row_index("_input")
        .filter(pl.col("birth_date").is_not_null())
        .select("_input", *CHILD_COLUMNS)
        .collect()
    )
    kids = kids.with_columns(_dose_flags(kids, vaccinations, _needs(indicators)))
    terms = {i.code: _terms(i, as_of) for i in indicators}
    raw_keys = ["adm1_code", "adm2_code", "sex", "disability", "year", "quarter"]
    counts = (
        kids.lazy()
        .select(
            "adm1_code",
            "adm2_code",
            pl.col("sex").fill_null("U"),
            pl.col("disability").fill_null("unknown"),
            pl.col("birth_date").dt.year().alias("year"),
            pl.col("birth_date").dt.quarter().alias("quarter"),
            *(num.cast(pl.Int8).alias(f"n_{code}") for code, (num, _) in terms.items()),
            *(den.cast(pl.Int8).alias(f"d_{code}") for code, (_, den) in terms.items()),
        )
        .group_by(raw_keys)
        .agg(pl.col(r"^[nd]_.*$").sum().cast(pl.Int64))
        .collect()
    )
    return _resolve_residence(counts, units)


def _resolve_residence(counts: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    """Map (adm1_code, adm2_code) to known (gov, district), on the small aggregated table."""
    gov, district, district_parent = _residence(units)
    return (
        counts.join(district_parent, on="adm2_code", how="left")
        .with_columns(gov, district)
        .group_by([*_GRAIN, "year", "quarter"])
        .agg(pl.col(_measures(counts)).sum())
    )


def _measures(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith(("n_", "d_"))]


def _with_total(frame: pl.DataFrame, column: str, keys: list[str]) -> pl.DataFrame:
    """Append the `all` rows of one dimension (summed over its values)."""
    total = frame.group_by([k for k in keys if k != column]).agg(pl.col(_measures(frame)).sum())
    return pl.concat([frame, total.with_columns(pl.lit(ALL).alias(column))], how="diagonal")


def _periods(finest: pl.DataFrame) -> pl.DataFrame:
    """Quarter cohorts ("2023Q1") and year cohorts ("2023")."""
    year = pl.col("year").cast(pl.String)
    quarters = finest.with_columns((year + "Q" + pl.col("quarter").cast(pl.String)).alias("period"))
    years = finest.group_by([*_GRAIN, "year"]).agg(pl.col(_measures(finest)).sum())
    return pl.concat(
        [quarters.drop("year", "quarter"), years.with_columns(year.alias("period")).drop("year")],
        how="diagonal",
    )


def _geography(frame: pl.DataFrame) -> pl.DataFrame:
    """District (level 2), governorate (level 1) and Iraq (level 0) rows."""
    measures = pl.col(_measures(frame)).sum()
    rest = ["period", "sex", "disability"]
    districts = frame.filter(pl.col("district").is_not_null()).select(
        pl.col("district").alias("org_unit"), pl.lit(2, pl.Int8).alias("org_unit_level"),
        pl.col("gov").alias("adm1_code"), *rest, *_measures(frame),
    )
    governorates = frame.filter(pl.col("gov").is_not_null()).group_by(["gov", *rest]).agg(measures)
    governorates = governorates.select(
        pl.col("gov").alias("org_unit"), pl.lit(1, pl.Int8).alias("org_unit_level"),
        pl.col("gov").alias("adm1_code"), *rest, *_measures(frame),
    )
    national = frame.group_by(rest).agg(measures).with_columns(
        pl.lit(geography.NATIONAL).alias("org_unit"), pl.lit(0, pl.Int8).alias("org_unit_level"),
        pl.lit(None, pl.String).alias("adm1_code"),
    )
    return pl.concat([districts, governorates, national], how="diagonal")


def _long(wide: pl.DataFrame, codes: list[str]) -> pl.DataFrame:
    """One row per indicator and cell, keeping only non-zero denominators."""
    keys = [k for k in CUBE_KEYS if k != "indicator"]
    parts = [
        wide.select(
            pl.lit(code).alias("indicator"), *keys,
            pl.col(f"n_{code}").alias("numerator"), pl.col(f"d_{code}").alias("denominator"),
        ).filter(pl.col("denominator") != 0)
        for code in codes
    ]
    if not parts:
        return pl.DataFrame(schema=CUBE_SCHEMA)
    return pl.concat(parts).select(pl.col(c).cast(t) for c, t in CUBE_SCHEMA.items())


def cohort_cube(
    children: pl.LazyFrame | pl.DataFrame,
    vaccinations: pl.LazyFrame | pl.DataFrame,
    as_of: date,
    units: pl.DataFrame,
) -> pl.DataFrame:
    """The full cube of every registry indicator: one row per cell with a non-zero denominator.

    `vaccinations` may carry an optional `child_index` column, the dose's child as a row
    number of `children` (as passed): the 60 M-row string join on health_id is then
    skipped. Counts are unsuppressed: pass the result through `indicators.publish`
    before it leaves the indicator layer.
    """
    indicators = registry_indicators()
    finest = _finest(children.lazy(), vaccinations.lazy(), as_of, units, indicators)
    wide = _periods(finest)
    wide = _with_total(wide, "sex", [*_GRAIN, "period"])
    wide = _with_total(wide, "disability", [*_GRAIN, "period"])
    cube = _long(_geography(wide), [i.code for i in indicators])
    return cube.sort(["indicator", "period", "org_unit_level", "org_unit", "sex", "disability"])
