"""Subgroup rows in the WHO HEAT Plus v6 upload layout (reference/equity.md §1.8).

A focal point loads the result straight into HEAT Plus. Decisions:
- Suppressed subgroups are left out, not blanked: `estimate` is mandatory in the template,
  so a blank row fails its validation, and a left-out row carries no count at all (its
  population would be the small denominator). The other subgroups of the same setting ×
  date × source × indicator × dimension get a `note` saying some subgroups are not shown,
  because HEAT Plus will compute its summary measures on the rest.
- `ordered_dimension` is 1 only for an ordered dimension with more than two published
  subgroups (the template's rule); then `subgroup_order` keeps the caller's order and
  `reference_subgroup` is 0. Otherwise `subgroup_order` is 0.
- `se` is the caller's, else binomial from `numerator`/`denominator`, else empty.
- `note` is the row's reliability flags (`;`-separated, as in the CSV export) and the
  suppression note. Rows keep the caller's order.
"""

from __future__ import annotations

import polars as pl

from indicators.equity_measures import binomial_se

HEAT_PLUS_SCHEMA = {
    "setting": pl.String,
    "date": pl.String,
    "source": pl.String,
    "indicator_abbr": pl.String,
    "indicator_name": pl.String,
    "dimension": pl.String,
    "subgroup": pl.String,
    "estimate": pl.Float64,
    "se": pl.Float64,
    "ci_lb": pl.Float64,
    "ci_ub": pl.Float64,
    "population": pl.Float64,
    "note": pl.String,
    "setting_average": pl.Float64,
    "iso3": pl.String,
    "favourable_indicator": pl.Int64,
    "indicator_scale": pl.Float64,
    "ordered_dimension": pl.Int64,
    "subgroup_order": pl.Int64,
    "reference_subgroup": pl.Int64,
}
HEAT_PLUS_COLUMNS = list(HEAT_PLUS_SCHEMA)

REQUIRED = (
    "setting", "period", "source", "indicator", "indicator_name", "dimension", "subgroup",
    "estimate", "population", "favourable", "ordered", "order", "reference", "suppressed",
)
GROUP = ["setting", "period", "source", "indicator", "dimension"]
SUPPRESSED_NOTE = "some subgroups not shown (small numbers)"


def _optional(frame: pl.DataFrame, column: str, dtype: pl.DataType) -> pl.Expr:
    if column in frame.columns:
        return pl.col(column).cast(dtype)
    return pl.lit(None, dtype=dtype)


def _se(frame: pl.DataFrame) -> pl.Expr:
    scale = pl.col("scale")
    derived = pl.lit(None, dtype=pl.Float64)
    if {"numerator", "denominator"} <= set(frame.columns):
        derived = binomial_se(pl.col("numerator"), pl.col("denominator"), 1.0) * scale
    return _optional(frame, "se", pl.Float64).fill_null(derived)


def _check(frame: pl.DataFrame) -> None:
    missing = set(REQUIRED) - set(frame.columns)
    if missing:
        raise ValueError(f"rows lack columns {sorted(missing)}")
    references = frame.group_by(GROUP).agg(pl.col("reference").fill_null(False).sum().alias("n"))
    if (references["n"] > 1).any():
        raise ValueError("more than one reference subgroup in a dimension")


def heat_plus_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """The 20 HEAT Plus columns for published subgroup rows.

    `rows`: `setting` (e.g. "Iraq", "Basrah"), `period`, `source`, `indicator`,
    `indicator_name`, `dimension`, `subgroup`, `estimate` (on the indicator scale),
    `population`, `favourable`, `ordered`, `reference` (bools), `order` (1 = most
    disadvantaged; null when not ordered), `suppressed` (null counts as suppressed);
    optional `se`, `numerator`, `denominator`, `ci_low`, `ci_high`, `flags`,
    `setting_average`, `iso3` (for a country-level setting) and `scale` (default 100).
    """
    _check(rows)
    hidden = pl.col("suppressed").fill_null(True)
    frame = rows.with_columns(
        _optional(rows, "scale", pl.Float64).fill_null(100.0).alias("scale"),
        hidden.any().over(GROUP).alias("_some_hidden"),
    ).filter(~hidden)
    frame = frame.with_columns(
        (pl.col("ordered").fill_null(False) & (pl.len().over(GROUP) > 2)).alias("_ordered")
    )
    raw_flags = _optional(frame, "flags", pl.String)
    flags = pl.when(raw_flags != "").then(raw_flags)
    note = pl.concat_str(
        [flags, pl.when(pl.col("_some_hidden")).then(pl.lit(SUPPRESSED_NOTE))],
        separator="; ",
        ignore_nulls=True,
    )
    ordered = pl.col("_ordered")
    reference = pl.col("reference").fill_null(False) & ~ordered
    return frame.select(
        pl.col("setting").cast(pl.String),
        pl.col("period").cast(pl.String).alias("date"),
        pl.col("source").cast(pl.String),
        pl.col("indicator").cast(pl.String).alias("indicator_abbr"),
        pl.col("indicator_name").cast(pl.String),
        pl.col("dimension").cast(pl.String),
        pl.col("subgroup").cast(pl.String),
        pl.col("estimate").cast(pl.Float64),
        _se(frame).alias("se"),
        _optional(frame, "ci_low", pl.Float64).alias("ci_lb"),
        _optional(frame, "ci_high", pl.Float64).alias("ci_ub"),
        pl.col("population").cast(pl.Float64),
        pl.when(note != "").then(note).alias("note"),
        _optional(frame, "setting_average", pl.Float64).alias("setting_average"),
        _optional(frame, "iso3", pl.String).alias("iso3"),
        pl.col("favourable").cast(pl.Int64).alias("favourable_indicator"),
        pl.col("scale").alias("indicator_scale"),
        ordered.cast(pl.Int64).alias("ordered_dimension"),
        pl.when(ordered).then(pl.col("order")).otherwise(0).cast(pl.Int64).alias("subgroup_order"),
        reference.cast(pl.Int64).alias("reference_subgroup"),
    ).cast(HEAT_PLUS_SCHEMA)
