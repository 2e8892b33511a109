"""Every aggregate data value fixture through the normalizer, checked against the file itself
read by the plain standard library (json, csv, xml.etree) in the test."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from etl.dhis2.metadata import read_metadata
from etl.dhis2.normalize import COLUMNS, normalize, normalize_file
from etl.dhis2.problems import KEPT

DEFAULT = "HllvX50cXC0"


def _xml_values(path: Path) -> list[dict[str, str]]:
    return [dict(e.attrib) for e in ET.parse(path).getroot() if e.tag.endswith("dataValue")]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        reader = csv.reader(handle, skipinitialspace=True)
        header = [h.strip() for h in next(reader)]
        return [dict(zip(header, (c.strip() for c in row), strict=False)) for row in reader if row]


def _accounted(result) -> None:  # noqa: ANN001
    for summary in result.files:
        assert summary.error is None
        assert summary.records == summary.rows + summary.rejected
    assert result.table.columns == list(COLUMNS)


def test_bulk_b_xml_and_csv_give_the_same_12_values(fixtures: Path) -> None:
    xml_file, csv_file = fixtures / "dvs_bulk_B.xml", fixtures / "dvs_bulk_B.csv"
    expected = sorted(
        (v["dataElement"], v["period"], v["orgUnit"], float(v["value"]))
        for v in _xml_values(xml_file)
    )
    assert len(expected) == 12
    assert expected == sorted(
        (r["dataelement"], r["period"], r["orgunit"], float(r["value"]))
        for r in _csv_rows(csv_file)
    )
    for path in (xml_file, csv_file):
        result = normalize_file(path)
        _accounted(result)
        table = result.table
        assert (
            sorted(table.select("data_element", "period", "org_unit", "value").rows()) == expected
        )
        assert table["value"].sum() == sum(v[3] for v in expected) == 120078
        assert set(table["category_option_combo"]) == {DEFAULT}  # no COC given: the default
        assert set(table["attribute_option_combo"]) == {DEFAULT}
        assert set(table["stored_by"]) == {"john"}
        assert set(table["last_updated"]) == {"2012-01-01"}  # legacy `timestamp`
        assert set(table["comment"]) == {"comment"}
        assert not table["followup"].any() and not table["deleted"].any()
        assert set(table["period_type"]) == {"Monthly"}
        starts = dict(table.select("period", "period_start").unique().rows())
        assert starts == {"201201": date(2012, 1, 1), "201202": date(2012, 2, 1)}
        ends = dict(table.select("period", "period_end").unique().rows())
        assert ends == {"201201": date(2012, 1, 31), "201202": date(2012, 2, 29)}
    xml_table = normalize_file(xml_file).table
    created = {v["value"]: v.get("created") for v in _xml_values(xml_file)}
    assert dict(xml_table.select("value_raw", "created").rows()) == created


def test_header_level_period_org_unit_and_coc(fixtures: Path) -> None:
    path = fixtures / "dvs_header_catcombo.xml"
    root = ET.parse(path).getroot()
    values = [dict(e.attrib) for e in root]
    result = normalize_file(path)
    _accounted(result)
    table = result.table
    assert table.height == len(values) == 3
    assert set(table["period"]) == {root.attrib["period"]}
    assert set(table["org_unit"]) == {root.attrib["orgUnit"]}
    expected = [v.get("categoryOptionCombo", DEFAULT) for v in values]
    assert table["category_option_combo"].to_list() == expected
    assert table["last_updated"].to_list() == [v["timestamp"] for v in values]
    assert table["value"].sum() == sum(float(v["value"]) for v in values)


def test_ragged_csv_with_a_deleted_column(fixtures: Path) -> None:
    path = fixtures / "dvs_header_deleted_ragged.csv"
    lines = path.read_text().splitlines()
    assert len(lines[0].split(",")) == 11 and {len(line.split(",")) for line in lines[1:]} == {10}
    result = normalize_file(path)
    _accounted(result)
    table = result.table
    assert table.height == 3 and result.files[0].rejected == 0
    assert not table["deleted"].any()
    assert table["value"].to_list() == [10001.0, 10002.0, 10003.0]
    assert table["last_updated"].to_list() == ["2012-01-01", "2012-01-02", "2012-01-03"]


def test_padded_dash_periods_and_non_numeric_values(fixtures: Path) -> None:
    path = fixtures / "datavalues_dash_periods.csv"
    rows = _csv_rows(path)
    numeric = [float(r["value"]) for r in rows if r["value"].isdigit()]
    odd = [r["value"] for r in rows if not r["value"].isdigit()]
    assert len(rows) == 32 and odd == ["true", "false", "true", "abc", "2017-01-01"]
    result = normalize_file(path)
    _accounted(result)
    table = result.table
    assert table.height == 32
    assert table["value"].sum() == sum(numeric) == 956
    assert table["value"].null_count() == len(odd)
    assert table.filter(pl.col("value").is_null())["value_raw"].to_list() == odd
    assert sorted(set(table["period"])) == sorted({r["period"].replace("-", "") for r in rows})
    march = table.filter(pl.col("period") == "201703").row(0, named=True)
    assert (march["period_start"], march["period_end"]) == (date(2017, 3, 1), date(2017, 3, 31))
    warnings = [(p.position, p.code, p.outcome) for p in result.problems]
    assert warnings == [(f"line {n}", "value_not_numeric", KEPT) for n in range(29, 34)]
    assert table["data_element"].str.len_chars().unique().to_list() == [11]  # padding trimmed


def test_created_last_updated_json(fixtures: Path) -> None:
    path = fixtures / "dvs_created_lastupdated.json"
    value = json.loads(path.read_text())["dataValues"][0]
    row = normalize_file(path).table.row(0, named=True)
    assert row["created"] == value["created"] == "1988-12-21T23:59:38.000+0000"
    assert row["last_updated"] == value["lastUpdated"]
    assert row["stored_by"] == "system" and row["comment"] is None
    assert row["followup"] is False and row["value"] == 20.0


def test_single_data_set_with_group_level_keys(fixtures: Path) -> None:
    path = fixtures / "dvs_single_dataset_coc_aoc.json"
    doc = json.loads(path.read_text())
    result = normalize_file(path)
    _accounted(result)
    assert result.problems == []  # group and value agree: no override warning
    table = result.table
    assert table.select("period", "org_unit").unique().rows() == [(doc["period"], doc["orgUnit"])]
    assert table["category_option_combo"].to_list() == [
        v["categoryOptionCombo"] for v in doc["dataValues"]
    ]
    assert set(table["attribute_option_combo"]) == {DEFAULT}
    assert table["value"].sum() == 3000


def _independent_coc_options(meta: dict) -> dict[str, dict[str, str]]:
    """COC uid -> {category name: option name}, by walking the metadata JSON by hand."""
    option_name = {o["id"]: o["name"] for o in meta["categoryOptions"]}
    category_of = {
        option["id"]: category["name"]
        for category in meta["categories"]
        for option in category["categoryOptions"]
    }
    return {
        coc["id"]: {category_of[o["id"]]: option_name[o["id"]] for o in coc["categoryOptions"]}
        for coc in meta["categoryOptionCombos"]
    }


def test_sex_age_values_resolved_through_category_options(fixtures: Path) -> None:
    data_path = fixtures / "dvs_bulk_sex_age.json"
    meta_path = fixtures / "metadata_sex_age_catcombos.json"
    values = json.loads(data_path.read_text())["dataValues"]
    meta = json.loads(meta_path.read_text())
    combos = _independent_coc_options(meta)
    boolean = {d["id"] for d in meta["dataElements"] if d["valueType"] == "BOOLEAN"}

    plain = normalize_file(data_path)
    _accounted(plain)
    assert plain.table.height == len(values) == 231
    by_type = dict(plain.table.group_by("period_type").len().rows())
    assert by_type == {"Monthly": 222, "Yearly": 9}
    numeric = sum(float(v["value"]) for v in values if v["value"] not in ("true", "false"))
    assert plain.table["value"].sum() == numeric
    assert [p.code for p in plain.problems] == ["value_not_numeric"] * 9

    metadata = read_metadata([meta_path])
    result = normalize_file(data_path, metadata)
    _accounted(result)
    assert result.problems == []  # booleans are 1/0 for BOOLEAN data elements
    trues = sum(v["value"] == "true" and v["dataElement"] in boolean for v in values)
    assert result.table["value"].sum() == numeric + trues

    # Sex x age: the six COCs of "TA Age and sex" resolved to options, totals by sex.
    options = metadata.coc_options.select(
        "category_option_combo", "category_name", "category_option_name"
    )
    sex = options.filter(pl.col("category_name") == "TA Sex").drop("category_name")
    by_sex = (
        result.table.join(sex, left_on="category_option_combo", right_on="category_option_combo")
        .group_by("category_option_name")
        .agg(pl.col("value").sum(), pl.len())
    )
    expected: dict[str, list[float]] = {}
    for v in values:
        found = combos.get(v["categoryOptionCombo"], {}).get("TA Sex")
        if found:
            expected.setdefault(found, []).append(float(v["value"]))
    assert {name: (total, count) for name, total, count in by_sex.rows()} == {
        name: (sum(vals), len(vals)) for name, vals in expected.items()
    }
    assert set(expected) == {"TA Female", "TA Male"} and sum(map(len, expected.values())) == 156
    resolved = {
        coc: dict(group.select("category_name", "category_option_name").rows())
        for (coc,), group in metadata.coc_options.group_by("category_option_combo")
    }
    for coc, wanted in combos.items():
        assert resolved[coc] == wanted
    assert resolved["kQBGXKMwoqR"] == {"TA Age (malaria)": "TA 15+ years", "TA Sex": "TA Female"}
    assert resolved[DEFAULT] == {"default": "default"}  # excluded default added back


def test_analytics_with_dx_pe_ou_becomes_data_values(fixtures: Path) -> None:
    path = fixtures / "analytics_indicator_numden.json"
    doc = json.loads(path.read_text())
    result = normalize_file(path)
    _accounted(result)
    table = result.table
    assert table.height == len(doc["rows"]) == 24
    assert table["value"].sum() == pytest.approx(sum(float(r[3]) for r in doc["rows"]))
    assert set(table["data_element"]) == {"dwEq7wi6nXV"}
    assert set(table["stored_by"]) == {"[aggregated]"}


def test_every_aggregate_fixture_together(fixtures: Path) -> None:
    """The whole set at once: counts add up, and a value whose key already appeared in an
    earlier file (dvs_bulk_B.csv repeats the XML; three small files reuse its keys) is
    flagged, naming the first occurrence."""
    names = [
        "dvs_bulk_B.xml", "dvs_bulk_B.csv", "dvs_header_catcombo.xml",
        "dvs_header_deleted_ragged.csv", "datavalues_dash_periods.csv",
        "dvs_created_lastupdated.json", "dvs_single_dataset_coc_aoc.json",
        "dvs_bulk_sex_age.json", "analytics_indicator_numden.json",
    ]  # fmt: skip
    result = normalize([fixtures / n for n in names])
    _accounted(result)
    assert result.table.height == 12 + 12 + 3 + 3 + 32 + 1 + 2 + 231 + 24
    duplicates = [p for p in result.problems if p.code == "duplicate_value"]
    assert {Path(p.file).name for p in duplicates} == {
        "dvs_bulk_B.csv", "dvs_header_catcombo.xml", "dvs_header_deleted_ragged.csv",
        "dvs_created_lastupdated.json",
    }  # fmt: skip
    assert len(duplicates) == 12 + 1 + 3 + 1
    first = duplicates[0]
    assert (Path(first.file).name, first.position) == ("dvs_bulk_B.csv", "line 2")
    assert first.reason.endswith("dvs_bulk_B.xml /dataValueSet[1]/dataValue[1]")
