"""Alert rules on a warehouse (SQLite and PostgreSQL) holding the hand-built facility set,
each rule firing and not firing at its threshold, the governorate scope, and
`python -m etl alerts`."""

from __future__ import annotations

import json

import pytest

from etl.cli import main
from indicators import environment
from indicators.alerts import ALERT_SCHEMA, alerts
from indicators.scope import Scope
from tests.indicators import facility_builders as fb

# Heat-illness cases of July by year (district totals):
#   Karkh    (IQG08Q01): 2022 10, 2023 20 -> baseline 15, x 1.5 = 22.5; 2024: 23 -> alert
#   Tarmiyah (IQG08Q02): 2022 4, 2023 4 -> baseline 4, x 1.5 = 6; 2024: 9 > 6 but < 10 cases
#   Basrah   (IQG02Q01): 2023 20 -> baseline 20, x 1.5 = 30; 2024: 30, not above 30
# June 2024 (F1: 1000 cases, F4 burning sharps) is another calendar month and an earlier
# month: it neither enters a baseline nor raises an alert.
JULY_2024_CASES = {"F1": 20.0, "F2": 3.0, "F3": 9.0, "F5": 15.0, "F6": 15.0}
EARLIER = [
    ("F1", "202207", {"cases_heat_illness": 10.0}),
    ("F3", "202207", {"cases_heat_illness": 4.0}),
    ("F1", "202307", {"cases_heat_illness": 15.0}),
    ("F2", "202307", {"cases_heat_illness": 5.0}),
    ("F3", "202307", {"cases_heat_illness": 4.0}),
    ("F5", "202307", {"cases_heat_illness": 20.0}),
    ("F1", "202406", {"cases_heat_illness": 1000.0}),
    ("F4", "202406", {"sharps_disposal": "open_burning_unprotected"}),
]
# July 2024 heatwave days: Karkh 5, Tarmiyah 3 (at the default threshold), Basrah 10


@pytest.fixture
def url(warehouse_url: str) -> str:
    july = [(f, "202407", {**answers, "cases_heat_illness": JULY_2024_CASES.get(f)})
            for f, answers in fb.JULY.items()]  # fmt: skip
    months = fb.months([*july, *EARLIER])
    climate = fb.climate([("IQG08Q01", "202407", 5, 1_000_000),
                          ("IQG08Q02", "202407", 3, 500_000),
                          ("IQG02Q01", "202407", 10, 800_000)])  # fmt: skip
    stored = environment.derive(months, fb.facilities(), climate)
    fb.store(warehouse_url, fb.facilities(), stored, climate, names={"IQG08Q01": "Karkh"})
    return warehouse_url


def keys(frame) -> list[tuple]:  # noqa: ANN001
    return frame.select("rule", "district", "facility", "value", "threshold").rows()


EXPECTED = [  # high severity first; then rule; the most important; governorate, district, facility
    ("open_burning", "IQG08Q01", "F2", None, None),  # open burning of sharps, 20 kg hazardous
    ("open_burning", "IQG02Q01", "F7", None, None),  # covered pit, other answer blank; no kg
    ("heat_illness_above_baseline", "IQG08Q01", None, 23.0, 22.5),
    ("fridge_unreliable_power", "IQG02Q01", "F6", 3.0, None),  # SDD count blank: all mains
    ("fridge_unreliable_power", "IQG08Q01", "F2", 1.0, None),  # 2 fridges, 1 SDD
    ("heat_stress_facilities", "IQG02Q01", None, 1.0, 3.0),  # F6 (F5, F7 no level)
    ("heat_stress_facilities", "IQG08Q01", None, 1.0, 3.0),  # F2 (F1 reliable)
    ("heat_stress_facilities", "IQG08Q02", None, 1.0, 3.0),  # F3, 3 days: at the threshold
]


def test_rules_with_default_settings(url: str) -> None:
    found = alerts(Scope.national(), url)
    assert found.schema == ALERT_SCHEMA
    assert keys(found) == EXPECTED
    assert set(found["period"]) == {"202407"}
    assert found["severity"].to_list() == ["high"] * 5 + ["medium"] * 3
    messages = dict(zip(found["rule"] + found["district"] + found["facility"].fill_null(""),
                        found["message"], strict=True))  # fmt: skip
    assert messages["open_burningIQG08Q01F2"] == (
        "Mansour PHC (Karkh) reported open burning or unsafe dumping of sharps or infectious "
        "waste in 202407.")  # fmt: skip
    assert messages["heat_illness_above_baselineIQG08Q01"] == (
        "Karkh: 23 heat-illness cases in 202407, above 22.5 (1.5 x the seasonal baseline of "
        "15).")  # fmt: skip
    assert messages["fridge_unreliable_powerIQG08Q01F2"] == (
        "Mansour PHC (Karkh): 1 vaccine fridge not on solar direct-drive and no reliable "
        "electricity in 202407.")  # fmt: skip
    assert messages["heat_stress_facilitiesIQG02Q01"] == (  # no name stored: the code
        "IQG02Q01: 1 facility without reliable electricity during 10 heatwave days in "
        "202407.")  # fmt: skip


def test_thresholds_from_configuration(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIZAN_ALERT_MIN_CASES", "9")  # Tarmiyah's 9 > 6 now counts
    monkeypatch.setenv("MIZAN_ALERT_BASELINE_RATIO", "1.4")  # Basrah: 30 > 28
    monkeypatch.setenv("MIZAN_HEAT_ALERT_DAYS", "4")  # Tarmiyah's 3 days no longer alert
    found = alerts(Scope.national(), url)
    heat = found.filter(found["rule"] == "heat_illness_above_baseline")
    assert keys(heat) == [  # the furthest above its alert level first: 1.61, 1.10, 1.07 times
        ("heat_illness_above_baseline", "IQG08Q02", None, 9.0, pytest.approx(5.6)),
        ("heat_illness_above_baseline", "IQG08Q01", None, 23.0, pytest.approx(21.0)),
        ("heat_illness_above_baseline", "IQG02Q01", None, 30.0, pytest.approx(28.0)),
    ]
    stress = found.filter(found["rule"] == "heat_stress_facilities")
    assert stress["district"].to_list() == ["IQG02Q01", "IQG08Q01"]
    assert set(stress["threshold"]) == {4.0}


def test_governorate_scope(url: str) -> None:
    basrah = alerts(Scope("governorate", "IQG02"), url)
    assert keys(basrah) == [e for e in EXPECTED if e[1].startswith("IQG02")]
    assert set(basrah["adm1_code"]) == {"IQG02"}
    assert alerts(Scope("governorate", "IQG15"), url).is_empty()


def test_empty_warehouse_has_no_alerts(warehouse_url: str) -> None:
    found = alerts(Scope.national(), warehouse_url)
    assert found.is_empty() and found.schema == ALERT_SCHEMA


def test_cli_prints_the_alerts_as_json(url: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["alerts", "--db", url]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [(a["rule"], a["district"], a["facility"], a["value"], a["threshold"])
            for a in printed] == EXPECTED  # fmt: skip
    assert list(printed[0]) == list(ALERT_SCHEMA)
    assert main(["alerts", "--db", url, "--governorate", "IQG02"]) == 0
    basrah = json.loads(capsys.readouterr().out)
    assert {a["adm1_code"] for a in basrah} == {"IQG02"} and len(basrah) == 3
    assert main(["alerts", "--db", url, "--governorate", "Basra"]) == 1
    assert "unknown governorate" in capsys.readouterr().err


def test_cli_refuses_a_bad_setting(url: str, capsys, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("MIZAN_ALERT_BASELINE_RATIO", "high")
    assert main(["alerts", "--db", url]) == 1
    assert "MIZAN_ALERT_BASELINE_RATIO='high' is not a number" in capsys.readouterr().err
