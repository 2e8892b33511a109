"""Published rows: the warehouse's columns, values, intervals, flags and suppression."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from indicators import warehouse
from indicators.cohort import cohort_cube
from indicators.publish import COLUMNS, publish
from indicators.suppression import is_small, suppress
from tests.indicators.registry_builders import AS_OF, frames, make_cube, random_registry, units

CASES = [  # each in its own period, so that no margin links them: (period, num, den)
    ("cov_bcg_12m", "2010", 8, 10),  # low denominator: value kept, flagged
    ("cov_bcg_12m", "2011", 30, 40),  # caution
    ("cov_bcg_12m", "2012", 100, 200),  # nothing to flag
    ("cov_bcg_12m", "2013", 0, 30),  # zero is shown
    ("cov_bcg_12m", "2014", 3, 100),  # small numerator: suppressed, denominator shown
    ("cov_bcg_12m", "2015", 3, 30),  # suppressed, flag of the published denominator kept
    ("cov_bcg_12m", "2016", 2, 3),  # small denominator: hidden too, no flag at all
    ("dropout_penta1_penta3_12m", "2017", -5, 100),  # negative drop-out: no interval
    ("dropout_penta1_penta3_12m", "2018", -5, 20),
]


@pytest.fixture(scope="module")
def published() -> dict[str, dict]:
    cube = make_cube([(ind, period, "IQ", "all", "all", n, d) for ind, period, n, d in CASES])
    return {row["period"]: row for row in publish(cube, date(2024, 6, 30)).to_dicts()}


def test_columns_are_the_warehouse_columns() -> None:
    expected = [c for c in warehouse.VALUE_COLUMNS if c != "load_run_id"]
    cube = make_cube([("cov_bcg_12m", "2010", "IQ", "all", "all", 8, 10)])
    result = publish(cube, AS_OF)
    assert result.columns == COLUMNS == expected
    assert result.schema["numerator"] == result.schema["denominator"] == pl.Float64
    assert result.schema["suppressed"] == pl.Boolean and result.schema["as_of"] == pl.Date
    assert result.schema["suppression"] == pl.String
    assert result.schema["org_unit_level"] == pl.Int8


def test_low_denominator_keeps_value_and_interval(published: dict) -> None:
    row = published["2010"]
    assert (row["numerator"], row["denominator"], row["value"]) == (8.0, 10.0, 80.0)
    assert row["ci_low"] == pytest.approx(49.016, abs=0.01)
    assert row["ci_high"] == pytest.approx(94.332, abs=0.01)
    assert row["flags"] == "low_denominator" and not row["suppressed"]
    assert row["suppression"] == ""
    assert row["source"] == "registry" and row["definition_version"] == 1
    assert row["as_of"] == date(2024, 6, 30)


def test_flags_and_values(published: dict) -> None:
    assert published["2011"]["flags"] == "caution" and published["2011"]["value"] == 75.0
    assert published["2012"]["flags"] == "" and published["2012"]["value"] == 50.0
    zero = published["2013"]
    assert (zero["numerator"], zero["value"], zero["ci_low"], zero["suppressed"]) == (
        0.0, 0.0, 0.0, False
    )


def test_suppressed_rows(published: dict) -> None:
    for period, den, flags in [("2014", 100.0, ""), ("2015", 30.0, "caution"), ("2016", None, "")]:
        row = published[period]
        assert row["suppressed"], period
        assert (row["numerator"], row["value"], row["ci_low"], row["ci_high"]) == (None,) * 4
        assert (row["denominator"], row["flags"]) == (den, flags), period
        assert row["suppression"] == "primary", period


def test_suppression_reason_tells_primary_from_complementary() -> None:
    """F = 3 is small (primary); U (37) is hidden only so that F cannot be recovered from
    all - M - U: "<5" would be false of it, so it is "complementary"."""
    cube = make_cube([
        ("cov_bcg_12m", "2023", "IQ", sex, "all", num, den)
        for sex, num, den in [("all", 50, 100), ("F", 3, 30), ("M", 10, 30), ("U", 37, 40)]
    ])
    rows = {r["sex"]: r for r in publish(cube, AS_OF).to_dicts()}
    assert {sex: (r["suppressed"], r["suppression"]) for sex, r in rows.items()} == {
        "all": (False, ""), "F": (True, "primary"), "M": (False, ""),
        "U": (True, "complementary"),
    }
    assert rows["U"]["numerator"] is None and rows["U"]["denominator"] == 40.0


def test_negative_dropout(published: dict) -> None:
    row = published["2017"]
    assert (row["numerator"], row["value"], row["ci_low"], row["ci_high"]) == (-5, -5, None, None)
    assert row["flags"] == "negative_dropout"
    assert published["2018"]["flags"] == "low_denominator;negative_dropout"


def test_unknown_indicator_is_refused() -> None:
    with pytest.raises(ValueError, match="not in the catalogue"):
        publish(make_cube([("no_such_code", "2020", "IQ", "all", "all", 9, 10)]), AS_OF)


def test_published_cohort_keeps_every_row_and_every_shown_count() -> None:
    kids, given = random_registry(4, 500)
    cube = cohort_cube(kids, given, AS_OF, units())
    result = publish(cube, AS_OF)
    assert result.height == cube.height
    keys = ["indicator", "period", "org_unit", "sex", "disability"]
    joined = result.join(suppress(cube), on=keys, suffix="_cube")
    assert joined.height == cube.height
    assert (joined["suppressed"] == joined["num_hidden"]).all()
    own_small = is_small(pl.col("numerator_cube")) | is_small(pl.col("denominator_cube"))
    reasons = joined.select(
        pl.when(~pl.col("suppressed")).then(pl.lit(""))
        .when(own_small).then(pl.lit("primary")).otherwise(pl.lit("complementary"))
    ).to_series()
    assert (joined["suppression"] == reasons).all()
    assert set(reasons) == {"", "primary", "complementary"}
    shown = joined.filter(~pl.col("suppressed"))
    assert (shown["numerator"] == shown["numerator_cube"].cast(pl.Float64)).all()
    expected = 100 * shown["numerator_cube"] / shown["denominator_cube"]
    assert (shown["value"] - expected).abs().max() < 1e-9
    den_shown = joined.filter(~pl.col("den_hidden"))
    assert (den_shown["denominator"] == den_shown["denominator_cube"].cast(pl.Float64)).all()
    assert joined.filter(pl.col("den_hidden"))["denominator"].null_count() == joined[
        "den_hidden"
    ].sum()
    proportions = shown.filter(pl.col("numerator") >= 0)
    assert proportions["ci_low"].null_count() == 0
    assert ((proportions["ci_low"] <= proportions["value"])
            & (proportions["value"] <= proportions["ci_high"])).all()


def test_empty_cube_publishes_an_empty_table() -> None:
    kids, given = frames([], [])
    cube = cohort_cube(kids, given, AS_OF, units())
    assert cube.is_empty()
    result = publish(cube, AS_OF)
    assert result.is_empty() and result.columns == COLUMNS
