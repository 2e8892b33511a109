"""Pure builders: a small published frame in, a `plotly.graph_objects` figure out.

No Dash and no queries here, so each builder is unit-tested on hand-made frames.
Plain `go` rather than plotly.express: it is ten times cheaper per callback (dash.md §4.1).
Hidden values (suppressed, low denominator) never reach a trace's x/y/z: they are drawn
as grey "no value" marks with their reason as text.
"""

from __future__ import annotations

import functools
import html
import importlib
import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from plotly.basedatatypes import BaseTraceType

from dashboard import display, geo, theme
from dashboard.i18n import t

BAR_HEIGHT_PX = 28
MAP_HEIGHT_PX = 460
IRAQ_CENTER = {"lat": 33.2, "lon": 43.7}
IRAQ_ZOOM = 4.6
UNCHECKED = {"_validate": False}  # plotly's switch, see build
LAZY_IMPORTS = ("numpy", "pandas", "orjson")  # imported on first use by plotly and Dash


@functools.cache
def _template() -> dict:
    return theme.TEMPLATE.to_plotly_json()


def build(traces: Sequence[BaseTraceType], **layout: object) -> go.Figure:
    """The figure in one construction, theme included, without plotly re-validating every
    property: ten times faster for a 100-district chart, and `update_layout` afterwards
    would cost another 10-20 ms (plotly re-walks every layout path). Every dashboard figure
    is made here; the tests switch `UNCHECKED` off, so each builder's output is validated."""
    return go.Figure(
        data=list(traces), layout={"template": _template(), **layout}, **UNCHECKED
    )


def _percent_axis(unit: str, values: Sequence[float | None]) -> dict:
    if unit != "%":
        return {}
    top = max([100.0, *[v for v in values if v is not None and not math.isnan(v)]])
    return {"ticksuffix": "%", "range": [0, top * 1.04]}


def highlight(categories: Sequence[str], selected: str | None) -> list[dict]:
    """A light band behind the selected category of a category axis (none when absent)."""
    if selected not in categories:
        return []
    at = list(categories).index(selected)
    return [{"type": "rect", "xref": "x", "yref": "paper", "x0": at - 0.5, "x1": at + 0.5,
             "y0": 0, "y1": 1, "fillcolor": theme.MUTED, "opacity": 0.12,
             "line": {"width": 0}, "layer": "below"}]  # fmt: skip


def reference_marks(
    labelled: tuple[str, float | None] | None, unit: str, *, horizontal: bool
) -> tuple[list[go.Scatter], list[dict]]:
    """([legend entry], [line]) for a (label, value) reference, or ([], []) without a value,
    to add to a figure's traces and shapes."""
    if labelled is None or labelled[1] is None:
        return [], []
    legend, line = reference_line(labelled[0], labelled[1], unit, horizontal=horizontal)
    return [legend], [line]


def reference_line(
    label: str, value: float, unit: str, *, horizontal: bool
) -> tuple[go.Scatter, dict]:
    """A dashed reference line (e.g. the parent's value) as a layout shape across the
    plot, and its legend entry, so its label never collides with bars or error bars."""
    line = {"dash": "dash", "color": theme.MUTED, "width": 1.5}
    across = {"x0": 0, "x1": 1, "xref": "x domain", "y0": value, "y1": value, "yref": "y"}
    along = {"x0": value, "x1": value, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain"}
    shape = {"type": "line", "line": line, **(across if horizontal else along)}
    legend = go.Scatter(
        **UNCHECKED,
        x=[None],
        y=[None],
        mode="lines",
        line=line,
        hoverinfo="skip",
        showlegend=True,
        name=f"{label}: {display.number(value, unit)}",
    )
    return legend, shape


def empty_figure(message: str, height: int = 260) -> go.Figure:
    """A blank chart that says why it is blank."""
    note = {
        "text": message,
        "showarrow": False,
        "x": 0.5,
        "y": 0.5,
        "xref": "paper",
        "yref": "paper",
        "font": {"size": 15, "color": theme.MUTED},
    }
    hidden = {"visible": False}
    return build([], annotations=[note], height=height, xaxis=hidden, yaxis=hidden)


def _hidden_reason(row: Mapping) -> str:
    if row["suppressed"]:
        return display.hidden_text()
    return t("low denominator")


def _hover_rows(rows: Sequence[Mapping], unit: str) -> list[list[str]]:
    """customdata: name, value text, interval, numerator, denominator, flags."""
    return [
        [
            row["org_unit_name"],
            display.value_text(row["value"], row["suppressed"], row["flags"], unit)
            or t("not shown"),
            display.interval_text(row["ci_low"], row["ci_high"], row["suppressed"], row["flags"])
            or "–",
            display.count(row["numerator"], row["suppressed"]),
            display.count(row["denominator"], row["suppressed"]),
            display.flag_text(row["flags"]) or "–",
        ]
        for row in rows
    ]


def hover_template() -> str:
    """Hover text of a place: its customdata as `_hover_rows` lays it out."""
    return (
        "<b>%{customdata[0]}</b><br>"
        + t("Value")
        + ": %{customdata[1]}<br>"
        + t("95% interval")
        + ": %{customdata[2]}<br>"
        + t("Numerator")
        + ": %{customdata[3]}<br>"
        + t("Denominator")
        + ": %{customdata[4]}<br>"
        + t("Flags")
        + ": %{customdata[5]}<extra></extra>"
    )


def _error_arrays(rows: Sequence[Mapping]) -> tuple[list, list]:
    """Asymmetric Wilson bars: plus = ci_high − value, minus = value − ci_low."""
    plus, minus = [], []
    for row in rows:
        if row["shown"] is None or row["ci_low"] is None or row["ci_high"] is None:
            plus.append(None)
            minus.append(None)
        else:
            plus.append(row["ci_high"] - row["value"])
            minus.append(row["value"] - row["ci_low"])
    return plus, minus


def ranked_bar(
    frame: pl.DataFrame,
    *,
    unit: str = "%",
    highlight: str | None = None,
    reference: tuple[str, float] | None = None,
    favourable: str = "higher",
) -> go.Figure:
    """Org units ranked best first, with Wilson intervals; hidden values listed last."""
    if frame.is_empty():
        return empty_figure(t("No data for this selection"))
    shown = display.with_display(frame, unit)
    descending = favourable != "lower"
    ranked = pl.concat(
        [
            shown.filter(pl.col("shown").is_not_null()).sort(
                ["shown", "org_unit_name"], descending=[descending, False]
            ),
            shown.filter(pl.col("shown").is_null()).sort("org_unit_name"),
        ]
    )
    rows = ranked.to_dicts()
    names = [
        f"▶ {row['org_unit_name']}" if row["org_unit"] == highlight else row["org_unit_name"]
        for row in rows
    ]
    plus, minus = _error_arrays(rows)
    caution = [display.CAUTION in display.flag_list(row["flags"]) for row in rows]
    colours = [theme.ACCENT if row["org_unit"] == highlight else theme.OKABE_ITO[4] for row in rows]
    traces = [
        go.Bar(
            **UNCHECKED,
            x=[row["shown"] for row in rows],
            y=names,
            orientation="h",
            marker={
                "color": colours,
                "pattern": {"shape": ["/" if c else "" for c in caution], "solidity": 0.3},
                "line": {
                    "color": [
                        theme.INK if row["org_unit"] == highlight else "white" for row in rows
                    ],
                    "width": 1,
                },
            },
            error_x={
                "type": "data",
                "symmetric": False,
                "array": plus,
                "arrayminus": minus,
                "color": theme.INK,
                "thickness": 1.2,
                "width": 3,
            },
            text=[row["label"] for row in rows],
            # Inside, at the bar's start: at its end the label would sit on the interval
            # whisker and the reference line.
            textposition="inside",
            insidetextanchor="start",
            textfont={"color": "white"},
            constraintext="none",
            customdata=_hover_rows(rows, unit),
            hovertemplate=hover_template(),
            name=t("Value"),
            showlegend=False,
        )
    ]
    hidden = [(name, row) for name, row in zip(names, rows, strict=True) if row["shown"] is None]
    if hidden:
        traces.append(
            go.Scatter(
                **UNCHECKED,
                x=[0] * len(hidden),
                y=[name for name, _ in hidden],
                mode="text",
                text=[f"  {_hidden_reason(row)}" for _, row in hidden],
                textposition="middle right",
                textfont={"color": theme.MUTED},
                customdata=_hover_rows([row for _, row in hidden], unit),
                hovertemplate=hover_template(),
                showlegend=False,
                name=t("No value shown"),
            )
        )
    legends, shapes = reference_marks(reference, unit, horizontal=False)
    traces += legends
    return build(
        traces,
        shapes=shapes,
        height=max(240, BAR_HEIGHT_PX * len(rows) + 90),
        xaxis=_percent_axis(unit, [row["ci_high"] for row in rows]),
        yaxis={
            "autorange": "reversed",
            "categoryorder": "array",
            "categoryarray": names,
        },
        margin={"l": 10, "r": 20, "t": 40, "b": 30},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        bargap=0.25,
    )


def _map_rows(frame: pl.DataFrame, unit: str) -> tuple[list[dict], list[dict]]:
    rows = display.with_display(frame, unit).to_dicts()
    return [r for r in rows if r["shown"] is not None], [r for r in rows if r["shown"] is None]


def _colour_bar(unit: str) -> dict:
    return {"ticksuffix": "%" if unit == "%" else "", "thickness": 14, "len": 0.8, "x": 1.0}


def _outline(rows: Sequence[Mapping], highlight: str | None) -> dict:
    return {
        "color": [theme.INK if r["org_unit"] == highlight else "white" for r in rows],
        "width": [3 if r["org_unit"] == highlight else 0.8 for r in rows],
    }


def choropleth_map(
    frame: pl.DataFrame,
    *,
    geojson_url: str,
    level: int,
    center: Mapping[str, float] | None = None,
    zoom: float | None = None,
    unit: str = "%",
    favourable: str = "higher",
    highlight: str | None = None,
    revision: str = "",
) -> go.Figure:
    """Boundaries coloured by value (Cividis, dark = needs attention); hidden ones grey.

    The GeoJSON is passed by URL so the browser fetches and caches it once.
    """
    key = f"properties.adm{level}_pcode"
    shown, hidden = _map_rows(frame, unit)
    traces = []
    if shown:
        traces.append(
            go.Choroplethmap(
                **UNCHECKED,
                geojson=geojson_url,
                featureidkey=key,
                locations=[r["org_unit"] for r in shown],
                z=[r["shown"] for r in shown],
                colorscale=theme.SEQUENTIAL,
                reversescale=favourable == "lower",
                marker={"line": _outline(shown, highlight), "opacity": 0.9},
                colorbar=_colour_bar(unit),
                customdata=_hover_rows(shown, unit),
                hovertemplate=hover_template(),
                name=t("Value"),
            )
        )
    if hidden:
        traces.append(
            go.Choroplethmap(
                **UNCHECKED,
                geojson=geojson_url,
                featureidkey=key,
                locations=[r["org_unit"] for r in hidden],
                z=[0] * len(hidden),
                colorscale=[[0, theme.NO_VALUE], [1, theme.NO_VALUE]],
                showscale=False,
                marker={"line": _outline(hidden, highlight), "opacity": 0.9},
                customdata=_hover_rows(hidden, unit),
                hovertemplate=hover_template(),
                name=t("No value shown"),
            )
        )
    return build(
        traces,
        height=MAP_HEIGHT_PX,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        map={
            "style": "white-bg",
            "center": dict(center or IRAQ_CENTER),
            "zoom": IRAQ_ZOOM if zoom is None else zoom,
        },
        uirevision=revision,
    )


def centroid_map(
    frame: pl.DataFrame,
    *,
    unit: str = "%",
    favourable: str = "higher",
    highlight: str | None = None,
) -> go.Figure:
    """Governorates as dots at their built-in centroids: the map without a boundary pack.

    `frame` carries `lat` and `lon` next to the published columns.
    """
    shown, hidden = _map_rows(frame, unit)
    traces = []
    for rows, is_shown in ((shown, True), (hidden, False)):
        if not rows:
            continue
        marker: dict = {"size": [26 if r["org_unit"] == highlight else 20 for r in rows]}
        if is_shown:
            marker |= {
                "color": [r["shown"] for r in rows],
                "colorscale": theme.SEQUENTIAL,
                "reversescale": favourable == "lower",
                "showscale": True,
                "colorbar": _colour_bar(unit),
            }
        else:
            marker |= {"color": theme.NO_VALUE}
        traces.append(
            go.Scattermap(
                **UNCHECKED,
                lat=[r["lat"] for r in rows],
                lon=[r["lon"] for r in rows],
                # Markers only: map text needs glyph fonts that MapLibre would fetch from
                # the internet (fonts.openmaptiles.org); names are in the hover instead.
                mode="markers",
                marker=marker,
                customdata=_hover_rows(rows, unit),
                hovertemplate=hover_template(),
                name=t("Value") if is_shown else t("No value shown"),
                showlegend=False,
            )
        )
    lats = [r["lat"] for r in shown + hidden if r["lat"] is not None]
    lons = [r["lon"] for r in shown + hidden if r["lon"] is not None]
    center, zoom = dict(IRAQ_CENTER), IRAQ_ZOOM
    if lats:
        center, zoom = geo.fit(min(lons) - 1, min(lats) - 1, max(lons) + 1, max(lats) + 1)
    return build(
        traces,
        height=MAP_HEIGHT_PX,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        map={"style": "white-bg", "center": center, "zoom": zoom},
    )


def trend(
    frame: pl.DataFrame,
    names: Mapping[str, str],
    *,
    unit: str = "%",
) -> go.Figure:
    """One line per indicator over birth cohorts; each has its own colour *and* symbol.

    `names` maps indicator codes to labels, in drawing and legend order.
    """
    if frame.is_empty():
        return empty_figure(t("No data for this selection"))
    data = display.with_display(frame, unit)
    periods = sorted(data["period"].unique().to_list())
    traces = []
    for code, name in names.items():
        rows = {r["period"]: r for r in data.filter(pl.col("indicator") == code).to_dicts()}
        if not rows:
            continue
        mark = theme.INDICATOR_MARKS.get(code, theme.DEFAULT_MARK)
        traces.append(
            go.Scatter(
                **UNCHECKED,
                x=periods,
                y=[rows[p]["shown"] if p in rows else None for p in periods],
                mode="lines+markers",
                name=name,
                line={"color": mark.colour, "width": 2.5},
                marker={"symbol": mark.symbol, "size": 10, "color": mark.colour},
                text=[rows[p]["label"] if p in rows else "" for p in periods],
                hovertemplate="%{x}: %{text}<extra>" + name + "</extra>",
                connectgaps=False,
            )
        )
    return build(
        traces,
        height=380,
        # Years are categories: a numeric axis would invent 2022.5.
        xaxis={"type": "category", "title": {"text": t("Birth cohort")}},
        yaxis={**_percent_axis(unit, [])},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "font": {"size": 12}},
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        hovermode="x unified",
    )


def category_bar(
    frame: pl.DataFrame,
    *,
    dimension: str,
    labels: Mapping[str, str],
    marks: Mapping[str, theme.Mark],
    overall: tuple[str, float] | None = None,
    unit: str = "%",
) -> go.Figure:
    """Subgroups of one dimension (sex or disability) side by side, with intervals.

    `labels` fixes the category order; each category has its own colour *and* pattern,
    and the axis names it, so colour is never the only cue.
    """
    data = display.with_display(frame, unit)
    by_category = {r[dimension]: r for r in data.to_dicts()}
    categories = [c for c in labels if c in by_category]
    if not categories:
        return empty_figure(t("No data for this selection"))
    rows = [by_category[c] | {"org_unit_name": labels[c]} for c in categories]
    plus, minus = _error_arrays(rows)
    names = [labels[c] for c in categories]
    # The value is printed under the category name: above the bar it would collide with
    # the interval whisker. Hidden values print their reason (suppressed, low denominator).
    ticks = [
        f"{name}<br><b>{html.escape(r['label'] or _hidden_reason(r))}</b>"
        for name, r in zip(names, rows, strict=True)
    ]
    traces = [
        go.Bar(
            **UNCHECKED,
            x=names,
            y=[r["shown"] for r in rows],
            marker={
                "color": [marks[c].colour for c in categories],
                "pattern": {
                    "shape": [marks[c].pattern for c in categories],
                    "solidity": 0.35,
                    "fgcolor": "white",
                },
                "line": {"color": theme.INK, "width": 1},
            },
            error_y={
                "type": "data",
                "symmetric": False,
                "array": plus,
                "arrayminus": minus,
                "color": theme.INK,
                "thickness": 1.2,
                "width": 6,
            },
            customdata=_hover_rows(rows, unit),
            hovertemplate=hover_template(),
            showlegend=False,
            name=t("Value"),
        )
    ]
    legends, shapes = reference_marks(overall, unit, horizontal=True)
    traces += legends
    return build(
        traces,
        shapes=shapes,
        height=340,
        yaxis={**_percent_axis(unit, [r["ci_high"] for r in rows])},
        xaxis={
            "type": "category",
            "tickmode": "array",
            "tickvals": names,
            "ticktext": ticks,
        },
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        margin={"l": 10, "r": 10, "t": 40, "b": 30},
        bargap=0.35,
    )


def rejects_bar(frame: pl.DataFrame) -> go.Figure:
    """Rejected rows per rule (summed over files), most first."""
    if frame.is_empty():
        return empty_figure(t("No rejected rows in this run"), height=200)
    totals = (
        frame.group_by("rule")
        .agg(pl.col("rows").sum())
        .sort(["rows", "rule"], descending=[True, False])
    )
    rules = totals["rule"].to_list()
    counts = totals["rows"].to_list()
    traces = [
        go.Bar(
            **UNCHECKED,
            x=counts,
            y=rules,
            orientation="h",
            marker={"color": theme.OKABE_ITO[5]},
            text=[f"{c:,}" for c in counts],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:,}<extra></extra>",
            name=t("Rejected rows"),
        )
    ]
    return build(
        traces,
        height=max(200, BAR_HEIGHT_PX * len(rules) + 80),
        yaxis={"autorange": "reversed"},
        xaxis={"title": t("Rejected rows"), "range": [0, max(counts) * 1.15]},
        margin={"l": 10, "r": 30, "t": 36, "b": 40},
    )


def warm_up() -> None:
    """Build one figure of each trace type, so plotly's lazy template setup runs once,
    single-threaded, before workers serve requests (plotly.py#3441). The modules plotly and
    Dash import lazily are imported here too: two threads importing numpy for the first
    time at once see it half-initialised (found under load by benchmarks/callback_load)."""
    for module in LAZY_IMPORTS:
        importlib.import_module(module)
    sample = pl.DataFrame(
        {
            "indicator": ["cov_penta3_12m", "cov_penta3_12m"],
            "period": ["2023", "2024"],
            "org_unit": ["IQG01", "IQG02"],
            "org_unit_name": ["a", "b"],
            "sex": ["F", "M"],
            "value": [80.0, None],
            "ci_low": [75.0, None],
            "ci_high": [85.0, None],
            "numerator": [80.0, None],
            "denominator": [100.0, 3.0],
            "suppressed": [False, True],
            "flags": ["", ""],
            "lat": [33.0, 31.0],
            "lon": [43.0, 45.0],
        }
    )
    ranked_bar(sample).to_plotly_json()
    choropleth_map(sample, geojson_url="/geo/adm1.geojson", level=1).to_plotly_json()
    centroid_map(sample).to_plotly_json()
    trend(sample, {"cov_penta3_12m": "Penta3"}).to_plotly_json()
    category_bar(
        sample, dimension="sex", labels={"F": "F", "M": "M"}, marks=theme.SEX_MARKS
    ).to_plotly_json()
    rejects_bar(pl.DataFrame({"file": ["f"], "rule": ["r"], "rows": [1]})).to_plotly_json()
    # Dash encodes every callback response with plotly's JSON encoder. Its default (orjson)
    # fails on any response holding components and then walks the whole response in Python
    # before trying again; the standard-library engine is up to 3x faster on our responses.
    pio.json.config.default_engine = "json"
