"""The CSV indicator export (spec/csv-export.md), shared by the CLI and the dashboard.

Both call `export_csv` with the same selection and scope, so they give the same file.
"""

from __future__ import annotations

import polars as pl

from indicators import queries
from indicators.scope import Scope

COLUMNS = [
    "indicator",
    "indicator_name",
    "period",
    "org_unit",
    "org_unit_level",
    "org_unit_name",
    "sex",
    "disability",
    "numerator",
    "denominator",
    "value",
    "ci_low",
    "ci_high",
    "suppressed",
    "flags",
    "source",
    "as_of",
    "definition_version",
]
BOM = "\ufeff"


def _count(column: str) -> pl.Expr:
    """Integers without a decimal point; non-integral counts (admin targets) as decimals."""
    col = pl.col(column).cast(pl.Float64)
    return (
        pl.when(col.is_null())
        .then(pl.lit(""))
        .when(col == col.round(0))
        .then(col.cast(pl.Int64).cast(pl.String))
        .otherwise(col.round(4).cast(pl.String))
        .alias(column)
    )


def _decimal(column: str) -> pl.Expr:
    """At least two decimals, four kept, so no precision a user would check is lost."""
    col = pl.col(column).cast(pl.Float64)
    return (
        pl.when(col.is_null())
        .then(pl.lit(""))
        .otherwise(col.round(4).map_elements(lambda x: f"{x:.4f}", return_dtype=pl.String))
        .alias(column)
    )


def _text(column: str) -> pl.Expr:
    """Neutralise spreadsheet formula injection in free-text columns (names)."""
    col = pl.col(column).fill_null("")
    return (
        pl.when(col.str.starts_with("=") | col.str.starts_with("+") | col.str.starts_with("@"))
        .then(pl.lit("'") + col)
        .otherwise(col)
        .alias(column)
    )


def to_csv_frame(values: pl.DataFrame) -> pl.DataFrame:
    """Published indicator rows → the export's 18 text columns, in contract order."""
    return values.sort(queries.SORT_KEYS).select(
        pl.col("indicator"),
        _text("indicator_name"),
        pl.col("period"),
        pl.col("org_unit"),
        pl.col("org_unit_level").cast(pl.String),
        _text("org_unit_name"),
        pl.col("sex"),
        pl.col("disability"),
        _count("numerator"),
        _count("denominator"),
        _decimal("value"),
        _decimal("ci_low"),
        _decimal("ci_high"),
        pl.when(pl.col("suppressed"))
        .then(pl.lit("true"))
        .otherwise(pl.lit("false"))
        .alias("suppressed"),
        pl.col("flags").fill_null(""),
        pl.col("source"),
        pl.col("as_of").cast(pl.String),
        pl.col("definition_version").cast(pl.String),
    )


def to_csv_bytes(values: pl.DataFrame) -> bytes:
    """UTF-8 with BOM, comma-separated, header row, `\\n` line ends."""
    body = to_csv_frame(values).write_csv(line_terminator="\n", quote_style="necessary")
    return (BOM + body).encode("utf-8")


def export_csv(
    scope: Scope,
    *,
    indicators: list[str] | None = None,
    period: str | None = None,
    org_unit: str | None = None,
    sex: str | None = None,
    disability: str | None = None,
    url: str | None = None,
) -> tuple[bytes, int]:
    """The CSV of a selection as the scope may see it, and its row count (for the audit)."""
    values = queries.indicator_values(
        scope,
        indicators=indicators,
        period=period,
        org_unit=org_unit,
        sex=sex,
        disability=disability,
        url=url,
    )
    return to_csv_bytes(values), values.height
