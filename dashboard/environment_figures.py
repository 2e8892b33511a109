"""Figures of the Environment page: the JMP waste ladder, treatment methods, the carbon
trend, the solar adoption map, heat against cases, the lag chart and one facility's year.

Pure builders like `dashboard.figures` (`figures.build`, `figures.UNCHECKED` read at call
time so the tests validate every property). No group is told by colour alone: the ladder's
levels, the carbon scopes and the solar classes each have a colour *and* a pattern, and
values are printed on the bars or the map. Unsafe treatment methods are marked with a
sign and a label on the axis, not only a colour.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import plotly.colors
import plotly.graph_objects as go
import polars as pl

from dashboard import display, figures, outline_maps, theme
from dashboard.admin_figures import month_names
from dashboard.geo import Outline
from dashboard.i18n import t

JMP_BASELINE = 20.5  # % of Iraq's facilities with basic waste service, JMP 2017 (climate.md §4.6)
LADDER_MARKS = {
    "hcwm_basic": theme.Mark(theme.OKABE_ITO[2], "", "circle"),
    "hcwm_limited": theme.Mark(theme.OKABE_ITO[0], "/", "square"),
    "hcwm_no_service": theme.Mark(theme.OKABE_ITO[5], "x", "diamond"),
}
SCOPE_MARKS = {
    "co2e_scope1_t": theme.Mark(theme.OKABE_ITO[5], "/", "square"),
    "co2e_scope2_t": theme.Mark(theme.OKABE_ITO[4], "", "circle"),
    "solar_avoided_co2e_t": theme.Mark(theme.OKABE_ITO[2], "", "diamond"),
}
STREAM_MARKS = {
    "sharps": theme.Mark(theme.OKABE_ITO[4], "", "circle"),
    "infectious": theme.Mark(theme.OKABE_ITO[6], "/", "square"),
}
CASE_MARK = theme.Mark(theme.OKABE_ITO[4], "", "circle")
EXPOSURE_MARK = theme.Mark(theme.OKABE_ITO[5], "", "diamond")
LAG_MARKS = {True: theme.Mark(theme.OKABE_ITO[5], "", "circle"),
             False: theme.Mark(theme.OKABE_ITO[4], "/", "square")}  # fmt: skip
WARNING = "⚠"
BAR_PX = 26
UNSAFE_BAND = "#FBE3D6"  # the rows of unsafe methods are shaded (and marked ⚠ in words)


def _pattern(shape: str, colour: str) -> dict:
    """A bar pattern drawn over the bar's colour (white lines; dark on yellow), so the bar
    keeps its colour and its pattern both."""
    ink = theme.INK if colour == theme.OKABE_ITO[3] else "white"
    return {"shape": shape, "fillmode": "overlay", "fgcolor": ink, "fgopacity": 0.6,
            "solidity": 0.25}  # fmt: skip


def period_label(period: str) -> str:
    """`202507` -> "Jul 2025", `2025Q3` -> "2025 Q3"."""
    if len(period) == 6 and period.isdigit():
        return f"{month_names()[int(period[4:6]) - 1]} {period[:4]}"
    if "Q" in period:
        year, quarter = period.split("Q")
        return f"{year} Q{quarter}"
    return period


def ladder_labels() -> dict[str, str]:
    return {
        "hcwm_basic": t("Basic service"),
        "hcwm_limited": t("Limited service"),
        "hcwm_no_service": t("No service"),
    }


def _percent(value: float | None) -> str:
    return display.number(value, "%", 0)


# --- the JMP ladder ------------------------------------------------------------------------------


def ladder_bar(
    frame: pl.DataFrame,
    *,
    order: Sequence[str] | None = None,
    first: str | None = None,
    highlight: str | None = None,
    baseline: float | None = JMP_BASELINE,
) -> go.Figure:
    """100 % stacked bars of basic / limited / no service, one per `key` (with `label`,
    `indicator`, `value`, `numerator`, `denominator`): `first` on top, then `order`, or the
    others by basic service, lowest first. Segments print their share; the dashed line is
    the JMP baseline for basic service."""
    if frame.is_empty():
        return figures.empty_figure(t("No data for this selection"))
    rows = frame.to_dicts()
    labels = {r["key"]: r["label"] for r in rows}
    cells = {(r["key"], r["indicator"]): r for r in rows}
    basic = {k: (cells.get((k, "hcwm_basic")) or {}).get("value") for k in labels}
    keys = list(order) if order else sorted(
        (k for k in labels if k != first), key=lambda k: (basic[k] is None, basic[k] or 0,
                                                          labels[k]))  # fmt: skip
    if first in labels and first not in keys:
        keys.insert(0, first)
    keys = [k for k in keys if k in labels]
    names = [
        f"<b>{html.escape(labels[k])}</b>" if k == first
        else (f"▶ {html.escape(labels[k])}" if k == highlight else html.escape(labels[k]))
        for k in keys
    ]  # fmt: skip
    traces = []
    for code, name in ladder_labels().items():
        mark = LADDER_MARKS[code]
        values = [(cells.get((k, code)) or {}).get("value") for k in keys]
        hover = [
            [name, _percent(v), display.count((cells.get((k, code)) or {}).get("numerator")),
             display.count((cells.get((k, code)) or {}).get("denominator"))]
            for k, v in zip(keys, values, strict=True)
        ]  # fmt: skip
        traces.append(
            go.Bar(
                **figures.UNCHECKED,
                x=values,
                y=names,
                orientation="h",
                name=name,
                marker={"color": mark.colour, "line": {"color": "white", "width": 1},
                        "pattern": _pattern(mark.pattern, mark.colour)},
                text=[_percent(v) if v is not None and v >= 6 else "" for v in values],
                textposition="inside",
                insidetextanchor="middle",
                textfont={"color": "white" if code != "hcwm_limited" else theme.INK},
                customdata=hover,
                hovertemplate=("<b>%{y}</b><br>%{customdata[0]}: %{customdata[1]}<br>"
                               + t("Facilities") + ": %{customdata[2]} / %{customdata[3]}"
                               "<extra></extra>"),
            )
        )  # fmt: skip
    labelled = (t("JMP baseline, Iraq 2017 (basic)"), baseline)
    legends, shapes = figures.reference_marks(labelled, "%", horizontal=False)
    traces += legends
    return figures.build(
        traces,
        barmode="stack",
        height=max(260, BAR_PX * len(keys) + 120),
        xaxis={"range": [0, 100], "ticksuffix": "%", "side": "top"},
        yaxis={"autorange": "reversed", "categoryorder": "array", "categoryarray": names},
        shapes=shapes,
        legend={"orientation": "h", "yanchor": "top", "y": -0.01, "x": 0, "yref": "paper"},
        margin={"l": 10, "r": 20, "t": 40, "b": 50},
        bargap=0.25,
    )


# --- treatment methods ----------------------------------------------------------------------------


def method_labels() -> dict[str, str]:
    return {
        "autoclave": t("Autoclave (non-burn)"),
        "incinerator_two_chamber": t("Incinerator, two chambers"),
        "incinerator_single_chamber": t("Incinerator, single chamber"),
        "open_burning_protected": t("Burning in a protected pit"),
        "open_burning_unprotected": t("Open burning, unprotected"),
        "dump_unprotected": t("Dumped on open ground"),
        "dump_covered_pit": t("Dumped in a covered pit (not lined)"),
        "dump_open_pit": t("Dumped in an open pit"),
        "dump_protected": t("Buried in a lined, protected pit"),
        "offsite_covered": t("Collected off site, covered"),
        "offsite_protected": t("Collected off site, protected"),
        "offsite_unprotected": t("Collected off site, unprotected"),
        "other": t("Other"),
    }


def method_name(method: str, safe: bool, unsafe: bool) -> str:
    """The method's axis label: burning in the open and dumping carry the warning sign, the
    other methods outside the JMP safe set a cross (the legend says which is which)."""
    name = method_labels().get(method, method)
    if unsafe:
        return f"{WARNING} {name}"
    if not safe:
        return f"✗ {name}"
    return name


def method_mix_bar(mix: pl.DataFrame) -> go.Figure:
    """Facilities by disposal method of sharps and of infectious waste (grouped bars);
    safe methods first, then the others on a shaded band, each named on the axis."""
    used = mix.filter((pl.col("sharps") > 0) | (pl.col("infectious") > 0))
    if used.is_empty():
        return figures.empty_figure(t("No disposal method reported for this selection"))
    ordered = pl.concat([used.filter(pl.col("safe")), used.filter(~pl.col("safe"))]).to_dicts()
    names = [method_name(r["method"], r["safe"], r["open_burning_or_dumping"]) for r in ordered]
    streams = {"sharps": t("Sharps waste"), "infectious": t("Infectious waste")}
    traces = [
        go.Bar(
            **figures.UNCHECKED,
            x=[r[stream] for r in ordered],
            y=names,
            orientation="h",
            name=label,
            marker={"color": STREAM_MARKS[stream].colour,
                    "pattern": {"shape": STREAM_MARKS[stream].pattern, "solidity": 0.3}},
            text=[f"{r[stream]:,}" if r[stream] else "" for r in ordered],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"<b>%{{y}}</b><br>{label}: %{{x:,}} " + t("facilities")
            + "<extra></extra>",
        )
        for stream, label in streams.items()
    ]  # fmt: skip
    shapes = [
        {"type": "rect", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": i - 0.5,
         "y1": i + 0.5, "fillcolor": UNSAFE_BAND, "line": {"width": 0}, "layer": "below"}
        for i, r in enumerate(ordered) if not r["safe"]
    ]  # fmt: skip
    if shapes:
        traces.append(
            go.Scatter(**figures.UNCHECKED, x=[None], y=[None], mode="markers",
                       marker={"symbol": "square", "size": 12, "color": UNSAFE_BAND,
                               "line": {"color": theme.MUTED, "width": 1}},
                       name=t("Not a safe method (JMP): ✗, or ⚠ burning in the open or "
                              "dumping"), hoverinfo="skip")
        )  # fmt: skip
    top = max([1, *[max(r["sharps"], r["infectious"]) for r in ordered]])
    return figures.build(
        traces,
        barmode="group",
        height=max(260, 2 * 18 * len(ordered) + 160),
        xaxis={"title": {"text": t("Facilities")}, "range": [0, top * 1.18], "rangemode":
               "tozero"},
        yaxis={"autorange": "reversed", "categoryorder": "array", "categoryarray": names},
        shapes=shapes,
        # Under the bars, right-aligned (the method names take the left); not xref
        # "container": with the legend-only trace plotly then fails on axis scaling.
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 1, "xanchor": "right"},
        margin={"l": 10, "r": 30, "t": 20, "b": 90},
        bargap=0.25,
    )  # fmt: skip


# --- carbon ---------------------------------------------------------------------------------------


def carbon_labels() -> dict[str, str]:
    return {
        "co2e_scope1_t": t("Scope 1: diesel burnt on site"),
        "co2e_scope2_t": t("Scope 2: grid electricity"),
        "solar_avoided_co2e_t": t("Avoided by solar"),
    }


def carbon_trend(frame: pl.DataFrame, selected: str | None = None) -> go.Figure:
    """t CO2e per period: Scope 1 and Scope 2 stacked, emissions avoided by solar as a
    line; the chosen period shaded."""
    if frame.is_empty():
        return figures.empty_figure(t("No data for this selection"))
    periods = sorted(frame["period"].unique().to_list())
    x = [period_label(p) for p in periods]
    values = {(r["indicator"], r["period"]): r["value"] for r in frame.to_dicts()}
    traces: list = []
    for code, name in carbon_labels().items():
        mark = SCOPE_MARKS[code]
        y = [values.get((code, p)) for p in periods]
        hover = f"<b>{name}</b> %{{x}}: %{{y:,.1f}} t CO2e<extra></extra>"
        if code == "solar_avoided_co2e_t":
            traces.append(go.Scatter(
                **figures.UNCHECKED, x=x, y=y, name=name, mode="lines+markers",
                line={"color": mark.colour, "width": 2.5, "dash": "dot"},
                marker={"symbol": mark.symbol, "size": 9, "color": mark.colour},
                hovertemplate=hover,
            ))  # fmt: skip
        else:
            traces.append(go.Bar(
                **figures.UNCHECKED, x=x, y=y, name=name,
                marker={"color": mark.colour, "pattern": {"shape": mark.pattern,
                                                          "solidity": 0.3}},
                hovertemplate=hover,
            ))  # fmt: skip
    shapes = figures.highlight(periods, selected)
    return figures.build(
        traces,
        barmode="stack",
        height=360,
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": x},
        yaxis={"title": {"text": t("t CO2e")}, "rangemode": "tozero"},
        shapes=shapes,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        hovermode="x unified",
    )


# --- the solar adoption map -----------------------------------------------------------------------


def solar_top(values: Sequence[float | None]) -> float:
    """The colour scale's top: at least 20 %, else the largest share rounded up to 10."""
    shown = [v for v in values if v is not None and not math.isnan(v)]
    return max(20.0, math.ceil(max(shown, default=0) / 10) * 10)


def solar_colour(value: float | None, top: float) -> str:
    """Cividis at value / top (dark: few facilities with solar); grey without a value."""
    if value is None or math.isnan(value):
        return theme.NO_VALUE
    return plotly.colors.sample_colorscale(theme.SEQUENTIAL, [min(value / top, 1.0)])[0]


def solar_map(
    frame: pl.DataFrame,
    outlines: Mapping[str, Outline],
    highlight: str | None = None,
) -> go.Figure:
    """Places filled by their share of facilities with solar (Cividis, the share printed
    on each, so colour is never the only cue); drawn as SVG shapes, so no tiles, fonts or
    network. `frame`: org_unit, org_unit_name, solar (share %), kwp, facilities."""
    rows = [r for r in frame.to_dicts() if r["org_unit"] in outlines]
    if not rows:
        return figures.empty_figure(t("Maps need the boundary pack (MIZAN_GEO_DIR)."))
    top = solar_top([r["solar"] for r in rows])
    codes = [r["org_unit"] for r in rows]
    traces = [
        outline_maps.fill([r["org_unit"]], outlines, r["org_unit_name"],
                          solar_colour(r["solar"], top), showlegend=False)
        for r in rows
    ]  # fmt: skip
    traces += outline_maps.selected(highlight, codes, outlines)
    traces.append(
        go.Scatter(
            **figures.UNCHECKED,
            x=[outlines[r["org_unit"]][2] for r in rows],
            y=[outlines[r["org_unit"]][3] for r in rows],
            mode="markers+text",
            text=[_percent(r["solar"]) if r["solar"] is not None else "–" for r in rows],
            textposition="middle center",
            textfont={"size": 10, "color": theme.INK},
            marker={"size": 26, "color": "white", "opacity": 0.85,
                    "line": {"color": theme.INK, "width": 0.6}},
            customdata=[[r["org_unit_name"], _percent(r["solar"]),
                         display.number(r["kwp"], "", 0), display.count(r["facilities"]),
                         r["org_unit"]] for r in rows],
            hovertemplate=("<b>%{customdata[0]}</b><br>" + t("Facilities with solar")
                           + ": %{customdata[1]}<br>" + t("Solar installed (kWp)")
                           + ": %{customdata[2]}<br>" + t("Facilities reporting")
                           + ": %{customdata[3]}<extra></extra>"),
            showlegend=False,
            name=t("Places"),
        )
    )  # fmt: skip
    traces.append(  # the colour bar (an invisible point carries the scale)
        go.Scatter(
            **figures.UNCHECKED, x=[None], y=[None], mode="markers", hoverinfo="skip",
            showlegend=False, name=t("Facilities with solar"),
            marker={"color": [0], "cmin": 0, "cmax": top, "colorscale": theme.SEQUENTIAL,
                    "showscale": True,
                    "colorbar": {"ticksuffix": "%", "thickness": 12, "len": 0.6, "x": 1.0,
                                 "title": {"text": t("with solar"), "side": "right"}}},
        )
    )  # fmt: skip
    return figures.build(traces, **outline_maps.layout(codes, outlines))


# --- heat and cases ------------------------------------------------------------------------------


def exposure_labels() -> dict[str, str]:
    return {"heatwave_days": t("Heatwave days"), "tmax": t("Mean daily maximum (°C)")}


def heat_cases_chart(
    series: pl.DataFrame, *, condition: str, exposure: str, selected: str | None = None
) -> go.Figure:
    """Cases per 10,000 by month (bars, left axis; suppressed months marked, not drawn)
    against the exposure (line, right axis)."""
    data = series.filter(pl.col("period").str.len_chars() == 6).sort("period")
    if data.is_empty():
        return figures.empty_figure(t("No data for this selection"))
    rows = data.to_dicts()
    x = [period_label(r["period"]) for r in rows]
    shown = [None if r["suppressed"] else r["value"] for r in rows]
    name = t("{condition} per 10,000").format(condition=condition)
    exposure_name = exposure_labels()[exposure] + " " + t("(right axis)")
    traces: list = [
        go.Bar(**figures.UNCHECKED, x=x, y=shown, name=name,
               marker={"color": CASE_MARK.colour},
               hovertemplate=f"<b>{name}</b> %{{x}}: %{{y:.2f}}<extra></extra>"),
        go.Scatter(**figures.UNCHECKED, x=x, y=[r[exposure] for r in rows], yaxis="y2",
                   name=exposure_name, mode="lines+markers",
                   line={"color": EXPOSURE_MARK.colour, "width": 2},
                   marker={"symbol": EXPOSURE_MARK.symbol, "size": 7,
                           "color": EXPOSURE_MARK.colour},
                   hovertemplate=f"<b>{exposure_labels()[exposure]}</b> %{{x}}: %{{y:.1f}}"
                   "<extra></extra>"),
    ]  # fmt: skip
    hidden = [label for label, r in zip(x, rows, strict=True) if r["suppressed"]]
    if hidden:
        traces.append(go.Scatter(
            **figures.UNCHECKED, x=hidden, y=[0] * len(hidden), mode="markers+text",
            text=[display.hidden_text()] * len(hidden), textposition="top center",
            marker={"symbol": "x-thin-open", "size": 10, "color": theme.MUTED},
            textfont={"color": theme.MUTED, "size": 10}, hoverinfo="skip",
            name=t("No value shown"), showlegend=False,
        ))  # fmt: skip
    shapes = figures.highlight([r["period"] for r in rows], selected)
    return figures.build(
        traces,
        height=360,
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": x},
        yaxis={"title": {"text": t("Cases per 10,000")}, "rangemode": "tozero"},
        yaxis2={"overlaying": "y", "side": "right", "showgrid": False, "rangemode": "tozero",
                "tickmode": "auto", "title": {"text": exposure_labels()[exposure]}},
        shapes=shapes,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        hovermode="x unified",
    )  # fmt: skip


def lag_labels() -> dict[int, str]:
    return {0: t("Same month"), 1: t("1 month later"), 2: t("2 months later"),
            3: t("3 months later")}  # fmt: skip


def lag_chart(lags: pl.DataFrame) -> go.Figure:
    """Spearman's rho of cases against the exposure some months earlier, one bar per lag;
    positive and negative bars differ in colour and pattern, each prints rho and n."""
    rows = lags.sort("lag").to_dicts()
    if not rows or all(r["rho"] is None for r in rows):
        return figures.empty_figure(t("Not enough district-months to correlate"))
    names = [lag_labels().get(r["lag"], str(r["lag"])) for r in rows]
    texts = [
        (f"ρ = {r['rho']:.2f}" if r["rho"] is not None else t("not enough data"))
        + f"<br>n = {r['pairs']:,}"
        for r in rows
    ]
    traces: list = []
    for positive, label in ((True, t("Cases rise with heat")),
                            (False, t("Cases fall with heat"))):  # fmt: skip
        mark = LAG_MARKS[positive]
        keep = [r["rho"] is not None and (r["rho"] >= 0) == positive for r in rows]
        traces.append(go.Bar(
            **figures.UNCHECKED, x=names,
            y=[r["rho"] if k else None for r, k in zip(rows, keep, strict=True)],
            name=label,
            marker={"color": mark.colour, "pattern": {"shape": mark.pattern, "solidity": 0.3}},
            text=[txt if k else "" for txt, k in zip(texts, keep, strict=True)],
            textposition="outside", cliponaxis=False,
            hovertemplate="<b>%{x}</b>: ρ = %{y:.2f}<extra></extra>",
        ))  # fmt: skip
    missing = [(n, txt) for n, txt, r in zip(names, texts, rows, strict=True) if r["rho"] is None]
    if missing:
        traces.append(go.Scatter(
            **figures.UNCHECKED, x=[n for n, _ in missing], y=[0] * len(missing),
            mode="text", text=[txt for _, txt in missing], textposition="top center",
            textfont={"color": theme.MUTED}, hoverinfo="skip", showlegend=False,
            name=t("not enough data"),
        ))  # fmt: skip
    return figures.build(
        traces,
        barmode="overlay",
        height=360,
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": names,
               "title": {"text": t("Cases in the month, against heat in the month or before")}},
        yaxis={"range": [-1.15, 1.15], "title": {"text": t("Spearman's rho")},
               "zeroline": True, "zerolinewidth": 1.5},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )  # fmt: skip


# --- one facility's year -------------------------------------------------------------------------


def _panel(index: int, count: int = 4, gap: float = 0.07) -> list[float]:
    """The y domain of panel `index` (0 = top) of `count` stacked panels."""
    height = (1 - gap * (count - 1)) / count
    top = 1 - index * (height + gap)
    return [round(top - height, 4), round(top, 4)]


def facility_year_chart(year: pl.DataFrame) -> go.Figure:
    """Four panels over the facility's 12 months: waste (general and hazardous kg), energy
    (kWh by source), carbon (Scope 1 and 2 t CO2e, solar avoided) and cases (heat illness,
    acute watery diarrhoea; hidden months marked)."""
    if year.is_empty() or year.drop("period", "facility").null_count().sum_horizontal()[0] == (
        year.height * (year.width - 2)
    ):
        return figures.empty_figure(t("No reports from this facility in these 12 months"))
    rows = year.sort("period").to_dicts()
    x = [period_label(r["period"]) for r in rows]
    kg, kwh, tonne = t("kg"), t("kWh"), t("t CO2e")
    panels = [
        (t("Waste"), kg, [("waste_general_kg", t("General waste"), theme.OKABE_ITO[1], ""),
                          ("waste_hazardous_kg", t("Hazardous waste"), theme.OKABE_ITO[5],
                           "x")]),
        (t("Electricity"), kwh, [("kwh_grid", t("Grid"), theme.OKABE_ITO[4], ""),
                                 ("kwh_generator", t("Generator"), theme.OKABE_ITO[0], "/"),
                                 ("kwh_solar", t("Solar"), theme.OKABE_ITO[3], ".")]),
        (t("Carbon"), tonne, [("co2e_scope1_kg", t("Scope 1: diesel"), theme.OKABE_ITO[5], "/"),
                              ("co2e_scope2_kg", t("Scope 2: grid"), theme.OKABE_ITO[4], "")]),
    ]  # fmt: skip
    traces: list = []
    layout: dict = {}
    annotations = []
    for index, (title, unit, series) in enumerate(panels):
        axis = "" if index == 0 else str(index + 1)
        for column, name, colour, pattern in series:
            scale = 1000 if unit == tonne else 1
            traces.append(go.Bar(
                **figures.UNCHECKED, x=x,
                y=[r[column] / scale if r[column] is not None else None for r in rows],
                yaxis=f"y{axis}", name=name, legendgroup=title, legendgrouptitle={"text": title},
                marker={"color": colour, "pattern": _pattern(pattern, colour)},
                hovertemplate=f"<b>{name}</b> %{{x}}: %{{y:,.1f}} {unit}<extra></extra>",
            ))  # fmt: skip
        layout[f"yaxis{axis}"] = {"domain": _panel(index), "anchor": "x", "rangemode": "tozero",
                                  "title": {"text": unit}}  # fmt: skip
        annotations.append(_panel_title(title, _panel(index)[1]))
    avoided = [r["co2e_avoided_kg"] / 1000 if r["co2e_avoided_kg"] is not None else None
               for r in rows]  # fmt: skip
    traces.append(go.Scatter(
        **figures.UNCHECKED, x=x, y=avoided, yaxis="y3", name=t("Avoided by solar"),
        legendgroup=t("Carbon"), mode="lines+markers",
        line={"color": theme.OKABE_ITO[2], "dash": "dot"},
        marker={"symbol": "diamond", "color": theme.OKABE_ITO[2]},
        hovertemplate=f"<b>{t('Avoided by solar')}</b> %{{x}}: %{{y:,.2f}} {tonne}"
                      "<extra></extra>",
    ))  # fmt: skip
    cases = t("Cases")
    for column, name, mark in (
        ("cases_heat_illness", t("Heat illness"), CASE_MARK),
        ("cases_awd", t("Acute watery diarrhoea"), EXPOSURE_MARK),
    ):
        traces.append(go.Scatter(
            **figures.UNCHECKED, x=x, y=[r[column] for r in rows], yaxis="y4", name=name,
            legendgroup=cases, legendgrouptitle={"text": cases}, mode="lines+markers",
            line={"color": mark.colour}, marker={"symbol": mark.symbol, "color": mark.colour},
            hovertemplate=f"<b>{name}</b> %{{x}}: %{{y:,.0f}}<extra></extra>",
        ))  # fmt: skip
        hidden = [label for label, r in zip(x, rows, strict=True) if r[f"{column}_hidden"]]
        if hidden:
            traces.append(go.Scatter(
                **figures.UNCHECKED, x=hidden, y=[0] * len(hidden), yaxis="y4",
                mode="markers", marker={"symbol": "x-thin-open", "size": 9,
                                        "color": mark.colour},
                name=f"{name}: {display.hidden_text()}", legendgroup=cases,
                hovertemplate=f"{name} %{{x}}: {display.hidden_text()}<extra></extra>",
            ))  # fmt: skip
    layout["yaxis4"] = {"domain": _panel(3), "anchor": "x", "rangemode": "tozero",
                        "title": {"text": cases}}  # fmt: skip
    annotations.append(_panel_title(cases, _panel(3)[1]))
    return figures.build(
        traces,
        barmode="stack",
        height=720,
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": x,
               "anchor": "y4"},
        annotations=annotations,
        legend={"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1, "yanchor": "top",
                "groupclick": "toggleitem"},
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        hovermode="x unified",
        **layout,
    )  # fmt: skip


def _panel_title(text: str, top: float) -> dict:
    return {"text": f"<b>{html.escape(text)}</b>", "xref": "paper", "yref": "paper", "x": 0,
            "y": top, "yanchor": "bottom", "xanchor": "left", "showarrow": False,
            "font": {"size": 13}}  # fmt: skip
