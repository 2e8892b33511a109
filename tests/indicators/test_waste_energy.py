"""Per facility-month derivations: the JMP waste ladder (climate.md §1.2, exactly), unsafe
disposal, the electricity ladder (§2.2), fridges on reliable power, carbon, heat stress."""

from __future__ import annotations

import polars as pl
import pytest

from indicators import emissions, energy, waste
from indicators.config import alert_min_cases, ef_diesel, heat_alert_days

S, B = pl.String, pl.Boolean

# bins, sharps, infectious -> segregation_ok, treatment_ok, level, unsafe_disposal
WASTE_CASES = [
    # three bins + both streams safe: basic
    ("three_bins", "incinerator_two_chamber", "autoclave", True, True, "basic", False),
    # three bins, safe: lined/protected dump and off-site collection
    ("three_bins", "dump_protected", "offsite_protected", True, True, "basic", False),
    # three bins, one stream unsafe: limited (not basic, bins present)
    ("three_bins", "autoclave", "open_burning_unprotected", True, False, "limited", True),
    # no bins + unsafe treatment: no service (both JMP conditions)
    ("no_bins", "open_burning_unprotected", "dump_open_pit", False, False, "none", True),
    # no bins + safe treatment: limited (Akvo would say "no service"; the JMP does not)
    ("no_bins", "offsite_covered", "incinerator_single_chamber", False, True, "limited", False),
    # bins incomplete + unsafe: limited ("no service" needs bins absent)
    ("bins_incomplete", "dump_unprotected", "dump_covered_pit", False, False, "limited", True),
    # bins incomplete + safe: limited
    ("bins_incomplete", "autoclave", "autoclave", False, True, "limited", False),
    # never has sharps waste: judged on infectious waste alone
    ("three_bins", "never", "autoclave", True, True, "basic", False),
    ("no_bins", "never", "dump_open_pit", False, False, "none", True),
    # neither stream: nothing to judge on treatment, no level
    ("three_bins", "never", "never", True, None, None, False),
    # "other" and unprotected off-site storage are not safe, but not burning/dumping either
    ("three_bins", "other", "offsite_unprotected", True, False, "limited", False),
    # blank bins answer: no level, treatment still judged
    (None, "autoclave", "autoclave", None, True, None, False),
    # blank disposal answer: no treatment judgement; unsafe known from the other answer
    ("three_bins", None, "open_burning_unprotected", True, None, None, True),
    ("three_bins", "autoclave", None, True, None, None, None),  # cannot tell: empty
    (None, None, None, None, None, None, None),
]


def test_jmp_classification_of_every_combination() -> None:
    frame = pl.DataFrame(
        [case[:3] for case in WASTE_CASES],
        schema={"bins": S, "sharps_disposal": S, "infectious_disposal": S}, orient="row",
    )  # fmt: skip
    result = frame.with_columns(waste.derived()).select(
        "segregation_ok", "treatment_ok", "hcwm_level", "unsafe_disposal"
    )
    assert result.rows() == [case[3:] for case in WASTE_CASES]


def test_safe_and_unsafe_sets_cover_the_disposal_vocabulary() -> None:
    from indicators.facility_data import DISPOSAL

    not_safe = {"open_burning_unprotected", "dump_unprotected", "dump_covered_pit",
                "dump_open_pit", "offsite_unprotected", "other"}  # fmt: skip
    assert set(waste.SAFE_DISPOSAL) | not_safe | {"never"} == set(DISPOSAL)
    assert not set(waste.SAFE_DISPOSAL) & not_safe
    assert set(waste.UNSAFE_DISPOSAL) < not_safe


# electricity, availability -> level
LADDER_CASES = [
    (True, "always", "reliable"),
    (True, "often", "reliable"),  # interruptions < 2 h a day still count as reliable
    (True, "sometimes", "unreliable"),
    (False, None, "none"),
    (False, "always", "none"),  # no electricity whatever the availability says
    (True, None, None),  # availability not reported: no level
    (None, "always", None),  # electricity not reported
]


def test_electricity_ladder() -> None:
    frame = pl.DataFrame(
        [case[:2] for case in LADDER_CASES],
        schema={"electricity": B, "power_availability": S}, orient="row",
    )  # fmt: skip
    levels = frame.select(energy.electricity_level()).to_series().to_list()
    assert levels == [case[2] for case in LADDER_CASES]


# level, fridges, solar direct-drive -> fridges on reliable power
FRIDGE_CASES = [
    ("reliable", 4, 0, 4),  # all of them: the power is reliable
    ("reliable", 3, None, 3),  # the SDD count does not matter
    ("unreliable", 2, 1, 1),  # only the solar direct-drive one
    ("none", 1, 1, 1),  # all SDD: reliable whatever the grid
    ("unreliable", 3, None, None),  # SDD count unknown: cannot tell
    (None, 2, 0, None),  # level unknown, mains fridges: cannot tell
    (None, 2, 2, 2),  # level unknown but all SDD
    (None, 0, None, 0),  # no fridges
    ("reliable", None, None, None),  # fridges not reported
]


def test_fridges_on_reliable_power() -> None:
    frame = pl.DataFrame(
        [case[:3] for case in FRIDGE_CASES],
        schema={"level": S, "vaccine_fridges": pl.Int64, "fridges_solar_direct": pl.Int64},
        orient="row",
    )  # fmt: skip
    counts = frame.select(energy.fridges_reliable_power(pl.col("level"))).to_series().to_list()
    assert counts == [case[3] for case in FRIDGE_CASES]


# level, heatwave days -> heat stress (alert from 3 days)
HEAT_CASES = [
    ("unreliable", 3, True),  # at the threshold: under alert
    ("none", 10, True),
    ("reliable", 10, False),  # reliable electricity: no heat stress
    ("unreliable", 2, False),  # below the threshold
    (None, 2, False),  # no alert: level does not matter
    (None, 5, None),  # alert, level unknown
    ("none", None, None),  # no climate for the district
]


def test_heat_stress() -> None:
    frame = pl.DataFrame(
        [case[:2] for case in HEAT_CASES], schema={"level": S, "days": pl.Int64}, orient="row"
    )
    flags = frame.select(energy.heat_stress(pl.col("level"), pl.col("days"), 3))
    assert flags.to_series().to_list() == [case[2] for case in HEAT_CASES]


def test_carbon_per_facility_month() -> None:
    # 100 L x 2.68 = 268 kg; 1,000 kWh x 0.52 = 520 kg; 250 solar kWh x 0.52 = 130 kg avoided
    frame = pl.DataFrame({"diesel_litres": [100.0, None], "kwh_grid": [1000.0, 0.0],
                          "kwh_solar": [250.0, None]})  # fmt: skip
    result = frame.select(energy.carbon()).rows()
    assert result[0] == pytest.approx((268.0, 520.0, 130.0))
    assert result[1] == (None, 0.0, None)


def test_emission_factors_and_their_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (emissions.EF_DIESEL, emissions.EF_GRID) == (2.68, 0.52)
    assert emissions.SOLAR_DISPLACES == "grid"
    assert ef_diesel() is None and emissions.diesel_factor() == 2.68
    monkeypatch.setenv("MIZAN_EF_DIESEL", "2.66")  # DEFRA 2024
    monkeypatch.setenv("MIZAN_EF_GRID", "0.37")  # direct-only basis
    assert (emissions.diesel_factor(), emissions.grid_factor()) == (2.66, 0.37)
    frame = pl.DataFrame({"diesel_litres": [100.0], "kwh_grid": [1000.0], "kwh_solar": [10.0]})
    assert frame.select(energy.carbon()).row(0) == pytest.approx((266.0, 370.0, 3.7))
    for bad in ("lots", "-1", "nan", "11"):
        monkeypatch.setenv("MIZAN_EF_DIESEL", bad)
        with pytest.raises(ValueError, match="MIZAN_EF_DIESEL"):
            emissions.diesel_factor()


def test_alert_settings_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (heat_alert_days(), alert_min_cases()) == (3, 10)
    monkeypatch.setenv("MIZAN_HEAT_ALERT_DAYS", "2.5")
    with pytest.raises(ValueError, match="whole number"):
        heat_alert_days()
    monkeypatch.setenv("MIZAN_ALERT_MIN_CASES", "4")  # a small count would be shown
    with pytest.raises(ValueError, match="MIZAN_ALERT_MIN_CASES"):
        alert_min_cases()
