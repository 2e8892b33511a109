"""Hostile input: whatever bytes arrive, every DHIS2 reader returns a result (every record
accounted for) or raises `Dhis2Error` with one line naming the file: never another
exception, an entity expansion, a file read from disk, or a hang."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.dhis2 import source
from etl.dhis2.analytics import read_analytics
from etl.dhis2.metadata import read_metadata
from etl.dhis2.normalize import normalize, normalize_file
from etl.dhis2.problems import Dhis2Error, rejected
from etl.dhis2.registrations import read_registrations
from etl.dhis2.tracker import read_tracker

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NAMES = ("x.json", "x.xml", "x.csv", "x.adx", "x", "x.csv.gz")
READERS: dict[str, Callable[[Path], Any]] = {
    "normalize": normalize_file,
    "metadata": lambda path: read_metadata([path]),
    "tracker": read_tracker,
    "registrations": read_registrations,
    "analytics": read_analytics,
}
JSON_DOC = json.dumps({
    "dataSet": "ds", "period": "202401", "orgUnit": "ou1",
    "dataValues": [{"dataElement": f"de{i}", "categoryOptionCombo": "c", "value": str(i),
                    "followup": False, "comment": None} for i in range(4)],
})  # fmt: skip
XML_DOC = (
    '<dataValueSet xmlns="http://dhis2.org/schema/dxf/2.0" period="202401" orgUnit="ou1">'
    + "".join(f'<dataValue dataElement="de{i}" value="{i}" followUp="false"/>' for i in range(4))
    + "</dataValueSet>"
)
CSV_DOC = "dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value\n" + "".join(
    f'"de{i}","2024-0{i + 1}","ou1","","","{i}"\n' for i in range(4)
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(
        st.sampled_from(
            ["dataValues", "dataElement", "period", "orgUnit", "value", "categoryOptionCombo",
             "followUp", "deleted", "headers", "rows", "organisationUnits", "parent", "id",
             "path", "trackedEntities", "enrollments", "events", "attributes",
             "completeDataSetRegistrations", "categoryOptionCombos", "categoryOptions", "x"]
        ),
        children,
        max_size=6,
    ),
    max_leaves=40,
)  # fmt: skip


def _write(tmp: Path, name: str, data: bytes) -> Path:
    folder = tmp / f"f{time.perf_counter_ns()}"
    folder.mkdir()
    path = folder / name
    path.write_bytes(data)
    return path


def _read_cleanly(path: Path, readers: tuple[str, ...] = tuple(READERS)) -> None:
    for name in readers:
        started = time.perf_counter()
        try:
            result = READERS[name](path)
        except Dhis2Error as error:
            message = str(error)
            assert message.startswith(str(path)) and "\n" not in message, message
        else:
            if name == "normalize":
                summary = result.files[0]
                assert summary.records == summary.rows + summary.rejected
                assert result.table.height == summary.rows
            if name in ("tracker", "registrations"):
                table = result.events if name == "tracker" else result.table
                assert result.records == table.height + rejected(result.problems)
        assert time.perf_counter() - started < 10, name


@SETTINGS
@given(st.binary(max_size=2000), st.sampled_from(NAMES))
def test_random_bytes(tmp_path: Path, data: bytes, name: str) -> None:
    _read_cleanly(_write(tmp_path, name, data))


@SETTINGS
@given(st.binary(max_size=500), st.sampled_from([JSON_DOC[:40], XML_DOC[:60], CSV_DOC[:60]]))
def test_random_bytes_after_a_valid_start(tmp_path: Path, data: bytes, start: str) -> None:
    _read_cleanly(_write(tmp_path, "x", start.encode() + data))


@SETTINGS
@given(st.sampled_from([("x.json", JSON_DOC), ("x.xml", XML_DOC), ("x.csv", CSV_DOC)]),
       st.integers(min_value=0, max_value=len(JSON_DOC)))  # fmt: skip
def test_truncated_files(tmp_path: Path, named: tuple[str, str], cut: int) -> None:
    name, doc = named
    _read_cleanly(_write(tmp_path, name, doc.encode()[:cut]))


@SETTINGS
@given(JSON_VALUES)
def test_random_json_structures(tmp_path: Path, doc: Any) -> None:
    _read_cleanly(_write(tmp_path, "x.json", json.dumps(doc).encode()))


@SETTINGS
@given(st.lists(st.text(max_size=40), min_size=1, max_size=14))
def test_random_csv_fields(tmp_path: Path, fields: list[str]) -> None:
    line = ",".join('"' + f.replace('"', '""') + '"' for f in fields)
    _read_cleanly(_write(tmp_path, "x.csv", (CSV_DOC + line + "\n").encode()))


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "latin-1", "cp1256"])
def test_wrong_encodings(tmp_path: Path, encoding: str) -> None:
    text = CSV_DOC + '"deX","202401","بغداد","","","١٢"\n'
    path = _write(tmp_path, "x.csv", text.encode(encoding, errors="replace"))
    if encoding == "latin-1":  # '?' replaced the Arabic: plain ASCII, read with the record kept
        assert normalize_file(path).table.height == 5
        return
    with pytest.raises(Dhis2Error, match="not UTF-8 text"):
        normalize_file(path)


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    ).replace("&lol0;", "&lol;")
    + ']><dataValueSet><dataValue dataElement="&lol9;" period="202401" orgUnit="o" value="1"/>'
    "</dataValueSet>"
)
EXTERNAL = (
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/hostname">]>'
    '<dataValueSet><dataValue dataElement="&secret;" period="202401" orgUnit="o" value="1"/>'
    "</dataValueSet>"
)
PARAMETER = (
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd">'
    "%remote;]><dataValueSet/>"
)


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, EXTERNAL, PARAMETER], ids=["laughs", "xxe", "dtd"])
def test_xml_entities_are_refused(tmp_path: Path, doc: str) -> None:
    path = _write(tmp_path, "x.xml", doc.encode())
    started = time.perf_counter()
    with pytest.raises(Dhis2Error, match="XML refused") as caught:
        normalize_file(path)
    assert time.perf_counter() - started < 2
    assert "lollol" not in str(caught.value)


def test_deeply_nested_json(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.json", b"[" * 200_000 + b"]" * 200_000)
    _read_cleanly(path)
    with pytest.raises(Dhis2Error, match="nested too deeply"):
        normalize_file(path)
    nested = {"dataValues": [{"dataElement": "a", "period": "2024", "orgUnit": "o"}]}
    for _ in range(500):  # deep but parseable: the value is an object, rejected as a record
        nested["dataValues"][0]["value"] = {"v": nested["dataValues"][0].get("value")}
    result = normalize_file(_write(tmp_path, "y.json", json.dumps(nested).encode()))
    assert [p.code for p in result.problems] == ["field_not_text"]


def test_huge_fields(tmp_path: Path) -> None:
    huge = "9" * 1_000_000
    doc = {"dataValues": [{"dataElement": "a", "period": "2024", "orgUnit": "o", "value": huge,
                           "comment": "c" * 1_000_000}]}  # fmt: skip
    result = normalize_file(_write(tmp_path, "x.json", json.dumps(doc).encode()))
    row = result.table.row(0, named=True)
    assert row["value"] is None and len(row["value_raw"]) == 1_000_000  # kept, not a float
    assert len(result.problems[0].reason) < 200  # reasons stay short
    csv_path = _write(tmp_path, "x.csv", (CSV_DOC + f'"a","2024","o","","","{huge}"\n').encode())
    with pytest.raises(Dhis2Error, match=r"x\.csv: not valid CSV at line 6: field larger"):
        normalize_file(csv_path)
    with pytest.raises(Dhis2Error, match="unknown period syntax"):
        from etl.dhis2.periods import parse_period

        parse_period("2" * 5000)


def test_decompression_bomb_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "MAX_BYTES", 1_000_000)
    path = _write(tmp_path, "x.csv.gz", gzip.compress(b"0" * 5_000_000))
    with pytest.raises(Dhis2Error, match="decompresses to more than 1,000,000 bytes"):
        normalize_file(path)
    broken = _write(tmp_path, "y.csv.gz", gzip.compress(CSV_DOC.encode())[:30])
    with pytest.raises(Dhis2Error, match="broken gzip data"):
        normalize_file(broken)


def test_missing_file_and_a_folder(tmp_path: Path) -> None:
    result = normalize([tmp_path / "absent.json", tmp_path])
    assert [s.error for s in result.files] == [
        "cannot be read: No such file or directory", "cannot be read: Is a directory"
    ]  # fmt: skip
