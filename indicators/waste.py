"""Health-care waste per facility-month: the JMP service ladder and its sub-indicators.

The classification follows reference/climate.md §1.2 exactly:
- `seg_ok`  = W1 is "three labelled bins" (`three_bins`);
- `trt_ok`  = sharps (W2) and infectious (W3) waste both go to a method of the safe set;
- basic = seg_ok AND trt_ok; no service = no bins AND NOT trt_ok; limited = every other
  facility (the JMP wording, not Akvo's "no bins" alone).

Safe set: the HHFA disposal options mapped to the JMP safe options as §1.4 proposes, plus
the autoclave option added for Iraq. `never` ("never has this waste") takes that stream out
of the judgement (§1.4: "leave out of the denominator"): a facility that never has sharps
waste is judged on its infectious waste alone. A facility that has neither stream cannot be
judged on treatment and gets no level. An empty answer is "not reported": any empty W1-W3
answer leaves the facility without a level (out of the ladder's denominator), never "no".
"""

from __future__ import annotations

import polars as pl

NEVER = "never"
SAFE_DISPOSAL = (
    "autoclave",  # added option: treated on site by autoclave / non-burn technology
    "incinerator_two_chamber",
    "incinerator_single_chamber",  # JMP "incinerated (other)"; environmentally poor
    "open_burning_protected",  # JMP "burning in a protected pit"
    "dump_protected",  # [A] treated as a lined, protected pit
    "offsite_covered",  # collected for off-site medical-waste treatment
    "offsite_protected",
)
UNSAFE_DISPOSAL = (  # not safe (other options: offsite_unprotected, other)
    "open_burning_unprotected",
    "dump_unprotected",
    "dump_covered_pit",  # [A] covered pit or latrine: not lined and protected
    "dump_open_pit",
)  # open burning without protection and every unsafe dumping: the `open_burning` alert
STREAMS = ("sharps_disposal", "infectious_disposal")


def segregation_ok() -> pl.Expr:
    """JMP `wman_seg` (W4): three labelled bins; empty when W1 was not answered."""
    return (pl.col("bins") == "three_bins").alias("segregation_ok")


def _judged(stream: str) -> pl.Expr:
    return pl.col(stream) != NEVER


def treatment_ok() -> pl.Expr:
    """JMP `wman_trd` (W5): every stream the facility has goes to a safe method.

    Empty when either answer is missing, or when both are `never` (nothing to judge)."""
    sharps, infectious = (pl.col(s) for s in STREAMS)
    safe = [pl.col(s).is_in(list(SAFE_DISPOSAL)) | ~_judged(s) for s in STREAMS]
    nothing_judged = ~_judged(STREAMS[0]) & ~_judged(STREAMS[1])
    return (
        pl.when(sharps.is_null() | infectious.is_null() | nothing_judged).then(None)
        .otherwise(safe[0] & safe[1])
        .alias("treatment_ok")
    )  # fmt: skip


def hcwm_level(seg_ok: pl.Expr, trt_ok: pl.Expr) -> pl.Expr:
    """basic / limited / none (HCWM_LEVELS) from the two JMP conditions and W1."""
    return (
        pl.when(seg_ok.is_null() | trt_ok.is_null()).then(None)
        .when(seg_ok & trt_ok).then(pl.lit("basic"))
        .when((pl.col("bins") == "no_bins") & ~trt_ok).then(pl.lit("none"))
        .otherwise(pl.lit("limited"))
        .alias("hcwm_level")
    )  # fmt: skip


def unsafe_disposal() -> pl.Expr:
    """Open burning without protection or unsafe dumping of sharps or infectious waste.

    True as soon as one answer is unsafe; False only when both were answered (an empty
    answer might hide it); empty otherwise."""
    unsafe = [pl.col(s).is_in(list(UNSAFE_DISPOSAL)) for s in STREAMS]
    answered = pl.col(STREAMS[0]).is_not_null() & pl.col(STREAMS[1]).is_not_null()
    return (
        pl.when(unsafe[0].fill_null(False) | unsafe[1].fill_null(False)).then(True)
        .when(answered).then(False)
        .alias("unsafe_disposal")
    )  # fmt: skip


def derived() -> list[pl.Expr]:
    """The waste columns of `facility_data.DERIVED`, in one `with_columns` pass."""
    seg, trt = segregation_ok(), treatment_ok()
    return [seg, trt, hcwm_level(seg, trt), unsafe_disposal()]
