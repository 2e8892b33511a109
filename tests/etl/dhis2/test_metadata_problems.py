"""Metadata that is incomplete or inconsistent: reported, never fatal, nothing invented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl.dhis2.metadata import read_metadata
from etl.dhis2.problems import KEPT, Dhis2Error


def _units(tmp_path: Path, units: list[dict]) -> Path:
    path = tmp_path / "ou.json"
    path.write_text(json.dumps({"organisationUnits": units}))
    return path


def test_gaps_cycles_bad_paths_and_levels(tmp_path: Path) -> None:
    units = [
        {"id": "root0000001", "level": 1},
        {"id": "child000001", "parent": {"id": "root0000001"}, "level": 3},  # level disagrees
        {"id": "orphan00001", "parent": {"id": "missing0001"}},  # parent not exported
        {"id": "loopA000001", "parent": {"id": "loopB000001"}},
        {"id": "loopB000001", "parent": {"id": "loopA000001"}},
        {
            "id": "badpath0001",
            "path": "/root0000001/somethingElse",
            "parent": {"id": "root0000001"},
        },
        {"name": "no id"},
        "not an object",
    ]
    meta = read_metadata([_units(tmp_path, units)])
    table = {r["uid"]: r for r in meta.org_units.iter_rows(named=True)}
    assert table["child000001"]["path"] == "/root0000001/child000001"
    assert table["child000001"]["level"] == 3  # the exported level is kept, and reported
    assert table["orphan00001"]["path"] == "/missing0001/orphan00001"
    assert table["orphan00001"]["level"] is None  # an incomplete path says nothing of depth
    assert table["badpath0001"]["path"] == "/root0000001/badpath0001"
    assert table["loopA000001"]["level"] is None
    codes = sorted((p.position, p.code) for p in meta.problems)
    assert codes == sorted([
        ("$.organisationUnits[1]", "level_mismatch"),
        ("$.organisationUnits[2]", "parent_unknown"),
        ("$.organisationUnits[3]", "hierarchy_cycle"),
        ("$.organisationUnits[5]", "path_invalid"),
        ("$.organisationUnits[6]", "id_missing"),
        ("$.organisationUnits[7]", "not_an_object"),
    ])  # fmt: skip
    assert {
        p.outcome for p in meta.problems if p.code != "id_missing" and p.code != "not_an_object"
    } == {KEPT}


def test_a_long_parent_chain_needs_no_recursion(tmp_path: Path) -> None:
    units = [{"id": "u0"}] + [
        {"id": f"u{i}", "parent": {"id": f"u{i - 1}"}} for i in range(1, 5000)
    ]
    meta = read_metadata([_units(tmp_path, units)])
    deepest = meta.org_units.filter(meta.org_units["uid"] == "u4999").row(0, named=True)
    assert deepest["level"] == 5000


def test_option_outside_its_combo_is_reported(tmp_path: Path) -> None:
    doc = {
        "categories": [{"id": "cat1", "categoryOptions": [{"id": "o1"}]}],
        "categoryCombos": [{"id": "cc1", "categories": [{"id": "cat1"}]}],
        "categoryOptionCombos": [
            {"id": "coc1", "categoryCombo": {"id": "cc1"}, "categoryOptions": [{"id": "o1"}]},
            {"id": "coc2", "categoryCombo": {"id": "cc1"}, "categoryOptions": [{"id": "o9"}]},
        ],
    }
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    meta = read_metadata([path])
    assert [(p.position, p.code) for p in meta.problems] == [
        ("$.categoryOptionCombos[1]", "option_unplaced")
    ]
    assert meta.coc_options.filter(meta.coc_options["category_option_combo"] == "coc1")[
        "category"
    ].to_list() == ["cat1"]


@pytest.mark.parametrize(
    "content,message",
    [
        ('{"dataValues": []}', "no metadata lists"),
        ("[1, 2]", "no metadata lists"),
        ("{", "not valid JSON"),
        ("", "empty metadata CSV"),
    ],
)
def test_unusable_metadata_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / ("m.csv" if not content else "m.json")
    path.write_text(content)
    with pytest.raises(Dhis2Error, match=message):
        read_metadata([path])
