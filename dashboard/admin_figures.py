"""Figures of the administrative (DHIS2) views: the WHO monitoring chart, RED/REC scatter and
map, dropout by district, reporting, and registry vs DHIS2.

Pure builders like `dashboard.figures` (same `_figure`/`_layout`, `figures.UNCHECKED` read at
call time so the tests validate every property). Categories are never told by colour
alone: each RED/REC category has a colour, a marker symbol, a fill pattern and its number;
series have their own symbol or bar pattern. Values above 100 % and negative dropout are
drawn where they are (axes stretch to hold them), never capped.
"""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go
import polars as pl

from dashboard import display, figures, outline_maps, theme
from dashboard.geo import Outline
from dashboard.i18n import t

CATEGORY_MARKS = {
    1: theme.Mark(theme.OKABE_ITO[2], "", "circle"),
    2: theme.Mark(theme.OKABE_ITO[1], "/", "square"),
    3: theme.Mark(theme.OKABE_ITO[0], ".", "diamond"),
    4: theme.Mark(theme.OKABE_ITO[5], "x", "triangle-up"),
}
SERIES_MARKS = (
    theme.Mark(theme.OKABE_ITO[4], "", "circle"),
    theme.Mark(theme.OKABE_ITO[0], "/", "square"),
    theme.Mark(theme.OKABE_ITO[2], "", "triangle-up"),
)
DROPOUT_MARK = theme.Mark(theme.OKABE_ITO[5], "", "diamond")
NEGATIVE_MARK = theme.Mark(theme.OKABE_ITO[6], "x", "x")
SMALL_BAR_PX = 22
LABEL_ALL_UP_TO = 25  # scatter points named on the chart; beyond, only the notable ones
# Long bar charts: the legend at the very top, the value axis under it.
# Stacked at the left: a row across would run under the modebar at the right.
TOP_LEGEND = {"orientation": "v", "yanchor": "top", "y": 0.995, "x": 0, "yref": "container"}


def month_names() -> tuple[str, ...]:
    return (t("Jan"), t("Feb"), t("Mar"), t("Apr"), t("May"), t("Jun"),
            t("Jul"), t("Aug"), t("Sep"), t("Oct"), t("Nov"), t("Dec"))  # fmt: skip


def category_labels() -> dict[int, str]:
    """RED/REC categories as WHO names them (access = Penta1, use = Penta1-3 dropout)."""
    return {
        1: t("1 · Good access, good use"),
        2: t("2 · Good access, poor use"),
        3: t("3 · Poor access, good use"),
        4: t("4 · Poor access, poor use"),
    }


def _percent(value: float | None) -> str:
    return display.number(value, "%")


# --- the WHO monitoring chart ------------------------------------------------------------------


def _dose_trace(rows: list[dict], name: str, mark: theme.Mark) -> go.Scatter:
    months = month_names()
    shown = [r for r in rows if r["numerator"] is not None]
    return go.Scatter(
        **figures.UNCHECKED,
        x=[months[r["month"] - 1] for r in shown],
        y=[r["numerator"] for r in shown],
        mode="lines+markers",
        name=name,
        line={"color": mark.colour, "width": 2.5},
        marker={"symbol": mark.symbol, "size": 9, "color": mark.colour},
        customdata=[
            [
                display.count(r["denominator"]),
                display.value_text(r["value"], r["suppressed"], r["flags"]) or t("not shown"),
                display.flag_text(r["flags"]) or "–",
            ]
            for r in shown
        ],  # fmt: skip
        hovertemplate=(
            f"<b>{name}</b> %{{x}}<br>{t('Doses to date')}: %{{y:,.0f}}<br>"
            f"{t('Target to date')}: %{{customdata[0]}}<br>{t('Coverage to date')}: "
            f"%{{customdata[1]}}<br>{t('Flags')}: %{{customdata[2]}}<extra></extra>"
        ),
    )


def _dropout_trace(rows: list[dict]) -> go.Scatter:
    months = month_names()
    data = display.with_display(pl.DataFrame(rows), "%").to_dicts() if rows else []
    shown = [r for r in data if r["shown"] is not None]
    name = t("Dropout Penta1 → Penta3 to date (right axis)")
    return go.Scatter(
        **figures.UNCHECKED,
        x=[months[r["month"] - 1] for r in shown],
        y=[r["shown"] for r in shown],
        yaxis="y2",
        mode="lines+markers",
        name=name,
        line={"color": DROPOUT_MARK.colour, "width": 1.5, "dash": "dot"},
        marker={"symbol": DROPOUT_MARK.symbol, "size": 8, "color": DROPOUT_MARK.colour},
        text=[r["label"] for r in shown],
        hovertemplate=f"<b>{name}</b> %{{x}}: %{{text}}<extra></extra>",
    )


def monitoring_chart(
    rows: pl.DataFrame, target: pl.DataFrame, names: Mapping[str, str], dropout: str | None
) -> go.Figure:
    """Cumulative doses by month against the target line (annual target x month / 12), one
    line per dose in `names` (year-to-date code -> label), and the cumulative dropout."""
    if rows.is_empty():
        return figures.empty_figure(t("No data for this selection"))
    months = month_names()
    traces = []
    if not target.is_empty():
        traces.append(
            go.Scatter(
                **figures.UNCHECKED,
                x=[months[m - 1] for m in target["month"]],
                y=target["target"].to_list(),
                mode="lines",
                name=t("Target (annual target × month ÷ 12)"),
                line={"color": theme.INK, "width": 2, "dash": "dash"},
                hovertemplate=f"{t('Target to date')} %{{x}}: %{{y:,.0f}}<extra></extra>",
            )
        )
    for (code, name), mark in zip(names.items(), SERIES_MARKS, strict=False):
        series = rows.filter(pl.col("indicator") == code).sort("month").to_dicts()
        traces.append(_dose_trace(series, name, mark))
    dropout_rows = rows.filter(pl.col("indicator") == dropout).sort("month") if dropout else None
    layout: dict = {}
    if dropout_rows is not None and dropout_rows.height:
        traces.append(_dropout_trace(dropout_rows.to_dicts()))
        values = [v for v in dropout_rows["value"].to_list() if v is not None]
        layout["yaxis2"] = {
            "overlaying": "y", "side": "right", "ticksuffix": "%", "showgrid": False,
            "tickmode": "auto", "zeroline": False,
            "range": [min([0.0, *values]) - 2, max([20.0, *values]) * 1.15],
        }  # fmt: skip
    return figures.build(
        traces,
        height=400,
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": list(months),
               "range": [-0.5, 11.5]},
        yaxis={"title": {"text": t("Doses administered (cumulative)")}, "rangemode": "tozero"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "font": {"size": 12}},
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        hovermode="closest",
        **layout,
    )  # fmt: skip


# --- RED/REC scatter ---------------------------------------------------------------------------


def plotted(table: pl.DataFrame) -> pl.DataFrame:
    """Districts whose coverage and dropout may both be drawn (display rules), with a category."""
    if table.is_empty():
        return table
    records = table.to_dicts()
    keep = [
        r["coverage"] is not None and r["dropout"] is not None and r["category"] is not None
        and not display.is_hidden(r["coverage_suppressed"], r["coverage_flags"])
        and not display.is_hidden(r["dropout_suppressed"], r["dropout_flags"])
        for r in records
    ]  # fmt: skip
    return table.filter(pl.Series(keep, dtype=pl.Boolean))


def _scatter_ranges(x: list[float], y: list[float], cov: float, drop: float) -> tuple[list, list]:
    """Axis ranges holding every point and both thresholds, never cut at 0 or 100."""
    x_low = min([*x, cov - 10.0]) - 5
    x_high = max([*x, 100.0, cov + 5.0]) + 5
    y_low = min([*y, 0.0]) - 3
    y_high = max([*y, drop + 10.0]) + 3
    return [x_low, x_high], [y_low, y_high]


def _quadrants(x_range: list, y_range: list, cov: float, drop: float) -> tuple[list, list]:
    """Lightly tinted quadrant boxes and their category names in the outer corners."""
    labels = category_labels()
    boxes = {
        1: (cov, x_range[1], y_range[0], drop, "right", "bottom"),
        2: (cov, x_range[1], drop, y_range[1], "right", "top"),
        3: (x_range[0], cov, y_range[0], drop, "left", "bottom"),
        4: (x_range[0], cov, drop, y_range[1], "left", "top"),
    }
    shapes, notes = [], []
    for category, (x0, x1, y0, y1, side, edge) in boxes.items():
        shapes.append(
            {"type": "rect", "xref": "x", "yref": "y", "x0": x0, "x1": x1, "y0": y0, "y1": y1,
             "fillcolor": CATEGORY_MARKS[category].colour, "opacity": 0.1, "line": {"width": 0},
             "layer": "below"}
        )  # fmt: skip
        notes.append(
            {"x": x1 if side == "right" else x0, "y": y0 if edge == "bottom" else y1,
             "xanchor": side, "yanchor": edge, "text": f"<b>{labels[category]}</b>",
             "showarrow": False, "font": {"size": 11, "color": theme.MUTED}, "xref": "x",
             "yref": "y", "xshift": -4 if side == "right" else 4,
             "yshift": 4 if edge == "bottom" else -4}
        )  # fmt: skip
    return shapes, notes


def _invalid_zones(x_range: list, y_range: list) -> list[dict]:
    """Grey bands where a value cannot be true (coverage over 100 %, negative dropout): the
    points stay where they fall, the band says something is wrong with them."""
    grey = {"type": "rect", "xref": "x", "yref": "y", "fillcolor": theme.MUTED,
            "opacity": 0.18, "line": {"width": 0}, "layer": "below"}  # fmt: skip
    return [
        grey | {"x0": 100, "x1": x_range[1], "y0": y_range[0], "y1": y_range[1]},
        grey | {"x0": x_range[0], "x1": x_range[1], "y0": y_range[0], "y1": 0},
    ]


def _notable(row: dict, highlight: str | None) -> bool:
    return (
        row["org_unit"] == highlight or row["category"] == 4
        or row["coverage"] > 100 or row["dropout"] < 0
    )  # fmt: skip


def _point_hover(row: dict) -> list[str]:
    texts = (display.flag_text(row["coverage_flags"]), display.flag_text(row["dropout_flags"]))
    flags = "; ".join(text for text in texts if text) or "–"
    category = category_labels().get(row["category"], "–")
    coverage, dropout = _percent(row["coverage"]), _percent(row["dropout"])
    return [row["org_unit_name"], category, coverage, dropout, flags, row["org_unit"]]


def _red_hover_template() -> str:
    return (
        "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>"
        + t("Penta1 coverage")
        + ": %{customdata[2]}<br>"
        + t("Dropout Penta1 → Penta3")
        + ": %{customdata[3]}<br>"
        + t("Flags")
        + ": %{customdata[4]}<extra></extra>"
    )


def red_scatter(
    table: pl.DataFrame, *, coverage: float, dropout: float, highlight: str | None = None
) -> go.Figure:
    """Penta1 coverage (x) against Penta1 -> Penta3 dropout (y), one point per district, in
    the four RED/REC quadrants at the thresholds; points named (all of them when few)."""
    rows = plotted(table).to_dicts()
    if not rows:
        return figures.empty_figure(t("No district has both values shown for this selection"))
    x_range, y_range = _scatter_ranges(
        [r["coverage"] for r in rows], [r["dropout"] for r in rows], coverage, dropout
    )
    label_all = len(rows) <= LABEL_ALL_UP_TO
    traces = []
    for category, label in category_labels().items():
        group = [r for r in rows if r["category"] == category]
        mark = CATEGORY_MARKS[category]
        traces.append(
            go.Scatter(
                **figures.UNCHECKED,
                x=[r["coverage"] for r in group],
                y=[r["dropout"] for r in group],
                mode="markers+text",
                name=label,
                text=[
                    r["org_unit_name"] if label_all or _notable(r, highlight) else "" for r in group
                ],
                textposition="top center",
                textfont={"size": 10, "color": theme.INK},
                marker={
                    "symbol": mark.symbol,
                    "color": mark.colour,
                    "size": [16 if r["org_unit"] == highlight else 11 for r in group],
                    "line": {
                        "color": theme.INK,
                        "width": [3 if r["org_unit"] == highlight else 1 for r in group],
                    },
                },  # fmt: skip
                customdata=[_point_hover(r) for r in group],
                hovertemplate=_red_hover_template(),
                cliponaxis=False,
            )
        )
    shapes, notes = _quadrants(x_range, y_range, coverage, dropout)
    bad_shapes = _invalid_zones(x_range, y_range)
    line = {"color": theme.INK, "width": 1.2, "dash": "dash"}
    threshold_lines = [
        {"type": "line", "xref": "x", "yref": "y", "x0": coverage, "x1": coverage,
         "y0": y_range[0], "y1": y_range[1], "line": line},
        {"type": "line", "xref": "x", "yref": "y", "x0": x_range[0], "x1": x_range[1],
         "y0": dropout, "y1": dropout, "line": line},
    ]  # fmt: skip
    return figures.build(
        traces,
        height=480,
        xaxis={"range": x_range, "ticksuffix": "%", "zeroline": False,
               "title": {"text": t("Penta1 coverage (access)")}},
        yaxis={"range": y_range, "ticksuffix": "%", "zeroline": False,
               "title": {"text": t("Dropout Penta1 → Penta3 (use)")}},
        shapes=[*bad_shapes, *shapes, *threshold_lines],
        annotations=notes,
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0, "font": {"size": 12}},
        margin={"l": 10, "r": 10, "t": 36, "b": 10},
    )  # fmt: skip


# --- RED/REC map ------------------------------------------------------------------------------


def _fill_trace(
    codes: list[str], outlines: Mapping[str, Outline], name: str, mark: theme.Mark | None
) -> go.Scatter:
    """All districts of one category as one filled trace, with its pattern."""
    colour = mark.colour if mark else theme.NO_VALUE
    extra = {}
    if mark and mark.pattern:
        extra["fillpattern"] = {"shape": mark.pattern, "fgcolor": theme.INK, "fgopacity": 0.5,
                                "size": 7, "solidity": 0.25, "bgcolor": colour}  # fmt: skip
    return outline_maps.fill(codes, outlines, name, colour, **extra)


def _shown_percent(row: dict, name: str) -> str:
    text = display.value_text(row[name], row[f"{name}_suppressed"], row[f"{name}_flags"])
    return text or t("not shown")


def _map_labels(rows: list[dict], outlines: Mapping[str, Outline]) -> go.Scatter:
    """The category number at each district's label point; hover names everything."""
    none = t("No category (suppressed or no data)")
    return go.Scatter(
        **figures.UNCHECKED,
        x=[outlines[r["org_unit"]][2] for r in rows],
        y=[outlines[r["org_unit"]][3] for r in rows],
        mode="markers+text",
        text=[str(r["category"]) if r["category"] is not None else "" for r in rows],
        textposition="middle center",
        textfont={"size": 10, "color": theme.INK},
        marker={
            "size": 13,
            "color": "white",
            "opacity": [0.85 if r["category"] is not None else 0 for r in rows],
            "line": {"color": theme.INK, "width": 0.8},
        },
        customdata=[
            [
                r["org_unit_name"],
                category_labels().get(r["category"], none),
                _shown_percent(r, "coverage"),
                _shown_percent(r, "dropout"),
                "",
                r["org_unit"],
            ]
            for r in rows
        ],  # fmt: skip
        hovertemplate=_red_hover_template(),
        showlegend=False,
        name=t("Districts"),
    )


def red_map(
    table: pl.DataFrame, outlines: Mapping[str, Outline], highlight: str | None = None
) -> go.Figure:
    """Districts filled by RED/REC category (colour, pattern and the number on each),
    drawn as SVG shapes so the map needs no tiles, fonts or network."""
    rows = [r for r in table.to_dicts() if r["org_unit"] in outlines]
    if not rows:
        return figures.empty_figure(t("District maps need the boundary pack (MIZAN_GEO_DIR)."))
    groups: list[tuple[str, theme.Mark | None, list[str]]] = [
        (label, CATEGORY_MARKS[c], [r["org_unit"] for r in rows if r["category"] == c])
        for c, label in category_labels().items()
    ]
    missing = [r["org_unit"] for r in rows if r["category"] is None]
    if missing:
        groups.append((t("No category (suppressed or no data)"), None, missing))
    codes = [r["org_unit"] for r in rows]
    traces = [_fill_trace(group, outlines, label, mark) for label, mark, group in groups]
    traces += outline_maps.selected(highlight, codes, outlines)
    traces.append(_map_labels(rows, outlines))
    return figures.build(
        traces,
        legend={"orientation": "h", "yanchor": "top", "y": 0, "x": 0, "font": {"size": 12}},
        **outline_maps.layout(codes, outlines),
    )


# --- bars ----------------------------------------------------------------------------------------


def _line(axis: str, at: float, colour: str = theme.INK, dash: str = "dash",
          yref: str = "y") -> dict:  # fmt: skip
    """A reference line as a layout shape (cheaper than add_vline/add_hline)."""
    style = {"color": colour, "width": 1.2, "dash": dash}
    if axis == "x":
        return {"type": "line", "xref": "x", "yref": "paper", "x0": at, "x1": at, "y0": 0,
                "y1": 1, "line": style}  # fmt: skip
    return {"type": "line", "xref": "paper", "yref": yref, "x0": 0, "x1": 1, "y0": at, "y1": at,
            "line": style}  # fmt: skip


def _names(rows: list[dict], highlight: str | None) -> list[str]:
    return [f"▶ {r['org_unit_name']}" if r["org_unit"] == highlight else r["org_unit_name"]
            for r in rows]  # fmt: skip


def _dropout_class(value: float, threshold: float) -> int:
    return 0 if value < 0 else (1 if value <= threshold else 2)


def _dropout_hover() -> str:
    return (
        "<b>%{customdata[0]}</b><br>" + t("Dropout") + ": %{customdata[1]}<br>"
        + t("Penta1 − Penta3 doses") + ": %{customdata[2]}<br>" + t("Penta1 doses")
        + ": %{customdata[3]}<br>" + t("Flags") + ": %{customdata[4]}<extra></extra>"
    )  # fmt: skip


def _hidden_labels(names: list[str], rows: list[dict]) -> list[go.Scatter]:
    """Grey 'suppressed' / 'low denominator' text where a bar cannot be drawn."""
    hidden = [(n, r) for n, r in zip(names, rows, strict=True) if r["shown"] is None]
    if not hidden:
        return []
    return [
        go.Scatter(
            **figures.UNCHECKED, x=[0] * len(hidden), y=[n for n, _ in hidden], mode="text",
            text=[f"  {display.hidden_text() if r['suppressed'] else t('low denominator')}"
                  for _, r in hidden],
            textposition="middle right", textfont={"color": theme.MUTED},
            hoverinfo="skip", showlegend=False, name=t("No value shown"),
        )
    ]  # fmt: skip


def dropout_bar(rows: pl.DataFrame, *, threshold: float, highlight: str | None = None) -> go.Figure:
    """Districts ranked by Penta1 -> Penta3 dropout, highest first; above the threshold,
    at or below it, and negative each have a colour and a pattern (and the legend)."""
    if rows.is_empty():
        return figures.empty_figure(t("No data for this selection"))
    data = display.with_display(rows, "%")
    ranked = pl.concat([
        data.filter(pl.col("shown").is_not_null()).sort(["shown", "org_unit_name"],
                                                         descending=[True, False]),
        data.filter(pl.col("shown").is_null()).sort("org_unit_name"),
    ]).to_dicts()  # fmt: skip
    names = _names(ranked, highlight)
    hover = [
        [r["org_unit_name"], r["label"] or "–", display.count(r["numerator"], r["suppressed"]),
         display.count(r["denominator"], r["suppressed"]), display.flag_text(r["flags"]) or "–"]
        for r in ranked
    ]  # fmt: skip
    classes = {
        2: (t("Above the threshold"), CATEGORY_MARKS[4].colour, "/"),
        1: (t("At or below the threshold"), theme.OKABE_ITO[4], ""),
        0: (t("Negative: check the reports"), NEGATIVE_MARK.colour, "x"),
    }
    traces: list = []
    for key, (label, colour, pattern) in classes.items():
        keep = [r["shown"] is not None and _dropout_class(r["shown"], threshold) == key
                for r in ranked]  # fmt: skip
        traces.append(
            go.Bar(
                **figures.UNCHECKED,
                x=[r["shown"] if k else None for r, k in zip(ranked, keep, strict=True)],
                y=names, orientation="h", name=label,
                marker={"color": colour, "pattern": {"shape": pattern, "solidity": 0.3},
                        "line": {"color": [theme.INK if r["org_unit"] == highlight else colour
                                           for r in ranked], "width": 1}},
                text=[r["label"] if k else "" for r, k in zip(ranked, keep, strict=True)],
                textposition="outside", cliponaxis=False, customdata=hover,
                hovertemplate=_dropout_hover(),
            )
        )  # fmt: skip
    shown = [r["shown"] for r in ranked if r["shown"] is not None]
    low, high = min([0.0, *shown]), max([threshold, *shown])
    return figures.build(
        [*traces, *_hidden_labels(names, ranked)],
        height=max(240, SMALL_BAR_PX * len(ranked) + 110),
        barmode="relative",
        xaxis={"ticksuffix": "%", "range": [low - (high - low) * 0.2 - 2, high * 1.15 + 1],
               "side": "top"},
        yaxis={"autorange": "reversed", "categoryorder": "array",
               "categoryarray": names, "tickfont": {"size": 11}},
        shapes=[_line("x", threshold)],
        legend=TOP_LEGEND,
        margin={"l": 10, "r": 30, "t": 100, "b": 10},
        bargap=0.25,
    )  # fmt: skip


def reporting_bar(table: pl.DataFrame, *, target: float, highlight: str | None = None) -> go.Figure:
    """Completeness and timeliness per org unit, lowest completeness first, against the
    completeness target; the two measures differ in colour and pattern."""
    rows = table.filter(pl.col("expected") > 0).sort(["completeness", "org_unit_name"]).to_dicts()
    if not rows:
        return figures.empty_figure(t("No reports were expected for this selection"))
    names = _names(rows, highlight)
    measures = (
        ("completeness", "received", t("Completeness"), SERIES_MARKS[0]),
        ("timeliness", "on_time", t("Timeliness"), SERIES_MARKS[1]),
    )
    traces = [
        go.Bar(
            **figures.UNCHECKED, x=[r[column] for r in rows], y=names, orientation="h",
            name=label, marker={"color": mark.colour,
                                "pattern": {"shape": mark.pattern, "solidity": 0.3}},
            text=[_percent(r[column]) for r in rows], textposition="outside", cliponaxis=False,
            customdata=[[display.count(r[count]), display.count(r["expected"])] for r in rows],
            hovertemplate=(f"<b>%{{y}}</b><br>{label}: %{{x:.1f}}%<br>"
                           "%{customdata[0]} / %{customdata[1]} " + t("reports")
                           + "<extra></extra>"),
        )
        for column, count, label, mark in measures
    ]  # fmt: skip
    return figures.build(
        traces,
        height=max(240, 2 * SMALL_BAR_PX * len(rows) + 100),
        barmode="group",
        xaxis={"ticksuffix": "%", "range": [0, 112], "side": "top"},
        yaxis={"autorange": "reversed", "categoryorder": "array",
               "categoryarray": names},
        shapes=[_line("x", target)],
        legend=TOP_LEGEND,
        margin={"l": 10, "r": 30, "t": 100, "b": 10},
        bargap=0.3,
        bargroupgap=0.05,
    )  # fmt: skip


def triangulation_chart(rows: pl.DataFrame, year: str, month: int | None = None) -> go.Figure:
    """Registry and DHIS2 doses per month (bars told apart by colour and pattern) and their
    ratio (right axis, 100 % = the two sources agree); hidden months marked, the chosen
    month shaded."""
    if rows.is_empty():
        return figures.empty_figure(t("No data for this selection"))
    months = month_names()
    data = rows.to_dicts()
    shown = [r for r in data if not r["suppressed"]]
    x = [months[r["month"] - 1] for r in shown]
    bars = (
        ("denominator", t("Registry doses"), SERIES_MARKS[0]),
        ("numerator", t("DHIS2 doses"), SERIES_MARKS[1]),
    )
    traces: list = [
        go.Bar(**figures.UNCHECKED, x=x, y=[r[column] for r in shown], name=label,
               marker={"color": mark.colour, "pattern": {"shape": mark.pattern, "solidity": 0.3}},
               hovertemplate=f"<b>{label}</b> %{{x}} {year}: %{{y:,.0f}}<extra></extra>")
        for column, label, mark in bars
    ]  # fmt: skip
    ratio_name = t("DHIS2 / registry (right axis)")
    traces.append(
        go.Scatter(
            **figures.UNCHECKED, x=x, y=[r["value"] for r in shown], yaxis="y2", name=ratio_name,
            mode="lines+markers", line={"color": theme.INK, "width": 1.5},
            marker={"symbol": DROPOUT_MARK.symbol, "size": 8, "color": theme.INK},
            hovertemplate=f"<b>{ratio_name}</b> %{{x}}: %{{y:.1f}}%<extra></extra>",
        )
    )  # fmt: skip
    hidden = [months[r["month"] - 1] for r in data if r["suppressed"]]
    if hidden:
        traces.append(
            go.Scatter(**figures.UNCHECKED, x=hidden, y=[0] * len(hidden), mode="markers+text",
                       text=[display.hidden_text()] * len(hidden), textposition="top center",
                       marker={"symbol": "x-thin-open", "size": 10, "color": theme.MUTED},
                       textfont={"color": theme.MUTED, "size": 10}, hoverinfo="skip",
                       name=t("No value shown"), showlegend=False)
        )  # fmt: skip
    ratios = [r["value"] for r in shown if r["value"] is not None]
    shapes = [_line("y", 100, theme.MUTED, "dot", "y2")]
    drawn = sorted({r["month"] for r in data})  # the axis holds the months with rows
    shapes += figures.highlight(drawn, month)
    return figures.build(
        traces,
        height=380,
        barmode="group",
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": list(months)},
        yaxis={"title": {"text": t("Doses in the month")}, "rangemode": "tozero"},
        yaxis2={"overlaying": "y", "side": "right", "ticksuffix": "%", "showgrid": False,
                "tickmode": "auto", "zeroline": False,
                "range": [min([80.0, *ratios]) * 0.9, max([120.0, *ratios]) * 1.1]},
        shapes=shapes,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )  # fmt: skip
