"""`mapping.yaml`: the default file, its checks (file, key, reason) and its resolution
against an instance's metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from etl.dhis2.folder import classify, export_files
from etl.dhis2.mapping import (
    DEFAULT_MAPPING,
    MappingError,
    admin_doses,
    parse_mapping,
    read_mapping,
    resolve,
)
from etl.dhis2.metadata import read_metadata
from tests.etl.dhis2 import tiny_instance

MINIMAL = {
    "doses": {"PENTA1": "DE1"},
    "population": {"surviving_infants": "POP"},
}


def _error(doc: object) -> MappingError:
    with pytest.raises(MappingError) as caught:
        parse_mapping(doc, "m.yaml")
    return caught.value


def test_the_default_mapping_maps_the_who_epi_package() -> None:
    mapping = read_mapping(DEFAULT_MAPPING)
    doses = {rule.dose: rule for rule in mapping.doses}
    assert set(doses) == set(admin_doses()) - {"HEPB0"}
    assert doses["PENTA1"].data_elements == ("hJJlOnVOkV2",)
    assert doses["BCG"].denominator == "live_births" and doses["BCG"].ages == "under_1"
    assert doses["MCV2"].denominator == "under_2" and doses["MCV2"].ages == "all"
    assert mapping.age_under_1 == ("NdavvgfkgR1",) and mapping.data_sets == ("jqSaKxtj8IA",)
    assert mapping.org_unit_match == "code" and mapping.sex == {}
    assert mapping.sex_shares == {"F": 0.488, "M": 0.512}


@pytest.mark.parametrize(
    ("doc", "key", "reason"),
    [
        ({**MINIMAL, "dose": {}}, "dose", "unknown key"),
        ({**MINIMAL, "doses": {"PENTA9": "X"}}, "doses.PENTA9", "unknown key"),
        ({**MINIMAL, "doses": {}}, "doses", "map at least one dose"),
        ({**MINIMAL, "doses": {"PENTA1": {"ages": "all"}}}, "doses.PENTA1.data_elements",
         "missing"),
        ({**MINIMAL, "doses": {"PENTA1": {"data_elements": "X", "ages": "old"}}},
         "doses.PENTA1.ages", "'old'"),
        ({**MINIMAL, "doses": {"PENTA1": ["X", {"a": 1}]}}, "doses.PENTA1", "must be text"),
        ({**MINIMAL, "doses": {"BCG": "X"}}, "population.live_births",
         "the target population of BCG"),
        ({**MINIMAL, "version": 2}, "version", "version 1"),
        ({**MINIMAL, "population": {"surviving_infants": "P", "sex_shares": {"F": 1.5}}},
         "population.sex_shares.F", "between 0 and 1"),
        ({**MINIMAL, "org_units": {"match": "name"}}, "org_units.match", "'name'"),
        ({**MINIMAL, "org_units": {"table": {"X": "IQG99Q01"}}}, "org_units.table.X",
         "not a district code"),
        ({**MINIMAL, "org_units": {"level": 0}}, "org_units.level", "a DHIS2 level"),
        ({**MINIMAL, "files": {"metadata": ["../meta.json"]}}, "files.metadata",
         "inside the folder"),
        ({**MINIMAL, "sex": {"X": ["a"]}}, "sex.X", "unknown key"),
        (["doses"], "", "must be a mapping"),
        (None, "", "empty mapping"),
    ],
)  # fmt: skip
def test_a_bad_mapping_names_file_key_and_reason(doc: object, key: str, reason: str) -> None:
    error = _error(doc)
    assert error.file == "m.yaml" and error.key == key and reason in error.reason
    assert str(error).startswith("m.yaml: ") and "\n" not in str(error)


def test_yaml_syntax_errors_give_the_line(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("doses:\n  PENTA1: [a, b\npopulation: {}\n")
    with pytest.raises(MappingError, match=r"mapping.yaml: not YAML: line \d+"):
        read_mapping(path)


def _tiny_meta(tmp_path: Path, variant: tiny_instance.Variant = tiny_instance.FIRST):
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps(tiny_instance.metadata(variant)))
    return read_metadata([path])


def _mapping(variant: tiny_instance.Variant = tiny_instance.FIRST, **changes: object):
    doc = yaml.safe_load(tiny_instance.mapping(variant))
    doc.update(changes)
    return parse_mapping(doc, "mapping.yaml")


def test_resolution_places_org_units_and_reads_combos_through_options(
    tmp_path: Path, no_geo_pack: Path
) -> None:
    v = tiny_instance.OTHER
    resolved = resolve(_mapping(v), _tiny_meta(tmp_path, v))
    districts = dict(resolved.districts.select("org_unit", "district").rows())
    assert districts == {
        v.uid("Rusafa"): "IQG08Q01", v.uid("F1"): "IQG08Q01", v.uid("F2"): "IQG08Q01",
        v.uid("Karkh"): "IQG08Q02", v.uid("F3"): "IQG08Q02",
    }  # fmt: skip
    # (Iraq and Baghdad are above the districts: no district.)
    combos = {r["category_option_combo"]: (r["age"], r["sex"]) for r in resolved.combos.to_dicts()}
    assert combos[v.uid("CocU1SF")] == ("under_1", "F")
    assert combos[v.uid("CocO1SM")] == ("over_1", "M")
    elements = dict(resolved.dose_elements.select("data_element", "dose").rows())
    assert elements == {v.uid("DePENTA1"): "PENTA1", v.uid("DePENTA3"): "PENTA3",
                        v.uid("DeMCV1"): "MCV1"}  # fmt: skip
    # (the mapping names PENTA1 and PENTA3 by code, MCV1 by uid)
    assert resolved.data_sets.rows() == [(v.uid("DsEpi"), 15)]
    assert sorted(resolved.facilities["org_unit"]) == sorted(v.uid(f) for f in ("F1", "F2", "F3"))


@pytest.mark.parametrize(
    ("changes", "key", "reason"),
    [
        ({"doses": {"PENTA1": "NOPE"}}, "doses.PENTA1", "data element NOPE is not in"),
        ({"age": {"under_1": ["NOPE"]}}, "age.under_1", "category option NOPE is not in"),
        ({"data_sets": ["NOPE"]}, "data_sets", "data set NOPE is not in"),
        ({"org_units": {"match": "code", "level": 4}}, "org_units", "no DHIS2 org unit matches"),
        ({"org_units": {"match": "table", "table": {"Nowhere": "IQG08Q01"}}},
         "org_units.table.Nowhere", "no org unit with this uid, code or name"),
        ({"doses": {"PENTA1": "A_PENTA1", "PENTA3": "A_PENTA1"}}, "doses", "mapped twice"),
    ],
)  # fmt: skip
def test_resolution_errors_name_the_key(
    tmp_path: Path, no_geo_pack: Path, changes: dict, key: str, reason: str
) -> None:
    with pytest.raises(MappingError) as caught:
        resolve(_mapping(**changes), _tiny_meta(tmp_path))
    assert caught.value.key == key and reason in caught.value.reason


def test_the_folder_is_sorted_by_content_or_by_the_mappings_globs(tmp_path: Path) -> None:
    folder = tiny_instance.write(tmp_path / "tiny")
    (folder / "notes.md").write_text("# exported on Monday\n")
    (folder / "events.csv").write_text("event,status,program,programStage\n")
    found = export_files(folder, {}, {(folder / "mapping.yaml").resolve()})
    assert [p.name for p in found.metadata] == ["metadata.json"]
    assert [p.name for p in found.data_values] == ["jan_apr.json", "may_aug.csv", "sep_dec.xml",
                                                   "population.json"]  # fmt: skip
    assert [p.name for p in found.registrations] == ["registrations.json"]
    assert {p.name: r for p, r in found.ignored} == {
        "events.csv": "a tracker export (the aggregate load does not use it)",
        "notes.md": "not a DHIS2 export (.md)",
    }
    listed = export_files(folder, {"metadata": ("metadata.json",), "data_values": ("data/*",)},
                          set())  # fmt: skip
    assert [p.name for p in listed.data_values] == ["jan_apr.json", "may_aug.csv", "sep_dec.xml"]
    assert "population.json" in {p.name for p, _ in listed.ignored}
    assert classify(folder / "registrations.json") == ("registrations", "")
