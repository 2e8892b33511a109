"""The facility environment report: org unit groups, the mapping's `facility:` section, the
reader's checks on a hand-made export with one bad value of each kind (exact positions and
reasons), and loads that replace, keep or protect the facility data."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
import yaml

from etl.dhis2.facility import facility_facts, resolve_facility
from etl.dhis2.load import load_dhis2
from etl.dhis2.mapping import MappingError, parse_mapping, read_mapping, resolve
from etl.dhis2.metadata import read_metadata
from etl.dhis2.normalize import normalize
from etl.load import LoadError
from indicators import facility_data as fd
from indicators import warehouse as wh
from tests.etl.dhis2 import tiny_facility, tiny_instance

V = tiny_facility.V


def test_org_unit_groups_of_the_sierra_leone_fixture(fixtures: Path) -> None:
    meta = read_metadata([fixtures / "metadata_orgunits_levels_sierra_leone.json"])
    assert meta.org_unit_groups.rows() == [
        ("tMbbjys8mS6", "TA org unit group", "TA org unit group", "TA_OU_GROUP")
    ]
    members = meta.org_unit_group_members.sort("org_unit")
    assert members["group"].unique().to_list() == ["tMbbjys8mS6"]
    assert members["org_unit"].to_list() == sorted(
        ["g8upMTyEZGZ", "O6uvpzGd5pu", "ImspTQPwCqd", "DiszpKrYNg8", "YuQRtpLP10I"]
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tiny_facility.write(tmp_path / "tiny")


def _read(folder: Path):  # noqa: ANN202
    mapping = read_mapping(folder / "mapping.yaml")
    meta = read_metadata([folder / "metadata.json"])
    resolved = resolve(mapping, meta)
    return mapping, meta, resolved, resolve_facility(mapping, meta, resolved)


def test_groups_listed_on_the_unit_count_and_facilities_get_type_and_setting(
    folder: Path,
) -> None:
    _, meta, _, section = _read(folder)
    rural = meta.org_unit_group_members.filter(pl.col("group") == V.uid("GrpRur"))
    assert rural["org_unit"].to_list() == [V.uid("F2")]
    got = section.facilities.sort("name").select(
        "name", "district", "adm1_code", "facility_type", "setting", "immunizing"
    )
    assert got.rows() == [
        ("F1", "IQG08Q01", "IQG08", "phc", "urban", True),
        ("F2", "IQG08Q01", "IQG08", "phc", "rural", True),
        ("F3", "IQG08Q02", "IQG08", "hospital", "urban", True),
    ]


def test_each_bad_value_is_rejected_with_its_position_and_reason(folder: Path) -> None:
    _, meta, _, section = _read(folder)
    file = str(folder / "facility" / "fac.json")
    normalized = normalize([file], meta)
    found = facility_facts(normalized, section)
    mine = {int(p.position[13:-1]): (p.code, p.reason) for p in found.problems}
    assert all(p.file == file for p in found.problems)
    by_normalize = {
        int(p.position[13:-1]): (p.code, p.reason)
        for p in normalized.problems
        if p.outcome == "rejected"
    }
    expected = tiny_facility.REJECTED
    assert mine == {i: r for i, r in expected.items() if i not in tiny_facility.NORMALIZE_REJECTS}
    assert by_normalize == {i: expected[i] for i in tiny_facility.NORMALIZE_REJECTS}
    # Every value the normalizer kept is accounted for.
    assert found.counts == {
        file: {"values": 29, "loaded": 17, "rejected": 9, "duplicates": 1, "blank": 2}
    }


def test_the_accepted_values_make_one_row_per_facility_month(folder: Path) -> None:
    _, meta, _, section = _read(folder)
    found = facility_facts(normalize([folder / "facility" / "fac.json"], meta), section)
    months = found.months
    assert months.schema == pl.Schema(fd.FACILITY_MONTHS)
    names = {V.uid(f): f for f in ("F1", "F2", "F3")}
    got = {
        (names[row["facility"]], row["period"]): {
            c: v for c, v in row.items() if v is not None and c not in ("facility", "period")
        }
        for row in months.to_dicts()
    }
    assert got == tiny_facility.EXPECTED


def test_a_number_split_by_combos_is_summed(folder: Path) -> None:
    meta_doc = tiny_facility.metadata()
    combo = meta_doc["categoryOptionCombos"][0]["id"]  # any two combos of the metadata
    other = meta_doc["categoryOptionCombos"][1]["id"]
    values = [
        {**tiny_facility.VALUES[0], "categoryOptionCombo": combo, "value": "2.5"},
        {**tiny_facility.VALUES[0], "categoryOptionCombo": other, "value": "4"},
        {**tiny_facility.VALUES[1], "categoryOptionCombo": combo, "value": "no_bins"},
        {**tiny_facility.VALUES[1], "categoryOptionCombo": other, "value": "three_bins"},
    ]
    (folder / "facility" / "fac.json").write_text(json.dumps({"dataValues": values}))
    _, meta, _, section = _read(folder)
    found = facility_facts(normalize([folder / "facility" / "fac.json"], meta), section)
    row = found.months.row(0, named=True)
    assert (row["waste_hazardous_kg"], row["bins"]) == (6.5, "three_bins")
    file = str(folder / "facility" / "fac.json")
    assert found.counts[file] == {"values": 4, "loaded": 3, "rejected": 0, "duplicates": 1,
                                  "blank": 0}  # fmt: skip


def _section(**changes: object) -> dict:
    doc = yaml.safe_load(tiny_facility.mapping())
    doc["facility"].update(changes)
    return doc


@pytest.mark.parametrize(
    ("doc", "key", "reason"),
    [
        (_section(data_set=None), "facility.data_set", "an identifier must be text, not empty"),
        ({**_section(), "facility": {"data_elements": {"beds": "X"}}}, "facility.data_set",
         "missing: the monthly facility report's data set"),
        (_section(data_elements={"bed": "X"}), "facility.data_elements.bed",
         "unknown key (known: " + ", ".join(fd.REPORTED) + ")"),
        (_section(data_elements={}), "facility.data_elements", "map at least one report column"),
        (_section(groups={"clinic": ["X"]}), "facility.groups.clinic",
         "unknown key (known: hospital, phc, urban, rural)"),
        (_section(options={"bins": {"B3": "three"}}), "facility.options.bins.B3",
         "'three' is not one of three_bins, bins_incomplete, no_bins"),
        (_section(options={"grid_hours": {}}), "facility.options.grid_hours",
         "unknown key (known: bins, sharps_disposal, infectious_disposal, main_power_source, "
         "power_availability)"),
        (_section(climate=["../elsewhere/*.csv"]), "facility.climate",
         "'../elsewhere/*.csv': a pattern inside the folder"),
    ],
)  # fmt: skip
def test_the_section_is_checked_alone(doc: dict, key: str, reason: str) -> None:
    with pytest.raises(MappingError) as error:
        parse_mapping(doc, "m.yaml")
    assert (error.value.key, error.value.reason) == (key, reason)


@pytest.mark.parametrize(
    ("changes", "key", "reason"),
    [
        ({"data_set": "NOPE"}, "facility.data_set", "data set NOPE is not in the metadata"),
        ({"data_elements": {"beds": "NOPE"}}, "facility.data_elements.beds",
         "data element NOPE is not in the metadata"),
        ({"data_elements": {"bins": "FAC_HAZ"}}, "facility.data_elements.bins",
         "FAC_HAZ is a NUMBER data element; bins holds an answer code"),
        ({"data_elements": {"waste_general_kg": "FAC_ELEC"}},
         "facility.data_elements.waste_general_kg",
         "FAC_ELEC is a BOOLEAN data element; waste_general_kg holds a number"),
        ({"data_elements": {"beds": "A_PENTA1"}}, "facility.data_elements.beds",
         "data element A_PENTA1 is already mapped to the dose PENTA1"),
        ({"data_elements": {"beds": "FAC_BEDS", "health_workers": "FAC_BEDS"}},
         "facility.data_elements.health_workers",
         "data element FAC_BEDS is already mapped to the column beds"),
        ({"groups": {"hospital": ["NOPE"]}}, "facility.groups.hospital",
         "org unit group NOPE is not in the metadata"),
        ({"data_set": "A_EPI", "groups": {}}, "facility",
         "no facility: no org unit below a mapped district is assigned to the facility data "
         "set or held by a facility group"),
    ],
)  # fmt: skip
def test_the_section_is_checked_against_the_metadata(
    changes: dict, key: str, reason: str, tmp_path: Path
) -> None:
    meta_doc = tiny_facility.metadata()
    if changes.get("data_set") == "A_EPI":
        meta_doc["dataSets"][0]["organisationUnits"] = []
    (tmp_path / "metadata.json").write_text(json.dumps(meta_doc))
    meta = read_metadata([tmp_path / "metadata.json"])
    mapping = parse_mapping(_section(**changes), "m.yaml")
    with pytest.raises(MappingError) as error:
        resolve_facility(mapping, meta, resolve(mapping, meta))
    assert (error.value.key, error.value.reason) == (key, reason)


def test_a_mapping_without_the_section_has_none() -> None:
    mapping = parse_mapping(yaml.safe_load(tiny_instance.mapping(V)), "m.yaml")
    assert mapping.facility is None


# --- loads ----------------------------------------------------------------------------------


def _table(url: str, table: sa.Table) -> pl.DataFrame:
    with wh.engine(url).connect() as connection:
        rows = connection.execute(sa.select(table)).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=[c.name for c in table.columns],
                        orient="row", infer_schema_length=None)  # fmt: skip


def _facility_rows(url: str) -> pl.DataFrame:
    v = wh.indicator_values
    with wh.engine(url).connect() as connection:
        rows = connection.execute(sa.select(v).where(v.c.source == "facility")).all()
    names = [c.name for c in v.columns if c.name != "load_run_id"]
    frame = pl.DataFrame([tuple(r)[:-1] for r in rows], schema=names, orient="row",
                         infer_schema_length=None)  # fmt: skip
    return frame.sort("indicator", "period", "org_unit")


def test_a_load_fills_the_facility_tables_and_a_load_without_the_section_keeps_them(
    folder: Path, tmp_path: Path, warehouse_url: str
) -> None:
    result = load_dhis2(folder, warehouse_url)
    assert _table(warehouse_url, wh.facilities).height == 3
    months = _table(warehouse_url, wh.facility_months)
    assert months.select("period").to_series().sort().to_list() == [
        "202401", "202401", "202401", "202402"]  # fmt: skip
    climate = _table(warehouse_url, wh.climate_months)
    assert climate.height == 4 and set(climate["district"]) == {"IQG08Q01", "IQG08Q02"}
    assert result.facility_rows > 0
    rows = _facility_rows(warehouse_url)
    assert rows.height == result.facility_rows
    # Rejects: the facility values, the normalizer's two and the climate file's line 6.
    report = result.report()
    rules = sorted((Path(r["file"]).relative_to(folder).as_posix(), r["position"], r["rule"])
                   for r in report["rejects"]
                   if "fac.json" in r["file"] or "climate" in r["file"])  # fmt: skip
    assert ("climate/districts.csv", "line 6", "district_unknown") in rules
    assert len(rules) == len(tiny_facility.REJECTED) + 1
    account = result.accounting
    assert account["climate/districts.csv"] == {"kind": "climate", "rows_read": 5,
                                                "rows_loaded": 4, "rows_rejected": 1,
                                                "duplicates": 0}  # fmt: skip
    fac = account["facility/fac.json"]
    assert fac["rows_read"] == 31 and fac["rows_rejected"] == 11
    assert fac["rows_loaded"] == 20 and fac["used"] == 17
    assert fac["facility"]["loaded"] == 17 and fac["outside_mapping"] == 0
    assert not any("climate" in str(path) for path, _ in result.files.ignored)
    with wh.engine(warehouse_url).connect() as connection:
        r = wh.rejects.c
        query = sa.select(r.file, r.line, r.rule).where(r.load_run_id == result.run_id)
        stored = [tuple(row) for row in connection.execute(query)]
    assert ("climate/districts.csv", 6, "district_unknown") in stored
    assert ("facility/fac.json", 17, "option_unknown") in stored
    # The same instance without the facility section: the facility data stay.
    plain = tiny_instance.write(tmp_path / "plain")
    load_dhis2(plain, warehouse_url)
    assert _table(warehouse_url, wh.facility_months).drop("load_run_id").equals(
        months.drop("load_run_id"))  # fmt: skip
    assert _facility_rows(warehouse_url).equals(rows)


def test_a_failed_facility_load_leaves_the_previous_data(folder: Path, sqlite_url: str) -> None:
    load_dhis2(folder, sqlite_url)
    before = {t.name: _table(sqlite_url, t) for t in wh.FACILITY_TABLES}
    rows = _facility_rows(sqlite_url)
    (folder / "climate" / "districts.csv").write_text("district,period,tmax\nIQG08Q01,202401,1\n")
    with pytest.raises(LoadError, match="the climate header lacks tmean, tmax_peak"):
        load_dhis2(folder, sqlite_url)
    (folder / "climate" / "districts.csv").unlink()
    with pytest.raises(LoadError, match=r"no climate file matches climate/\*\.csv"):
        load_dhis2(folder, sqlite_url)
    for table in wh.FACILITY_TABLES:
        assert _table(sqlite_url, table).equals(before[table.name])
    assert _facility_rows(sqlite_url).equals(rows)
