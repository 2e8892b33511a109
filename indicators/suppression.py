"""Small-cell suppression (spec/indicators.md "Confidence, reliability and disclosure").

Primary: a numerator or denominator of 1..SUPPRESS_MAX hides the row's numerator (and its
denominator when that is the small count). Zero is shown; negative counts (drop-out
numerators) are never small.

Complementary: the cube is seen as cells (each row has a numerator cell and a denominator
cell) tied by additive groups, e.g. the `sex=all` numerator and its F/M/U numerators. A
group with exactly one hidden cell gives that cell away by subtraction, so one more cell
of the group is hidden, the cheapest first: a part before the total, then a non-zero count
before a zero, the smallest count first, then the first by key (indicator, period, level,
org unit, sex, disability; numerator before denominator). This repeats until no group
has exactly one hidden cell. Hiding a denominator always hides its row's numerator too
(the row is then `suppressed` as a whole). A row missing from the cube (denominator 0)
is a known zero, so it is no member of any group.

Group types:
- `sex`, `disability`, `geography`: the spec's margins (same indicator and period).
- `period`: a year cohort and its quarters (and DHIS2 months), which add up the same way.
- `identity`: counts that other indicators of the catalogue determine exactly, e.g.
  zero-dose = eligible - Penta1 and drop-out = Penta1 - Penta3 (see `identity_relations`).
The last two go beyond the spec's wording but close the same subtraction attack; pass
`groups=SPEC_GROUPS` for the spec's three only.

Groups are built with polars over integer-coded keys; the fixpoint runs on numpy arrays.
Each round serves all pending groups of one type (the lowest first) and then queues only
the groups its new hidden cells touched, so a round costs what it changes, not the cube.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection
from functools import partial

import numpy as np
import polars as pl

from indicators import catalogue, config, geography

ALL = "all"
SPEC_GROUPS = ("sex", "disability", "geography")
DEFAULT_GROUPS = (*SPEC_GROUPS, "period", "identity")
NUM, DEN = 0, 1  # cell layer: cell id = 2 * row + layer
ORDER = ["indicator", "period", "org_unit_level", "org_unit", "sex", "disability"]
_DIMENSIONS = ("_ind", "_per", "_unit", "_sex", "_dis")
_TYPE = {"sex": 0, "disability": 1, "geography": 2, "year_quarter": 3, "quarter_month": 4,
         "year_month": 5}
_IDENTITY_TYPE = 6  # + the relation's number
_MEMBERS = {"_gid": pl.Int64, "_cell": pl.Int64, "_total": pl.Boolean, "_type": pl.Int64}


def is_small(count: pl.Expr) -> pl.Expr:
    """A count that must not be published: 1..SUPPRESS_MAX (zero and negatives are shown)."""
    return ((count > 0) & (count <= config.SUPPRESS_MAX)).fill_null(False)


# ---- integer-coded keys ---------------------------------------------------------------------

def _code(column: str, dictionary: pl.Series) -> pl.Expr:
    categories = dictionary.drop_nulls().unique().sort()
    return pl.col(column).cast(pl.Enum(categories)).to_physical().cast(pl.Int64)


def _encode(rows: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int]]:
    """Integer codes of every key (and of each row's parent unit and period) plus radices."""
    period = pl.col("period")
    derived = rows.with_columns(
        pl.when(period.str.contains(r"^\d{4}(Q[1-4]|\d\d)$")).then(period.str.slice(0, 4))
        .alias("_year_s"),
        pl.when(period.str.contains(r"^\d{6}$")).then(
            period.str.slice(0, 4) + "Q"
            + ((period.str.slice(4, 2).cast(pl.Int32, strict=False) + 2) // 3).cast(pl.String)
        ).alias("_quarter_s"),
        pl.when(pl.col("org_unit_level") == 1).then(pl.lit(geography.NATIONAL))
        .when(pl.col("org_unit_level") == 2).then(pl.col("adm1_code"))
        .alias("_parent_s"),
    )
    periods = pl.concat([derived[c] for c in ("period", "_year_s", "_quarter_s")])
    units = pl.concat([derived["org_unit"], derived["_parent_s"]])
    dictionaries = {
        "_ind": ("indicator", derived["indicator"]), "_per": ("period", periods),
        "_unit": ("org_unit", units), "_sex": ("sex", derived["sex"]),
        "_dis": ("disability", derived["disability"]), "_year": ("_year_s", periods),
        "_quarter": ("_quarter_s", periods), "_parent": ("_parent_s", units),
    }
    coded = derived.with_columns(
        _code(column, values).alias(name) for name, (column, values) in dictionaries.items()
    ).with_columns(
        period.str.contains(r"^\d{4}$").alias("_is_year"),
        period.str.contains(r"^\d{4}Q[1-4]$").alias("_is_quarter"),
        period.str.contains(r"^\d{6}$").alias("_is_month"),
    )
    radix = {name: max(1, dictionaries[name][1].n_unique()) for name in _DIMENSIONS}
    if math.prod(radix.values()) >= 2**62 // (4 * _IDENTITY_TYPE + 4 * len(_TYPE) + 64):
        raise ValueError("cube too wide for 64-bit group keys")
    return coded, radix


def _key(radix: dict[str, int], group_type: int, **slots: pl.Expr | int) -> pl.Expr:
    """One Int64 per (group type, indicator, period, unit, sex, disability); a slot that
    the group sums over is 0, a parent's slot holds the parent's code."""
    key = pl.lit(group_type, pl.Int64)
    for name in _DIMENSIONS:
        value = slots.get(name, pl.col(name))
        key = key * radix[name] + (value if isinstance(value, pl.Expr) else pl.lit(value))
    return key


# ---- groups ---------------------------------------------------------------------------------

def _row_groups(rows: pl.DataFrame, radix: dict[str, int], name: str) -> pl.DataFrame:
    """Row-level members (_gid, _row, _total) of one margin type."""
    key = partial(_key, radix, _TYPE[name])

    def members(frame: pl.DataFrame, gid: pl.Expr, total: bool | pl.Expr) -> pl.DataFrame:
        total = total if isinstance(total, pl.Expr) else pl.lit(total)
        return frame.select(gid.alias("_gid"), "_row", total.alias("_total"))

    if name == "sex":
        return members(rows, key(_sex=0), pl.col("sex") == ALL)
    if name == "disability":
        return members(rows, key(_dis=0), pl.col("disability") == ALL)
    if name == "geography":
        parts = members(rows.filter(pl.col("_parent").is_not_null()), key(_unit=pl.col("_parent")),
                        False)
        return pl.concat([parts, members(rows.filter(pl.col("org_unit_level") <= 1), key(), True)])
    part_filter, parent, total_filter = {
        "year_quarter": ("_is_quarter", "_year", "_is_year"),
        "quarter_month": ("_is_month", "_quarter", "_is_quarter"),
        "year_month": ("_is_month", "_year", "_is_year"),
    }[name]
    parts = members(rows.filter(part_filter), key(_per=pl.col(parent)), False)
    return pl.concat([parts, members(rows.filter(total_filter), key(), True)])


def identity_relations(codes: Collection[str]) -> list[list[tuple[str, int, bool]]]:
    """Exact equations between indicators of the catalogue, as [(code, layer, is_total)].

    - zero_dose Z of one dose d and the coverage C of d at the same age share their
      denominator: Z num + C num = den.
    - dropout D of (f, l): D den = C_f num and D num = C_f num - C_l num.
    """
    present = [i for i in catalogue.indicators() if i.code in codes]
    coverage = {(i.doses, i.age_months): i.code for i in present if i.kind == "coverage"}
    relations = []
    for i in present:
        single = coverage.get((i.doses, i.age_months)) if len(i.doses) == 1 else None
        first = coverage.get((i.doses[:1], i.age_months))
        last = coverage.get((i.doses[-1:], i.age_months))
        if i.kind == "zero_dose" and single:
            relations.append([(i.code, NUM, False), (single, NUM, False), (i.code, DEN, True)])
        if i.kind == "dropout" and first:
            relations.append([(i.code, DEN, False), (first, NUM, False)])
            if last:
                relations.append([(i.code, NUM, False), (last, NUM, False), (first, NUM, True)])
    return relations


def _identity_groups(rows: pl.DataFrame, radix: dict[str, int]) -> pl.DataFrame:
    """Cell-level members (_gid, _cell, _total) of each relation, where all its rows exist
    (a missing drop-out row hides an unknown numerator, not a zero)."""
    frames = []
    relations = identity_relations(set(rows["indicator"].unique()))
    for number, relation in enumerate(relations):
        gid = _key(radix, _IDENTITY_TYPE + number, _ind=0) * 2
        group_type = pl.lit(_IDENTITY_TYPE + number, pl.Int64).alias("_type")
        members = pl.concat([
            rows.filter(pl.col("indicator") == code).select(
                gid.alias("_gid"), (2 * pl.col("_row") + layer).alias("_cell"),
                pl.lit(total).alias("_total"), group_type,
            )
            for code, layer, total in relation
        ])
        frames.append(members.filter(pl.len().over("_gid") == len(relation)))
    return pl.concat(frames) if frames else pl.DataFrame(schema=_MEMBERS)


def _memberships(rows: pl.DataFrame, groups: Collection[str]) -> pl.DataFrame:
    """Every (group, cell, is_total); a margin has one group per layer (gid * 2 + layer)."""
    unknown = set(groups) - set(DEFAULT_GROUPS)
    if unknown:
        raise ValueError(f"unknown suppression group types: {sorted(unknown)}")
    coded, radix = _encode(rows)
    names = [n for n in ("sex", "disability", "geography") if n in groups]
    if "period" in groups:
        names += ["year_quarter", "quarter_month", "year_month"]
    frames = [
        _row_groups(coded, radix, name).select(
            (pl.col("_gid") * 2 + layer).alias("_gid"),
            (2 * pl.col("_row") + layer).alias("_cell"),
            "_total",
            pl.lit(_TYPE[name], pl.Int64).alias("_type"),
        )
        for name in names
        for layer in (NUM, DEN)
    ]
    if "identity" in groups:
        frames.append(_identity_groups(coded, radix))
    return pl.concat(frames) if frames else pl.DataFrame(schema=_MEMBERS)


# ---- fixpoint -------------------------------------------------------------------------------
import os
VARIANT = os.environ.get("SUPP_VARIANT", "base")
ORDER_MODE = os.environ.get("SUPP_ORDER", "type")

def _ranges(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated positions start..end-1 of several ranges, and each one's range number."""
    lengths = ends - starts
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(lengths.sum()), np.repeat(np.arange(len(starts)), lengths)


class _State:
    pass


def _complete(members, values, hidden, importance, tier):
    if members.is_empty():
        return hidden
    value = pl.Series("_value", values[members["_cell"].to_numpy()])
    ordered = members.with_columns(value).sort("_gid", "_cell")
    s = _State()
    s.cell = ordered["_cell"].to_numpy()
    raw = ordered["_gid"].to_numpy()
    s.total = ordered["_total"].to_numpy()
    s.gid = np.cumsum(np.r_[False, raw[1:] != raw[:-1]])
    s.starts = np.flatnonzero(np.r_[True, s.gid[1:] != s.gid[:-1]])
    s.ends = np.r_[s.starts[1:], s.gid.size]
    kind = ordered["_type"].to_numpy()[s.starts]
    if ORDER_MODE == "tier":
        gtier = np.zeros(s.starts.size, dtype=np.int64)
        np.maximum.at(gtier, s.gid, tier[s.cell])  # coarsest member... use min over parts?
        kind = gtier * 100 + kind
    s.kind = kind
    s.by_cell = np.argsort(s.cell, kind="stable")
    s.cell_starts = np.searchsorted(s.cell[s.by_cell], np.arange(hidden.size))
    s.cell_ends = np.searchsorted(s.cell[s.by_cell], np.arange(hidden.size), side="right")
    s.counts = np.bincount(s.gid, weights=hidden[s.cell], minlength=s.starts.size).astype(np.int64)
    s.margin = s.kind % 100 < _IDENTITY_TYPE
    s.values = values
    s.importance = importance
    s.sizes = SIZES
    queues = defaultdict(list)
    _enqueue(queues, np.flatnonzero(s.counts == 1), kind)
    rounds = 0
    while queues:
        rounds += 1
        batch = np.unique(np.concatenate(queues.pop(min(queues))))
        new = _picks(batch[s.counts[batch] == 1], s, hidden)
        if new.size:
            hidden[new] = True
            touched_positions, _ = _ranges(s.cell_starts[new], s.cell_ends[new])
            touched = s.gid[s.by_cell[touched_positions]]
            np.add.at(s.counts, touched, 1)
            _enqueue(queues, touched[s.counts[touched] == 1], kind)
    if os.environ.get("SUPP_DEBUG"):
        print("rounds", rounds)
    return hidden


def _enqueue(queues, groups, kind) -> None:
    for group_type in np.unique(kind[groups]).tolist():
        queues[group_type].append(groups[kind[groups] == group_type])


def _picks(batch, s, hidden):
    positions, labels = _ranges(s.starts[batch], s.ends[batch])
    cand = s.cell[positions]
    open_ = ~hidden[cand]
    positions, labels, cand = positions[open_], labels[open_], cand[open_]
    total = s.total[positions]
    val = s.values[cand]
    if VARIANT == "base":
        keys = (cand, np.abs(val), val == 0, total, labels)
    else:
        gpos, owner = _ranges(s.cell_starts[cand], s.cell_ends[cand])
        g = s.gid[s.by_cell[gpos]]
        c = s.counts[g]
        m = s.margin[g]
        fixes = np.bincount(owner, weights=(c == 1) & m, minlength=cand.size)
        breaks = np.bincount(owner, weights=(c == 0) & m, minlength=cand.size)
        imp = s.importance[cand]
        if VARIANT == "imp":
            keys = (cand, np.abs(val), val == 0, imp, total, labels)
        elif VARIANT == "fix_imp":
            keys = (cand, np.abs(val), val == 0, imp, -fixes, labels)
        elif VARIANT == "net_imp":
            keys = (cand, np.abs(val), val == 0, imp, breaks - fixes, labels)
        elif VARIANT == "imp_net":
            keys = (cand, np.abs(val), val == 0, breaks - fixes, imp, labels)
        elif VARIANT == "sum":
            keys = (cand, np.abs(val), val == 0, imp + 2 * (breaks - fixes), labels)
        elif VARIANT == "sum1":
            keys = (cand, np.abs(val), val == 0, imp + (breaks - fixes), labels)
        elif VARIANT.startswith("cat"):
            t = s.kind[batch][labels] % 100
            dim = np.minimum(t, 3)
            size = np.where(t >= _IDENTITY_TYPE, np.abs(val), s.sizes[dim, cand // 2])
            if VARIANT == "cat":
                keys = (cand, size, total, labels)
            elif VARIANT == "cat_zero":
                keys = (cand, size, total, val == 0, labels)
            elif VARIANT == "cat_fix":
                keys = (cand, size, total, -fixes, labels)
            elif VARIANT == "cat_fix2":
                keys = (cand, size, -fixes, total, labels)
            elif VARIANT == "cat_imp":
                keys = (cand, size, imp, total, labels)
            elif VARIANT == "cat_net":
                keys = (cand, size, total, breaks - fixes, labels)
        elif VARIANT == "fix_total":
            keys = (cand, np.abs(val), val == 0, imp, total, -fixes, labels)
    order = np.lexsort(keys)
    lab = labels[order]
    first = np.r_[True, lab[1:] != lab[:-1]] if lab.size else lab.astype(bool)
    picks = cand[order][first]
    new = np.unique(np.concatenate([picks, picks - picks % 2]))
    return new[~hidden[new]]


SIZES = None

def _sizes(rows):
    out = []
    for col in ("sex", "disability", "org_unit", "period"):
        size = rows.group_by(col).agg(pl.col("denominator").sum().alias("_s"))
        out.append(rows.select(col).join(size, on=col, how="left", maintain_order="left")["_s"].to_numpy())
    return np.stack(out)


def _importance(rows: pl.DataFrame) -> np.ndarray:
    global SIZES
    SIZES = _sizes(rows)
    period = pl.col("period")
    per = (pl.when(period.str.contains(r"^\d{4}$")).then(2)
           .when(period.str.contains(r"^\d{4}Q[1-4]$")).then(1).otherwise(0))
    rank = lambda c, top, mid: pl.when(pl.col(c) == top).then(2).when(pl.col(c).is_in(mid)).then(1).otherwise(0)
    geo = 2 - pl.col("org_unit_level").cast(pl.Int64)
    imp = rows.select(geo + rank("sex", "all", ["F", "M"]) + rank("disability", "all", ["yes", "no"]) + per).to_series().to_numpy()
    tierexpr = rows.select((pl.col("org_unit_level").cast(pl.Int64)*0 + geo) * 3 + per).to_series().to_numpy()
    return np.repeat(imp, 2).astype(np.int64), np.repeat(tierexpr, 2).astype(np.int64)


def suppress(cube: pl.DataFrame, *, groups: Collection[str] = DEFAULT_GROUPS) -> pl.DataFrame:
    """The cube with bool columns `num_hidden` and `den_hidden` (same rows, same order).

    `num_hidden` is the row's `suppressed` flag; `den_hidden` implies `num_hidden`.
    """
    rows = cube.with_row_index("_input").sort(ORDER).with_row_index("_row")
    rows = rows.with_columns(pl.col("_row").cast(pl.Int64))
    den_small = is_small(pl.col("denominator"))
    primary = rows.select(is_small(pl.col("numerator")) | den_small, den_small).to_numpy()
    hidden = primary.astype(bool).ravel()  # row-major: num, den, num, den, ...
    values = rows.select(
        pl.col("numerator", "denominator").cast(pl.Float64).fill_null(0.0)
    ).to_numpy().ravel()
    members = _memberships(rows, groups)
    importance, tier = _importance(rows)
    hidden = _complete(members, values, hidden, importance, tier)
    return (
        rows.with_columns(
            num_hidden=pl.Series(hidden[0::2]), den_hidden=pl.Series(hidden[1::2])
        )
        .sort("_input")
        .drop("_input", "_row")
    )
