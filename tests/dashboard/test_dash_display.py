"""The display rules every table, card and chart shares (spec/indicators.md)."""

from __future__ import annotations

import polars as pl

from dashboard import display


def test_suppressed_shows_less_than_five_and_no_value():
    assert display.value_text(None, True, "") == "suppressed"
    assert display.count(None, suppressed=True) == "suppressed"
    assert display.interval_text(None, None, True, "") == ""


def test_low_denominator_shows_no_value_only_the_flag():
    assert display.value_text(75.0, False, "low_denominator") == ""
    assert display.interval_text(53.1, 88.8, False, "low_denominator") == ""
    assert display.flag_text("low_denominator") == "Low denominator (<25)"
    assert display.is_hidden(False, "low_denominator")


def test_caution_in_parentheses():
    assert display.value_text(90.0, False, "caution") == "(90.0%)"
    assert not display.is_hidden(False, "caution")


def test_plain_values_counts_and_several_flags():
    assert display.value_text(87.26, False, "") == "87.3%"
    assert display.number(12.345, unit="per 1000", decimals=2) == "12.35"
    assert display.count(12345.0) == "12,345"
    assert display.count(12.5) == "12.5"  # administrative targets can be fractional
    assert display.count(None) == "–"
    assert display.flag_text("caution;over_100") == "Caution: denominator 25–49; Over 100 %"
    assert display.flag_text("") == ""


def test_with_display_adds_shown_label_and_flag_label():
    frame = pl.DataFrame(
        {
            "value": [80.0, 75.0, None, 90.0],
            "suppressed": [False, False, True, False],
            "flags": ["", "low_denominator", "", "caution"],
        }
    )
    shown = display.with_display(frame)
    assert shown["shown"].to_list() == [80.0, None, None, 90.0]
    assert shown["label"].to_list() == ["80.0%", "", "suppressed", "(90.0%)"]
    assert shown["flag_label"].to_list()[1] == "Low denominator (<25)"


def test_every_hidden_cell_reads_the_same_word():
    # "<5" would be false for a cell hidden to protect another, and two words would let a
    # reader tell primary from complementary cells and work small counts out
    assert display.value_text(None, True, "") == display.count(None, True) == "suppressed"
