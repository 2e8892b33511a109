"""Words and tables of the Equity page: subgroup labels, measure names, captions, tables.

Pure functions of the frames `indicators.equity_views` returns (no queries, no Dash
callbacks), so captions are unit-tested on hand-made rows. Every string goes through `t`;
values follow `dashboard.display` (a hidden value is never printed, caution values are in
parentheses).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import wraps

import polars as pl
from dash import html

from dashboard import components as ui
from dashboard import display, i18n, selection
from dashboard.i18n import t
from indicators import config
from indicators import equity_measures as em
from indicators import equity_views as ev

ABSOLUTE = ("D", "SII", "ACI", "PAR", "BGSD", "MDMU", "MDMW", "MDBU", "MDBW", "MDRU", "MDRW")
RELATIVE_PERCENT = ("PAF", "RCI", "COV", "IDISU", "IDISW")
RATIOS = ("R", "RII")
# Shown first: WHO asks for one absolute and one relative measure together.
MAIN = ("D", "R", "SII", "RII", "ACI", "RCI", "PAR", "PAF")


def dimension_options(restricted: bool) -> list[dict[str, str]]:
    """The dimensions a user may choose (a governorate user has no governorates to compare)."""
    names = {
        ev.SEX: t("Sex"),
        ev.DISABILITY: t("Disability"),
        ev.SEX_DISABILITY: t("Sex × disability"),
        ev.GOVERNORATE: t("Governorate"),
        ev.DISTRICT: t("District"),
        ev.FIFTH: t("District fifths"),
    }
    hidden = {ev.GOVERNORATE} if restricted else set()
    return [{"label": name, "value": code} for code, name in names.items() if code not in hidden]


def _per_language(build: Callable[[], dict]) -> Callable[[], dict]:
    """`build()`, a dict of translated strings, made once per interface language (and
    catalogue): the page looks up a label or a reason for every row it shows, and each `t`
    reads the language setting. Callers must not change the dict."""
    made: dict[str, tuple[dict, dict]] = {}

    @wraps(build)
    def get() -> dict:
        language = config.language()
        messages = i18n.catalogue(language)
        found = made.get(language)
        if found is None or found[0] is not messages:
            found = made[language] = (messages, build())
        return found[1]

    return get


@_per_language
def personal_labels() -> dict[str, tuple[str, str]]:
    """Subgroup key → (label, the same inside a sentence)."""
    return {
        "F": (t("Girls"), t("girls")),
        "M": (t("Boys"), t("boys")),
        "yes": (t("Children with disabilities"), t("children with disabilities")),
        "no": (t("Children without disabilities"), t("children without disabilities")),
        "F:yes": (t("Girls with disabilities"), t("girls with disabilities")),
        "F:no": (t("Girls without disabilities"), t("girls without disabilities")),
        "M:yes": (t("Boys with disabilities"), t("boys with disabilities")),
        "M:no": (t("Boys without disabilities"), t("boys without disabilities")),
    }


def fifth_label(order: int, units: int | None = None) -> str:
    text = t("Fifth {n}").format(n=order)
    if order == 1:
        text = t("Fifth 1 (worst off in the previous cohort)")
    elif order == ev.FIFTHS:
        text = t("Fifth {n} (best off in the previous cohort)").format(n=order)
    if units:
        text += " · " + t("{n} districts").format(n=units)
    return text


def label_of(row: Mapping, dimension: str, sentence: bool = False) -> str:
    """A subgroup's name as the page shows it (org units keep their names)."""
    key = row.get("subgroup")
    labels = personal_labels()
    if dimension in ev.PERSONAL and key in labels:
        return labels[key][1 if sentence else 0]
    if dimension == ev.FIFTH and row.get("order"):
        return fifth_label(int(row["order"]))
    return row.get("label") or key or display.MISSING_TEXT


def with_labels(frame: pl.DataFrame, dimension: str) -> pl.DataFrame:
    """Replace the English `label` by the translated one."""
    labels = [label_of(row, dimension) for row in frame.to_dicts()]
    return frame.with_columns(pl.Series("label", labels, dtype=pl.String))


def status_text(status: str | None) -> str:
    """Why a measure or a gap is not shown, in the reader's words."""
    if status in (None, em.OK):
        return ""
    return _status_texts().get(status, status)


@_per_language
def _status_texts() -> dict[str, str]:
    return {
        em.SUPPRESSED: t("a subgroup is suppressed (small numbers)"),
        ev.LOW_DENOMINATOR: t("a subgroup has fewer than 25 children"),
        em.NO_ESTIMATE: t("a subgroup has no value"),
        em.NO_POPULATION: t("a subgroup has no children"),
        em.TOO_FEW: t("fewer than 2 subgroups have data"),
        em.ALL_ZERO: t("every subgroup is 0"),
        em.ZERO_MEAN: t("the average is 0"),
        em.NEGATIVE: t("a subgroup value is negative"),
        em.OUT_OF_RANGE: t("a subgroup value is outside 0–100"),
        em.NOT_CONVERGED: t("the regression did not converge"),
        em.ZERO_DIVISOR: t("the compared subgroup is 0"),
        em.NO_SE: t("no interval: a subgroup has no standard error"),
        em.ZERO_RATIO: t("no interval: the ratio is not positive"),
        ev.NATIONAL_ONLY: t("governorates are compared at national level (choose Iraq)"),
        ev.NO_PREVIOUS: t("there is no previous cohort to rank the districts by"),
        ev.FEW_DISTRICTS: t("fewer than 5 districts can be ranked"),
        ev.NO_DATA: t("no data for this selection"),
        ev.ONE_COHORT: t("the baseline is the current cohort"),
        ev.BASELINE_ZERO: t("the baseline cohort has no zero-dose children"),
    }


@_per_language
def measure_names() -> dict[str, str]:
    return {
        "D": t("Difference (D), percentage points"),
        "R": t("Ratio (R)"),
        "PAR": t("Population attributable risk (PAR), percentage points"),
        "PAF": t("Population attributable fraction (PAF), %"),
        "ACI": t("Absolute concentration index (ACI)"),
        "RCI": t("Relative concentration index (RCI), %"),
        "SII": t("Slope index of inequality (SII), percentage points"),
        "RII": t("Relative index of inequality (RII)"),
        "BGV": t("Between-group variance (BGV)"),
        "BGSD": t("Between-group standard deviation (BGSD)"),
        "COV": t("Coefficient of variation (COV), %"),
        "MDMU": t("Mean difference from mean, unweighted (MDMU)"),
        "MDMW": t("Mean difference from mean, weighted (MDMW)"),
        "MDBU": t("Mean difference from best, unweighted (MDBU)"),
        "MDBW": t("Mean difference from best, weighted (MDBW)"),
        "MDRU": t("Mean difference from reference, unweighted (MDRU)"),
        "MDRW": t("Mean difference from reference, weighted (MDRW)"),
        "IDISU": t("Index of disparity, unweighted (IDISU), %"),
        "IDISW": t("Index of disparity, weighted (IDISW), %"),
        "TI": t("Theil index (TI) × 1000"),
        "MLD": t("Mean log deviation (MLD) × 1000"),
    }


def one(value: float) -> str:
    """One decimal, without a "-0.0"."""
    return f"{round(value, 1) + 0.0:.1f}"


def measure_number(measure: str, value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return display.MISSING_TEXT
    if measure in RATIOS:
        return f"{value:.2f}"
    if measure in RELATIVE_PERCENT:
        return f"{one(value)}%"
    return one(value) if measure in ABSOLUTE or measure == "BGV" else f"{value:.2f}"


def _compared(row: Mapping, dimension: str) -> str:
    a = label_of({"subgroup": row["subgroup_a"], "label": row.get("label_a")}, dimension)
    if row["measure"] == "D" and row.get("subgroup_b"):
        b = label_of({"subgroup": row["subgroup_b"], "label": row.get("label_b")}, dimension)
        return f"{a} − {b}"
    if row["measure"] == "R" and row.get("subgroup_b"):
        b = label_of({"subgroup": row["subgroup_b"], "label": row.get("label_b")}, dimension)
        return f"{a} / {b}"
    if row["measure"] in ("PAR", "PAF", "MDRU", "MDRW") and row.get("subgroup_a"):
        return t("reference: {name}").format(name=a)
    if row["measure"] in ("MDBU", "MDBW") and row.get("subgroup_a"):
        return t("best: {name}").format(name=a)
    return ""


def measures_table(measures: pl.DataFrame, dimension: str) -> object:
    """Measure, estimate, interval and what is compared: the usual absolute and relative
    measures first, the others folded away; one note when none could be computed."""
    if measures.is_empty():
        return html.P(t("No data for this selection"), className="text-muted mb-0")
    statuses = set(measures["status"])
    if measures["estimate"].null_count() == measures.height and len(statuses) == 1:
        why = status_text(statuses.pop())
        return html.P(t("Not computed: {reason}.").format(reason=why), className="mb-0")
    main = measures.filter(pl.col("measure").is_in(MAIN))
    more = measures.filter(~pl.col("measure").is_in(MAIN))
    parts = [_measure_rows(main, dimension)]
    if not more.is_empty():
        summary = html.Summary(t("More measures ({n})").format(n=more.height), className="small")
        parts.append(html.Details([summary, _measure_rows(more, dimension)], className="mt-2"))
    return html.Div(parts)


def _measure_rows(measures: pl.DataFrame, dimension: str) -> object:
    names = measure_names()
    body = []
    for row in measures.to_dicts():
        interval = ""
        if row["ci_lower"] is not None and row["ci_upper"] is not None:
            low = measure_number(row["measure"], row["ci_lower"])
            interval = f"{low} to {measure_number(row['measure'], row['ci_upper'])}"
        body.append(
            [
                names.get(row["measure"], row["measure"]),
                measure_number(row["measure"], row["estimate"]),
                interval,
                _compared(row, dimension) if row["estimate"] is not None else "",
                status_text(row["status"]),
            ]
        )
    header = [t("Measure"), t("Estimate"), t("95% interval"), t("Compares"), t("Note")]
    return _table(header, body, [False, True, True, False, False])


# ---------------------------------------------------------------- captions


def _value(value: float | None, low: float | None, high: float | None, flags: str | None) -> str:
    """`71.0% (64.0–77.0)`, and a caution note for 25–49 children (tables use parentheses)."""
    text = display.number(value)
    interval = display.interval_text(low, high, False, flags)
    if interval:
        text += f" ({interval})"
    if display.CAUTION in display.flag_list(flags):
        text += " " + t("(caution: 25–49 children)")
    return text


def _side(row: Mapping, side: str) -> dict:
    return {
        "subgroup": row[f"subgroup_{side}"],
        "label": row.get(f"label_{side}"),
        "value": row.get(f"value_{side}"),
        "ci_low": row.get(f"ci_low_{side}"),
        "ci_high": row.get(f"ci_high_{side}"),
        "flags": row.get(f"flags_{side}"),
    }


def focus_and_other(row: Mapping, favourable: bool) -> tuple[dict, dict]:
    """The subgroup the gap is about (behind when D > 0) and the one it is compared with."""
    a, b = _side(row, "a"), _side(row, "b")
    return (b, a) if favourable else (a, b)


def caption(gap_rows: pl.DataFrame, place: str, dimension: str, favourable: bool) -> list[str]:
    """Plain-language sentences: the two compared values, then the gap with its interval."""
    d = gap_rows.filter(pl.col("measure") == "D").to_dicts()
    if not d or d[0]["estimate"] is None:
        why = status_text(d[0]["status"] if d else ev.NO_DATA)
        return [t("No gap is shown for {place}: {reason}.").format(place=place, reason=why)]
    row = d[0]
    focus, other = focus_and_other(row, favourable)
    values = {
        "place": place,
        "value": _value(focus["value"], focus["ci_low"], focus["ci_high"], focus["flags"]),
        "other_value": _value(other["value"], None, None, other["flags"]),
    }
    if dimension in ev.PERSONAL:
        first = t("{focus} in {place}: {value} vs {other_value} for {other}").format(
            focus=label_of(focus, dimension),
            other=label_of(other, dimension, sentence=True),
            **values,
        )
    elif dimension == ev.FIFTH:
        first = t(
            "Districts of {place} worst off in the previous cohort: {value} vs {other_value} "
            "in the best-off fifth"
        ).format(**values)
    else:
        first = t(
            "{focus} is furthest behind in {place}: {value} vs {other_value} in {other}"
        ).format(focus=label_of(focus, dimension), other=label_of(other, dimension), **values)
    return [first + ".", _gap_sentence(row, gap_rows)]


def _gap_sentence(d: Mapping, gap_rows: pl.DataFrame) -> str:
    text = t("Gap: {d} percentage points (95% interval {low} to {high})").format(
        d=one(d["estimate"]), **_interval(d)
    )
    r = gap_rows.filter(pl.col("measure") == "R").to_dicts()
    if r and r[0]["estimate"] is not None and r[0]["ci_lower"] is not None:
        text += t("; ratio {r} ({low} to {high})").format(
            r=f"{r[0]['estimate']:.2f}",
            low=f"{r[0]['ci_lower']:.2f}",
            high=f"{r[0]['ci_upper']:.2f}",
        )
    if d["ci_lower"] is not None and (d["ci_lower"] > 0 or d["ci_upper"] < 0):
        return text + ". " + t("The interval excludes 0: the gap is unlikely to be chance.")
    return text + ". " + t("The interval includes 0: the data do not show a clear gap.")


def _interval(row: Mapping) -> dict[str, str]:
    if row["ci_lower"] is None:
        return {"low": display.MISSING_TEXT, "high": display.MISSING_TEXT}
    return {"low": one(row["ci_lower"]), "high": one(row["ci_upper"])}


def trend_caption(trend: pl.DataFrame) -> str:
    """Is the gap closing? First and last cohort with a gap, and whether the change is
    clearer than chance (the two intervals do not overlap)."""
    if trend.is_empty():
        return ""
    shown = trend.filter((pl.col("measure") == "D") & pl.col("estimate").is_not_null())
    if shown.height < 2:
        return t("A trend needs the gap in at least two birth cohorts.")
    first, last = shown.row(0, named=True), shown.row(shown.height - 1, named=True)
    text = t("Gap in {first}: {d1} points; in {last}: {d2} points.").format(
        first=first["period"],
        last=last["period"],
        d1=one(first["estimate"]),
        d2=one(last["estimate"]),
    )
    if None in (first["ci_lower"], last["ci_lower"]):
        return text
    overlap = first["ci_lower"] <= last["ci_upper"] and last["ci_lower"] <= first["ci_upper"]
    if overlap:
        return text + " " + t("The intervals overlap: the change may be chance.")
    if abs(last["estimate"]) < abs(first["estimate"]):
        return text + " " + t("The gap has narrowed.")
    return text + " " + t("The gap has widened.")


def gap_trend_table(trend: pl.DataFrame, dimension: str, unit: str) -> object:
    """Per cohort: the two compared values and the gap with its interval (or why not)."""
    d_rows = trend.filter(pl.col("measure") == "D").to_dicts() if not trend.is_empty() else []
    if not d_rows:
        return html.P(t("No data for this selection"), className="text-muted mb-0")
    body = []
    for row in d_rows:
        a, b = _side(row, "a"), _side(row, "b")
        gap = display.MISSING_TEXT
        if row["estimate"] is not None:
            gap = one(row["estimate"])
            if row["ci_lower"] is not None:
                gap += f" ({one(row['ci_lower'])} to {one(row['ci_upper'])})"
        body.append(
            [
                selection.period_label(row["period"]),
                _named_value(a, dimension, unit),
                _named_value(b, dimension, unit),
                gap,
                status_text(row["status"]),
            ]
        )
    header = [t("Birth cohort"), t("Compared"), t("With"), t("Gap (95% interval)"), t("Note")]
    return _table(header, body, [False, False, False, True, False])


def _table(header: list[str], body: list[list], numeric: list[bool]) -> object:
    """`ui.table` without the last column (the notes) when no row has one."""
    if not any(row[-1] for row in body):
        header, numeric, body = header[:-1], numeric[:-1], [row[:-1] for row in body]
    return ui.table(header, body, numeric=numeric)


def _named_value(side: Mapping, dimension: str, unit: str) -> str:
    if not side["subgroup"]:
        return display.MISSING_TEXT
    value = display.value_text(side["value"], side["value"] is None, side["flags"], unit)
    return f"{label_of(side, dimension)}: {value or t('low denominator')}"


# ---------------------------------------------------------------- zero-dose


def progress_cards(progress: Mapping) -> list[tuple[str, str, str, str]]:
    """(title, value, detail, note) of the four IA2030 cards."""
    if "baseline" not in progress:
        missing = display.MISSING_TEXT
        return [(t("Zero-dose children"), missing, status_text(progress["status"]), "")]
    base, now = progress["baseline"], progress["current"]
    cards = [
        (
            t("Baseline {year}").format(year=progress["baseline_period"]),
            display.count(base["numerator"], base["suppressed"]),
            _rate_line(base),
            display.flag_text(base["flags"]),
        ),
        (
            t("Current {year}").format(year=progress["current_period"]),
            display.count(now["numerator"], now["suppressed"]),
            _rate_line(now),
            display.flag_text(now["flags"]),
        ),
    ]
    if "target" not in progress:
        return cards + [(t("IA2030 target"), display.MISSING_TEXT, "", "")]
    cards.append(
        (
            t("IA2030 target by {year}").format(year=progress["target_year"]),
            f"{progress['target']:,.0f}",
            t("half the baseline count"),
            "",
        )
    )
    if progress["status"] != em.OK:
        cards.append((t("Progress"), display.MISSING_TEXT, status_text(progress["status"]), ""))
        return cards
    on_track = t("on track") if progress["on_track"] else t("off track")
    cards.append(
        (
            t("Progress"),
            t("{p} of the way").format(p=f"{progress['progress']:.0f}%"),
            t("{r} fewer than the baseline").format(r=f"{one(progress['reduction'])}%"),
            t("{status}: a straight path to the target expects {n} by {year}").format(
                status=on_track,
                n=f"{progress['expected']:,.0f}",
                year=progress["current_period"],
            ),
        )
    )
    return cards


def _rate_line(row: Mapping) -> str:
    rate = display.value_text(row["value"], row["suppressed"], row["flags"])
    if not rate:
        return ""
    return t("{rate} of eligible children").format(rate=rate)


def zero_dose_subgroup_table(frame: pl.DataFrame) -> object:
    """Zero-dose counts and rates of the place by sex, by disability and by both."""
    if frame.is_empty():
        return html.P(t("No data for this selection"), className="text-muted mb-0")
    body = [
        [
            label_of(row, row["dimension"]),
            display.count(row["numerator"], row["suppressed"]),
            display.count(row["denominator"], row["suppressed"] and row["denominator"] is None),
            display.value_text(row["value"], row["suppressed"], row["flags"])
            or t("low denominator"),
            display.interval_text(row["ci_low"], row["ci_high"], row["suppressed"], row["flags"]),
        ]
        for row in frame.to_dicts()
    ]
    return ui.table(
        [t("Children"), t("Zero-dose"), t("Eligible"), t("Rate"), t("95% interval")],
        body,
        numeric=[False, True, True, True, True],
    )


def zero_dose_district_table(frame: pl.DataFrame, limit: int = 15) -> object:
    """The districts holding most zero-dose children, with their share of the place's."""
    if frame.is_empty():
        return html.P(t("No data for this selection"), className="text-muted mb-0")
    rows = frame.to_dicts()
    body = [
        [
            str(row["rank"]) if row["rank"] is not None else "",
            row["org_unit_name"],
            display.count(row["numerator"], row["suppressed"]),
            display.value_text(row["value"], row["suppressed"], row["flags"])
            or t("low denominator"),
            display.number(row["share"]),
            display.number(row["cumulative_share"]),
        ]
        for row in rows[:limit]
    ]
    table = ui.table(
        [
            t("Rank"),
            t("District"),
            t("Zero-dose children"),
            t("Rate"),
            t("Share of all"),
            t("Running total"),
        ],
        body,
        numeric=[True, False, True, True, True, True],
    )
    if len(rows) <= limit:
        return table
    more = t("{n} more districts in the CSV export.").format(n=len(rows) - limit)
    return html.Div([table, html.P(more, className="small text-muted mt-2 mb-0")])
