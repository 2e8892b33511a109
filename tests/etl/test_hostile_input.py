"""Hostile input: whatever bytes arrive, the registry reader ends in a clean rejection or a
one-line fatal error naming the file — never a crash, a hang or a row lost."""

from __future__ import annotations

import json
import time
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.registry import RegistryError, read_registry
from indicators.export import to_csv_frame

HEADER = "health_id,birth_date,sex,disability,adm1_code,adm2_code\n"
GOOD_ROW = "H1,2023-01-05,F,no,IQG08,IQG08Q01\n"
DOSES = "health_id,vaccine,dose_date\nH1,BCG,2023-01-06\n"
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _folder(tmp: Path, children: bytes, doses: bytes = DOSES.encode()) -> Path:
    folder = tmp / f"x{time.perf_counter_ns()}"
    folder.mkdir()
    (folder / "children.csv").write_bytes(children)
    (folder / "vaccinations.csv").write_bytes(doses)
    (folder / "manifest.json").write_text(json.dumps({"as_of": "2025-01-01"}))
    return folder


def _read_cleanly(folder: Path) -> None:
    """Either a fatal error naming the file, or every row accounted for."""
    started = time.perf_counter()
    try:
        extract = read_registry(folder)
    except RegistryError as error:
        message = str(error)
        assert message and "\n" not in message.strip()
        assert "children.csv" in message or "vaccinations.csv" in message
    else:
        for account in extract.accounts.values():
            assert account.rows_read == (
                account.rows_loaded + account.rows_rejected + account.duplicates
            )
        for values in extract.rejects["values"]:
            json.loads(values)
    assert time.perf_counter() - started < 10


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes(tmp_path: Path, data: bytes) -> None:
    _read_cleanly(_folder(tmp_path, data))


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_after_a_valid_header(tmp_path: Path, data: bytes) -> None:
    _read_cleanly(_folder(tmp_path, HEADER.encode() + data))


@SETTINGS
@given(st.integers(min_value=0, max_value=len(HEADER + GOOD_ROW * 5)))
def test_truncated_files(tmp_path: Path, cut: int) -> None:
    _read_cleanly(_folder(tmp_path, (HEADER + GOOD_ROW * 5).encode()[:cut]))


@SETTINGS
@given(st.lists(st.text(max_size=60), min_size=6, max_size=9))
def test_random_text_fields(tmp_path: Path, fields: list[str]) -> None:
    line = ",".join('"' + f.replace('"', '""') + '"' for f in fields)
    _read_cleanly(_folder(tmp_path, (HEADER + GOOD_ROW + line + "\n").encode()))


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1", "cp1256"])
def test_wrong_encodings_fail_with_the_file_named(tmp_path: Path, encoding: str) -> None:
    text = HEADER + "H2,2023-01-05,F,no,IQG08,IQG08Q01,بغداد\n"
    folder = _folder(tmp_path, text.encode(encoding, errors="replace"))
    if encoding == "latin-1":  # "?" replaced the Arabic, so the file is valid ASCII
        _read_cleanly(folder)
        return
    with pytest.raises(RegistryError, match="children.csv"):
        read_registry(folder)


def test_huge_field_and_formula_strings_are_rejected_with_values_kept(tmp_path: Path) -> None:
    huge = "H" * 1_000_000
    rows = (
        f"{huge},2023-01-05,F,no,IQG08,IQG08Q01\n"
        "=HYPERLINK(\"http://x\"),2023-01-05,F,no,IQG08,=cmd|' /C calc'!A0\n"
    )
    extract = read_registry(_folder(tmp_path, (HEADER + GOOD_ROW + rows).encode()))
    assert extract.accounts["children"].rows_read == 3
    assert extract.accounts["children"].rows_loaded == 2  # a long ID is still an ID
    rejected = extract.rejects.filter(pl.col("file") == "children.csv")
    assert rejected["rule"].to_list() == ["adm2_code_unknown"]
    assert json.loads(rejected["values"][0])["health_id"].startswith("=HYPERLINK")


def test_random_parquet_bytes_fail_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "children.parquet").write_bytes(b"PAR1" + bytes(range(256)) * 4 + b"PAR1")
    (folder / "vaccinations.csv").write_text(DOSES)
    with pytest.raises(RegistryError, match="children.parquet: cannot be read"):
        read_registry(folder)


def test_export_neutralises_formulas_in_text_cells() -> None:
    frame = pl.DataFrame(
        {
            "indicator": ["x"], "indicator_name": ["=HYPERLINK(\"http://x\")"], "period": ["2024"],
            "org_unit": ["IQG08"], "org_unit_level": [1], "org_unit_name": ["@SUM(A1)"],
            "sex": ["all"], "disability": ["all"], "numerator": [1.0], "denominator": [2.0],
            "value": [50.0], "ci_low": [None], "ci_high": [None], "suppressed": [False],
            "flags": [""], "source": ["registry"], "as_of": [None], "definition_version": [1],
        }
    )  # fmt: skip
    row = to_csv_frame(frame.with_columns(pl.col("as_of").cast(pl.Date))).row(0, named=True)
    assert row["indicator_name"] == "'=HYPERLINK(\"http://x\")"
    assert row["org_unit_name"] == "'@SUM(A1)"


def test_a_row_with_too_many_fields_is_rejected_not_fatal(tmp_path: Path) -> None:
    rows = GOOD_ROW + "H2,2023-01-05,F,no,IQG08,IQG08Q01,extra,cells\n" + GOOD_ROW.replace(
        "H1", "H3"
    )
    extract = read_registry(_folder(tmp_path, (HEADER + rows).encode()))
    account = extract.accounts["children"]
    assert (account.rows_read, account.rows_loaded, account.rows_rejected) == (3, 2, 1)
    assert extract.rejects.select("file", "line", "rule").rows() == [
        ("children.csv", 3, "field_count")
    ]
    assert sorted(extract.children["health_id"]) == ["H1", "H3"]


@pytest.mark.parametrize(
    "manifest,message",
    [
        ("[" * 30_000 + "]" * 30_000, "nested too deeply"),
        ('{"source": "' + "x" * 70_000 + '"}', "larger than 65,536 bytes"),
        ('{"source": "' + "x" * 300 + '"}', "longer than 200 characters"),
    ],
)
def test_hostile_manifests_fail_cleanly(tmp_path: Path, manifest: str, message: str) -> None:
    folder = _folder(tmp_path, (HEADER + GOOD_ROW).encode())
    (folder / "manifest.json").write_text(manifest)
    with pytest.raises(RegistryError, match=message):
        read_registry(folder)
