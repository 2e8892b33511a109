"""Tracker shapes the fixtures do not cover: flat payloads, envelopes, CSVs, bad parts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from etl.dhis2.tracker import read_tracker


def _json(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc))
    return path


def test_flat_payload_links_events_to_entities_through_enrollments(tmp_path: Path) -> None:
    doc = {
        "trackedEntities": [{"trackedEntity": "te1", "orgUnit": "ou1",
                             "attributes": [{"attribute": "dob", "value": "2023-05-01"}]}],
        "enrollments": [{"enrollment": "en1", "trackedEntity": "te1", "program": "eir",
                         "enrolledAt": "2023-05-02T00:00:00.000"}],
        "events": [
            {"event": "ev1", "enrollment": "en1", "programStage": "imm", "orgUnit": "ou2",
             "occurredAt": "2023-07-01T00:00:00.000", "status": "COMPLETED",
             "dataValues": [{"dataElement": "penta1", "value": "true"},
                            {"dataElement": "opv1", "value": True}]},
            {"event": "ev2", "enrollment": "en1", "programStage": "imm", "status": "SCHEDULE",
             "scheduledAt": "2023-09-01T00:00:00.000"},
        ],
    }  # fmt: skip
    tracker = read_tracker(_json(tmp_path, doc))
    assert tracker.problems == [] and tracker.records == 3
    rows = tracker.events.select(
        "event", "tracked_entity", "org_unit", "event_date", "data_element", "value"
    ).rows()
    assert rows == [
        ("ev1", "te1", "ou2", date(2023, 7, 1), "penta1", "true"),
        ("ev1", "te1", "ou2", date(2023, 7, 1), "opv1", "true"),
        ("ev2", "te1", None, None, None, None),  # a scheduled event keeps its row
    ]
    assert tracker.attributes.select("tracked_entity", "attribute", "value").rows() == [
        ("te1", "dob", "2023-05-01")
    ]
    assert tracker.enrollments["enrollment_date"].to_list() == [date(2023, 5, 2)]


def test_instances_envelope_and_legacy_events_json(tmp_path: Path) -> None:
    instances = {
        "page": 1,
        "pageSize": 50,
        "instances": [
            {
                "event": "ev1",
                "trackedEntity": "te9",
                "programStage": "s",
                "occurredAt": "2020-01-02",
                "dataValues": [{"dataElement": "d", "value": "1"}],
            }
        ],
    }
    assert read_tracker(_json(tmp_path, instances)).events["tracked_entity"].to_list() == ["te9"]
    legacy = {
        "events": [
            {
                "event": "ev1",
                "eventDate": "2019-03-01T00:00:00.000",
                "dueDate": "2019-03-04",
                "dataValues": [{"dataElement": "d", "value": 5}],
            }
        ]
    }
    events = read_tracker(_json(tmp_path, legacy)).events
    assert events.select("event_date", "scheduled_at", "value").row(0) == (
        date(2019, 3, 1), "2019-03-04", "5"
    )  # fmt: skip


def test_bad_parts_are_reported_and_counted(tmp_path: Path) -> None:
    doc = {"trackedEntities": [
        {"trackedEntity": "te1", "enrollments": [
            {"enrollment": "en1", "events": [
                {"event": "ev1", "occurredAt": "yesterday", "dataValues": [
                    {"dataElement": "d1", "value": "1"},
                    {"value": "2"},
                    "x",
                    {"dataElement": "d2", "value": {"nested": 1}},
                ]},
                {"event": "ev2", "dataValues": "none"},
                7,
            ]},
            "not an enrollment",
        ], "attributes": [{"value": "no id"}]},
        3,
    ]}  # fmt: skip
    tracker = read_tracker(_json(tmp_path, doc))
    codes = [(p.position, p.code, p.outcome) for p in tracker.problems]
    base = "$.trackedEntities[0]"
    events = f"{base}.enrollments[0].events"
    assert codes == [
        (f"{base}.attributes[0]", "attribute_missing", "kept"),
        (f"{events}[0]", "date_invalid", "kept"),
        (f"{events}[0].dataValues[1]", "data_element_missing", "rejected"),
        (f"{events}[0].dataValues[2]", "record_malformed", "rejected"),
        (f"{events}[0].dataValues[3]", "field_not_text", "rejected"),
        (f"{events}[1].dataValues", "record_malformed", "rejected"),
        (f"{events}[2]", "record_malformed", "rejected"),
        (f"{base}.enrollments[1]", "record_malformed", "kept"),
        ("$.trackedEntities[1]", "record_malformed", "rejected"),
    ]
    rejected = sum(p.outcome == "rejected" for p in tracker.problems)
    assert tracker.records == tracker.events.height + rejected == 1 + 6


def test_new_event_csv_and_tracked_entity_csv(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text(
        "event,status,program,programStage,enrollment,orgUnit,occurredAt,scheduledAt,geometry,"
        "dataElement,value,storedByDataValue\n"
        'e1,COMPLETED,p,s,en1,ou1,2024-01-05T00:00:00.000Z,,"POINT (1 2)",bcg,true,nurse\n'
        "e2,SCHEDULE,p,s,en1,ou1,,2024-03-01T00:00:00.000Z,,,,\n"
        "e3,ACTIVE,p,s,en1,ou1,2024-02-01,,,,x,y,z,extra,fields,beyond\n"
    )
    tracker = read_tracker(events)
    assert tracker.events.select("event", "event_date", "data_element", "stored_by").rows() == [
        ("e1", date(2024, 1, 5), "bcg", "nurse"),
        ("e2", None, None, None),
    ]
    assert [(p.position, p.code) for p in tracker.problems] == [("line 4", "field_count")]
    people = tmp_path / "te.csv"
    people.write_text(
        "trackedEntity,trackedEntityType,orgUnit,attribute,displayName,value,valueType\n"
        "te1,person,ou1,sex,Sex,FEMALE,TEXT\nte1,person,ou1,dob,Date of birth,2023-01-02,DATE\n"
        "te2,person,ou2,sex,Sex,MALE,TEXT\n"
    )
    tracker = read_tracker(people)
    assert tracker.attributes.select("tracked_entity", "attribute", "value").rows() == [
        ("te1", "sex", "FEMALE"), ("te1", "dob", "2023-01-02"), ("te2", "sex", "MALE")
    ]  # fmt: skip
    assert tracker.tracked_entities.select("tracked_entity", "org_unit").rows() == [
        ("te1", "ou1"), ("te2", "ou2")
    ]  # fmt: skip
