"""Filter values → what a view shows: options, default period, area, headline cohort."""

from __future__ import annotations

import polars as pl

from dashboard import selection
from indicators import geography
from indicators.scope import Scope


def units() -> pl.DataFrame:
    return geography.org_units(["IQG08Q01", "IQG08Q02", "IQG15Q01"])


def test_default_period_keeps_choice_else_latest_year():
    periods = ["2022", "2023", "2024", "2025Q1"]
    assert selection.default_period(periods) == "2024"  # a quarter is a partial cohort
    assert selection.default_period(periods, "2023") == "2023"
    assert selection.default_period(periods, "1999") == "2024"
    assert selection.default_period(["2025Q1"]) == "2025Q1"
    assert selection.default_period([]) is None


def test_period_options_newest_first_with_readable_quarters():
    options = selection.period_options(["2023", "2024Q1"])
    assert options == [{"label": "2024 Q1", "value": "2024Q1"}, {"label": "2023", "value": "2023"}]


def test_default_period_keeps_the_choice_else_the_complete_cohort():
    assert selection.default_period(["2023", "2024", "2025"], None, "2024") == "2024"
    assert selection.default_period(["2023", "2024", "2025"], "2023", "2024") == "2023"
    assert selection.default_period(["2023", "2025Q1"], None, None) == "2023"


def test_org_unit_options_national_then_governorates_with_their_districts(no_geo_pack):
    options = selection.org_unit_options(units())
    values = [o["value"] for o in options]
    assert values[0] == "IQ"
    assert values.index("IQG08Q01") == values.index("IQG08") + 1
    baghdad_district = next(o for o in options if o["value"] == "IQG08Q01")
    assert baghdad_district["label"] == "Baghdad › IQG08Q01"


def test_area_of_a_district_is_its_governorate(no_geo_pack):
    frame = units()
    assert selection.area_of(frame, "IQG08Q02")["code"] == "IQG08"
    assert selection.area_of(frame, "IQG08")["code"] == "IQG08"
    assert selection.area_of(frame, None)["code"] == "IQ"
    assert selection.area_of(frame, "nonsense")["code"] == "IQ"


def test_area_rows_are_the_area_and_its_children():
    frame = pl.DataFrame(
        {
            "org_unit": ["IQ", "IQG08", "IQG15", "IQG08Q01"],
            "org_unit_level": [0, 1, 1, 2],
        }
    )
    national = {"code": "IQ", "level": 0}
    assert selection.area_rows(frame, national)["org_unit"].to_list() == ["IQ", "IQG08", "IQG15"]
    assert selection.children(frame, {"code": "IQG08", "level": 1})["org_unit"].to_list() == [
        "IQG08Q01"
    ]


def test_home_unit_follows_the_scope():
    assert selection.home_unit(Scope.national()) == "IQ"
    assert selection.home_unit(Scope("governorate", "IQG08")) == "IQG08"


def test_indicator_meta_defaults_for_unknown_codes():
    catalogue = pl.DataFrame(
        {
            "code": ["zero_dose_12m"],
            "name_en": ["Zero-dose"],
            "unit": ["%"],
            "favourable": ["lower"],
        }
    )
    assert selection.indicator_meta(catalogue, "zero_dose_12m")["favourable"] == "lower"
    assert selection.indicator_meta(catalogue, "x")["favourable"] == "higher"
