"""Figures of the Equity page: subgroups with intervals, the gap over cohorts, the districts
with the widest gap. Pure `plotly.graph_objects` builders of `equity_views` frames.

Groups are never told apart by colour alone: every subgroup has its own marker symbol and
is named on the axis; colours are Okabe–Ito. Hidden values (suppressed, denominator under
25) are never plotted: they are listed with their reason in grey, as on the other pages.
Every figure is made by `figures.build` (one construction, no per-property validation).
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import plotly.graph_objects as go
import polars as pl

from dashboard import display, figures, theme
from dashboard import equity_text as words
from dashboard.i18n import t
from indicators import equity_views as ev

ROW_PX = 34
FEW = 6  # up to this many subgroups, values are printed under their names
GIRL, BOY = theme.SEX_MARKS["F"].colour, theme.SEX_MARKS["M"].colour
MARKS = {
    "F": theme.Mark(GIRL, "/", "circle"),
    "M": theme.Mark(BOY, "", "square"),
    "yes": theme.Mark(theme.DISABILITY_MARKS["yes"].colour, "x", "triangle-up"),
    "no": theme.Mark(theme.DISABILITY_MARKS["no"].colour, "", "circle"),
    "F:yes": theme.Mark(GIRL, "x", "triangle-up"),
    "F:no": theme.Mark(GIRL, "/", "circle"),
    "M:yes": theme.Mark(BOY, "x", "diamond"),
    "M:no": theme.Mark(BOY, "", "square"),
}
PLACE_MARK = theme.Mark(theme.OKABE_ITO[4], "", "circle")
GAP_COLOUR = theme.OKABE_ITO[5]


def mark_of(subgroup: str | None) -> theme.Mark:
    return MARKS.get(subgroup or "", PLACE_MARK)


def _ordered(frame: pl.DataFrame, dimension: str, favourable: bool) -> list[dict]:
    """Rows with `name` (the subgroup), `label` (its value as shown) and `shown` (null when
    hidden): sex/disability in their fixed order, fifths by rank, places best first."""
    named = words.with_labels(frame, dimension).rename({"label": "name"})
    rows = display.with_display(named).to_dicts()
    if dimension in ev.PERSONAL or dimension == ev.FIFTH:
        return rows
    shown = sorted(
        (r for r in rows if r["shown"] is not None),
        key=lambda r: (-r["shown"] if favourable else r["shown"], r["name"]),
    )
    return shown + sorted((r for r in rows if r["shown"] is None), key=lambda r: r["name"])


def _why_hidden(row: Mapping) -> str:
    return display.hidden_text() if row["suppressed"] else t("low denominator")


def _hover(rows: list[dict]) -> list[list[str]]:
    return [
        [
            row["name"],
            row["label"] or _why_hidden(row),
            display.interval_text(row["ci_low"], row["ci_high"], row["suppressed"], row["flags"])
            or "–",
            display.count(row["numerator"], row["suppressed"]),
            display.count(row["denominator"], row["suppressed"]),
            display.flag_text(row["flags"]) or "–",
        ]
        for row in rows
    ]


def _tick(row: dict, few: bool, highlight: str | None) -> str:
    name = html.escape(row["name"])
    if highlight and row["org_unit"] == highlight:
        name = f"▶ {name}"
    if not few:
        return name
    interval = display.interval_text(row["ci_low"], row["ci_high"], row["suppressed"], row["flags"])
    value = row["label"] or _why_hidden(row)
    detail = f"{value} ({interval})" if interval else value
    return f"{name}<br><b>{html.escape(detail)}</b>"


def subgroup_figure(
    frame: pl.DataFrame,
    dimension: str,
    *,
    unit: str = "%",
    favourable: bool = True,
    overall: tuple[str, float] | None = None,
    highlight: str | None = None,
) -> go.Figure:
    """One marker per subgroup with its 95 % interval (an equiplot turned into rows)."""
    if frame.is_empty():
        return figures.empty_figure(t("No data for this selection"))
    rows = _ordered(frame, dimension, favourable)
    few = len(rows) <= FEW
    ticks = [_tick(r, few, highlight) for r in rows]
    shown = [(tick, r) for tick, r in zip(ticks, rows, strict=True) if r["shown"] is not None]
    hidden = [(tick, r) for tick, r in zip(ticks, rows, strict=True) if r["shown"] is None]
    traces = ([_markers(shown)] if shown else []) + ([_hidden_text(hidden)] if hidden else [])
    legends, shapes = figures.reference_marks(overall, unit, horizontal=False)
    traces += legends
    top = max([100.0] + [r["ci_high"] or 0 for _, r in shown])
    return figures.build(
        traces,
        shapes=shapes,
        height=max(260, (64 if few else ROW_PX) * len(rows) + 90),
        xaxis={"ticksuffix": "%", "range": [0, top * 1.03]} if unit == "%" else {},
        yaxis={
            "autorange": "reversed",
            "type": "category",
            "categoryorder": "array",
            "categoryarray": ticks,
        },
        margin={"l": 10, "r": 20, "t": 40, "b": 30},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        showlegend=True,
    )


def _markers(shown: list[tuple[str, dict]]) -> go.Scatter:
    rows = [r for _, r in shown]
    marks = [mark_of(r["subgroup"]) for r in rows]
    return go.Scatter(
        **figures.UNCHECKED,
        x=[r["shown"] for r in rows],
        y=[tick for tick, _ in shown],
        mode="markers",
        marker={
            "symbol": [m.symbol for m in marks],
            "color": [m.colour for m in marks],
            "size": 14,
            "line": {"color": theme.INK, "width": 1},
        },
        error_x={
            "type": "data",
            "symmetric": False,
            "array": [
                (r["ci_high"] - r["value"]) if r["ci_high"] is not None else None for r in rows
            ],
            "arrayminus": [
                (r["value"] - r["ci_low"]) if r["ci_low"] is not None else None for r in rows
            ],
            "color": theme.INK,
            "thickness": 1.5,
            "width": 6,
        },
        customdata=_hover(rows),
        hovertemplate=figures.hover_template(),
        name=t("Value with 95% interval"),
        showlegend=False,
    )


def _hidden_text(hidden: list[tuple[str, dict]]) -> go.Scatter:
    rows = [r for _, r in hidden]
    return go.Scatter(
        **figures.UNCHECKED,
        x=[0] * len(rows),
        y=[tick for tick, _ in hidden],
        mode="text",
        text=["  " + _why_hidden(r) for r in rows],
        textposition="middle right",
        textfont={"color": theme.MUTED},
        customdata=_hover(rows),
        hovertemplate=figures.hover_template(),
        name=t("No value shown"),
        showlegend=False,
    )


# ---------------------------------------------------------------- trend


def _side_points(rows: list[dict], side: str, dimension: str) -> dict:
    """x, y, interval and hover text of one compared subgroup across cohorts."""
    points: dict[str, list] = {"x": [], "y": [], "plus": [], "minus": [], "text": []}
    for row in rows:
        value, flags = row[f"value_{side}"], row[f"flags_{side}"]
        hidden = value is None or display.is_hidden(False, flags)
        name = words.label_of(
            {"subgroup": row[f"subgroup_{side}"], "label": row[f"label_{side}"]}, dimension
        )
        points["x"].append(row["period"])
        points["y"].append(None if hidden else value)
        low, high = row[f"ci_low_{side}"], row[f"ci_high_{side}"]
        points["plus"].append(None if hidden or high is None else high - value)
        points["minus"].append(None if hidden or low is None else value - low)
        shown = display.value_text(value, value is None, flags) or t("low denominator")
        points["text"].append(f"{name}: {shown}" if row[f"subgroup_{side}"] else "–")
    return points


def _side_name(rows: list[dict], side: str, dimension: str) -> str:
    """The compared subgroup's name, or "highest"/"lowest" when places change by cohort."""
    keys = {row[f"subgroup_{side}"] for row in rows if row[f"subgroup_{side}"]}
    if len(keys) == 1 and dimension != ev.GOVERNORATE and dimension != ev.DISTRICT:
        row = next(r for r in rows if r[f"subgroup_{side}"])
        return words.label_of(
            {
                "subgroup": row[f"subgroup_{side}"],
                "label": row[f"label_{side}"],
                "order": _fifth_order(row[f"subgroup_{side}"]),
            },
            dimension,
        )
    return t("Highest value") if side == "a" else t("Lowest value")  # HEAT: highest − lowest


def _fifth_order(key: str | None) -> int | None:
    return int(key[1:]) if key and key.startswith("Q") and key[1:].isdigit() else None


def gap_trend_figure(trend: pl.DataFrame, dimension: str, *, unit: str = "%") -> go.Figure:
    """Top: the two compared subgroups by birth cohort; bottom: the gap with its interval."""
    rows = trend.filter(pl.col("measure") == "D").to_dicts() if not trend.is_empty() else []
    if not rows:
        return figures.empty_figure(t("No data for this selection"))
    traces = []
    for side in ("a", "b"):
        points = _side_points(rows, side, dimension)
        key = next((r[f"subgroup_{side}"] for r in rows if r[f"subgroup_{side}"]), None)
        mark = (
            mark_of(key)
            if dimension in ev.PERSONAL
            else theme.Mark(
                theme.OKABE_ITO[4] if side == "a" else theme.OKABE_ITO[0],
                "",
                "square" if side == "a" else "triangle-up",
            )
        )
        traces.append(
            go.Scatter(
                **figures.UNCHECKED,
                x=points["x"],
                y=points["y"],
                mode="lines+markers",
                name=_side_name(rows, side, dimension),
                line={"color": mark.colour, "width": 2.5},
                marker={
                    "symbol": mark.symbol,
                    "size": 11,
                    "color": mark.colour,
                    "line": {"color": theme.INK, "width": 1},
                },
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": points["plus"],
                    "arrayminus": points["minus"],
                    "color": mark.colour,
                    "width": 4,
                },
                text=points["text"],
                hovertemplate="%{x}: %{text}<extra></extra>",
                connectgaps=False,
            )
        )
    traces.append(_gap_trace(rows))
    return figures.build(
        traces,
        height=520,
        xaxis={"type": "category", "anchor": "y2", "title": {"text": t("Birth cohort")}},
        yaxis={
            "domain": [0.42, 1.0],
            "ticksuffix": "%" if unit == "%" else "",
            "title": {"text": t("Value")},
        },
        yaxis2={
            "domain": [0.0, 0.3],
            "title": {"text": t("Gap (points)")},
            "rangemode": "tozero",
            "zeroline": True,
            "zerolinewidth": 2,
        },
        # Below the chart: above it the legend would run under the mode bar.
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        margin={"l": 10, "r": 10, "t": 30, "b": 40},
        hovermode="x unified",
    )


def _gap_trace(rows: list[dict]) -> go.Scatter:
    shown = [r["estimate"] for r in rows]
    return go.Scatter(
        **figures.UNCHECKED,
        x=[r["period"] for r in rows],
        y=shown,
        yaxis="y2",
        mode="lines+markers",
        name=t("Gap with 95% interval"),
        line={"color": GAP_COLOUR, "width": 2, "dash": "dot"},
        marker={"symbol": "diamond", "size": 11, "color": GAP_COLOUR},
        error_y={
            "type": "data",
            "symmetric": False,
            "array": [
                None if r["ci_upper"] is None else r["ci_upper"] - r["estimate"] for r in rows
            ],
            "arrayminus": [
                None if r["ci_lower"] is None else r["estimate"] - r["ci_lower"] for r in rows
            ],
            "color": GAP_COLOUR,
            "width": 4,
        },
        text=[
            display.MISSING_TEXT if r["estimate"] is None else words.one(r["estimate"])
            for r in rows
        ],
        customdata=[words.status_text(r["status"]) for r in rows],
        hovertemplate="%{x}: " + t("gap") + " %{text} %{customdata}<extra></extra>",
        connectgaps=False,
    )


# ---------------------------------------------------------------- widest gaps


def widest_gap_figure(gaps: pl.DataFrame, dimension: str, limit: int = 10) -> go.Figure:
    """The districts where the focus subgroup is furthest behind, with the gap's interval."""
    shown = gaps.filter(pl.col("estimate").is_not_null()).head(limit).to_dicts()
    if not shown:
        return figures.empty_figure(t("No district has a gap that can be shown"))
    # The gap is printed with the name: inside the bar it would sit on the interval line.
    names = [
        f"{html.escape(r['org_unit_name'])} · <b>{words.one(r['estimate'])}</b>" for r in shown
    ]
    hover = [_gap_hover(r, dimension) for r in shown]
    bar = go.Bar(
        **figures.UNCHECKED,
        x=[r["estimate"] for r in shown],
        y=names,
        orientation="h",
        marker={"color": GAP_COLOUR, "line": {"color": theme.INK, "width": 1}},
        error_x={
            "type": "data",
            "symmetric": False,
            "array": [
                None if r["ci_upper"] is None else r["ci_upper"] - r["estimate"] for r in shown
            ],
            "arrayminus": [
                None if r["ci_lower"] is None else r["estimate"] - r["ci_lower"] for r in shown
            ],
            "color": theme.INK,
            "thickness": 1.2,
            "width": 3,
        },
        customdata=hover,
        hovertemplate="<b>%{y}</b><br>%{customdata}<extra></extra>",
        name=t("Gap"),
    )
    return figures.build(
        [bar],
        height=max(240, ROW_PX * len(shown) + 90),
        xaxis={"title": {"text": t("Gap (percentage points)")}, "zeroline": True},
        yaxis={"autorange": "reversed"},  # no title: the names say what the bars are
        margin={"l": 10, "r": 20, "t": 20, "b": 40},
        showlegend=False,
    )


def _gap_hover(row: Mapping, dimension: str) -> str:
    a = words.label_of({"subgroup": row["subgroup_a"], "label": row["label_a"]}, dimension)
    b = words.label_of({"subgroup": row["subgroup_b"], "label": row["label_b"]}, dimension)
    values = f"{a}: {display.number(row['value_a'])} · {b}: {display.number(row['value_b'])}"
    interval = ""
    if row["ci_lower"] is not None:
        interval = f" ({words.one(row['ci_lower'])} to {words.one(row['ci_upper'])})"
    return f"{values}<br>{t('Gap')}: {words.one(row['estimate'])}{interval}"
