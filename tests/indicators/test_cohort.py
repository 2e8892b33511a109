"""Registry cohort cube: edge cases by hand, rollups, and a brute-force reference."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import polars as pl
import pytest

from indicators import catalogue, cohort
from indicators.catalogue import Indicator
from indicators.cohort import cohort_cube
from tests import reference
from tests.indicators.registry_builders import (
    AS_OF,
    add_months,
    child,
    frames,
    random_registry,
    units,
)

DAY = timedelta(days=1)
CELL = ["period", "org_unit", "sex", "disability"]


def cell(cube: pl.DataFrame, indicator: str, period: str, org_unit: str = "IQ",
         sex: str = "all", disability: str = "all") -> tuple[int, int] | None:
    """(numerator, denominator) of one row, or None when the cube has no such row."""
    hit = cube.filter(
        (pl.col("indicator") == indicator) & (pl.col("period") == period)
        & (pl.col("org_unit") == org_unit) & (pl.col("sex") == sex)
        & (pl.col("disability") == disability)
    )
    assert hit.height <= 1
    return (hit["numerator"][0], hit["denominator"][0]) if hit.height else None


def cube_of(children: list[dict], doses: list[tuple[str, str, date]], as_of: date = AS_OF):
    kids, given = frames(children, doses)
    return cohort_cube(kids, given, as_of, units())


# ---- calendar and eligibility edge cases -------------------------------------------------

def test_leap_day_anniversary_falls_back_to_28_february() -> None:
    born = pl.DataFrame({"birth_date": [date(2020, 2, 29)]})
    assert born.select(cohort.anniversary(12)).item() == date(2021, 2, 28)
    assert born.select(cohort.anniversary(24)).item() == date(2022, 2, 28)
    assert add_months(date(2020, 2, 29), 12) == date(2021, 2, 28)
    assert add_months(date(2020, 1, 31), 1) == date(2020, 2, 29)


def test_dose_on_anniversary_does_not_count_the_day_before_does() -> None:
    leap = date(2020, 2, 29)
    cube = cube_of(
        [child("a", leap), child("b", leap)],
        [("a", "BCG", date(2021, 2, 28)), ("b", "BCG", date(2021, 2, 27))],
    )
    assert cell(cube, "cov_bcg_12m", "2020") == (1, 2)
    assert cell(cube, "cov_bcg_12m", "2020Q1", "IQG01Q01", "F", "no") == (1, 2)


def test_death_before_anniversary_is_not_eligible_death_on_it_is() -> None:
    born = date(2022, 3, 10)
    cube = cube_of(
        [child("before", born, died=date(2023, 3, 9)), child("on", born, died=date(2023, 3, 10)),
         child("later", born, died=date(2023, 3, 11))],
        [("before", "MCV1", date(2023, 1, 1)), ("on", "MCV1", date(2023, 1, 1))],
    )
    assert cell(cube, "cov_mcv1_12m", "2022") == (1, 2)
    # died before 24 months: nobody is eligible at 24 m, so there is no row
    assert cell(cube, "cov_mcv2_24m", "2022") is None


def test_as_of_boundary() -> None:
    kids = [child("on", date(2023, 6, 30)), child("after", date(2023, 7, 1))]
    assert cell(cube_of(kids, []), "cov_bcg_12m", "2023") == (0, 1)
    assert cell(cube_of(kids, [], AS_OF - DAY), "cov_bcg_12m", "2023") is None
    # the birth registration indicator has no eligibility: both children, both quarters
    kids = [child("on", date(2023, 6, 30), registered=date(2023, 7, 30)),
            child("after", date(2023, 7, 1), registered=date(2023, 8, 1))]
    cube = cube_of(kids, [], AS_OF - DAY)
    assert cell(cube, "birth_reg_30d", "2023") == (1, 2)
    assert cell(cube, "birth_reg_30d", "2023Q2") == (1, 1)
    assert cell(cube, "birth_reg_30d", "2023Q3") == (0, 1)


def test_quarter_and_year_periods() -> None:
    kids = [child("q1", date(2022, 1, 15)), child("q2", date(2022, 5, 1)),
            child("q4", date(2022, 12, 31)), child("y23", date(2023, 1, 1))]
    doses = [("q1", "BCG", date(2022, 1, 16)), ("q4", "BCG", date(2023, 1, 2))]
    cube = cube_of(kids, doses)
    assert cell(cube, "cov_bcg_12m", "2022Q1") == (1, 1)
    assert cell(cube, "cov_bcg_12m", "2022Q2") == (0, 1)
    assert cell(cube, "cov_bcg_12m", "2022Q3") is None
    assert cell(cube, "cov_bcg_12m", "2022Q4") == (1, 1)
    assert cell(cube, "cov_bcg_12m", "2022") == (2, 3)
    assert cell(cube, "cov_bcg_12m", "2023") == (0, 1)
    assert set(cube["period"]) == {"2022", "2022Q1", "2022Q2", "2022Q4", "2023", "2023Q1"}


# ---- every indicator of the catalogue on a hand-built registry ---------------------------

def _hand_registry() -> pl.DataFrame:
    """Six children born in 2022 (all eligible at 12 m by AS_OF, all but f at 24 m)."""
    full = ["BCG", "PENTA1", "PENTA2", "PENTA3", "OPV1", "OPV2", "OPV3", "MCV1"]
    born = date(2022, 2, 1)
    doses = [("a", v, date(2022, 6, 1)) for v in full] + [("a", "PCV3", date(2022, 6, 1)),
                                                          ("a", "MCV2", date(2024, 1, 31))]
    doses += [("b", v, date(2022, 6, 1)) for v in full if v != "OPV3"]  # not fully immunized
    doses += [("b", "MCV2", date(2024, 2, 1))]  # on the 24 m anniversary: does not count
    doses += [("c", "PENTA1", date(2022, 3, 15))]  # Penta1 only: drop-out
    doses += [("d", "PENTA3", date(2022, 9, 1))]  # Penta3 without Penta1: negative drop-out
    doses += [("e", "PENTA1", date(2023, 2, 1))]  # on the anniversary: zero-dose
    kids = [
        child("a", born, registered=born + timedelta(days=30)),
        child("b", born, registered=born + timedelta(days=31)),
        child("c", born, registered=None),
        child("d", born, registered=born),
        child("e", born, registered=born + timedelta(days=2)),
        child("f", born, died=date(2023, 6, 1), registered=born + timedelta(days=400)),
    ]
    return cube_of(kids, doses)


HAND_EXPECTED = {  # worked out from the comments in _hand_registry
    "cov_bcg_12m": (2, 6),
    "cov_penta1_12m": (3, 6),  # a, b, c
    "cov_penta3_12m": (3, 6),  # a, b, d
    "cov_opv3_12m": (1, 6),
    "cov_pcv3_12m": (1, 6),
    "cov_mcv1_12m": (2, 6),
    "cov_mcv2_24m": (1, 5),  # f died before 24 m; b's dose is on the day
    "full_basic_12m": (1, 6),
    "zero_dose_12m": (3, 6),  # d, e, f
    "dropout_penta1_penta3_12m": (0, 3),  # 3 with Penta1 - 3 with Penta3
    "birth_reg_30d": (3, 5),  # a (30 days), d, e; c has no date; b 31, f 400 days
}


def test_every_registry_indicator_of_the_catalogue_by_hand() -> None:
    cube = _hand_registry()
    codes = {i.code for i in catalogue.indicators() if i.source == "registry"}
    assert set(HAND_EXPECTED) == codes == set(cube["indicator"])
    for code, expected in HAND_EXPECTED.items():
        assert cell(cube, code, "2022") == expected, code
        assert cell(cube, code, "2022Q1", "IQG01Q01", "F", "no") == expected, code


def test_dropout_numerator_can_be_negative() -> None:
    born = date(2022, 2, 1)
    kids = [child(x, born) for x in "pqr"]
    doses = [("p", "PENTA1", date(2022, 4, 1)), ("q", "PENTA3", date(2022, 8, 1)),
             ("r", "PENTA3", date(2022, 8, 1))]
    assert cell(cube_of(kids, doses), "dropout_penta1_penta3_12m", "2022") == (-1, 1)


def test_driven_by_catalogue_not_by_code(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = Indicator("cov_test_6m", "t", "t", "coverage", ("PENTA1", "BCG"), 6, "%", "higher",
                      "registry", 1)
    admin = Indicator("admin_x", "t", "t", "coverage", ("BCG",), 12, "%", "higher", "dhis2", 1)
    monkeypatch.setattr(cohort.catalogue, "indicators", lambda: (extra, admin))
    kids = [child("a", date(2023, 1, 31)), child("b", date(2023, 1, 31))]
    doses = [("a", "PENTA1", date(2023, 7, 30)), ("a", "BCG", date(2023, 2, 1)),
             ("b", "PENTA1", date(2023, 7, 31)), ("b", "BCG", date(2023, 2, 1))]
    cube = cube_of(kids, doses)
    assert set(cube["indicator"]) == {"cov_test_6m"}
    assert cell(cube, "cov_test_6m", "2023") == (1, 2)  # 31 Jan + 6 m = 31 Jul


def test_unknown_district_counts_in_governorate_and_iraq_only() -> None:
    kids = [child("a", date(2022, 1, 1), district="IQG01Q01"),
            child("b", date(2022, 1, 1), district="IQG01Q77")]
    cube = cube_of(kids, [])
    assert cell(cube, "cov_bcg_12m", "2022", "IQG01") == (0, 2)
    assert cell(cube, "cov_bcg_12m", "2022", "IQG01Q01") == (0, 1)
    assert "IQG01Q77" not in set(cube["org_unit"])


def test_lazy_and_eager_inputs_agree() -> None:
    kids, given = random_registry(3, 150)
    eager = cohort_cube(kids, given, AS_OF, units())
    lazy = cohort_cube(kids.lazy(), given.lazy(), AS_OF, units())
    assert eager.equals(lazy)


# ---- structure and rollups -----------------------------------------------------------------

def test_schema_and_no_zero_denominators() -> None:
    kids, given = random_registry(5, 200)
    cube = cohort_cube(kids, given, AS_OF, units())
    assert cube.schema == pl.Schema(cohort.CUBE_SCHEMA)
    assert cube.filter(pl.col("denominator") <= 0).is_empty()
    assert not cube.select(cohort.CUBE_KEYS).is_duplicated().any()
    levels = cube.group_by("org_unit_level").agg(pl.col("adm1_code").is_null().all())
    assert dict(levels.iter_rows()) == {0: True, 1: False, 2: False}


def _sum_parts(cube: pl.DataFrame, part_filter: pl.Expr, total_key: list[pl.Expr]) -> pl.DataFrame:
    return cube.filter(part_filter).with_columns(total_key).group_by(
        ["indicator", *CELL]
    ).agg(pl.col("numerator").sum(), pl.col("denominator").sum())


def _assert_adds_up(cube: pl.DataFrame, parts: pl.DataFrame, total_filter: pl.Expr) -> None:
    totals = cube.filter(total_filter).select("indicator", *CELL, "numerator", "denominator")
    joined = totals.join(parts, on=["indicator", *CELL], how="full", coalesce=True)
    joined = joined.with_columns(pl.col(pl.Int64).fill_null(0))
    assert joined.height == totals.height > 0
    assert (joined["denominator"] == joined["denominator_right"]).all()
    # a drop-out cell without Penta1 children has no row (denominator 0), yet its numerator
    # (minus its Penta3-only children) still counts in the total: only its denominator adds up
    additive = joined.filter(pl.col("indicator") != "dropout_penta1_penta3_12m")
    assert (additive["numerator"] == additive["numerator_right"]).all()


def test_rollups_add_up() -> None:
    kids, given = random_registry(11, 500)
    cube = cohort_cube(kids, given, AS_OF, units())
    level = pl.col("org_unit_level")
    _assert_adds_up(cube, _sum_parts(cube, level == 2, [pl.col("adm1_code").alias("org_unit")]),
                    level == 1)
    _assert_adds_up(cube, _sum_parts(cube, level == 1, [pl.lit("IQ").alias("org_unit")]),
                    level == 0)
    _assert_adds_up(cube, _sum_parts(cube, pl.col("sex") != "all", [pl.lit("all").alias("sex")]),
                    pl.col("sex") == "all")
    _assert_adds_up(
        cube, _sum_parts(cube, pl.col("disability") != "all", [pl.lit("all").alias("disability")]),
        pl.col("disability") == "all",
    )
    quarter = pl.col("period").str.contains("Q")
    _assert_adds_up(cube, _sum_parts(cube, quarter, [pl.col("period").str.slice(0, 4)]), ~quarter)


# ---- brute force ----------------------------------------------------------------------------

def _by(doses: dict, health_id: str, vaccine: str, deadline: date) -> bool:
    given = doses.get((health_id, vaccine))
    return given is not None and given < deadline


def _spec_terms(kid: dict, doses: dict, as_of: date) -> dict[str, tuple[int, int]]:
    """The spec's table, transcribed (not read from the catalogue)."""
    hid, birth, death = kid["health_id"], kid["birth_date"], kid["death_date"]
    at12, at24 = add_months(birth, 12), add_months(birth, 24)
    el12 = at12 <= as_of and (death is None or death >= at12)
    el24 = at24 <= as_of and (death is None or death >= at24)

    def cov(vaccines: list[str], eligible: bool, deadline: date) -> tuple[int, int]:
        return int(eligible and all(_by(doses, hid, v, deadline) for v in vaccines)), int(eligible)

    p1 = int(el12 and _by(doses, hid, "PENTA1", at12))
    p3 = int(el12 and _by(doses, hid, "PENTA3", at12))
    registered = kid["registration_date"] is not None
    timely = registered and (kid["registration_date"] - birth).days <= 30
    return {
        "cov_bcg_12m": cov(["BCG"], el12, at12),
        "cov_penta1_12m": cov(["PENTA1"], el12, at12),
        "cov_penta3_12m": cov(["PENTA3"], el12, at12),
        "cov_opv3_12m": cov(["OPV3"], el12, at12),
        "cov_pcv3_12m": cov(["PCV3"], el12, at12),
        "cov_mcv1_12m": cov(["MCV1"], el12, at12),
        "cov_mcv2_24m": cov(["MCV2"], el24, at24),
        "full_basic_12m": cov(["BCG", "PENTA1", "PENTA2", "PENTA3", "OPV1", "OPV2", "OPV3",
                               "MCV1"], el12, at12),
        "zero_dose_12m": (int(el12 and not p1), int(el12)),
        "dropout_penta1_penta3_12m": (p1 - p3, p1),
        "birth_reg_30d": (int(timely), int(registered)),
    }


def brute_force(kids: pl.DataFrame, given: pl.DataFrame, as_of: date) -> dict:
    doses = {(h, v): d for h, v, d in given.iter_rows()}
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for kid in kids.iter_rows(named=True):
        birth, gov = kid["birth_date"], kid["adm1_code"]
        periods = [str(birth.year), f"{birth.year}Q{(birth.month - 1) // 3 + 1}"]
        units_ = [("IQ", 0, None), (gov, 1, gov), (kid["adm2_code"], 2, gov)]
        for code, (num, den) in _spec_terms(kid, doses, as_of).items():
            for period in periods:
                for unit in units_:
                    for sex in ("all", kid["sex"]):
                        for disability in ("all", kid["disability"]):
                            total = sums[(code, period, *unit, sex, disability)]
                            total[0] += num
                            total[1] += den
    return {key: tuple(v) for key, v in sums.items() if v[1] != 0}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_brute_force_reference(seed: int) -> None:
    kids, given = random_registry(seed, 300)
    as_of = AS_OF - timedelta(days=97 * seed)
    cube = cohort_cube(kids, given, as_of, units())
    got = {
        row[:7]: row[7:] for row in cube.select(*cohort.CUBE_KEYS, "numerator", "denominator")
        .iter_rows()
    }
    expected = brute_force(kids, given, as_of)
    assert got == expected
    assert len(got) > 1000


def test_matches_the_shared_reference_computation() -> None:
    kids, given = random_registry(21, 300)
    cube = cohort_cube(kids, given, AS_OF, units())
    got = {
        (r[0], r[1], r[2], r[3], r[4]): [r[5], r[6]]
        for r in cube.select("indicator", *CELL, "numerator", "denominator").iter_rows()
    }
    assert got == reference.compute(kids.to_dicts(), given.to_dicts(), AS_OF)


@pytest.mark.parametrize("with_undated", [False, True])
def test_child_index_fast_path_gives_the_same_cube(with_undated: bool) -> None:
    kids, given = random_registry(13, 300)
    if with_undated:
        undated = kids.head(3).with_columns(  # skipped, and shifting every row after them
            pl.col("health_id") + "x", pl.lit(None, pl.Date).alias("birth_date")
        )
        kids = pl.concat([undated, kids])
        given = pl.concat([given, given.head(5).with_columns(pl.col("health_id") + "x")])
    rows = kids.select("health_id", pl.int_range(pl.len()).alias("child_index"))
    indexed = given.join(rows, on="health_id", how="left", maintain_order="left")
    expected = cohort_cube(kids, given, AS_OF, units())
    assert cohort_cube(kids, indexed, AS_OF, units()).equals(expected)
    assert cohort_cube(kids.lazy(), indexed.lazy(), AS_OF, units()).equals(expected)


def test_child_index_that_does_not_match_is_refused() -> None:
    kids, given = random_registry(14, 50)
    rows = kids.select("health_id", (pl.int_range(pl.len()) + 1).alias("child_index"))
    shifted = given.join(rows, on="health_id", how="left")
    with pytest.raises(ValueError, match="child_index"):
        cohort_cube(kids, shifted, AS_OF, units())
