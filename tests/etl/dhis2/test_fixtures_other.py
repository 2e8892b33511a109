"""Metadata, analytics, registration and tracker fixtures, against the files read by hand."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from etl.dhis2.analytics import read_analytics
from etl.dhis2.metadata import org_unit_ancestors, read_metadata
from etl.dhis2.registrations import read_registrations, with_timeliness
from etl.dhis2.tracker import read_tracker, read_trackers

SL = {  # Sierra Leone file: hand-read parents, names and exported levels
    "ImspTQPwCqd": (None, "Sierra Leone", 1),
    "O6uvpzGd5pu": ("ImspTQPwCqd", "Bo", 2),
    "YuQRtpLP10I": ("O6uvpzGd5pu", "Badjia", 3),
    "DiszpKrYNg8": ("YuQRtpLP10I", "Ngelehun CHC", 4),
    "g8upMTyEZGZ": ("YuQRtpLP10I", "Njandama MCHP", 4),
}


def test_sierra_leone_paths_and_levels_from_parents(fixtures: Path) -> None:
    path = fixtures / "metadata_orgunits_levels_sierra_leone.json"
    units = json.loads(path.read_text())["organisationUnits"]
    assert sum("path" in u for u in units) == 2  # three units must be derived
    meta = read_metadata([path])
    assert meta.problems == []
    table = {row["uid"]: row for row in meta.org_units.iter_rows(named=True)}
    assert set(table) == set(SL)
    for uid, (parent, name, level) in SL.items():
        chain, node = [uid], parent
        while node:
            chain.insert(0, node)
            node = SL[node][0]
        row = table[uid]
        assert row["path"] == "/" + "/".join(chain)
        assert (row["parent"], row["name"], row["level"]) == (parent, name, level)
    assert table["DiszpKrYNg8"]["path"] == "/ImspTQPwCqd/O6uvpzGd5pu/YuQRtpLP10I/DiszpKrYNg8"
    assert table["DiszpKrYNg8"]["level_name"] == "Facility"
    assert table["O6uvpzGd5pu"]["level_name"] == "District"
    assert meta.org_unit_levels.select("level", "name").rows() == [
        (1, "National"), (2, "District"), (3, "Chiefdom"), (4, "Facility")
    ]  # fmt: skip
    point = json.loads(table["DiszpKrYNg8"]["geometry"])
    assert table["DiszpKrYNg8"]["geometry_type"] == "Point"
    assert point["coordinates"] == [-11.4197, 8.1039]
    assert table["O6uvpzGd5pu"]["geometry_type"] == "Polygon"
    assert table["g8upMTyEZGZ"]["geometry"] is None
    ancestors = org_unit_ancestors(meta.org_units)
    districts = ancestors.filter(pl.col("ancestor_level") == 2)
    assert set(districts["ancestor"]) == {"O6uvpzGd5pu"}
    assert districts.height == 4  # Bo itself, Badjia and the two facilities
    assert ancestors.height == 1 + 2 + 3 + 4 + 4


def test_org_unit_csv_hierarchy(fixtures: Path) -> None:
    path = fixtures / "metadata_orgunits.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    parent = {r["uid"]: r["parent"] or None for r in rows}
    meta = read_metadata([path])
    assert meta.problems == []
    table = {r["uid"]: r for r in meta.org_units.iter_rows(named=True)}
    assert len(table) == len(rows) == 6
    for uid in parent:
        depth, node = 0, uid
        while node:
            depth, node = depth + 1, parent[node]
        assert table[uid]["level"] == depth
        assert table[uid]["path"].count("/") == depth and table[uid]["path"].endswith(uid)
    assert table["f1234567890"]["level"] == 5
    assert table["f1234567890"]["path"] == (
        "/a1234567890/b1234567890/c1234567890/e1234567890/f1234567890"
    )
    assert {u: (r["name"], r["code"], r["short_name"]) for u, r in table.items()} == {
        r["uid"]: (r["name"], r["code"], r["shortName"]) for r in rows
    }


def test_data_elements_and_data_sets(fixtures: Path) -> None:
    path = fixtures / "metadata_sex_age_catcombos.json"
    doc = json.loads(path.read_text())
    meta = read_metadata([path])
    assert meta.data_elements.height == len(doc["dataElements"]) == 75
    assert dict(Counter(meta.data_elements["value_type"])) == dict(
        Counter(d["valueType"] for d in doc["dataElements"])
    )
    sets = {r["uid"]: r for r in meta.data_sets.iter_rows(named=True)}
    assert {u: (r["period_type"], r["timely_days"]) for u, r in sets.items()} == {
        d["id"]: (d["periodType"], d["timelyDays"]) for d in doc["dataSets"]
    }
    assert meta.data_set_elements.height == sum(len(d["dataSetElements"]) for d in doc["dataSets"])
    assert meta.category_option_combos.height == 12 + 1  # the excluded default is added
    assert meta.category_combo_categories.filter(pl.col("category_combo") == "IvYR8mc6prX").sort(
        "sort_order"
    )["category"].to_list() == ["mFoasCYViMW", "FRwO58KwwJt"]


def test_metadata_files_merge(fixtures: Path) -> None:
    meta = read_metadata(
        [fixtures / "metadata_sex_age_catcombos.json",
         fixtures / "metadata_orgunits_levels_sierra_leone.json",
         fixtures / "metadata_orgunits.csv"]
    )  # fmt: skip
    assert meta.org_units.height == 5 + 6
    assert meta.data_elements.height == 75 + 2
    index = meta.index
    assert index.org_units["OU_559"] == "DiszpKrYNg8"  # codes resolve to uids
    assert index.check_org_units and index.check_data_elements and index.check_combos


def test_analytics_gender_response(fixtures: Path) -> None:
    path = fixtures / "analytics_event_aggregate_gender.json"
    doc = json.loads(path.read_text())
    result = read_analytics(path)
    table = result.table
    assert result.problems == []
    assert table.height == doc["height"] == len(doc["rows"]) == 312
    assert table["value"].sum() == sum(float(r[3]) for r in doc["rows"])
    assert table.select("cejWyOfXge6", "pe", "ou").unique().height == 312
    assert sorted(set(table["cejWyOfXge6"])) == ["Female", "Male"]
    assert table["pe"].n_unique() == 12 and table["ou"].n_unique() == 13
    assert (table["period_start"].min(), table["period_end"].max()) == (
        date(2017, 4, 1), date(2018, 3, 31)
    )  # fmt: skip
    bo = table.filter(pl.col("ou") == "O6uvpzGd5pu")["ou_name"].unique().to_list()
    assert bo == ["Bo"]
    assert result.dimensions["pe"] == doc["metaData"]["dimensions"]["pe"]


def test_analytics_num_den_columns(fixtures: Path) -> None:
    path = fixtures / "analytics_indicator_numden.json"
    doc = json.loads(path.read_text())
    table = read_analytics(path).table
    assert table.height == 24
    for name in ("value", "numerator", "denominator", "factor", "multiplier", "divisor"):
        assert table[name].dtype == pl.Float64
    index = [h["name"] for h in doc["headers"]].index("numerator")
    assert table["numerator"].sum() == sum(float(r[index]) for r in doc["rows"])
    recomputed = table["numerator"] / table["denominator"] * table["factor"]
    assert ((recomputed - table["value"]).abs() <= 0.05 + 1e-9).all()  # value is rounded to 0.1
    assert (table["value"] > 100).sum() == sum(float(r[3]) > 100 for r in doc["rows"]) > 0
    assert set(table["dx_name"]) == {"ANC IPT 1 Coverage"}


def test_analytics_csv(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("Data,Period,Organisation unit,Value\nde1,202401,ou1,5\nde1,2024-02,ou1,7.5\n")
    table = read_analytics(path).table
    assert table.columns[:4] == ["dx", "pe", "ou", "value"]
    assert table["value"].sum() == 12.5
    assert table["period_end"].to_list() == [date(2024, 1, 31), date(2024, 2, 29)]


def test_analytics_headers_that_repeat_are_refused(tmp_path: Path) -> None:
    from etl.dhis2.problems import Dhis2Error

    path = tmp_path / "a.json"
    headers = [{"name": "pe"}, {"name": "pe_name"}, {"name": "value"}]
    path.write_text(json.dumps({"headers": headers, "rows": [["202401", "x", "1"]]}))
    with pytest.raises(Dhis2Error, match="analytics headers repeat or clash: pe_name"):
        read_analytics(path)
    rows = [["202401", "1"], ["202401"], ["LAST_MONTH", "2"]]
    path.write_text(json.dumps({"headers": [{"name": "pe"}, {"name": "value"}], "rows": rows}))
    result = read_analytics(path)
    assert result.table.height == 2
    assert [(p.position, p.code, p.outcome) for p in result.problems] == [
        ("$.rows[1]", "row_width", "rejected"),
        ("$.rows[2]", "period_invalid", "kept"),
    ]


def test_registrations_csv(fixtures: Path) -> None:
    path = fixtures / "dataset_registrations.csv"
    with path.open(newline="") as handle:
        reader = csv.reader(handle, skipinitialspace=True)
        next(reader)
        rows = [[c.strip() for c in r] for r in reader if r]
    result = read_registrations(path)
    assert result.problems == [] and result.records == len(rows) == 15
    table = result.table
    assert dict(table.group_by("data_set").len().rows()) == dict(Counter(r[0] for r in rows))
    assert sorted(table.select("data_set", "org_unit").rows()) == sorted((r[0], r[2]) for r in rows)
    assert set(table["period"]) == {r[1].replace("-", "") for r in rows}
    assert table["completed"].all() and set(table["attribute_option_combo"]) == {"HllvX50cXC0"}


def test_registrations_json_and_timeliness(tmp_path: Path) -> None:
    doc = {"completeDataSetRegistrations": [
        {"period": "202401", "dataSet": "ds1", "organisationUnit": "ou1", "date": "2024-02-15",
         "storedBy": "a", "completed": True},
        {"period": "202401", "dataSet": {"id": "ds1"}, "organisationUnit": "ou2",
         "date": "2024-02-16T10:00:00.000"},
        {"period": "202402", "dataSet": "ds1", "organisationUnit": "ou1", "date": "2024-03-15",
         "completed": "false"},
        {"period": "LAST_MONTH", "dataSet": "ds1", "organisationUnit": "ou1"},
        {"period": "202402", "organisationUnit": "ou1"},
    ]}  # fmt: skip
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc))
    result = read_registrations(path)
    assert result.records == 5 and result.table.height == 3
    assert [p.code for p in result.problems] == ["period_invalid", "data_set_missing"]
    sets = pl.DataFrame({"uid": ["ds1"], "timely_days": [15]})
    timely = with_timeliness(result.table, sets)
    assert timely["due_date"].to_list() == [date(2024, 2, 15), date(2024, 2, 15), date(2024, 3, 15)]
    assert timely["on_time"].to_list() == [True, False, True]  # 15 days after 31 January
    assert timely["completed"].to_list() == [True, True, False]


def test_legacy_and_new_tracker_exports_agree(fixtures: Path) -> None:
    legacy = read_tracker(fixtures / "tracker_legacy_trackedEntityInstances.json")
    new = read_tracker(fixtures / "tracker_new_trackedEntities_nested.json")
    doc = json.loads((fixtures / "tracker_new_trackedEntities_nested.json").read_text())
    expected = sorted(
        (te["trackedEntity"], ev["event"], ev["occurredAt"][:10], dv["dataElement"], dv["value"])
        for te in doc["trackedEntities"]
        for en in te["enrollments"]
        for ev in en["events"]
        for dv in ev["dataValues"]
    )
    columns = ("tracked_entity", "event", "event_date", "data_element", "value")
    for tracker in (legacy, new):
        assert tracker.problems == [] and tracker.records == tracker.events.height == 5
        rows = sorted(
            (te, ev, str(day), de, value)
            for te, ev, day, de, value in tracker.events.select(columns).rows()
        )
        assert rows == expected
        assert set(tracker.events["program_stage"]) == {"nlXNK4b7LVr"}
        assert set(tracker.events["org_unit"]) == {"O6uvpzGd5pu"}
        enrolled = tracker.enrollments.select("enrollment", "tracked_entity").sort("enrollment")
        assert enrolled.rows() == [("MNWZ6hnuhSw", "Kj6vYde4LHh"), ("PuBvJxDB73z", "Nav6inZRw1u")]
        assert sorted(tracker.tracked_entities["tracked_entity"]) == ["Kj6vYde4LHh", "Nav6inZRw1u"]
        pairs = sorted(tracker.attributes.select("tracked_entity", "attribute").rows())
        assert pairs == sorted(
            (te["trackedEntity"], a["attribute"])
            for te in doc["trackedEntities"]
            for a in te["attributes"]
        )
    second = new.attributes.filter(pl.col("tracked_entity") == "Nav6inZRw1u")
    assert sorted(second["value"]) == ["Test,Test", "Test:Test"]
    assert set(new.enrollments["enrollment_date"]) == {date(2019, 8, 19)}


def test_legacy_event_csv(fixtures: Path) -> None:
    path = fixtures / "tracker_legacy_events.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    tracker = read_tracker(path)
    assert tracker.problems == []
    assert tracker.records == tracker.events.height == len(rows) == 18
    assert tracker.events.select("event", "data_element", "value").rows() == [
        (r["event"], r["dataElement"], r["value"]) for r in rows
    ]
    dates = dict(tracker.events.select("event", "event_date").unique().rows())
    assert dates == {r["event"]: date.fromisoformat(r["eventDate"][:10]) for r in rows}
    assert "[22,11]" in tracker.events["value"].to_list()  # quoted coordinates kept whole
    both = read_trackers([path, fixtures / "tracker_new_trackedEntities_nested.json"])
    assert both.events.height == 18 + 5 and both.records == 23


@pytest.mark.parametrize("name", ["metadata_orgunits.csv", "dataset_registrations.csv"])
def test_a_file_of_another_kind_is_refused_by_the_tracker_reader(fixtures: Path, name: str) -> None:
    from etl.dhis2.problems import Dhis2Error

    with pytest.raises(Dhis2Error, match="not a tracker CSV"):
        read_tracker(fixtures / name)
