"""The vectorised JSON path (`etl.dhis2.fast_values`) gives exactly what the record-by-record
path gives (rows, problems in order, summary) on the JSON fixtures and on hand-made edge
cases, and declines the shapes it does not handle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl.dhis2.fast_values import fast_json
from etl.dhis2.metadata import read_metadata
from etl.dhis2.normalize import _normalize_file
from etl.dhis2.problems import Dhis2Error
from tests.etl.dhis2 import tiny_facility

V = tiny_facility.V


def _same(path: Path, meta) -> None:  # noqa: ANN001
    index = meta.index if meta is not None else None
    try:
        slow = _normalize_file(path, index, fast=False)
    except Dhis2Error as error:
        with pytest.raises(Dhis2Error) as again:
            _normalize_file(path, index, fast=True)
        assert str(again.value) == str(error)
        return
    fast = _normalize_file(path, index, fast=True)
    assert fast[0].equals(slow[0])
    assert fast[1] == slow[1]
    assert vars(fast[2]) == vars(slow[2])


def test_the_json_fixtures_read_the_same(fixtures: Path) -> None:
    meta = read_metadata([fixtures / "metadata_sex_age_catcombos.json"])
    for path in sorted(fixtures.glob("dvs*.json")):
        _same(path, None)
        _same(path, meta)


EDGES = [
    {"dataElement": " FAC_HAZ ", "period": " 202401 ", "orgUnit": V.uid("F1"), "value": " 3 "},
    {"dataElement": "FAC_HAZ", "period": "202401", "orgUnit": V.uid("F2"), "value": ""},
    {"dataElement": "FAC_HAZ", "period": "202401", "orgUnit": V.uid("F3"), "value": "",
     "deleted": True},
    {"dataElement": "FAC_HAZ", "period": "202402", "orgUnit": V.uid("F1"), "value": "1",
     "deleted": "maybe", "followup": "nope"},
    {"dataElement": "FAC_HAZ", "period": "202402", "orgUnit": V.uid("F2"), "value": "1",
     "followup": "TRUE", "deleted": "0", "comment": "  ", "storedBy": "x"},
    {"dataElement": "", "period": "202401", "orgUnit": V.uid("F1"), "value": "1"},
    {"dataElement": "FAC_HAZ", "orgUnit": V.uid("F1"), "value": "1"},
    {"dataElement": "FAC_HAZ", "period": "202401", "value": "1"},
    {"dataElement": "FAC_HAZ", "period": "2024W99", "orgUnit": V.uid("F1"), "value": "1"},
    {"dataElement": "NOPE", "period": "202401", "orgUnit": V.uid("F1"), "value": "1"},
    {"dataElement": "FAC_HAZ", "period": "202401", "orgUnit": "NOPE", "value": "1"},
    {"dataElement": "FAC_HAZ", "period": "202401", "orgUnit": V.uid("F1"), "value": "1",
     "categoryOptionCombo": "NOPE"},
    {"dataElement": "FAC_HAZ", "period": "202401", "orgUnit": V.uid("F1"), "value": "1",
     "attributeOptionCombo": "NOPE2"},
    {"dataElement": "FAC_HAZ", "period": "202401", "orgUnit": V.uid("F1"), "value": "1",
     "categoryOptionCombo": V.uid("CocU1"), "attributeOptionCombo": "HllvX50cXC0"},
    {"dataElement": "FAC_HAZ", "period": "202403", "orgUnit": V.uid("F1"), "value": "abc"},
    {"dataElement": "FAC_ELEC", "period": "202401", "orgUnit": V.uid("F1"), "value": "Yes"},
    {"dataElement": "FAC_ELEC", "period": "202402", "orgUnit": V.uid("F1"), "value": "maybe"},
    {"dataElement": "FAC_BINS", "period": "202401", "orgUnit": V.uid("F1"), "value": "x y"},
    {"dataElement": "UNTYPED", "period": "202401", "orgUnit": V.uid("F1"), "value": "x"},
    {"dataElement": "FAC_HAZ", "period": "202401", "orgUnit": V.uid("F1"), "value": "1e3"},
    {"dataElement": "FAC_HAZ", "period": "202401", "orgUnit": V.uid("F1"), "value": "nan"},
    {"dataElement": "FAC_HAZ", "period": "2024-01", "orgUnit": V.uid("F1"), "value": "2"},
]  # fmt: skip


@pytest.mark.parametrize("with_metadata", [True, False])
def test_edge_cases_read_the_same(tmp_path: Path, with_metadata: bool) -> None:
    doc = tiny_facility.metadata()
    doc["dataElements"].append({"id": "UntypedDe01", "code": "UNTYPED", "name": "untyped"})
    (tmp_path / "metadata.json").write_text(json.dumps(doc))
    meta = read_metadata([tmp_path / "metadata.json"]) if with_metadata else None
    path = tmp_path / "values.json"
    path.write_text(json.dumps({"dataSet": "x", "dataValues": EDGES}))
    assert fast_json(str(path), path.read_bytes(), None) is not None
    _same(path, meta)
    group = {"period": "202401", "orgUnit": V.uid("F1"), "dataValues": [
        {k: v for k, v in e.items() if k not in ("period", "orgUnit")} for e in EDGES]}  # fmt: skip
    path.write_text(json.dumps(group))
    _same(path, meta)


@pytest.mark.parametrize(
    "doc",
    [
        {"dataValues": [{"dataElement": "a", "period": "202401", "orgUnit": "b", "value": 5}]},
        {"dataValues": [{"de": "a", "pe": "202401", "ou": "b", "value": "5"}]},
        {"dataValues": [{"dataElement": "a", "period": "202401", "orgUnit": "b"}, "x"]},
        {"period": "202401", "dataValues": [{"dataElement": "a", "period": "202402"}]},
        {"dataValueSets": [{"dataValues": []}]},
        [{"dataElement": "a", "period": "202401", "orgUnit": "b", "value": "5"}],
        {"dataValues": []},
        {"dataValues": [None, {"dataElement": "a", "period": "202401", "orgUnit": "b"}]},
        {
            "dataValues": [
                {"dataElement": "a", "period": "202401", "orgUnit": "b", "value": "1", "deleted": 1}
            ]
        },
        {"headers": [], "rows": [], "dataValues": [{"dataElement": "a"}]},
    ],
)
def test_other_shapes_take_the_record_path(doc: object, tmp_path: Path) -> None:
    assert fast_json("f.json", json.dumps(doc).encode(), None) is None
    path = tmp_path / "values.json"
    path.write_text(json.dumps(doc))
    _same(path, None)
