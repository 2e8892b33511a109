"""The export buttons' payloads: what is on screen, as a CSV file for `dcc.Download`.

Indicator views use the platform's CSV contract (`indicators.export.to_csv_bytes`), so a
dashboard download equals the command-line export of the same selection. The Data page's
tables are not indicator rows; they get the same conventions (UTF-8 BOM, `\\n`, header,
formula-looking text neutralised) for Excel users.

Every download is audited: `indicator_download` and `table_download` need the view name
and the selection, and append `export` (who, which view and selection, how many rows,
from where) to the audit trail before the file is handed out. An export whose audit
cannot be written fails.
"""

from __future__ import annotations

import re

import polars as pl
from dash import dcc

from dashboard import session
from indicators.export import BOM, to_csv_bytes

CSV_TYPE = "text/csv"
FORMULA_START = r"^(?:[=+@\t\r]|-[^0-9])"  # a leading minus is fine before a number


def _slug(*parts: str | None) -> str:
    text = "_".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "export"


def filename(*parts: str | None) -> str:
    """`mizan_<parts>.csv`, safe on every file system."""
    return f"mizan_{_slug(*parts)}.csv"


def record(view: str, selection: dict, rows: int) -> None:
    """Append the export to the audit trail (as the signed-in user)."""
    session.audit("export", {"view": view, "selection": selection, "rows": rows})


def indicator_payload(values: pl.DataFrame, *parts: str | None) -> dict:
    """Published indicator rows → the contract CSV (sorted, 18 columns, BOM)."""
    return dcc.send_bytes(to_csv_bytes(values), filename(*parts), type=CSV_TYPE)


def indicator_download(
    values: pl.DataFrame, *parts: str | None, view: str, selection: dict
) -> dict:
    """`indicator_payload`, audited."""
    payload = indicator_payload(values, *parts)
    record(view, selection, values.height)
    return payload


def _neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """Raw rejected values can start with `=`: prefix `'` so spreadsheets show, not run, them."""
    text_columns = [name for name, kind in frame.schema.items() if kind == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text_columns
    )


def table_bytes(frame: pl.DataFrame) -> bytes:
    """Any small table → UTF-8 with BOM, header row, `\\n` line ends."""
    body = _neutralise(frame).write_csv(line_terminator="\n", quote_style="necessary")
    return (BOM + body).encode("utf-8")


def table_download(frame: pl.DataFrame, *parts: str | None, view: str, selection: dict) -> dict:
    """Any small table as a CSV download, audited."""
    payload = dcc.send_bytes(table_bytes(frame), filename(*parts), type=CSV_TYPE)
    record(view, selection, frame.height)
    return payload
