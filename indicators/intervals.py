"""Confidence intervals for registry proportions (reference/equity.md §5.2).

Wilson score, in closed form so that no statistics package is needed and it runs as a
polars expression over the whole cube at once.
"""

from __future__ import annotations

import polars as pl

from indicators import config


def wilson(
    numerator: pl.Expr, denominator: pl.Expr, z: float = config.WILSON_Z
) -> tuple[pl.Expr, pl.Expr]:
    """(low, high) of the Wilson score interval, in percent (0-100).

    Null when the pair is not a proportion: a null count, a denominator <= 0, or a
    numerator outside 0..denominator (e.g. a negative dropout numerator).
    """
    x = numerator.cast(pl.Float64)
    n = denominator.cast(pl.Float64)
    p = x / n
    z2 = z * z
    scale = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / scale
    half = (z / scale) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt()
    valid = (n > 0) & (x >= 0) & (x <= n)

    # exact at the edges: rounding would leave 1e-18 above 0 (or below 1) there
    low = pl.when(x == 0).then(0.0).otherwise((centre - half).clip(0.0, 1.0))
    high = pl.when(x == n).then(1.0).otherwise((centre + half).clip(0.0, 1.0))
    return pl.when(valid).then(100.0 * low), pl.when(valid).then(100.0 * high)
