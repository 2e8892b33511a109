"""The §1 variants and the record-level rules, on small files written by the test."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import polars as pl
import pytest

from etl.dhis2.metadata import Metadata, read_metadata
from etl.dhis2.normalize import Normalized, normalize, normalize_file
from etl.dhis2.problems import KEPT, REJECTED, Dhis2Error

DEFAULT = "HllvX50cXC0"
METADATA = {
    "organisationUnits": [
        {"id": "ouAAAAAAAA1", "code": "OU1", "name": "One", "level": 1},
        {"id": "ouAAAAAAAA2", "code": "OU2", "name": "Two", "parent": {"id": "ouAAAAAAAA1"}},
    ],
    "dataElements": [
        {"id": "deAAAAAAAA1", "code": "PENTA1", "valueType": "INTEGER_ZERO_OR_POSITIVE",
         "categoryCombo": {"id": "ccAAAAAAAA1"}},
        {"id": "deAAAAAAAA2", "code": "FLAG", "valueType": "BOOLEAN"},
        {"id": "deAAAAAAAA3", "code": "NOTE", "valueType": "TEXT"},
    ],
    "categories": [
        {"id": "catAge00001", "code": "AGE", "name": "Age",
         "categoryOptions": [{"id": "optU1000001"}, {"id": "optO1000001"}]},
        {"id": "catSex00001", "code": "SEX", "name": "Sex",
         "categoryOptions": [{"id": "optF0000001"}, {"id": "optM0000001"}]},
    ],
    "categoryOptions": [
        {"id": "optU1000001", "code": "U1", "name": "<1 year"},
        {"id": "optO1000001", "code": "O1", "name": "1+ year"},
        {"id": "optF0000001", "code": "F", "name": "Female"},
        {"id": "optM0000001", "code": "M", "name": "Male"},
    ],
    "categoryCombos": [
        {"id": "ccAAAAAAAA1", "name": "Age and sex",
         "categories": [{"id": "catAge00001"}, {"id": "catSex00001"}]},
    ],
    "categoryOptionCombos": [
        {"id": "cocU1F00001", "name": "<1 year, Female", "categoryCombo": {"id": "ccAAAAAAAA1"},
         "categoryOptions": [{"id": "optF0000001"}, {"id": "optU1000001"}]},
        {"id": "cocU1M00001", "name": "<1 year, Male", "categoryCombo": {"id": "ccAAAAAAAA1"},
         "categoryOptions": [{"id": "optU1000001"}, {"id": "optM0000001"}]},
    ],
}  # fmt: skip


@pytest.fixture
def metadata(tmp_path: Path) -> Metadata:
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps(METADATA))
    return read_metadata([path])


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _one(path: Path, metadata: Metadata | None = None) -> Normalized:
    result = normalize_file(path, metadata)
    summary = result.files[0]
    assert summary.records == summary.rows + summary.rejected  # nothing lost
    return result


def _codes(result: Normalized) -> list[tuple[str, str, str]]:
    return [(p.position, p.code, p.outcome) for p in result.problems]


def test_json_group_level_values_win_and_say_so(tmp_path: Path) -> None:
    doc = {
        "dataSet": "ds", "period": "2024-03", "orgUnit": "ouG", "attributeOptionCombo": "aocG",
        "dataValues": [
            {"dataElement": "de1", "value": "1"},
            {"dataElement": "de2", "orgUnit": "ouOther", "value": "2", "followUp": "TRUE"},
            {"dataElement": "de3", "categoryOptionCombo": "", "value": "3", "followup": "maybe"},
            {"dataElement": "de1", "value": "4"},
        ],
    }  # fmt: skip
    result = _one(_write(tmp_path, "g.json", json.dumps(doc)))
    table = result.table
    assert set(table["period"]) == {"202403"} and set(table["org_unit"]) == {"ouG"}
    assert set(table["attribute_option_combo"]) == {"aocG"}
    assert set(table["category_option_combo"]) == {DEFAULT}
    assert table["followup"].to_list() == [False, True, False, False]
    assert _codes(result) == [
        ("$.dataValues[1]", "org_unit_overridden", KEPT),
        ("$.dataValues[2]", "followup_invalid", KEPT),
        ("$.dataValues[3]", "duplicate_value", KEPT),  # same key as $.dataValues[0]
    ]
    assert result.problems[-1].reason == f"same key as {tmp_path / 'g.json'} $.dataValues[0]"


def test_json_set_list_bare_list_and_malformed_entries(tmp_path: Path) -> None:
    doc = {"dataValueSets": [
        {"period": "2024", "orgUnit": "ou1", "dataValues": [{"dataElement": "a", "value": 4}]},
        {"period": "2024Q1", "dataValues": [
            {"dataElement": "a", "orgUnit": "ou2", "value": 5.5},
            "not an object",
            {"dataElement": "a", "orgUnit": "ou2", "value": {"x": 1}},
            {"orgUnit": "ou2", "value": "1"},
            {"dataElement": "b", "orgUnit": "ou2", "value": True},
        ]},
        7,
    ]}  # fmt: skip
    result = _one(_write(tmp_path, "sets.json", json.dumps(doc)))
    assert result.table.select("period", "value").rows() == [
        ("2024", 4.0), ("2024Q1", 5.5), ("2024Q1", None)
    ]  # fmt: skip
    assert _codes(result) == [
        ("$.dataValueSets[1].dataValues[1]", "record_malformed", REJECTED),
        ("$.dataValueSets[1].dataValues[2]", "field_not_text", REJECTED),
        ("$.dataValueSets[1].dataValues[3]", "data_element_missing", REJECTED),
        ("$.dataValueSets[1].dataValues[4]", "value_not_numeric", KEPT),
        ("$.dataValueSets[2]", "record_malformed", REJECTED),
    ]
    bare = _one(
        _write(tmp_path, "bare.json", '[{"dataElement":"a","period":"2024","orgUnit":"o"}]')
    )
    assert bare.table.height == 1 and _codes(bare) == [("$[0]", "value_missing", KEPT)]


def test_xml_with_and_without_namespace(tmp_path: Path) -> None:
    body = (
        '<dataValueSet{ns} period="202401" orgUnit="ou1">'
        '<dataValue dataElement="a" value="1" followUp="true" created="2024-02-01"/>'
        '<dataValue dataElement="a" period="202402" value="2" deleted="true" '
        'lastUpdated="2024-03-01T10:00:00.000"/>'
        '<dataValue dataElement="b" value="x" timestamp="2024-01-05"/>'
        "</dataValueSet>"
    )
    for ns in ("", ' xmlns="http://dhis2.org/schema/dxf/2.0"'):
        result = _one(_write(tmp_path, "v.xml", body.format(ns=ns)))
        table = result.table
        assert table["period"].to_list() == ["202401"] * 3  # the set's period wins
        assert table["followup"].to_list() == [True, False, False]
        assert table["deleted"].to_list() == [False, True, False]
        assert table["last_updated"].to_list() == [None, "2024-03-01T10:00:00.000", "2024-01-05"]
        assert [p.code for p in result.problems] == ["period_overridden", "value_not_numeric"]
        assert result.problems[0].position == "/dataValueSet[1]/dataValue[2]"


def test_csv_header_aliases_from_the_docs(tmp_path: Path) -> None:
    reading = (
        "dataelement,period,orgunit,catoptcombo,attroptcombo,value,storedby,lastupdated,"
        "comment,flwup\nde1,202401,ou1,coc1,aoc1,5,bob,2024-02-01,c,true\n"
    )
    sending = (
        '"dataelement","period","orgunit","catoptcombo","attroptcombo","value","strby",'
        '"lstupd","cmt"\n"de1","202401","ou1","coc1","aoc1","5","bob","2024-02-01","c"\n'
    )
    for text in (reading, sending):
        row = _one(_write(tmp_path, "h.csv", text)).table.row(0, named=True)
        assert (row["category_option_combo"], row["attribute_option_combo"]) == ("coc1", "aoc1")
        assert (row["stored_by"], row["last_updated"], row["comment"]) == ("bob", "2024-02-01", "c")
        assert row["value"] == 5.0
    # any case and punctuation in names; an unknown column is ignored
    text = "Data_Element,PERIOD,Org Unit,Value,Colour\nde1,2024W05,ou1,3,blue\n"
    result = _one(_write(tmp_path, "h.csv", text))
    assert result.table.select("period", "value").row(0) == ("2024W5", 3.0)


def test_positional_csv_without_header(tmp_path: Path) -> None:
    text = (
        "de1,202401,ou1,,,5,bob,2024-02-01,c,false\n"
        "de1,202402,ou1,coc1,aoc1,6,bob,2024-03-01,,true,true\n"
        "de1,202403,ou1,,,7\n"
        "de1,202404,ou1\n"
        "de1,202405,ou1,,,8,bob,x,c,false,false,extra\n"
        "\n"
        "de1,2024-06,ou1,,,9\n"
    )
    result = _one(_write(tmp_path, "p.csv", text))
    table = result.table
    assert table["period"].to_list() == ["202401", "202402", "202403", "202406"]
    assert table["deleted"].to_list() == [False, True, False, False]
    assert table["followup"].to_list() == [False, True, False, False]
    assert table["category_option_combo"].to_list() == [DEFAULT, "coc1", DEFAULT, DEFAULT]
    assert _codes(result) == [("line 4", "record_malformed", REJECTED),
                              ("line 5", "record_malformed", REJECTED)]  # fmt: skip
    assert result.files[0].records == 6  # the blank line is not a record


def test_header_rows_longer_than_the_header_are_rejected(tmp_path: Path) -> None:
    text = (
        "dataelement,period,orgunit,value\nde1,202401,ou1,5\nde1,202401,ou2,1,000\n"
        '"de1", "202401" , "ou3", "7"\n'
    )
    result = _one(_write(tmp_path, "r.csv", text))
    assert result.table["org_unit"].to_list() == ["ou1", "ou3"]
    assert result.problems[0].position == "line 3"
    assert "5 fields, more than the header (4)" in result.problems[0].reason


def test_header_without_value_column_fails_the_file(tmp_path: Path) -> None:
    with pytest.raises(Dhis2Error, match=r"h\.csv: CSV header lacks column\(s\): value"):
        normalize_file(_write(tmp_path, "h.csv", "dataelement,period,orgunit\nde1,202401,ou1\n"))


def test_bad_records_are_reported_and_the_rest_go_on(tmp_path: Path, metadata: Metadata) -> None:
    text = (
        "dataelement,period,orgunit,categoryoptioncombo,value\n"
        "PENTA1,202401,OU1,cocU1F00001,12\n"          # codes resolve to uids
        "deAAAAAAAA1,LAST_MONTH,ouAAAAAAAA1,,3\n"     # relative period
        "deAAAAAAAA1,2024M1,ouAAAAAAAA1,,3\n"         # unknown syntax
        "deAAAAAAAA1,202401,ouNOTKNOWN1,,3\n"         # unknown org unit
        "deNOTKNOWN1,202401,ouAAAAAAAA1,,3\n"         # unknown data element
        "deAAAAAAAA1,202401,ouAAAAAAAA1,cocNOTKNOWN,3\n"
        "deAAAAAAAA1,202401,ouAAAAAAAA1,,three\n"     # not a number for an INTEGER element
        "FLAG,202401,OU2,,true\n"
        "FLAG,202401,OU1,,perhaps\n"
        "NOTE,202401,OU1,,some text\n"
        ",202401,OU1,,1\n"
        "deAAAAAAAA1,,OU1,,1\n"
        "deAAAAAAAA1,202402,,,1\n"
        "deAAAAAAAA1,202402,OU1,,\n"
    )  # fmt: skip
    path = _write(tmp_path, "bad.csv", text)
    result = _one(path, metadata)
    kept = result.table.select("data_element", "org_unit", "category_option_combo", "value")
    assert kept.rows() == [
        ("deAAAAAAAA1", "ouAAAAAAAA1", "cocU1F00001", 12.0),
        ("deAAAAAAAA2", "ouAAAAAAAA2", DEFAULT, 1.0),
        ("deAAAAAAAA3", "ouAAAAAAAA1", DEFAULT, None),
        ("deAAAAAAAA1", "ouAAAAAAAA1", DEFAULT, None),
    ]  # fmt: skip
    assert _codes(result) == [
        ("line 3", "period_invalid", REJECTED),
        ("line 4", "period_invalid", REJECTED),
        ("line 5", "org_unit_unknown", REJECTED),
        ("line 6", "data_element_unknown", REJECTED),
        ("line 7", "category_option_combo_unknown", REJECTED),
        ("line 8", "value_not_numeric", REJECTED),
        ("line 10", "value_not_boolean", REJECTED),
        ("line 12", "data_element_missing", REJECTED),
        ("line 13", "period_missing", REJECTED),
        ("line 14", "org_unit_missing", REJECTED),
        ("line 15", "value_missing", KEPT),
    ]
    assert "relative period" in result.problems[0].reason
    assert all(p.file == str(path) for p in result.problems)
    summary = result.files[0]
    assert (summary.records, summary.rows, summary.rejected, summary.warnings) == (14, 4, 10, 1)


def test_metadata_checks_only_what_it_holds(tmp_path: Path) -> None:
    """Metadata with org units only checks org units, not data elements or combos."""
    path = tmp_path / "ous.json"
    path.write_text(json.dumps({"organisationUnits": METADATA["organisationUnits"]}))
    meta = read_metadata([path])
    text = "dataelement,period,orgunit,categoryoptioncombo,value\nanyDE,202401,OU1,anyCOC,1\n"
    table = _one(_write(tmp_path, "d.csv", text), meta).table
    assert table.select("data_element", "org_unit", "category_option_combo").row(0) == (
        "anyDE", "ouAAAAAAAA1", "anyCOC"
    )  # fmt: skip


def test_coc_as_category_options_object(tmp_path: Path, metadata: Metadata) -> None:
    """2.43 JSON may give the COC as {category: option}; resolved through metadata options,
    in any order and by uid or code."""
    doc = {"dataValues": [
        {"dataElement": "PENTA1", "period": "202401", "orgUnit": "OU1", "value": "4",
         "categoryOptionCombo": {"catSex00001": "optF0000001", "catAge00001": "optU1000001"}},
        {"dataElement": "PENTA1", "period": "202401", "orgUnit": "OU1", "value": "5",
         "categoryOptionCombo": {"AGE": "U1", "SEX": "M"}},
        {"dataElement": "PENTA1", "period": "202401", "orgUnit": "OU1", "value": "6",
         "categoryOptionCombo": {"AGE": "O1", "SEX": "M"}},
    ]}  # fmt: skip
    path = _write(tmp_path, "obj.json", json.dumps(doc))
    result = _one(path, metadata)
    assert result.table["category_option_combo"].to_list() == ["cocU1F00001", "cocU1M00001"]
    assert _codes(result) == [("$.dataValues[2]", "category_option_combo_unresolved", REJECTED)]
    without = _one(path)
    assert {p.code for p in without.problems} == {"category_option_combo_unresolved"}
    assert "needs metadata" in without.problems[0].reason


def test_adx(tmp_path: Path, metadata: Metadata) -> None:
    adx = (
        '<adx xmlns="urn:ihe:qrph:adx:2015" exported="2024-02-08T19:30:00Z">'
        '<group orgUnit="OU1" period="2024-01-01/P1M" dataSet="EPI" completeDate="2024-02-01">'
        '<dataValue dataElement="PENTA1" AGE="U1" SEX="F" value="32"/>'
        '<dataValue dataElement="PENTA1" SEX="M" AGE="U1" value="30">'
        "<annotation>checked</annotation></dataValue>"
        '<dataValue dataElement="NOTE" value="ok"/>'
        "</group>"
        '<group orgUnit="OU2" period="2024-01-02/P1M"><dataValue dataElement="NOTE" value="x"/>'
        "</group></adx>"
    )
    result = _one(_write(tmp_path, "a.adx", adx), metadata)
    assert result.files[0].kind == "ADX"
    assert result.table.select("data_element", "period", "org_unit", "category_option_combo",
                               "value", "comment").rows() == [
        ("deAAAAAAAA1", "202401", "ouAAAAAAAA1", "cocU1F00001", 32.0, None),
        ("deAAAAAAAA1", "202401", "ouAAAAAAAA1", "cocU1M00001", 30.0, "checked"),
        ("deAAAAAAAA3", "202401", "ouAAAAAAAA1", DEFAULT, None, None),
    ]  # fmt: skip
    assert _codes(result) == [("/adx[1]/group[2]/dataValue[1]", "period_invalid", REJECTED)]


def test_compressed_and_encoded_inputs(tmp_path: Path) -> None:
    text = "dataelement,period,orgunit,value\nde1,202401,ou1,5\nde1,202401,ou2,بغداد\n"
    gz = _write(tmp_path, "v.csv.gz", gzip.compress(text.encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("dataValueSets.csv", text)
    zipped = _write(tmp_path, "v.zip", buffer.getvalue())
    bom = _write(tmp_path, "bom.csv", b"\xef\xbb\xbf" + text.encode())
    utf16 = _write(tmp_path, "u16.csv", text.encode("utf-16"))
    for path in (gz, zipped, bom, utf16):
        table = _one(path).table
        assert table["value_raw"].to_list() == ["5", "بغداد"], path
    with pytest.raises(Dhis2Error, match=r"cp\.csv: not UTF-8 text"):
        normalize_file(_write(tmp_path, "cp.csv", text.encode("cp1256")))


def test_dhis2_error_response_and_wrong_kinds(tmp_path: Path) -> None:
    conflict = {"httpStatus": "Conflict", "httpStatusCode": 409, "errorCode": "E7128",
                "message": "Query result set exceeded max limit"}  # fmt: skip
    cases = {
        "e.json": (json.dumps(conflict), "a DHIS2 error response: Query result set exceeded"),
        "t.json": ('{"trackedEntities": []}', "a tracker export"),
        "m.json": ('{"organisationUnits": []}', "pass it with --metadata"),
        "r.json": ('{"completeDataSetRegistrations": []}', "registrations"),
        "x.json": ('{"foo": 1}', "not a data value set"),
        "s.json": ('"text"', "not a data value set"),
        "m.xml": ("<metadata><organisationUnits/></metadata>", "pass it with --metadata"),
        "o.xml": ("<other/>", "not a data value set or ADX"),
    }
    for name, (content, message) in cases.items():
        with pytest.raises(Dhis2Error, match=message):
            normalize_file(_write(tmp_path, name, content))


def test_one_unreadable_file_does_not_stop_the_others(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.json", '{"dataValues":[{"dataElement":"a","period":"2024",'
                  '"orgUnit":"o","value":"1"}]}')  # fmt: skip
    broken = _write(tmp_path, "broken.json", '{"dataValues": [')
    result = normalize([broken, good])
    assert result.table.height == 1
    assert result.errors == [f"{broken}: not valid JSON: Expecting value (line 1, column 17)"]
    assert [s.rows for s in result.files] == [0, 1]
    assert result.problems[0].code == "file_unreadable"


def test_deleted_rows_are_kept_and_marked(tmp_path: Path) -> None:
    text = (
        "dataelement,period,orgunit,value,deleted\nde1,202401,ou1,,true\nde1,202401,ou1,5,false\n"
    )
    result = _one(_write(tmp_path, "d.csv", text))
    assert result.table.select("deleted", "value").rows() == [(True, None), (False, 5.0)]
    assert result.problems == []  # no value_missing for a deletion, no duplicate of it


def test_output_columns_and_types(tmp_path: Path) -> None:
    text = "dataelement,period,orgunit,value\nde1,2024W1,ou1,5\n"
    table = _one(_write(tmp_path, "c.csv", text)).table
    assert table.schema["period_start"] == pl.Date and table.schema["value"] == pl.Float64
    assert table.schema["followup"] == pl.Boolean
    assert table.row(0, named=True)["period_type"] == "Weekly"
