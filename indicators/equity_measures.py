"""WHO HEAT summary measures of inequality with 95 % intervals (reference/equity.md §1.3-§1.6).

One call works on the subgroups of one indicator × period × place × dimension and returns one
row per applicable measure. The formulas, the choice of compared subgroups and the interval
methods are those of the HEAT / HEAT Plus v6 Technical Notes as summarised in equity.md:
delta-method (normal) intervals for D, ACI, RCI, BGV, TI, MLD; a log-scale interval for R;
Walter's 2×2 variance for PAF and PAR; a binomial logit regression on ridit ranks with an HC1
sandwich (HC0 × n/(n-2), n = number of subgroups) for SII and RII; and simulation for BGSD,
COV, MD* and IDIS*.

Decisions and deliberate deviations from HEAT's code:
- Measures that do not apply to the dimension are omitted (not flagged): two subgroups give
  D, R, PAR, PAF; an ordered dimension with more than two adds ACI, RCI, SII, RII; a
  non-ordered one with more than two adds BGV, BGSD, COV, MDMU, MDMW, MDBU, MDBW, IDISU,
  IDISW, TI, MLD, and MDRU, MDRW when it has a reference subgroup. So the rows returned
  depend only on the dimension, never on the data.
- `status` is "ok" when estimate and interval are computed. Otherwise it gives the reason:
  the estimate is null when the measure cannot be computed (a suppressed subgroup, a
  subgroup without population, ...), and only the interval is null when the status starts
  with "no interval:" (e.g. a subgroup without SE).
- Every measure is withheld when any subgroup is suppressed (not only those that use it):
  a difference next to a published total could otherwise give the hidden value away.
- PAF interval: HEAT adds the fraction-scale Walter SE to PAF in percent, a 100× too narrow
  interval (equity.md §1.7). Here SE(PAF, %) = 100 × Walter SE. PAR keeps SE = μ × Walter SE.
- TI and MLD: HEAT multiplies the estimate by 1000 but not its SE; here both are × 1000.
- Simulation: 10,000 draws by default (HEAT: 100) from a numpy generator seeded with HEAT's
  123456, so intervals are reproducible and carry little Monte Carlo noise. The setting
  average μ is recomputed from each draw (HEAT keeps it fixed) because μ here is the
  population-weighted mean of the same subgroups. MDRU/MDRW draws use the reference
  subgroup's draw (HEAT's code uses the best one).
- μ is always the population-weighted mean of the subgroups; the reported setting average
  that HEAT v6 may use for IDISU, MDMU, PAF and PAR is not an option.
- Normal intervals are not clipped to the measure's range (a BGV interval can start below
  0), as in HEAT; when PAR/PAF is clamped to 0 (reference worse than μ) the interval is
  centred on 0 with the Walter SE, as in HEAT.
- HEAT's percentile variants of D and R for more than 30 subgroups are not computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

Z = 1.959963984540054  # two-sided 95 %: the 0.975 quantile of N(0, 1)
DRAWS = 10_000
SEED = 123456  # the seed HEAT-Measures uses
ZERO_FOR_LOGS = 1e-6  # HEAT v6 replaces a 0 estimate by this in TI and MLD

MEASURES = (
    "D", "R", "ACI", "RCI", "SII", "RII", "BGV", "BGSD", "COV", "MDMU", "MDMW", "MDBU",
    "MDBW", "MDRU", "MDRW", "IDISU", "IDISW", "TI", "MLD", "PAR", "PAF",
)
SIMPLE = ("D", "R")
ORDERED = ("ACI", "RCI", "SII", "RII")
NON_ORDERED = ("BGV", "BGSD", "COV", "MDMU", "MDMW", "MDBU", "MDBW", "IDISU", "IDISW", "TI", "MLD")
WITH_REFERENCE = ("MDRU", "MDRW")
ATTRIBUTABLE = ("PAR", "PAF")

OK = "ok"
SUPPRESSED = "a subgroup is suppressed"
NO_ESTIMATE = "a subgroup has no estimate"
NO_POPULATION = "a subgroup has no population"
TOO_FEW = "fewer than 2 subgroups"
ALL_ZERO = "all estimates are 0"
ZERO_MEAN = "the setting average is 0"
NEGATIVE = "a subgroup estimate is negative"
OUT_OF_RANGE = "a subgroup estimate is outside 0 to scale"
NOT_CONVERGED = "the regression did not converge"
ZERO_DIVISOR = "the compared subgroup's estimate is 0"
NO_SE = "no interval: a subgroup has no SE"
ZERO_RATIO = "no interval: the ratio is not positive"

OUTPUT_SCHEMA = {
    "measure": pl.String,
    "estimate": pl.Float64,
    "ci_lower": pl.Float64,
    "ci_upper": pl.Float64,
    "status": pl.String,
    "subgroup_a": pl.String,
    "subgroup_b": pl.String,
}


@dataclass(frozen=True)
class Result:
    """One measure: `subgroup_a`/`subgroup_b` say what was compared (D = a − b, R = a / b;
    PAR, PAF, MDR*: a = the reference; MDB*: a = the best subgroup)."""

    measure: str
    estimate: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
    status: str = OK
    subgroup_a: str | None = None
    subgroup_b: str | None = None


@dataclass(frozen=True)
class Groups:
    """The subgroups as arrays, sorted by `order` (most disadvantaged first) when ordered."""

    names: list[str]
    y: np.ndarray
    se: np.ndarray  # NaN where unknown
    pop: np.ndarray
    favourable: bool
    ordered: bool
    ref: int | None
    scale: float

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def p(self) -> np.ndarray:
        return self.pop / self.pop.sum()

    @property
    def mu(self) -> float:
        return float(self.p @ self.y)

    @property
    def has_se(self) -> bool:
        return bool(np.isfinite(self.se).all())

    def best(self) -> int:
        return int(np.argmax(self.y) if self.favourable else np.argmin(self.y))


# ---------------------------------------------------------------- public API


def binomial_se(numerator: pl.Expr, denominator: pl.Expr, scale: float = 100.0) -> pl.Expr:
    """SE of a registry proportion on the indicator scale: scale × √(p(1 − p)/n)."""
    p = numerator.cast(pl.Float64) / denominator.cast(pl.Float64)
    valid = (denominator > 0) & (p >= 0) & (p <= 1)
    return pl.when(valid).then(scale * (p * (1.0 - p) / denominator).sqrt())


def applicable_measures(n: int, *, ordered: bool, has_reference: bool) -> list[str]:
    """The measures HEAT's decision tree gives for a dimension with n subgroups, in order."""
    chosen = set(SIMPLE + ATTRIBUTABLE)
    if n > 2 and ordered:
        chosen.update(ORDERED)
    if n > 2 and not ordered:
        chosen.update(NON_ORDERED)
        if has_reference:
            chosen.update(WITH_REFERENCE)
    return [measure for measure in MEASURES if measure in chosen]


def summary_measures(
    subgroups: pl.DataFrame,
    *,
    favourable: bool,
    ordered: bool,
    reference: str | None = None,
    scale: float = 100.0,
    draws: int = DRAWS,
    seed: int = SEED,
) -> pl.DataFrame:
    """Every applicable summary measure of one indicator × period × place × dimension.

    `subgroups` has one row per subgroup: `subgroup`, `estimate` (on the indicator scale),
    `population` (the weight, e.g. the denominator), `suppressed` (bool; null counts as
    suppressed), `order` when `ordered` (1 = most disadvantaged), and `se` and/or
    `numerator`/`denominator` (a missing `se` is derived as binomial). `reference` names the
    reference subgroup (binary or non-ordered dimensions only, e.g. boys, no disability).
    Returns OUTPUT_SCHEMA, one row per measure of `applicable_measures`.
    """
    _check_input(subgroups, ordered=ordered, reference=reference)
    measures = applicable_measures(
        subgroups.height, ordered=ordered, has_reference=reference is not None
    )
    reason = _gate(subgroups)
    if reason is not None:
        return _frame([Result(measure, status=reason) for measure in measures])
    groups = _groups(
        subgroups, favourable=favourable, ordered=ordered, reference=reference, scale=scale
    )
    results = _compute(groups, measures, draws=draws, seed=seed)
    return _frame([results[measure] for measure in measures])


# ---------------------------------------------------------------- input


def _check_input(frame: pl.DataFrame, *, ordered: bool, reference: str | None) -> None:
    """Errors in how the function is called (not in the data) raise ValueError."""
    needed = {"subgroup", "estimate", "population", "suppressed"}
    needed |= {"order"} if ordered else set()
    missing = needed - set(frame.columns)
    if missing:
        raise ValueError(f"subgroups lacks columns {sorted(missing)}")
    if frame["subgroup"].n_unique() != frame.height:
        raise ValueError("subgroup names must be unique")
    if ordered and (frame["order"].null_count() or frame["order"].n_unique() != frame.height):
        raise ValueError("an ordered dimension needs a distinct order for every subgroup")
    if reference is not None and ordered:
        raise ValueError("HEAT takes a reference subgroup only on non-ordered dimensions")
    if reference is not None and reference not in frame["subgroup"].to_list():
        raise ValueError(f"reference subgroup {reference!r} is not among the subgroups")


def _gate(frame: pl.DataFrame) -> str | None:
    """HEAT computes nothing unless every subgroup has an estimate and a population (§1.5)."""
    if frame.height < 2:
        return TOO_FEW
    if not frame["suppressed"].fill_null(True).not_().all():
        return SUPPRESSED
    estimate = frame["estimate"].cast(pl.Float64)
    if estimate.null_count() or estimate.is_nan().any():
        return NO_ESTIMATE
    population = frame["population"].cast(pl.Float64)
    if population.null_count() or not (population > 0).all():
        return NO_POPULATION
    if (estimate == 0).all():
        return ALL_ZERO
    return None


def _se_column(frame: pl.DataFrame, scale: float) -> pl.Series:
    derived = None
    if {"numerator", "denominator"} <= set(frame.columns):
        derived = binomial_se(pl.col("numerator"), pl.col("denominator"), scale)
    given = pl.col("se").cast(pl.Float64) if "se" in frame.columns else None
    if given is None and derived is None:
        return pl.Series("se", [None] * frame.height, dtype=pl.Float64)
    expr = given if derived is None else derived if given is None else given.fill_null(derived)
    return frame.select(expr.alias("se")).to_series()


def _groups(
    frame: pl.DataFrame, *, favourable: bool, ordered: bool, reference: str | None, scale: float
) -> Groups:
    frame = frame.with_columns(_se_column(frame, scale))
    if ordered:
        frame = frame.sort("order")
    names = frame["subgroup"].cast(pl.String).to_list()
    return Groups(
        names=names,
        y=frame["estimate"].cast(pl.Float64).to_numpy(),
        se=frame["se"].fill_null(float("nan")).to_numpy(),
        pop=frame["population"].cast(pl.Float64).to_numpy(),
        favourable=favourable,
        ordered=ordered,
        ref=None if reference is None else names.index(reference),
        scale=float(scale),
    )


def _frame(results: list[Result]) -> pl.DataFrame:
    rows = [
        (r.measure, r.estimate, r.ci_lower, r.ci_upper, r.status, r.subgroup_a, r.subgroup_b)
        for r in results
    ]
    return pl.DataFrame(rows, schema=OUTPUT_SCHEMA, orient="row")


# ---------------------------------------------------------------- dispatch


def _compute(groups: Groups, measures: list[str], *, draws: int, seed: int) -> dict[str, Result]:
    if groups.mu == 0:
        return {measure: Result(measure, status=ZERO_MEAN) for measure in measures}
    results: dict[str, Result] = {}
    results.update(_difference_and_ratio(groups))
    results.update(_attributable(groups))
    if any(measure in ORDERED for measure in measures):
        results.update(_concentration(groups))
        results.update(_slope(groups))
    if any(measure in NON_ORDERED for measure in measures):
        results.update(_variance(groups))
        results.update(_theil_and_mld(groups))
        results.update(_simulated(groups, draws=draws, seed=seed))
    return results


def _normal(measure: str, estimate: float, se: float, **names: str | None) -> Result:
    """Estimate ± z·SE, or no interval when the SE is unknown."""
    if not math.isfinite(se):
        return Result(measure, estimate, status=NO_SE, **names)
    return Result(measure, estimate, estimate - Z * se, estimate + Z * se, **names)


# ---------------------------------------------------------------- D and R


def _compared(groups: Groups) -> tuple[int, int]:
    """(a, b) with D = y_a − y_b and R = y_a / y_b, by Technical Notes Tables 1-2 (§1.4)."""
    y = groups.y
    if groups.ordered:  # most advantaged vs most disadvantaged: last and first after sorting
        top, bottom = groups.n - 1, 0
        return (top, bottom) if groups.favourable else (bottom, top)
    if groups.ref is None:
        return int(np.argmax(y)), int(np.argmin(y))
    others = [j for j in range(groups.n) if j != groups.ref]
    if groups.favourable:  # reference − the other that maximises the gap
        return groups.ref, min(others, key=lambda j: y[j])
    return max(others, key=lambda j: y[j]), groups.ref


def _difference_and_ratio(groups: Groups) -> dict[str, Result]:
    a, b = _compared(groups)
    names = {"subgroup_a": groups.names[a], "subgroup_b": groups.names[b]}
    (y1, y2), (s1, s2) = groups.y[[a, b]], groups.se[[a, b]]
    d = _normal("D", y1 - y2, math.sqrt(s1**2 + s2**2), **names)
    return {"D": d, "R": _ratio(y1, y2, s1, s2, names)}


def _ratio(y1: float, y2: float, s1: float, s2: float, names: dict[str, str]) -> Result:
    """R = y1/y2 with SE(R) = √[(σ1² + R²σ2²)/y2²] and the interval on the log scale."""
    if y2 == 0:
        return Result("R", status=ZERO_DIVISOR, **names)
    r = y1 / y2
    se = math.sqrt((s1**2 + r**2 * s2**2) / y2**2)
    if not math.isfinite(se):
        return Result("R", r, status=NO_SE, **names)
    if r <= 0:
        return Result("R", r, status=ZERO_RATIO, **names)
    half = Z * se / r
    return Result("R", r, r * math.exp(-half), r * math.exp(half), **names)


# ---------------------------------------------------------------- PAR and PAF


def _reference_for_par(groups: Groups) -> int:
    """The given reference; else the most advantaged (ordered); else the best subgroup."""
    if groups.ref is not None:
        return groups.ref
    return groups.n - 1 if groups.ordered else groups.best()


def _walter_se(groups: Groups, ref: int) -> float:
    """Walter's SE of PAF (fraction) from the achieved/not-achieved 2×2 table (§1.5)."""
    total, ref_pop = groups.pop.sum(), groups.pop[ref]
    c = groups.y[ref] / groups.scale * ref_pop  # achieved, reference
    d = ref_pop - c  # not achieved, reference
    a = groups.mu / groups.scale * total - c  # achieved, everyone else
    b = total - a - ref_pop  # not achieved, everyone else
    n = a + b + c + d
    var = c * n * (a * d * (n - c) + b * c**2) / ((a + c) ** 3 * (c + d) ** 3)
    return math.sqrt(var) if var >= 0 else float("nan")


def _attributable(groups: Groups) -> dict[str, Result]:
    """PAR = y_ref − μ and PAF = PAR/μ × 100, clamped to 0 on the wrong side (HEAT)."""
    ref = _reference_for_par(groups)
    mu = groups.mu
    par = groups.y[ref] - mu
    par = max(par, 0.0) if groups.favourable else min(par, 0.0)
    se_fraction = _walter_se(groups, ref)
    name = {"subgroup_a": groups.names[ref]}
    return {
        "PAR": _normal("PAR", par, mu * se_fraction, **name),
        "PAF": _normal("PAF", par / mu * 100, 100 * se_fraction, **name),
    }


# ---------------------------------------------------------------- ordered: ACI, RCI


def ridit(pop: np.ndarray) -> np.ndarray:
    """Relative rank: share of the population below a subgroup plus half its own share."""
    share = pop / pop.sum()
    return np.cumsum(share) - share / 2


def _concentration(groups: Groups) -> dict[str, Result]:
    """ACI = Σ p(2X − 1)y, RCI = ACI/μ × 100, with the Technical Notes' analytic SEs."""
    p, y, se, mu = groups.p, groups.y, groups.se, groups.mu
    lever = 2 * ridit(groups.pop) - 1
    aci = float(np.sum(p * lever * y))
    rci = aci / mu
    aci_se = math.sqrt(np.sum(p**2 * se**2 * lever**2))
    rci_se = math.sqrt(np.sum(p**2 * se**2 * (lever - rci) ** 2)) / mu
    return {"ACI": _normal("ACI", aci, aci_se), "RCI": _normal("RCI", 100 * rci, 100 * rci_se)}


# ---------------------------------------------------------------- ordered: SII, RII


def _expit(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _log_likelihood(
    design: np.ndarray, share: np.ndarray, weight: np.ndarray, beta: np.ndarray
) -> float:
    eta = design @ beta  # log expit(η) = −log(1 + e^−η), computed without overflow
    log_p, log_q = -np.logaddexp(0, -eta), -np.logaddexp(0, eta)
    return float(np.sum(weight * (share * log_p + (1 - share) * log_q)))


def _logit_fit(
    design: np.ndarray, share: np.ndarray, trials: np.ndarray, weight: np.ndarray,
    max_iter: int = 100,
) -> np.ndarray | None:
    """Binomial-logit coefficients by Newton's method (IRLS) with step halving.

    `share` is successes/trials and `weight` = trials × prior weight. Starts, as R's glm
    does, from (successes + ½)/(trials + 1). None when the fit does not converge (complete
    separation, where the coefficients run off to ±∞).
    """
    start = (share * trials + 0.5) / (trials + 1)
    eta = np.log(start / (1 - start))
    beta: np.ndarray | None = None
    for _ in range(max_iter):
        fitted = _expit(eta)
        working = weight * fitted * (1 - fitted)
        if not np.all(working > 0):
            return None
        z = eta + (share - fitted) / (fitted * (1 - fitted))
        new = np.linalg.solve(design.T @ (working[:, None] * design), design.T @ (working * z))
        if beta is not None:
            before = _log_likelihood(design, share, weight, beta)
            for _ in range(30):
                if _log_likelihood(design, share, weight, new) >= before:
                    break
                new = (new + beta) / 2
            if np.max(np.abs(new - beta)) < 1e-10 * (1 + np.max(np.abs(beta))):
                return new if np.all(np.abs(new) < 30) else None
        beta, eta = new, design @ new
    return None


def _hc1(
    design: np.ndarray, share: np.ndarray, weight: np.ndarray, beta: np.ndarray
) -> np.ndarray:
    """Sandwich covariance: HC0 × n/(n − k), the small-sample factor of §1.6."""
    fitted = _expit(design @ beta)
    bread = np.linalg.inv(design.T @ ((weight * fitted * (1 - fitted))[:, None] * design))
    scores = (weight * (share - fitted))[:, None] * design
    n, k = design.shape
    return bread @ (scores.T @ scores) @ bread * n / (n - k)


def _slope(groups: Groups) -> dict[str, Result]:
    """SII = (v1 − v0) × scale, RII = v1/v0 from a logit of grouped counts on ridit rank.

    As in HEAT v6 (§1.6): trials = ceil(population), successes = round(y/scale × trials),
    prior weights = trials (so the population enters twice), delta-method HC1 SEs.
    """
    if np.any(groups.y < 0) or np.any(groups.y > groups.scale):
        return {m: Result(m, status=OUT_OF_RANGE) for m in ("SII", "RII")}
    trials = np.ceil(groups.pop)
    share = np.round(groups.y / groups.scale * trials) / trials
    weight = trials * trials  # binomial totals × prior weights
    design = np.column_stack([np.ones(groups.n), ridit(trials)])
    beta = _logit_fit(design, share, trials, weight)
    if beta is None:
        return {m: Result(m, status=NOT_CONVERGED) for m in ("SII", "RII")}
    cov = _hc1(design, share, weight, beta)
    v0, v1 = float(_expit(beta[0])), float(_expit(beta.sum()))
    grad_sii = np.array([v1 * (1 - v1) - v0 * (1 - v0), v1 * (1 - v1)])
    grad_log_rii = np.array([v0 - v1, 1 - v1])
    sii = _normal("SII", (v1 - v0) * groups.scale,
                  groups.scale * math.sqrt(grad_sii @ cov @ grad_sii))
    rii, log_se = v1 / v0, math.sqrt(grad_log_rii @ cov @ grad_log_rii)
    rii_result = Result("RII", rii, rii * math.exp(-Z * log_se), rii * math.exp(Z * log_se))
    return {"SII": sii, "RII": rii_result}


# ---------------------------------------------------------------- non-ordered: BGV, TI, MLD


def _variance(groups: Groups) -> dict[str, Result]:
    """BGV = Σ p(y − μ)² with the Technical Notes' variance (first- and second-order terms)."""
    p, y, mu = groups.p, groups.y, groups.mu
    bgv = float(np.sum(p * (y - mu) ** 2))
    s2, s4 = p**2 * groups.se**2, p**4 * groups.se**4
    var = 4 * np.sum(s2 * (y - mu) ** 2) + 2 * (
        np.sum(s2) ** 2 - np.sum(s4) + np.sum(p**2 * (1 - p) ** 2 * groups.se**4)
    )
    return {"BGV": _normal("BGV", bgv, math.sqrt(var))}


def _theil_and_mld(groups: Groups) -> dict[str, Result]:
    """TI = Σ p r ln r and MLD = −Σ p ln r with r = y/μ, both × 1000 (SEs too)."""
    if np.any(groups.y < 0):
        return {m: Result(m, status=NEGATIVE) for m in ("TI", "MLD")}
    y = np.where(groups.y == 0, ZERO_FOR_LOGS, groups.y)
    p, se = groups.p, groups.se
    mu = float(p @ y)
    r = y / mu
    ti = float(np.sum(p * r * np.log(r)))
    ti_lever = 1 + np.log(r) - np.sum(p * r * (1 + np.log(r)))
    ti_se = math.sqrt(np.sum(p**2 * se**2 * ti_lever**2)) / mu
    mld = float(-np.sum(p * np.log(r)))
    mld_se = math.sqrt(np.sum(p**2 * se**2 * (1 / mu - 1 / y) ** 2))
    return {
        "TI": _normal("TI", 1000 * ti, 1000 * ti_se),
        "MLD": _normal("MLD", 1000 * mld, 1000 * mld_se),
    }


# ---------------------------------------------------------------- simulated measures


def _spread(
    values: np.ndarray, p: np.ndarray, best: np.ndarray, ref: np.ndarray | None
) -> dict[str, np.ndarray]:
    """The simulated measures for estimates `values` (draws × n, or one row)."""
    mu = values @ p
    dev_mean = np.abs(values - mu[:, None])
    dev_best = np.abs(values - best[:, None])
    out = {
        "BGSD": np.sqrt(((values - mu[:, None]) ** 2) @ p),
        "MDMU": dev_mean.mean(axis=1),
        "MDMW": dev_mean @ p,
        "MDBU": dev_best.mean(axis=1),
        "MDBW": dev_best @ p,
    }
    out["COV"] = out["BGSD"] / mu * 100
    out["IDISU"] = out["MDMU"] / mu * 100
    out["IDISW"] = out["MDMW"] / mu * 100
    if ref is not None:
        dev_ref = np.abs(values - ref[:, None])
        out["MDRU"], out["MDRW"] = dev_ref.mean(axis=1), dev_ref @ p
    return out


def _draw(groups: Groups, draws: int, seed: int, max_rounds: int = 1000) -> np.ndarray:
    """N(y, σ) draws, each redrawn until inside [0, 100] (percent) or ≥ 0 (other scales).

    Values still outside after `max_rounds` (only possible for an estimate far outside the
    range, e.g. admin coverage above 100 % with a tiny SE) are clipped to the bound.
    """
    rng = np.random.default_rng(seed)
    upper = 100.0 if groups.scale == 100 else np.inf
    values = rng.normal(groups.y, groups.se, size=(draws, groups.n))
    for _ in range(max_rounds):
        bad = (values < 0) | (values > upper)
        if not bad.any():
            break
        values[bad] = rng.normal(np.broadcast_to(groups.y, values.shape)[bad],
                                 np.broadcast_to(groups.se, values.shape)[bad])
    return np.clip(values, 0.0, upper)


def _best_of(values: np.ndarray, favourable: bool) -> np.ndarray:
    return values.max(axis=1) if favourable else values.min(axis=1)


def _simulated(groups: Groups, *, draws: int, seed: int) -> dict[str, Result]:
    """BGSD, COV, MD*, IDIS*: point estimate from the data, interval = 2.5th-97.5th
    percentiles of the measure over the draws ("best" and μ recomputed in each draw)."""
    point_values = groups.y[None, :]
    ref_col = None if groups.ref is None else point_values[:, groups.ref]
    point = _spread(point_values, groups.p, _best_of(point_values, groups.favourable), ref_col)
    best_name, ref_name = groups.names[groups.best()], None
    if groups.ref is not None:
        ref_name = groups.names[groups.ref]
    names = {"MDBU": best_name, "MDBW": best_name, "MDRU": ref_name, "MDRW": ref_name}
    results = {
        m: Result(m, float(v[0]), subgroup_a=names.get(m), status=NO_SE)
        for m, v in point.items()
    }
    if not groups.has_se:
        return results
    values = _draw(groups, draws, seed)
    ref_draws = None if groups.ref is None else values[:, groups.ref]
    with np.errstate(divide="ignore", invalid="ignore"):
        simulated = _spread(values, groups.p, _best_of(values, groups.favourable), ref_draws)
    for m, sims in simulated.items():
        low, high = np.nanquantile(sims, [0.025, 0.975])
        results[m] = replace(results[m], ci_lower=float(low), ci_upper=float(high), status=OK)
    return results
