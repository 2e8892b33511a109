"""Small-cell suppression (spec/indicators.md "Confidence, reliability and disclosure").

Primary: a numerator or denominator of 1..SUPPRESS_MAX hides the row's numerator (and its
denominator when that is the small count). Zero is shown; negative counts (drop-out
numerators) are never small.

Complementary: the cube is seen as cells (each row has a numerator cell and a denominator
cell) tied by additive groups, e.g. the `sex=all` numerator and its F/M/U numerators. A
group with exactly one hidden cell gives that cell away by subtraction, so one more cell
of the group is hidden. The same holds for a group whose hidden cells are all
denominators of 1 under a published total: a row exists only for a denominator of at
least 1, so a total minus its published parts of 2 says that both hidden denominators
are 1. This repeats until no group is open. Hiding a denominator always hides its row's
numerator too (the row is then `suppressed` as a whole). A row missing from the cube
(denominator 0) is a known zero, so it is no member of any group.

Which cell a group gives up decides how far the cascade goes. Small categories (sex U,
disability unknown, quarters, small districts) make primary cells in nearly every table,
and the old rule, the smallest count first, let each line pick a different partner, each
of which opened new groups elsewhere, up to national F and M rows. A group now gives up:
1. the least valuable row: district before governorate before Iraq, sex U before F/M
   before `all`, disability unknown before yes/no before `all`, quarter before year
   (`_worth`). A cell that a two-member group ties to another (a governorate with one
   district: hiding either hides both) counts as the more valuable of the two;
2. a part before the total;
3. the smallest category along the group's dimension, sized over the whole cube (the sex,
   disability, org unit or period with the fewest children): every line of a table then
   gives up the same category, so the hidden cells close into rectangles (the idea of the
   hypercube method) instead of opening new groups. Identity relations, whose members
   are different indicators, give up the smallest count;
4. the first by key (indicator, period, level, org unit, sex, disability; numerator
   before denominator).
Tried on the demo registry and dropped: a bonus for a cell whose hiding also closes
another open group (it hid more, as it breaks the alignment of 3), and serving the finest
groups first (no gain once 3 aligns the choices).

Group types:
- `sex`, `disability`, `geography`: the spec's margins (same indicator and period).
- `period`: a year cohort and its quarters (and DHIS2 months), which add up the same way.
- `identity`: counts that other indicators of the catalogue determine exactly, e.g.
  zero-dose = eligible - Penta1, drop-out = Penta1 - Penta3, and the denominators that
  several indicators share (see `identity_relations`).
The last two go beyond the spec's wording but close the same subtraction attack; pass
`groups=SPEC_GROUPS` for the spec's three only.

The guarantee is per group and assumes that a reader cannot tell hidden cells apart:
`publish`'s `suppression` reason breaks that if shown publicly (see there).

Groups are built with polars over integer-coded keys; the fixpoint runs on numpy arrays.
Each round serves all open groups of one type (the lowest first) and then queues only
the groups its new hidden cells touched, so a round costs what it changes, not the cube.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
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
_MAX_TYPES = 64  # margin types plus identity relations, for the width of the group keys
_MEMBERS = {"_gid": pl.Int64, "_cell": pl.Int64, "_total": pl.Boolean, "_type": pl.Int64,
            "_rank": pl.Int64}
_SIZE_OF = {"sex": "sex", "disability": "disability", "geography": "org_unit",
            "year_quarter": "period", "quarter_month": "period", "year_month": "period"}


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
    if math.prod(radix.values()) >= 2**62 // _MAX_TYPES:
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
    """Row-level members (_gid, _row, _total, _rank) of one margin type; the rank is the
    size of the member's category along the group's dimension (module docstring, 3)."""
    key = partial(_key, radix, _TYPE[name])
    rank = pl.col(f"_size_{_SIZE_OF[name]}").alias("_rank")

    def members(frame: pl.DataFrame, gid: pl.Expr, total: bool | pl.Expr) -> pl.DataFrame:
        total = total if isinstance(total, pl.Expr) else pl.lit(total)
        return frame.select(gid.alias("_gid"), "_row", total.alias("_total"), rank)

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
    - coverage and zero-dose indicators of one age share their denominator (the children
      eligible at that age, `cohort._terms`), so each one's equals the first one's.
    - administrative dropout against administrative coverage of its two doses, as above
      (their denominators are population targets, never small).
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
    admin = {i.doses: i.code for i in present if i.kind == "admin_coverage"}
    for i in present:  # the same two relations for DHIS2 dose sums (indicators.admin)
        first, last = admin.get(i.doses[:1]), admin.get(i.doses[-1:])
        if i.kind == "admin_dropout" and first:
            relations.append([(i.code, DEN, False), (first, NUM, False)])
            if last:
                relations.append([(i.code, NUM, False), (last, NUM, False), (first, NUM, True)])
    eligible: dict[int, list[str]] = defaultdict(list)
    for i in present:
        if i.kind in ("coverage", "zero_dose"):
            eligible[i.age_months].append(i.code)
    for first, *others in eligible.values():
        relations += [[(code, DEN, False), (first, DEN, True)] for code in others]
    return relations


def _identity_groups(rows: pl.DataFrame, radix: dict[str, int]) -> pl.DataFrame:
    """Cell-level members (_gid, _cell, _total, _rank) of each relation, where all its rows
    exist (a missing drop-out row hides an unknown numerator, not a zero); the rank is the
    count itself, as the members are different indicators."""
    frames = []
    relations = identity_relations(set(rows["indicator"].unique()))
    if _IDENTITY_TYPE + len(relations) > _MAX_TYPES:
        raise ValueError("too many identity relations for 64-bit group keys")
    for number, relation in enumerate(relations):
        gid = _key(radix, _IDENTITY_TYPE + number, _ind=0) * 2
        group_type = pl.lit(_IDENTITY_TYPE + number, pl.Int64).alias("_type")
        members = pl.concat([
            rows.filter(pl.col("indicator") == code).select(
                gid.alias("_gid"), (2 * pl.col("_row") + layer).alias("_cell"),
                pl.lit(total).alias("_total"), group_type,
                pl.col(("numerator", "denominator")[layer]).abs().fill_null(0)
                .cast(pl.Int64).alias("_rank"),
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
    coded, radix = _encode(_with_category_sizes(rows))
    names = [n for n in ("sex", "disability", "geography") if n in groups]
    if "period" in groups:
        names += ["year_quarter", "quarter_month", "year_month"]
    frames = [
        _row_groups(coded, radix, name).select(
            (pl.col("_gid") * 2 + layer).alias("_gid"),
            (2 * pl.col("_row") + layer).alias("_cell"),
            "_total",
            pl.lit(_TYPE[name], pl.Int64).alias("_type"),
            pl.col("_rank").cast(pl.Int64),
        )
        for name in names
        for layer in (NUM, DEN)
    ]
    if "identity" in groups:
        frames.append(_identity_groups(coded, radix))
    return pl.concat(frames) if frames else pl.DataFrame(schema=_MEMBERS)


def _with_category_sizes(rows: pl.DataFrame) -> pl.DataFrame:
    """Per row, the children (summed denominators) of its sex, disability, org unit and
    period over the whole cube: one size per category, so every group ranks alike."""
    return rows.with_columns(
        pl.col("denominator").fill_null(0).sum().over(column).cast(pl.Int64)
        .alias(f"_size_{column}")
        for column in sorted(set(_SIZE_OF.values()))
    )


# ---- choice order ---------------------------------------------------------------------------

def _worth(rows: pl.DataFrame) -> np.ndarray:
    """Per row, its value to users: 0 (district, sex U, disability unknown, month) to 8 (Iraq,
    all, all, year); each dimension adds 0 for its finest or unknown category, 1 for the
    middle ones and 2 for its total."""
    def rank(column: str, middle: list[str]) -> pl.Expr:
        value = pl.col(column)
        return pl.when(value == ALL).then(2).when(value.is_in(middle)).then(1).otherwise(0)

    period = pl.col("period")
    period_rank = (pl.when(period.str.contains(r"^\d{4}$")).then(2)
                   .when(period.str.contains(r"^\d{4}Q[1-4]$")).then(1).otherwise(0))
    geography_rank = 2 - pl.col("org_unit_level").cast(pl.Int64)
    worth = geography_rank + rank("sex", ["F", "M"]) + rank("disability", ["yes", "no"])
    return rows.select(worth + period_rank).to_series().to_numpy().astype(np.int64)


def _tied_worth(groups: _Groups, worth: np.ndarray) -> np.ndarray:
    """Per cell, the worth of its row raised to that of the cell a two-member group ties it
    to (hiding either hides both: a governorate with one district, a year with one quarter,
    drop-out denominator = Penta1 numerator), and for a denominator to its numerator's."""
    pairs = groups.starts[groups.ends - groups.starts == 2]
    first, second = groups.cell[pairs], groups.cell[pairs + 1]
    cells = np.repeat(worth, 2)
    tied = cells.copy()
    np.maximum.at(tied, first, cells[second])
    np.maximum.at(tied, second, cells[first])
    tied[1::2] = np.maximum(tied[1::2], tied[0::2])
    return tied


# ---- fixpoint -------------------------------------------------------------------------------

@dataclass
class _Groups:
    """Members as numpy arrays, grouped: group g holds positions starts[g]..ends[g]-1, in
    the order the group gives its cells up."""

    cell: np.ndarray
    gid: np.ndarray  # dense group number per position
    total: np.ndarray
    kind: np.ndarray  # per position: the group's type
    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def of(cls, members: pl.DataFrame, worth: np.ndarray) -> _Groups:
        """Sorted by group, then in each group in the order it gives cells up (module
        docstring): the static keys in one sort, then the tied worth, which needs the
        groups, in a second (stable, so it keeps the first sort's order among equals)."""
        ordered = members.sort("_gid", "_total", "_rank", "_cell")
        raw = ordered["_gid"].to_numpy()
        gid = np.cumsum(np.r_[False, raw[1:] != raw[:-1]])
        starts = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]])
        groups = cls(ordered["_cell"].to_numpy(), gid, ordered["_total"].to_numpy(),
                     ordered["_type"].to_numpy(), starts, np.r_[starts[1:], gid.size])
        tied = _tied_worth(groups, worth)[groups.cell]
        order = np.argsort(gid * (tied.max() + 1) + tied, kind="stable")
        groups.cell, groups.total = groups.cell[order], groups.total[order]
        return groups


def _ranges(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated positions start..end-1 of several ranges, and each one's range number."""
    lengths = ends - starts
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(lengths.sum()), np.repeat(np.arange(len(starts)), lengths)


def _complete(
    members: pl.DataFrame, worth: np.ndarray, values: np.ndarray, hidden: np.ndarray
) -> np.ndarray:
    """Hide cells until no group is open (monotone, so it terminates): none holds exactly one
    hidden cell, nor only hidden denominators of 1 under a published total (`_floored`).

    Each round serves the open groups of one type only (the lowest), all at once: groups
    of one type hardly overlap, so this hides what a one-group-at-a-time pass would, while
    serving every type at once would often pick two cells where one satisfies both groups.
    """
    if members.is_empty():
        return hidden
    groups = _Groups.of(members, worth)
    cell, gid, kind = groups.cell, groups.gid, groups.kind[groups.starts]
    by_cell = np.argsort(cell, kind="stable")
    cell_starts = np.searchsorted(cell[by_cell], np.arange(hidden.size))
    cell_ends = np.searchsorted(cell[by_cell], np.arange(hidden.size), side="right")
    counts = np.bincount(gid, weights=hidden[cell], minlength=kind.size).astype(np.int64)
    floored = _floored(groups, values, hidden, counts)
    queues: dict[int, list[np.ndarray]] = defaultdict(list)  # per type: groups to look at
    _enqueue(queues, np.flatnonzero((counts == 1) | floored), kind)
    while queues:
        batch = np.unique(np.concatenate(queues.pop(min(queues))))
        new = _picks(groups, batch[(counts[batch] == 1) | floored[batch]], hidden)
        if new.size:
            hidden[new] = True
            touched_positions, _ = _ranges(cell_starts[new], cell_ends[new])
            touched = gid[by_cell[touched_positions]]
            np.add.at(counts, touched, 1)
            floored[touched] = False  # a new hidden cell is never a denominator of 1
            _enqueue(queues, touched[counts[touched] == 1], kind)
    return hidden


def _floored(groups: _Groups, values: np.ndarray, hidden: np.ndarray, counts: np.ndarray
             ) -> np.ndarray:
    """Groups whose hidden cells are all parts and denominators of 1: a row exists only for
    a denominator of at least 1, so if the total minus the published parts is 2, two
    hidden denominators are 1 each. Any further hidden cell (a count of 5 or more, or a
    numerator) frees the group. Numerators have no such floor: hidden numerators that sum
    to 0 only give away zeros."""
    cell = groups.cell
    margin = groups.kind < _IDENTITY_TYPE
    floor = (cell % 2 == DEN) & ~groups.total & (values[cell] == 1) & margin
    loose = np.bincount(groups.gid, weights=hidden[cell] & ~floor, minlength=counts.size)
    return (counts >= 2) & (loose == 0)


def _enqueue(queues: dict[int, list[np.ndarray]], groups: np.ndarray, kind: np.ndarray) -> None:
    """Queue groups under their type (a loop over the few types, not over groups)."""
    for group_type in np.unique(kind[groups]).tolist():
        queues[group_type].append(groups[kind[groups] == group_type])


def _picks(groups: _Groups, batch: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """The first open cell of each group of the batch, plus the numerator of a picked
    denominator's row, as new (not yet hidden) cells."""
    positions, labels = _ranges(groups.starts[batch], groups.ends[batch])
    open_ = ~hidden[groups.cell[positions]]
    positions, labels = positions[open_], labels[open_]
    first = np.r_[True, labels[1:] != labels[:-1]] if labels.size else labels.astype(bool)
    picks = groups.cell[positions[first]]
    new = np.unique(np.concatenate([picks, picks - picks % 2]))
    return new[~hidden[new]]


def suppress(cube: pl.DataFrame, *, groups: Collection[str] = DEFAULT_GROUPS) -> pl.DataFrame:
    """The cube with bool columns `num_hidden` and `den_hidden` (same rows, same order).

    `num_hidden` is the row's `suppressed` flag; `den_hidden` implies `num_hidden`.
    """
    rows = cube.with_row_index("_input").sort(ORDER).with_row_index("_row")
    rows = rows.with_columns(pl.col("_row").cast(pl.Int64))
    den_small = is_small(pl.col("denominator"))
    primary = rows.select(is_small(pl.col("numerator")) | den_small, den_small).to_numpy()
    hidden = primary.astype(bool).ravel()  # row-major: num, den, num, den, ...
    values = rows.select(pl.col("numerator", "denominator").fill_null(0)).to_numpy().ravel()
    hidden = _complete(_memberships(rows, groups), _worth(rows), values, hidden)
    return (
        rows.with_columns(
            num_hidden=pl.Series(hidden[0::2]), den_hidden=pl.Series(hidden[1::2])
        )
        .sort("_input")
        .drop("_input", "_row")
    )
