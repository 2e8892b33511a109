"""Data-page bookkeeping and the CSV payloads of the export buttons."""

from __future__ import annotations

import base64
from datetime import date, datetime

import polars as pl

from dashboard import exports, runs
from indicators.export import BOM, to_csv_bytes
from tests.dashboard import sample_warehouse


def runs_frame() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "id": 2,
                "started_at": datetime(2025, 7, 2, 6),
                "finished_at": None,
                "status": "failed",
                "source": "x",
                "as_of": None,
                "as_of_origin": None,
                "duration_s": 1.0,
                "message": "bad file",
                "accounting": {},
            },
            {
                "id": 1,
                "started_at": datetime(2025, 7, 1, 6),
                "finished_at": datetime(2025, 7, 1, 6, 1),
                "status": "succeeded",
                "source": "registry",
                "as_of": date(2025, 6, 30),
                "as_of_origin": "option",
                "duration_s": 60.0,
                "message": None,
                "accounting": {
                    "children": {
                        "rows_read": 10,
                        "rows_loaded": 8,
                        "rows_rejected": 1,
                        "duplicates": 1,
                    },
                    "vaccinations": {
                        "rows_read": 5,
                        "rows_loaded": 5,
                        "rows_rejected": 1,
                        "duplicates": 0,
                    },
                },
            },
        ],
        schema_overrides={"accounting": pl.Object},
    )


def test_accounting_is_one_row_per_run_and_file_and_checks_the_balance():
    table = runs.accounting(runs_frame())
    assert table["run"].to_list() == [2, 1, 1]
    assert table["file"].to_list() == [None, "children", "vaccinations"]
    assert table["balanced"].to_list() == [None, True, False]
    assert table["as_of"].to_list()[1] == "2025-06-30"


def test_reject_values_are_readable_pairs():
    assert runs.values_text('{"health_id": "H1", "vaccine": null}') == "health_id=H1; vaccine="
    assert runs.values_text("not json") == "not json"
    assert runs.values_text(None) == ""


def test_indicator_download_is_the_csv_contract():
    values = sample_warehouse.tiny_values().with_columns(
        indicator_name=pl.lit("Penta3"), org_unit_name=pl.col("org_unit")
    )
    payload = exports.indicator_payload(values, "cov_penta3_12m", "2024", "IQ")
    assert payload["filename"] == "mizan_cov_penta3_12m_2024_IQ.csv"
    assert payload["type"] == "text/csv"
    assert base64.b64decode(payload["content"]) == to_csv_bytes(values)


def test_table_csv_has_a_bom_and_neutralises_formulas():
    frame = pl.DataFrame(
        {"file": ["a.csv", "b.csv"], "line": [1, 2], "values": ['{"x": "=1+1"}', "=HYPERLINK(1)"]}
    )
    body = exports.table_bytes(frame)
    assert body.startswith(BOM.encode())
    lines = body.decode("utf-8-sig").split("\n")
    assert lines[0] == "file,line,values"
    assert lines[2] == "b.csv,2,'=HYPERLINK(1)"
    assert '{""x"": ""=1+1""}' in lines[1]  # JSON starting with { is left as it is


def test_filenames_are_safe():
    assert exports.filename("a/b", None, "c d") == "mizan_a-b_c-d.csv"
