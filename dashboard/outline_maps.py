"""Maps drawn as SVG shapes from the boundary pack's outlines (`geo.outlines`): no tiles,
fonts or network, so they work offline and carry patterns and numbers as well as colour.
Shared by the RED/REC map (DHIS2 tab) and the solar adoption map (Environment page)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from dashboard import figures, theme
from dashboard.geo import Outline
from dashboard.i18n import t

MID_LAT = 33.2  # Iraq: x/y aspect of a lon/lat map (1 / cos(latitude))
HIDDEN_AXIS = {"visible": False, "showgrid": False, "zeroline": False}


def joined(codes: Sequence[str], outlines: Mapping[str, Outline]) -> tuple[np.ndarray, ...]:
    """The rings of several places as one x and one y array (split by NaN gaps)."""
    if not codes:
        return np.empty(0), np.empty(0)
    return (
        np.concatenate([outlines[c][0] for c in codes]),
        np.concatenate([outlines[c][1] for c in codes]),
    )


def fill(
    codes: Sequence[str],
    outlines: Mapping[str, Outline],
    name: str,
    colour: str,
    **extra: object,
) -> go.Scatter:
    """The places as one filled trace (`extra`: e.g. a fill pattern or the legend flag)."""
    xs, ys = joined(codes, outlines)
    return go.Scatter(
        **figures.UNCHECKED, x=xs, y=ys, fill="toself", fillcolor=colour, mode="lines",
        name=name, line={"color": "white", "width": 0.8}, hoverinfo="skip", **extra,
    )  # fmt: skip


def selected(code: str | None, codes: Sequence[str], outlines: Mapping[str, Outline]) -> list:
    """A thick outline around the selected place ([] when it is not on the map)."""
    if code not in codes:
        return []
    xs, ys = joined([code], outlines)
    return [go.Scatter(**figures.UNCHECKED, x=xs, y=ys, mode="lines", hoverinfo="skip",
                       line={"color": theme.INK, "width": 3}, showlegend=False,
                       name=t("Selected"))]  # fmt: skip


def layout(codes: Sequence[str], outlines: Mapping[str, Outline]) -> dict:
    """The figure layout that frames the places at the right aspect, axes hidden."""
    xs, ys = joined(codes, outlines)
    west, east, south, north = np.nanmin(xs), np.nanmax(xs), np.nanmin(ys), np.nanmax(ys)
    pad_x, pad_y = (east - west) * 0.03, (north - south) * 0.03
    return {
        "height": figures.MAP_HEIGHT_PX,
        "xaxis": {**HIDDEN_AXIS, "range": [float(west - pad_x), float(east + pad_x)],
                  "constrain": "domain"},
        "yaxis": {**HIDDEN_AXIS, "range": [float(south - pad_y), float(north + pad_y)],
                  "scaleanchor": "x", "constrain": "domain",
                  "scaleratio": 1 / math.cos(math.radians(MID_LAT))},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "dragmode": "pan",
    }  # fmt: skip
