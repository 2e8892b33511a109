"""Load-run bookkeeping as the Data page shows and exports it (pure, tested).

A run's accounting is stored per input file (`children`, `vaccinations`, ...); flattening
it to one row per run and file lets an operator check rows read = loaded + rejected +
duplicates for every file at a glance.
"""

from __future__ import annotations

import json

import polars as pl

from dashboard.i18n import t

COUNTS = ("rows_read", "rows_loaded", "rows_rejected", "duplicates")
ACCOUNTING_SCHEMA = {
    "run": pl.Int64,
    "started_at": pl.String,
    "finished_at": pl.String,
    "status": pl.String,
    "source": pl.String,
    "as_of": pl.String,
    "as_of_origin": pl.String,
    "duration_s": pl.Float64,
    "file": pl.String,
    **{c: pl.Int64 for c in COUNTS},
    "balanced": pl.Boolean,
    "message": pl.String,
}


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%d %H:%M:%S") if hasattr(value, "hour") else str(value)


def accounting(runs: pl.DataFrame) -> pl.DataFrame:
    """One row per run and input file, newest run first (a run without files: one row)."""
    records = []
    for run in runs.to_dicts():
        base = {
            "run": run["id"],
            "started_at": _text(run["started_at"]),
            "finished_at": _text(run["finished_at"]),
            "status": run["status"],
            "source": run["source"],
            "as_of": _text(run["as_of"]),
            "as_of_origin": run["as_of_origin"],
            "duration_s": round(run["duration_s"], 2) if run["duration_s"] is not None else None,
            "message": run["message"],
        }
        files = run["accounting"] or {}
        if not files:
            records.append(base | {"file": None} | dict.fromkeys(COUNTS) | {"balanced": None})
        for name, counts in files.items():
            values = {c: counts.get(c) for c in COUNTS}
            known = all(v is not None for v in values.values())
            balanced = (
                (
                    values["rows_read"]
                    == values["rows_loaded"] + values["rows_rejected"] + values["duplicates"]
                )
                if known
                else None
            )
            records.append(base | {"file": name} | values | {"balanced": balanced})
    return pl.DataFrame(records, schema=ACCOUNTING_SCHEMA, orient="row")


def run_options(runs: pl.DataFrame) -> list[dict]:
    return [
        {"label": f"#{r['id']} · {_text(r['started_at'])} · {t(r['status'])}", "value": r["id"]}
        for r in runs.to_dicts()
    ]


def values_text(raw: str | None) -> str:
    """A rejected row's raw values as `column=value` pairs (the stored JSON, readable)."""
    if not raw:
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(data, dict):
        return "; ".join(f"{k}={'' if v is None else v}" for k, v in data.items())
    return str(data)
