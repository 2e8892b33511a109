"""From a computed cube to the rows the warehouse stores: suppressed, flagged, with intervals.

This is the only way out of the indicator layer (spec "Confidence, reliability and
disclosure"), so a view, a callback and an export all show the same suppressed figures.

Decisions:
- `low_denominator` rows (denominator < 25) keep their value and interval in the data;
  the spec wants exports to keep the counts with the flag, so hiding the value is the
  dashboard's job (charts and tables show only the flag).
- Flags describe published figures only: no denominator flag on a row whose denominator
  is hidden and no `negative_dropout`/`over_100` on a suppressed value, so a flag never
  narrows down a hidden count.
- `value` = numerator x the catalogue's `scale` / denominator (100 for a percentage, 10,000
  for a rate per 10,000, 1 for a plain ratio); a row without a denominator is a total and
  its value is the numerator.
- Rows of a census of facilities (source `facility`) get no flags: their denominators
  count facilities, kilograms or residents, not a sample whose size limits precision.
- The interval is computed for registry proportions only (the spec leaves it empty for
  administrative coverage, whose error is in the denominator).
- `suppression` says why a row is hidden: "primary" when its own numerator or denominator
  is 1..4 (so "<5" is true of it), "complementary" when it is hidden only to protect
  another row (its counts may be large), "" when published. Showing the two apart tells
  a reader more than `suppressed` does, and complementary suppression assumes hidden
  cells look alike: a year cohort of 8 whose two hidden quarters both say "<5" is 4 + 4
  (on the 60,000-child demo about 2,200 counts of 1..4 are pinned down so from a single
  group). Public views should show one symbol for both; the reason is for audit.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from indicators import catalogue, config
from indicators.intervals import wilson
from indicators.suppression import is_small, suppress

COLUMNS = [
    "indicator", "period", "org_unit", "org_unit_level", "adm1_code", "sex", "disability",
    "numerator", "denominator", "value", "ci_low", "ci_high", "suppressed", "suppression", "flags",
    "source", "as_of", "definition_version",
]
SORT_KEYS = ["indicator", "period", "org_unit_level", "org_unit", "sex", "disability"]
FLAG_ORDER = ("low_denominator", "caution", "over_100", "negative_dropout")
PRIMARY, COMPLEMENTARY = "primary", "complementary"
CI_SOURCES = frozenset({"registry"})
UNFLAGGED_SOURCES = frozenset({"facility"})


def _catalogue_columns(cube: pl.DataFrame) -> pl.DataFrame:
    """Join source, definition_version and scale; an indicator outside the catalogue is an
    error."""
    meta = pl.DataFrame(
        [(i.code, i.source, i.version, float(i.scale)) for i in catalogue.indicators()],
        schema={"indicator": pl.String, "source": pl.String, "definition_version": pl.Int32,
                "_scale": pl.Float64},
        orient="row",
    )  # fmt: skip
    unknown = set(cube["indicator"].unique()) - set(meta["indicator"])
    if unknown:
        raise ValueError(f"indicators not in the catalogue: {sorted(unknown)}")
    return cube.join(meta, on="indicator", how="left")


def _flags() -> pl.Expr:
    """';'-joined flags in FLAG_ORDER, from the published denominator and value."""
    den, value = pl.col("denominator"), pl.col("value")
    conditions = {
        "low_denominator": den < config.LOW_DENOMINATOR,
        "caution": (den >= config.LOW_DENOMINATOR) & (den < config.CAUTION_DENOMINATOR),
        "over_100": value > 100,
        "negative_dropout": value < 0,
    }
    flagged = ~pl.col("source").is_in(list(UNFLAGGED_SOURCES))
    parts = [pl.when(flagged & conditions[name]).then(pl.lit(name)) for name in FLAG_ORDER]
    return pl.concat_str(parts, separator=";", ignore_nulls=True).fill_null("").alias("flags")


def _reason() -> pl.Expr:
    """Why a row is hidden, from its own (unmasked) counts: see the module docstring."""
    own_small = is_small(pl.col("numerator")) | is_small(pl.col("denominator"))
    return (
        pl.when(~pl.col("num_hidden")).then(pl.lit(""))
        .when(own_small).then(pl.lit(PRIMARY))
        .otherwise(pl.lit(COMPLEMENTARY))
        .alias("suppression")
    )


def publish(cube: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The publishable rows of a cube: the warehouse's `indicator_values` minus load_run_id."""
    return publish_marked(suppress(cube), as_of)


def publish_marked(marked: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """`publish` for a cube whose hidden cells are already decided (bool columns
    `num_hidden`, `den_hidden`): for rows whose suppression follows from other published
    rows (the administrative year-to-date series) or that count no persons (reports)."""
    rows = _catalogue_columns(marked)
    shown = ~pl.col("num_hidden")
    num = pl.when(shown).then(pl.col("numerator").cast(pl.Float64))
    den = pl.when(~pl.col("den_hidden")).then(pl.col("denominator").cast(pl.Float64))
    low, high = wilson(pl.col("numerator"), pl.col("denominator"))
    with_ci = shown & pl.col("source").is_in(list(CI_SOURCES))
    rows = rows.with_columns(
        num.alias("numerator"),
        den.alias("denominator"),
        pl.when(shown & pl.col("denominator").is_null()).then(pl.col("numerator"))
        .when(shown & (pl.col("denominator") != 0))
        .then(pl.col("_scale") * pl.col("numerator") / pl.col("denominator"))
        .alias("value"),
        pl.when(with_ci).then(low).alias("ci_low"),
        pl.when(with_ci).then(high).alias("ci_high"),
        pl.col("num_hidden").alias("suppressed"),
        _reason(),
        pl.lit(as_of, pl.Date).alias("as_of"),
    )
    return rows.with_columns(_flags()).select(COLUMNS).sort(SORT_KEYS)
