"""HEAT summary measures: WHO's test vectors (equity.md §1.7), hand-checked examples for every
measure, the awkward cases, and the HEAT Plus upload layout (§1.8)."""

from __future__ import annotations

import math
import random

import polars as pl
import pytest

from indicators import equity_measures as em
from indicators.equity_measures import applicable_measures, summary_measures
from indicators.heat_export import HEAT_PLUS_COLUMNS, SUPPRESSED_NOTE, heat_plus_rows

Z = 1.959963984540054


def frame(
    y: list[float],
    pop: list[float],
    se: list[float | None] | None = None,
    names: list[str] | None = None,
    ordered: bool = False,
    suppressed: list[bool] | None = None,
) -> pl.DataFrame:
    n = len(y)
    data = {
        "subgroup": names or [f"G{j + 1}" for j in range(n)],
        "estimate": [float(v) for v in y],
        "se": [None if v is None else float(v) for v in (se or [None] * n)],
        "population": [float(v) for v in pop],
        "suppressed": suppressed or [False] * n,
    }
    if ordered:
        data["order"] = list(range(1, n + 1))
    schema = {"se": pl.Float64, "estimate": pl.Float64, "population": pl.Float64}
    return pl.DataFrame(data, schema_overrides=schema)


def measures(subgroups: pl.DataFrame, **kwargs) -> dict[str, dict]:
    rows = summary_measures(subgroups, **kwargs).iter_rows(named=True)
    return {row["measure"]: row for row in rows}


def se_of(row: dict) -> float:
    """The SE behind a symmetric normal interval."""
    return (row["ci_upper"] - row["ci_lower"]) / (2 * Z)


def assert_normal(row: dict, estimate: float, se: float, rel: float = 1e-6) -> None:
    assert row["status"] == "ok"
    assert row["estimate"] == pytest.approx(estimate, rel=rel, abs=1e-9)
    assert row["ci_lower"] == pytest.approx(estimate - Z * se, rel=rel, abs=1e-9)
    assert row["ci_upper"] == pytest.approx(estimate + Z * se, rel=rel, abs=1e-9)


# ------------------------------------------------------------ WHO test vectors (§1.7)

WHO = frame(
    y=[20, 30, 40, 50, 60],
    pop=[78, 91, 162, 103, 105],
    se=[5, 7, 10, 12, 14],
    names=["Q1", "Q2", "Q3", "Q4", "Q5"],
    ordered=True,
)


@pytest.fixture(scope="module")
def who() -> dict[str, dict]:
    return measures(WHO, favourable=True, ordered=True)


def test_who_rows_are_the_ordered_set(who: dict) -> None:
    assert list(who) == ["D", "R", "ACI", "RCI", "SII", "RII", "PAR", "PAF"]
    assert all(row["status"] == "ok" for row in who.values())


def test_who_setting_average(who: dict) -> None:
    # μ = 22220 / 539 = 41.2245; PAR = y_Q5 − μ, so μ = 60 − PAR
    assert 60 - who["PAR"]["estimate"] == pytest.approx(41.2245, abs=5e-5)


def test_who_difference(who: dict) -> None:
    # D = Q5 − Q1 = 40.0, SE = √(14² + 5²) = 14.866
    assert who["D"]["estimate"] == pytest.approx(40.0, abs=0.05)
    assert se_of(who["D"]) == pytest.approx(14.866, abs=5e-4)
    assert (who["D"]["subgroup_a"], who["D"]["subgroup_b"]) == ("Q5", "Q1")


def test_who_ratio(who: dict) -> None:
    assert who["R"]["estimate"] == pytest.approx(3.000, abs=5e-4)
    assert who["R"]["ci_lower"] == pytest.approx(1.535, abs=5e-4)
    assert who["R"]["ci_upper"] == pytest.approx(5.864, abs=5e-4)


def test_who_concentration_indices(who: dict) -> None:
    assert who["ACI"]["estimate"] == pytest.approx(7.3284, abs=5e-5)
    assert se_of(who["ACI"]) == pytest.approx(2.5665, abs=5e-5)  # the Technical Notes' SE
    assert who["RCI"]["estimate"] == pytest.approx(17.78, abs=5e-3)
    assert who["RCI"]["estimate"] / 100 == pytest.approx(0.17777, abs=5e-6)


def test_who_sii(who: dict) -> None:
    assert who["SII"]["estimate"] == pytest.approx(44.44502, abs=5e-6)
    assert se_of(who["SII"]) / 100 == pytest.approx(0.021908, abs=5e-7)
    assert who["SII"]["ci_lower"] == pytest.approx(40.151, abs=5e-4)
    assert who["SII"]["ci_upper"] == pytest.approx(48.739, abs=5e-4)


def test_who_rii(who: dict) -> None:
    rii = who["RII"]
    assert rii["estimate"] == pytest.approx(3.159506, abs=5e-7)
    log_se = (math.log(rii["ci_upper"]) - math.log(rii["ci_lower"])) / (2 * Z)
    assert log_se == pytest.approx(0.07644, abs=5e-6)
    assert rii["ci_lower"] == pytest.approx(2.7199, abs=5e-5)
    assert rii["ci_upper"] == pytest.approx(3.6702, abs=5e-5)


def test_who_par(who: dict) -> None:
    par = who["PAR"]
    assert par["estimate"] == pytest.approx(18.7755, abs=5e-5)
    assert se_of(par) == pytest.approx(4.4066, abs=5e-5)
    assert par["ci_lower"] == pytest.approx(10.14, abs=5e-3)
    assert par["ci_upper"] == pytest.approx(27.41, abs=5e-3)
    assert par["subgroup_a"] == "Q5"


def test_who_paf_with_the_scale_fixed(who: dict) -> None:
    # Walter SE = 0.10689 on the fraction scale; ours is on PAF's percent scale (× 100),
    # where HEAT's interval would be 45.34–45.75 (the documented deviation)
    paf = who["PAF"]
    assert paf["estimate"] == pytest.approx(45.5446, abs=5e-5)
    assert se_of(paf) / 100 == pytest.approx(0.10689, abs=5e-6)


# ------------------------------------------------------------ plain-Python cross-checks


def plain_logit_sii(pop: list[float], y: list[float], scale: float = 100) -> tuple[float, ...]:
    """(SII, SE(SII), RII, SE(ln RII)) by Newton's method written out for two coefficients."""
    m = [math.ceil(v) for v in pop]
    total = sum(m)
    rank, below = [], 0.0
    for mj in m:
        rank.append((below + mj / 2) / total)
        below += mj
    share = [round(yj / scale * mj) / mj for yj, mj in zip(y, m, strict=True)]
    w = [mj * mj for mj in m]  # trials × prior weight
    b0 = b1 = 0.0
    for _ in range(200):
        g0 = g1 = h00 = h01 = h11 = 0.0
        for xj, sj, wj in zip(rank, share, w, strict=True):
            pi = 1 / (1 + math.exp(-(b0 + b1 * xj)))
            g0 += wj * (sj - pi)
            g1 += wj * (sj - pi) * xj
            v = wj * pi * (1 - pi)
            h00, h01, h11 = h00 + v, h01 + v * xj, h11 + v * xj * xj
        det = h00 * h11 - h01 * h01
        b0 += (h11 * g0 - h01 * g1) / det
        b1 += (h00 * g1 - h01 * g0) / det
    inv = [[h11 / det, -h01 / det], [-h01 / det, h00 / det]]
    meat = [[0.0, 0.0], [0.0, 0.0]]
    for xj, sj, wj in zip(rank, share, w, strict=True):
        pi = 1 / (1 + math.exp(-(b0 + b1 * xj)))
        u = (wj * (sj - pi), wj * (sj - pi) * xj)
        for r in range(2):
            for c in range(2):
                meat[r][c] += u[r] * u[c]
    n = len(y)
    cov = [[sum(inv[r][i] * meat[i][j] * inv[j][c] for i in range(2) for j in range(2))
            * n / (n - 2) for c in range(2)] for r in range(2)]
    v0, v1 = 1 / (1 + math.exp(-b0)), 1 / (1 + math.exp(-(b0 + b1)))

    def quad(g: tuple[float, float]) -> float:
        return sum(g[r] * cov[r][c] * g[c] for r in range(2) for c in range(2))

    g_sii = (v1 * (1 - v1) - v0 * (1 - v0), v1 * (1 - v1))
    g_rii = (v0 - v1, 1 - v1)
    return (v1 - v0) * scale, math.sqrt(quad(g_sii)) * scale, v1 / v0, math.sqrt(quad(g_rii))


def test_sii_matches_plain_newton_on_who_data(who: dict) -> None:
    sii, sii_se, rii, rii_se = plain_logit_sii([78, 91, 162, 103, 105], [20, 30, 40, 50, 60])
    assert_normal(who["SII"], sii, sii_se, rel=1e-8)
    assert who["RII"]["estimate"] == pytest.approx(rii, rel=1e-9)
    assert who["RII"]["ci_upper"] == pytest.approx(rii * math.exp(Z * rii_se), rel=1e-8)


def test_sii_recovers_an_exact_logistic_gradient() -> None:
    # y on the curve expit(−1 + 2X) at the ridit ranks of pop = [2e6, 3e6, 5e6]:
    # X = [.1, .35, .75]; the fit is exact, so SII = 100 (expit(1) − expit(−1)) = 46.2117
    pop = [2e6, 3e6, 5e6]
    y = [100 / (1 + math.exp(-(-1 + 2 * x))) for x in (0.1, 0.35, 0.75)]
    got = measures(frame(y, pop, [1, 1, 1], ordered=True), favourable=True, ordered=True)
    expit = [1 / (1 + math.exp(-t)) for t in (-1, 1)]
    assert got["SII"]["estimate"] == pytest.approx(100 * (expit[1] - expit[0]), abs=1e-4)
    assert got["RII"]["estimate"] == pytest.approx(expit[1] / expit[0], abs=1e-5)


def test_sii_with_a_subgroup_at_100_percent() -> None:
    pop, y = [400, 500, 300], [90, 95, 100]
    got = measures(frame(y, pop, [2, 1, 0], ordered=True), favourable=True, ordered=True)
    sii, sii_se, rii, _ = plain_logit_sii(pop, y)
    assert_normal(got["SII"], sii, sii_se, rel=1e-7)
    assert got["RII"]["estimate"] == pytest.approx(rii, rel=1e-9)


def test_sii_under_complete_separation_says_why() -> None:
    # 0 %, 0 %, 100 %: the logit slope runs off to infinity
    got = measures(frame([0, 0, 100], [10, 10, 10], ordered=True), favourable=True, ordered=True)
    assert got["SII"]["status"] == got["RII"]["status"] == em.NOT_CONVERGED
    assert got["SII"]["estimate"] is None


def test_sii_refuses_estimates_outside_the_scale() -> None:
    got = measures(frame([90, 95, 104], [10, 10, 10], ordered=True), favourable=True, ordered=True)
    assert got["SII"]["status"] == em.OUT_OF_RANGE
    assert got["D"]["estimate"] == pytest.approx(14)


# ------------------------------------------------------------ hand-checked: ordered

# pop = [200, 300, 500] → p = [.2, .3, .5]; ridit X = [.1, .35, .75]; 2X − 1 = [−.8, −.3, .5]
# y = [50, 70, 80], se = [5, 4, 3]; μ = 10 + 21 + 40 = 71
ORDERED3 = frame([50, 70, 80], [200, 300, 500], [5, 4, 3], names=["Q1", "Q2", "Q3"], ordered=True)


def test_aci_and_rci_by_hand() -> None:
    got = measures(ORDERED3, favourable=True, ordered=True)
    # ACI = .2(−.8)50 + .3(−.3)70 + .5(.5)80 = −8 − 6.3 + 20 = 5.7
    # Var = .04·25·.64 + .09·16·.09 + .25·9·.25 = .64 + .1296 + .5625 = 1.3321
    assert_normal(got["ACI"], 5.7, math.sqrt(1.3321))
    # RCI = 5.7 / 71 = .0802817 (× 100); Var = Σ p²σ²((2X − 1) − .0802817)² / 71²
    #     = [1·(−.8802817)² + 1.44·(−.3802817)² + 2.25·(.4197183)²] / 5041
    #     = [.7748958 + .2082465 + .3963677] / 5041 = 1.3795100 / 5041
    assert_normal(got["RCI"], 100 * 5.7 / 71, 100 * math.sqrt(1.3795100 / 5041), rel=1e-6)


def test_ordered_difference_and_ratio_by_hand() -> None:
    got = measures(ORDERED3, favourable=True, ordered=True)
    # most advantaged − most disadvantaged = 80 − 50 = 30, SE = √(9 + 25) = 5.8310
    assert_normal(got["D"], 30, math.sqrt(34))
    # R = 80/50 = 1.6; SE(R) = √((9 + 2.56·25)/2500) = √(73/2500) = .170880
    r = got["R"]
    assert r["estimate"] == pytest.approx(1.6)
    assert r["ci_lower"] == pytest.approx(1.6 * math.exp(-Z * math.sqrt(73 / 2500) / 1.6))
    assert r["ci_upper"] == pytest.approx(1.6 * math.exp(Z * math.sqrt(73 / 2500) / 1.6))


def test_ordered_par_uses_the_most_advantaged() -> None:
    # Q3 = 80 is both most advantaged and best here; PAR = 80 − 71 = 9, PAF = 9/71 = 12.676 %
    got = measures(ORDERED3, favourable=True, ordered=True)
    assert got["PAR"]["estimate"] == pytest.approx(9)
    assert got["PAF"]["estimate"] == pytest.approx(900 / 71)
    assert got["PAR"]["subgroup_a"] == "Q3"


def test_ordered_adverse_flips_the_difference() -> None:
    # zero-dose falls with wealth: Q1 30 %, Q2 20 %, Q3 10 %; adverse ⇒ D = Q1 − Q3 = 20
    zero_dose = frame([30, 20, 10], [200, 300, 500], [5, 4, 3], names=["Q1", "Q2", "Q3"],
                      ordered=True)
    got = measures(zero_dose, favourable=False, ordered=True)
    assert (got["D"]["subgroup_a"], got["D"]["subgroup_b"]) == ("Q1", "Q3")
    assert got["D"]["estimate"] == pytest.approx(20)
    assert got["R"]["estimate"] == pytest.approx(3)
    # PAR against the most advantaged, Q3: 10 − μ, μ = 6 + 6 + 5 = 17 ⇒ −7, PAF = −41.18 %
    assert got["PAR"]["estimate"] == pytest.approx(-7)
    assert got["PAF"]["estimate"] == pytest.approx(-700 / 17)
    # the gradient runs against the poor: SII < 0, RII < 1, ACI < 0 (same formulas as for
    # coverage; only the reading changes)
    assert got["SII"]["estimate"] < 0 and got["RII"]["estimate"] < 1
    # ACI = .2(−.8)30 + .3(−.3)20 + .5(.5)10 = −4.8 − 1.8 + 2.5 = −4.1
    assert got["ACI"]["estimate"] == pytest.approx(-4.1)


# ------------------------------------------------------------ hand-checked: non-ordered

# three districts, y = [60, 80, 90], pop = [100, 300, 600] → p = [.1, .3, .6], se = [4, 3, 2]
# μ = 6 + 24 + 54 = 84; y − μ = [−24, −4, 6]
DISTRICTS = frame([60, 80, 90], [100, 300, 600], [4, 3, 2], names=["A", "B", "C"])


@pytest.fixture(scope="module")
def districts() -> dict[str, dict]:
    return measures(DISTRICTS, favourable=True, ordered=False)


def test_non_ordered_rows(districts: dict) -> None:
    assert list(districts) == [
        "D", "R", "BGV", "BGSD", "COV", "MDMU", "MDMW", "MDBU", "MDBW", "IDISU", "IDISW",
        "TI", "MLD", "PAR", "PAF",
    ]
    assert all(row["status"] == "ok" for row in districts.values())


def test_non_ordered_difference_and_ratio(districts: dict) -> None:
    # highest − lowest: C − A = 30, SE = √(4 + 16) = 4.4721; R = 1.5, SE(R) = √(40/3600)
    assert_normal(districts["D"], 30, math.sqrt(20))
    assert (districts["D"]["subgroup_a"], districts["D"]["subgroup_b"]) == ("C", "A")
    half = Z * math.sqrt(40 / 3600) / 1.5
    assert districts["R"]["ci_lower"] == pytest.approx(1.5 * math.exp(-half))


def test_bgv_by_hand(districts: dict) -> None:
    # BGV = .1·576 + .3·16 + .6·36 = 57.6 + 4.8 + 21.6 = 84
    # p²σ² = [.16, .81, 1.44]; 4Σ p²σ²(y − μ)² = 4(92.16 + 12.96 + 51.84) = 627.84
    # (Σ p²σ²)² = 2.41² = 5.8081; Σ p⁴σ⁴ = .0256 + .6561 + 2.0736 = 2.7553
    # Σ p²(1 − p)²σ⁴ = .0081·256 + .0441·81 + .0576·16 = 2.0736 + 3.5721 + .9216 = 6.5673
    # Var = 627.84 + 2(5.8081 − 2.7553 + 6.5673) = 647.0802
    assert_normal(districts["BGV"], 84, math.sqrt(647.0802))


def test_mean_differences_by_hand(districts: dict) -> None:
    # BGSD = √84 = 9.16515; COV = 9.16515/84 × 100 = 10.9109
    assert districts["BGSD"]["estimate"] == pytest.approx(math.sqrt(84))
    assert districts["COV"]["estimate"] == pytest.approx(100 * math.sqrt(84) / 84)
    # |y − μ| = [24, 4, 6]: MDMU = 34/3 = 11.333, MDMW = 2.4 + 1.2 + 3.6 = 7.2
    assert districts["MDMU"]["estimate"] == pytest.approx(34 / 3)
    assert districts["MDMW"]["estimate"] == pytest.approx(7.2)
    # best = 90 (favourable): |y − 90| = [30, 10, 0]: MDBU = 40/3, MDBW = 3 + 3 + 0 = 6
    assert districts["MDBU"]["estimate"] == pytest.approx(40 / 3)
    assert districts["MDBW"]["estimate"] == pytest.approx(6)
    assert districts["MDBU"]["subgroup_a"] == "C"
    # IDISU = (34/3)/84 × 100 = 13.492; IDISW = 7.2/84 × 100 = 8.5714
    assert districts["IDISU"]["estimate"] == pytest.approx(100 * 34 / 3 / 84)
    assert districts["IDISW"]["estimate"] == pytest.approx(100 * 7.2 / 84)


def test_theil_and_mld_by_hand(districts: dict) -> None:
    # r = y/μ = [.714286, .952381, 1.071429], ln r = [−.336472, −.0487902, .0689929]
    # TI = Σ p r ln r = −.0240337 − .0139401 + .0443526 = .0063788 → 6.3788 (× 1000)
    # MLD = −Σ p ln r = .0336472 + .0146371 − .0413957 = .0068886 → 6.8886
    assert districts["TI"]["estimate"] == pytest.approx(6.3788, abs=1e-4)
    assert districts["MLD"]["estimate"] == pytest.approx(6.8886, abs=1e-4)
    # their SEs, by the Technical Notes' formulas in a plain loop
    p, y, se, mu = [0.1, 0.3, 0.6], [60, 80, 90], [4, 3, 2], 84
    centre = sum(pj * (yj / mu) * (1 + math.log(yj / mu)) for pj, yj in zip(p, y, strict=True))
    var_ti = var_mld = 0.0
    for pj, yj, sj in zip(p, y, se, strict=True):
        var_ti += pj**2 * sj**2 * ((1 + math.log(yj / mu)) - centre) ** 2 / mu**2
        var_mld += pj**2 * sj**2 * (1 / mu - 1 / yj) ** 2
    assert_normal(districts["TI"], 6.3788, 1000 * math.sqrt(var_ti), rel=2e-5)
    assert_normal(districts["MLD"], 6.8886, 1000 * math.sqrt(var_mld), rel=2e-5)


def test_par_and_paf_with_walter_se_by_hand(districts: dict) -> None:
    # no reference, favourable ⇒ best = C (90): PAR = 90 − 84 = 6, PAF = 6/84 = 7.1429 %
    # 2×2: c = .9·600 = 540, d = 60, a = .84·1000 − 540 = 300, b = 1000 − 300 − 600 = 100
    # Var = 540·1000·(300·60·460 + 100·540²) / (840³·600³)
    #     = 5.4e5 · 3.744e7 / (5.92704e8 · 2.16e8) = 2.02176e13 / 1.28024064e17 = 1.579203e-4
    walter = math.sqrt(2.02176e13 / 1.28024064e17)
    assert_normal(districts["PAR"], 6, 84 * walter)
    assert_normal(districts["PAF"], 600 / 84, 100 * walter)
    assert districts["PAF"]["subgroup_a"] == "C"


def plain_percentiles(y, se, p, measure, draws: int = 20_000, seed: int = 7) -> tuple[float, float]:
    """2.5th/97.5th percentiles by an independent rejection sampler (random.gauss)."""
    rng = random.Random(seed)
    values = []
    for _ in range(draws):
        sample = []
        for yj, sj in zip(y, se, strict=True):
            v = rng.gauss(yj, sj)
            while not 0 <= v <= 100:
                v = rng.gauss(yj, sj)
            sample.append(v)
        values.append(measure(sample, p))
    values.sort()
    return values[int(0.025 * draws)], values[int(0.975 * draws)]


def _mdmw(sample: list[float], p: list[float]) -> float:
    mu = sum(pj * v for pj, v in zip(p, sample, strict=True))
    return sum(pj * abs(v - mu) for pj, v in zip(p, sample, strict=True))


def _mdbu(sample: list[float], p: list[float]) -> float:
    best = max(sample)
    return sum(abs(v - best) for v in sample) / len(sample)


def _cov(sample: list[float], p: list[float]) -> float:
    mu = sum(pj * v for pj, v in zip(p, sample, strict=True))
    return 100 * math.sqrt(sum(pj * (v - mu) ** 2 for pj, v in zip(p, sample, strict=True))) / mu


@pytest.mark.parametrize("measure,plain", [("MDMW", _mdmw), ("MDBU", _mdbu), ("COV", _cov)])
def test_simulated_intervals_match_an_independent_sampler(districts, measure, plain) -> None:
    low, high = plain_percentiles([60, 80, 90], [4, 3, 2], [0.1, 0.3, 0.6], plain)
    row = districts[measure]
    # Monte Carlo error of a 2.5 % quantile with 10,000 and 20,000 draws: a few percent
    assert row["ci_lower"] == pytest.approx(low, rel=0.06)
    assert row["ci_upper"] == pytest.approx(high, rel=0.06)
    assert row["ci_lower"] < row["ci_upper"]


def test_simulation_is_reproducible_and_seeded() -> None:
    first = summary_measures(DISTRICTS, favourable=True, ordered=False)
    again = summary_measures(DISTRICTS, favourable=True, ordered=False)
    other = summary_measures(DISTRICTS, favourable=True, ordered=False, seed=1)
    assert first.equals(again)
    assert not first.equals(other)
    assert first["estimate"].equals(other["estimate"])


def test_simulated_interval_shrinks_with_the_se() -> None:
    tight = frame([60, 80, 90], [100, 300, 600], [1e-6] * 3)
    got = measures(tight, favourable=True, ordered=False, draws=500)
    for measure in ("BGSD", "COV", "MDMU", "MDMW", "MDBU", "MDBW", "IDISU", "IDISW"):
        assert got[measure]["ci_lower"] == pytest.approx(got[measure]["estimate"], abs=1e-4)
        assert got[measure]["ci_upper"] == pytest.approx(got[measure]["estimate"], abs=1e-4)


# ------------------------------------------------------------ reference subgroup


def test_reference_not_the_best_subgroup(districts: dict) -> None:
    got = measures(DISTRICTS, favourable=True, ordered=False, reference="B")
    # favourable: reference − the other that maximises the gap = B − A = 80 − 60 = 20
    assert (got["D"]["subgroup_a"], got["D"]["subgroup_b"]) == ("B", "A")
    assert_normal(got["D"], 20, math.sqrt(9 + 16))
    assert got["R"]["estimate"] == pytest.approx(80 / 60)
    # |y − 80| = [20, 0, 10]: MDRU = 30/3 = 10, MDRW = 2 + 0 + 6 = 8
    assert got["MDRU"]["estimate"] == pytest.approx(10)
    assert got["MDRW"]["estimate"] == pytest.approx(8)
    assert got["MDRU"]["subgroup_a"] == "B"
    # PAR = 80 − 84 = −4, clamped to 0 for a favourable indicator (HEAT); so is PAF
    assert got["PAR"]["estimate"] == 0 and got["PAF"]["estimate"] == 0
    assert got["PAR"]["subgroup_a"] == "B"
    # MDB* still compares with the best, and measures without a reference do not change
    for measure in ("MDBU", "BGV", "TI", "MLD", "COV"):
        assert got[measure]["estimate"] == pytest.approx(districts[measure]["estimate"])


def test_reference_adverse_indicator() -> None:
    # zero-dose % in A, B, C = [12, 6, 9], reference B; adverse ⇒ D = max(others) − ref
    zero_dose = frame([12, 6, 9], [100, 300, 600], [2, 1, 1], names=["A", "B", "C"])
    got = measures(zero_dose, favourable=False, ordered=False, reference="B")
    assert (got["D"]["subgroup_a"], got["D"]["subgroup_b"]) == ("A", "B")
    assert got["D"]["estimate"] == pytest.approx(6)
    assert got["R"]["estimate"] == pytest.approx(2)
    # μ = 1.2 + 1.8 + 5.4 = 8.4; PAR = 6 − 8.4 = −2.4 (≤ 0 for adverse), PAF = −28.571 %
    assert got["PAR"]["estimate"] == pytest.approx(-2.4)
    assert got["PAF"]["estimate"] == pytest.approx(-2.4 / 8.4 * 100)
    # best is the lowest: B; |y − 6| = [6, 0, 3]: MDBU = 3, MDBW = .6 + 0 + 1.8 = 2.4
    assert got["MDBU"]["subgroup_a"] == "B"
    assert got["MDBU"]["estimate"] == pytest.approx(3)
    assert got["MDBW"]["estimate"] == pytest.approx(2.4)


def test_adverse_without_reference() -> None:
    zero_dose = frame([12, 6, 9], [100, 300, 600], [2, 1, 1], names=["A", "B", "C"])
    got = measures(zero_dose, favourable=False, ordered=False)
    # no reference: highest − lowest whatever the direction
    assert (got["D"]["subgroup_a"], got["D"]["subgroup_b"]) == ("A", "B")
    # PAR against the best (lowest) subgroup B
    assert got["PAR"]["subgroup_a"] == "B"
    assert got["PAR"]["estimate"] == pytest.approx(-2.4)


def test_adverse_par_clamped_when_reference_is_worse() -> None:
    zero_dose = frame([12, 6, 9], [100, 300, 600], [2, 1, 1], names=["A", "B", "C"])
    got = measures(zero_dose, favourable=False, ordered=False, reference="A")
    assert got["PAR"]["estimate"] == 0  # 12 − 8.4 > 0 is clamped for an adverse indicator


# ------------------------------------------------------------ two subgroups (sex)


def test_sex_with_boys_as_reference() -> None:
    # coverage girls 84 %, boys 90 %, pop 480/520; reference boys ⇒ D = boys − girls = 6
    sex = frame([84, 90], [480, 520], [1.5, 1.2], names=["Female", "Male"])
    got = measures(sex, favourable=True, ordered=False, reference="Male")
    assert list(got) == ["D", "R", "PAR", "PAF"]
    assert (got["D"]["subgroup_a"], got["D"]["subgroup_b"]) == ("Male", "Female")
    assert_normal(got["D"], 6, math.sqrt(1.5**2 + 1.2**2))
    # μ = (480·84 + 520·90)/1000 = 87.12; PAR = 90 − 87.12 = 2.88; PAF = 3.3058 %
    assert got["PAR"]["estimate"] == pytest.approx(2.88)
    assert got["PAF"]["estimate"] == pytest.approx(288 / 87.12)


def test_sex_girls_ahead_gives_a_negative_difference() -> None:
    sex = frame([92, 90], [480, 520], [1.5, 1.2], names=["Female", "Male"])
    got = measures(sex, favourable=True, ordered=False, reference="Male")
    assert got["D"]["estimate"] == pytest.approx(-2)
    assert got["PAR"]["estimate"] == 0  # boys are below μ: clamped


def test_sex_zero_dose_flips_the_difference() -> None:
    # zero-dose girls 9 %, boys 6 %, reference boys, adverse ⇒ D = girls − boys = 3
    sex = frame([9, 6], [480, 520], [1, 1], names=["Female", "Male"])
    got = measures(sex, favourable=False, ordered=False, reference="Male")
    assert (got["D"]["subgroup_a"], got["D"]["subgroup_b"]) == ("Female", "Male")
    assert got["D"]["estimate"] == pytest.approx(3)
    assert got["R"]["estimate"] == pytest.approx(1.5)


def test_two_subgroups_without_reference() -> None:
    sex = frame([84, 90], [480, 520], [1.5, 1.2], names=["Female", "Male"])
    for favourable in (True, False):
        got = measures(sex, favourable=favourable, ordered=False)
        assert got["D"]["estimate"] == pytest.approx(6)  # highest − lowest either way


# ------------------------------------------------------------ edges: 0, 100, equal


def test_equal_estimates_give_no_inequality() -> None:
    flat = frame([70, 70, 70], [100, 200, 300], [2, 2, 2])
    got = measures(flat, favourable=True, ordered=False, reference="G1")
    for measure in ("D", "BGV", "BGSD", "COV", "MDMU", "MDMW", "MDBU", "MDBW", "MDRU", "MDRW",
                    "IDISU", "IDISW", "TI", "MLD", "PAR", "PAF"):
        assert got[measure]["estimate"] == pytest.approx(0, abs=1e-12), measure
    assert got["R"]["estimate"] == 1
    ordered = measures(frame([70, 70, 70], [100, 200, 300], [2, 2, 2], ordered=True),
                       favourable=True, ordered=True)
    for measure in ("D", "ACI", "RCI", "SII", "PAR", "PAF"):
        assert ordered[measure]["estimate"] == pytest.approx(0, abs=1e-9), measure
    assert ordered["RII"]["estimate"] == pytest.approx(1)


def test_zero_and_hundred_percent_subgroups_with_binomial_se() -> None:
    # zero-dose counts 0/200, 10/200, 20/200: estimates 0, 5, 10 %; SE from the counts
    rows = pl.DataFrame({
        "subgroup": ["A", "B", "C"],
        "estimate": [0.0, 5.0, 10.0],
        "numerator": [0, 10, 20],
        "denominator": [200, 200, 200],
        "population": [200.0, 200.0, 200.0],
        "suppressed": [False, False, False],
    })
    got = measures(rows, favourable=False, ordered=False)
    # D = 10 − 0; SE = 100 √(.1·.9/200) = 2.12132 (the 0 % subgroup has SE 0)
    assert_normal(got["D"], 10, 100 * math.sqrt(0.1 * 0.9 / 200))
    # R = 10/0 is undefined
    assert got["R"]["estimate"] is None and got["R"]["status"] == em.ZERO_DIVISOR
    # PAR against the best (0 %): 0 − 5 = −5, PAF = −100 %; Walter's c = 0 ⇒ SE 0
    assert got["PAR"]["estimate"] == pytest.approx(-5)
    assert got["PAF"]["estimate"] == pytest.approx(-100)
    assert got["PAF"]["ci_lower"] == pytest.approx(-100)
    # MLD with 0 → 1e-6 (HEAT v6): −(1/3)[ln(1e-6/5) + ln(1) + ln(2)] × 1000
    mu = (1e-6 + 5 + 10) / 3
    mld = -sum(math.log(v / mu) for v in (1e-6, 5, 10)) / 3 * 1000
    assert got["MLD"]["estimate"] == pytest.approx(mld, rel=1e-9)
    ti = sum((v / mu) * math.log(v / mu) for v in (1e-6, 5, 10)) / 3 * 1000
    assert got["TI"]["estimate"] == pytest.approx(ti, rel=1e-9)
    assert all(row["estimate"] is not None for m, row in got.items() if m != "R")


def test_ratio_of_zero_has_no_interval() -> None:
    # favourable with reference at 0 %: R = 0 / 50 = 0, no log-scale interval
    rows = frame([0, 50], [10, 10], [0, 5], names=["ref", "other"])
    got = measures(rows, favourable=True, ordered=False, reference="ref")
    assert got["R"]["estimate"] == 0 and got["R"]["status"] == em.ZERO_RATIO


def test_all_zero_estimates() -> None:
    got = summary_measures(frame([0, 0, 0], [1, 2, 3], [0, 0, 0]), favourable=False,
                           ordered=False)
    assert set(got["status"]) == {em.ALL_ZERO}
    assert got["estimate"].null_count() == got.height


# ------------------------------------------------------------ gates


def test_a_suppressed_subgroup_withholds_every_measure() -> None:
    rows = frame([60, 80, 90], [100, 300, 600], [4, 3, 2], suppressed=[False, True, False])
    rows = rows.with_columns(pl.when(pl.col("suppressed").not_()).then(pl.col("estimate")))
    got = summary_measures(rows, favourable=True, ordered=False)
    assert got["measure"].to_list() == applicable_measures(3, ordered=False, has_reference=False)
    assert set(got["status"]) == {em.SUPPRESSED}
    for column in ("estimate", "ci_lower", "ci_upper"):
        assert got[column].null_count() == got.height


def test_null_suppressed_counts_as_suppressed() -> None:
    rows = frame([60, 80], [100, 300], [4, 3]).with_columns(
        pl.Series("suppressed", [False, None], dtype=pl.Boolean)
    )
    assert set(summary_measures(rows, favourable=True, ordered=False)["status"]) == {
        em.SUPPRESSED
    }


def test_zero_population_withholds_every_measure() -> None:
    got = summary_measures(frame([60, 80, 90], [100, 0, 600], [4, 3, 2]), favourable=True,
                           ordered=False)
    assert set(got["status"]) == {em.NO_POPULATION}


def test_missing_se_keeps_estimates_without_intervals() -> None:
    got = measures(frame([60, 80, 90], [100, 300, 600]), favourable=True, ordered=False)
    for measure in ("D", "R", "BGV", "TI", "MLD", "BGSD", "MDBU", "IDISW"):
        assert got[measure]["status"] == em.NO_SE
        assert got[measure]["estimate"] is not None and got[measure]["ci_lower"] is None
    assert got["PAR"]["status"] == "ok"  # Walter's SE needs no subgroup SE


def test_one_subgroup_is_too_few() -> None:
    got = summary_measures(frame([60], [100], [4]), favourable=True, ordered=False)
    assert set(got["status"]) == {em.TOO_FEW}


def test_applicable_measures() -> None:
    assert applicable_measures(2, ordered=False, has_reference=True) == ["D", "R", "PAR", "PAF"]
    assert applicable_measures(2, ordered=True, has_reference=False) == ["D", "R", "PAR", "PAF"]
    assert "MDRU" not in applicable_measures(5, ordered=False, has_reference=False)
    assert "MDRW" in applicable_measures(5, ordered=False, has_reference=True)
    assert "SII" not in applicable_measures(5, ordered=False, has_reference=False)
    assert "BGV" not in applicable_measures(5, ordered=True, has_reference=False)


def test_calling_errors() -> None:
    with pytest.raises(ValueError, match="reference"):
        summary_measures(WHO, favourable=True, ordered=True, reference="Q5")
    with pytest.raises(ValueError, match="not among"):
        summary_measures(DISTRICTS, favourable=True, ordered=False, reference="Z")
    with pytest.raises(ValueError, match="order"):
        summary_measures(DISTRICTS, favourable=True, ordered=True)
    with pytest.raises(ValueError, match="suppressed"):
        summary_measures(DISTRICTS.drop("suppressed"), favourable=True, ordered=False)


def test_input_order_does_not_matter_for_ordered_dimensions() -> None:
    shuffled = WHO.sample(fraction=1.0, shuffle=True, seed=3)
    assert summary_measures(shuffled, favourable=True, ordered=True).equals(
        summary_measures(WHO, favourable=True, ordered=True)
    )


# ------------------------------------------------------------ HEAT Plus upload layout (§1.8)

EXPECTED_COLUMNS = [
    "setting", "date", "source", "indicator_abbr", "indicator_name", "dimension", "subgroup",
    "estimate", "se", "ci_lb", "ci_ub", "population", "note", "setting_average", "iso3",
    "favourable_indicator", "indicator_scale", "ordered_dimension", "subgroup_order",
    "reference_subgroup",
]


def export_rows(**overrides) -> pl.DataFrame:
    base = {
        "setting": ["Basrah", "Basrah"],
        "period": ["2024", "2024"],
        "source": ["registry", "registry"],
        "indicator": ["penta3_12m", "penta3_12m"],
        "indicator_name": ["Penta3 by 12 months", "Penta3 by 12 months"],
        "dimension": ["Sex", "Sex"],
        "subgroup": ["Female", "Male"],
        "estimate": [80.0, 90.0],
        "numerator": [400, 540],
        "denominator": [500, 600],
        "ci_low": [76.3, 87.3],
        "ci_high": [83.3, 92.2],
        "population": [500.0, 600.0],
        "flags": ["", "caution"],
        "setting_average": [85.4545, 85.4545],
        "favourable": [True, True],
        "ordered": [False, False],
        "order": [None, None],
        "reference": [False, True],
        "suppressed": [False, False],
    }
    base.update(overrides)
    return pl.DataFrame(base, schema_overrides={"order": pl.Int64})


def test_heat_plus_columns_in_order() -> None:
    assert HEAT_PLUS_COLUMNS == EXPECTED_COLUMNS
    assert heat_plus_rows(export_rows()).columns == EXPECTED_COLUMNS


def test_heat_plus_hand_built_row() -> None:
    out = heat_plus_rows(export_rows())
    # se = 100 √(.9·.1/600) = 1.224745
    assert out.row(1) == (
        "Basrah", "2024", "registry", "penta3_12m", "Penta3 by 12 months", "Sex", "Male",
        90.0, pytest.approx(100 * math.sqrt(0.9 * 0.1 / 600)), 87.3, 92.2, 600.0, "caution",
        85.4545, None, 1, 100.0, 0, 0, 1,
    )
    assert out.row(0)[12] is None  # no flags, nothing hidden: empty note


def test_heat_plus_leaves_suppressed_subgroups_out() -> None:
    rows = export_rows(
        estimate=[None, 90.0], numerator=[None, 540], denominator=[3, 600],
        ci_low=[None, 87.3], ci_high=[None, 92.2], population=[3.0, 600.0],
        suppressed=[True, False],
    )
    out = heat_plus_rows(rows)
    assert out["subgroup"].to_list() == ["Male"]
    assert out["note"].to_list() == [f"caution; {SUPPRESSED_NOTE}"]
    assert 3.0 not in out["population"].to_list()  # the small denominator never appears


def test_heat_plus_ordered_dimension() -> None:
    n = 5
    rows = pl.DataFrame({
        "setting": ["Iraq"] * n, "period": ["2024"] * n, "source": ["registry"] * n,
        "indicator": ["zero_dose_12m"] * n, "indicator_name": ["Zero-dose"] * n,
        "dimension": ["Coverage quintile"] * n, "subgroup": [f"Q{j}" for j in range(1, 6)],
        "estimate": [12.0, 9.0, 7.0, 5.0, 3.0], "population": [1e3] * n,
        "se": [1.0] * n, "iso3": ["IRQ"] * n,
        "favourable": [False] * n, "ordered": [True] * n, "order": [1, 2, 3, 4, 5],
        "reference": [False] * n, "suppressed": [False] * n, "scale": [100] * n,
    })
    out = heat_plus_rows(rows)
    assert out["ordered_dimension"].to_list() == [1] * n
    assert out["subgroup_order"].to_list() == [1, 2, 3, 4, 5]
    assert out["favourable_indicator"].to_list() == [0] * n
    assert out["iso3"].to_list() == ["IRQ"] * n
    assert out["se"].to_list() == [1.0] * n
    # with only two published subgroups left it is no longer an ordered dimension for HEAT
    fewer = heat_plus_rows(rows.with_columns(
        pl.Series("suppressed", [False, True, True, False, False]).alias("suppressed")
    ).filter(pl.col("subgroup") != "Q5"))
    assert fewer["ordered_dimension"].to_list() == [0, 0]
    assert fewer["subgroup_order"].to_list() == [0, 0]


def test_heat_plus_refuses_two_references() -> None:
    with pytest.raises(ValueError, match="reference"):
        heat_plus_rows(export_rows(reference=[True, True]))
