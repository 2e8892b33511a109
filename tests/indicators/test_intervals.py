"""Wilson score interval: a hand-worked value and an independent closed form."""

from __future__ import annotations

import math

import polars as pl
import pytest

from indicators import config
from indicators.intervals import wilson
from tests import reference


def interval(numerators: list, denominators: list) -> list[tuple]:
    schema = {"x": pl.Int64, "n": pl.Int64}
    frame = pl.DataFrame({"x": numerators, "n": denominators}, schema=schema)
    low, high = wilson(pl.col("x"), pl.col("n"))
    return list(frame.select(low.alias("low"), high.alias("high")).iter_rows())


def quadratic_wilson(x: int, n: int, z: float = config.WILSON_Z) -> tuple[float, float]:
    """Roots of (1 + z²/n) p² - (2p̂ + z²/n) p + p̂² = 0, i.e. |p̂ - p| = z √(p(1-p)/n)."""
    phat = x / n
    a, b, c = 1 + z * z / n, -(2 * phat + z * z / n), phat * phat
    root = math.sqrt(b * b - 4 * a * c)
    return 100 * (-b - root) / (2 * a), 100 * (-b + root) / (2 * a)


def test_eight_out_of_ten_by_hand() -> None:
    # p = .8, z² = 3.8415: centre = (.8 + .19207) / 1.38415 = .71674,
    # half = (1.95996 / 1.38415) * sqrt(.016 + .0096037) = .22658
    [(low, high)] = interval([8], [10])
    assert low == pytest.approx(49.016, abs=0.01)
    assert high == pytest.approx(94.332, abs=0.01)


def test_edges() -> None:
    [(low0, high0), (lown, highn)] = interval([0, 10], [10, 10])
    assert low0 == pytest.approx(0, abs=1e-12) and high0 == pytest.approx(27.753, abs=0.01)
    assert highn == pytest.approx(100, abs=1e-12) and lown == pytest.approx(72.247, abs=0.01)
    assert low0 >= 0 and highn <= 100


def test_not_a_proportion_gives_null() -> None:
    rows = interval([-1, 3, 1, None, 2], [10, 0, 0, 5, 1])
    assert rows == [(None, None)] * 5


@pytest.mark.parametrize("n", [1, 2, 7, 25, 49, 50, 333, 10_000])
def test_matches_quadratic_form(n: int) -> None:
    numerators = sorted({0, 1, n // 3, n // 2, n - 1, n} - {-1})
    got = interval(numerators, [n] * len(numerators))
    for x, (low, high) in zip(numerators, got, strict=True):
        expected = quadratic_wilson(x, n)
        assert low == pytest.approx(expected[0], abs=1e-9)
        assert high == pytest.approx(expected[1], abs=1e-9)
        assert (low, high) == pytest.approx(reference.wilson(x, n), abs=1e-9)
        assert low <= 100 * x / n <= high


def test_custom_z() -> None:
    frame = pl.DataFrame({"x": [8], "n": [10]})
    low, high = wilson(pl.col("x"), pl.col("n"), z=1.0)
    row = frame.select(low, high.alias("h")).row(0)
    assert row == pytest.approx(quadratic_wilson(8, 10, 1.0))
