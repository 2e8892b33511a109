"""Analytics API responses (`/api/analytics.json|.csv`, §3 of the DHIS2 reference) as tables.

A response is already long (one row per dimension combination); this makes it typed: one
column per header (`dx`, `pe`, `ou`, a category or group-set UID, `value`, and with
`includeNumDen` `numerator, denominator, factor, multiplier, divisor` as Float64), plus
`period_type`, `period_start`, `period_end` when a `pe` column is there, and `<dim>_name`
columns from `metaData.items` (or the older `metaData.names`). CSV responses carry display
labels (`Data,Period,Organisation unit,Value`); the known ones are mapped back to ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from etl.dhis2.periods import PeriodError, parse_period
from etl.dhis2.problems import KEPT, Dhis2Error, Problem
from etl.dhis2.source import CSV, csv_records, decode, key, load_json, read_bytes, sniff
from etl.dhis2.values import parse_number

NUMERIC = ("value", "numerator", "denominator", "factor", "multiplier", "divisor")
CSV_LABELS = {  # key(display label) -> header name
    "data": "dx",
    "period": "pe",
    "organisationunit": "ou",
    "orgunit": "ou",
    "categoryoptioncombo": "co",
    "attributeoptioncombo": "ao",
    **{name: name for name in NUMERIC},
}


@dataclass
class Analytics:
    """A typed analytics response; `items` maps ids to display names."""

    table: pl.DataFrame
    items: dict[str, str] = field(default_factory=dict)
    dimensions: dict[str, list[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Grid:
    """The untyped response: header names, rows as (position, cells), metadata."""

    names: list[str]
    rows: Iterator[tuple[str, list[str | None]]]
    items: dict[str, str]
    dimensions: dict[str, list[str]]


def read_analytics(path: Path) -> Analytics:
    """Read an analytics JSON or CSV response; rows of the wrong width become problems."""
    file = str(path)
    data = read_bytes(path)
    grid = grid_of(file, data, sniff(path, data))
    problems: list[Problem] = []
    rows: list[tuple[str, list[str | None]]] = []
    for position, cells in grid.rows:
        if len(cells) != len(grid.names):
            reason = f"{len(cells)} cells for {len(grid.names)} headers"
            problems.append(Problem(file, position, "row_width", reason))
            continue
        rows.append((position, cells))
    table = _typed(file, grid, rows, problems)
    return Analytics(table, grid.items, grid.dimensions, problems)


def grid_of(file: str, data: bytes, fmt: str) -> Grid:
    """The response's headers and rows, from JSON or CSV bytes."""
    text = decode(file, data)
    if fmt == CSV:
        return _csv_grid(file, text)
    return json_grid(file, load_json(file, text))


def json_grid(file: str, doc: Any) -> Grid:
    """Headers, rows and metadata of a parsed JSON analytics response."""
    if not isinstance(doc, dict):
        raise Dhis2Error(file, "not an analytics response (no headers/rows)")
    if "httpStatus" in doc and "rows" not in doc:
        raise Dhis2Error(file, f"a DHIS2 error response: {_error_text(doc)}")
    headers, rows = doc.get("headers"), doc.get("rows")
    if not isinstance(headers, list) or not isinstance(rows, list):
        raise Dhis2Error(file, "not an analytics response (no headers/rows lists)")
    names = _unique(file, [_header_name(file, index, h) for index, h in enumerate(headers)])
    meta = doc.get("metaData") if isinstance(doc.get("metaData"), dict) else {}
    return Grid(names, _json_rows(rows), _items(meta), _dimensions(meta))


def _unique(file: str, names: list[str]) -> list[str]:
    """Header names, refused when two are alike (or clash with the columns added here)."""
    added = {"period_type", "period_start", "period_end", *(f"{n}_name" for n in names)}
    clash = sorted({n for n in names if names.count(n) > 1} | (set(names) & added))
    if clash:
        raise Dhis2Error(file, f"analytics headers repeat or clash: {', '.join(clash)[:120]}")
    return names


def _error_text(doc: dict[str, Any]) -> str:
    parts = [doc.get("httpStatusCode"), doc.get("errorCode"), doc.get("message")]
    return " ".join(str(p) for p in parts if p is not None) or "no message"


def _header_name(file: str, index: int, header: Any) -> str:
    if isinstance(header, dict) and isinstance(header.get("name"), str) and header["name"]:
        return header["name"]
    raise Dhis2Error(file, f"analytics header {index} has no name")


def _json_rows(rows: list[Any]) -> Iterator[tuple[str, list[str | None]]]:
    for index, row in enumerate(rows):
        cells = row if isinstance(row, list) else []
        yield f"$.rows[{index}]", [_cell(c) for c in cells]


def _cell(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _items(meta: dict[str, Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    old = meta.get("names")
    if isinstance(old, dict):
        names.update({k: str(v) for k, v in old.items() if isinstance(v, str)})
    items = meta.get("items")
    if isinstance(items, dict):
        for uid, item in items.items():
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                names[uid] = item["name"]
    return names


def _dimensions(meta: dict[str, Any]) -> dict[str, list[str]]:
    found = meta.get("dimensions") if isinstance(meta.get("dimensions"), dict) else meta
    return {
        name: [str(v) for v in values if isinstance(v, str)]
        for name, values in found.items()
        if isinstance(values, list) and name not in ("names", "items")
    }


def _csv_grid(file: str, text: str) -> Grid:
    records = csv_records(file, text)
    first = next(records, None)
    if first is None:
        raise Dhis2Error(file, "empty analytics CSV")
    names = _unique(file, [CSV_LABELS.get(key(label), label) for label in first[1]])
    rows = ((f"line {line}", list(cells)) for line, cells in records)
    return Grid(names, rows, {}, {})


def _typed(
    file: str, grid: Grid, rows: list[tuple[str, list[str | None]]], problems: list[Problem]
) -> pl.DataFrame:
    columns: dict[str, pl.Series] = {}
    for index, name in enumerate(grid.names):
        cells = [cells[index] or None for _, cells in rows]
        if name in NUMERIC:
            columns[name] = pl.Series(name, [parse_number(c) for c in cells], dtype=pl.Float64)
        else:
            columns[name] = pl.Series(name, cells, dtype=pl.String)
            names = [grid.items.get(c) if c else None for c in cells]
            if any(names):
                columns[f"{name}_name"] = pl.Series(f"{name}_name", names, dtype=pl.String)
    table = pl.DataFrame(list(columns.values()))
    if "pe" in grid.names:
        positions = [position for position, _ in rows]
        periods = table["pe"].to_list()
        table = table.with_columns(_period_columns(file, positions, periods, problems))
    return table


def _period_columns(
    file: str, positions: list[str], periods: list[str | None], problems: list[Problem]
) -> list[pl.Series]:
    types, starts, ends = [], [], []
    for position, text in zip(positions, periods, strict=True):
        try:
            period = parse_period(text or "")
        except PeriodError as error:
            problems.append(Problem(file, position, "period_invalid", error.reason, KEPT))
            types.append(None)
            starts.append(None)
            ends.append(None)
            continue
        types.append(period.period_type)
        starts.append(period.start)
        ends.append(period.end)
    return [
        pl.Series("period_type", types, dtype=pl.String),
        pl.Series("period_start", starts, dtype=pl.Date),
        pl.Series("period_end", ends, dtype=pl.Date),
    ]
