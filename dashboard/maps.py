"""The indicator map of a place's children, shared by the Overview and Immunization pages:
a choropleth from the boundary pack, or governorate centroids when the pack is absent."""

from __future__ import annotations

import dash
import plotly.graph_objects as go
import polars as pl

from dashboard import components as ui
from dashboard import figures, geo
from dashboard.i18n import t
from dashboard.routes import GEOJSON_URLS
from indicators import geography


def indicator_map(
    children: pl.DataFrame,
    units: pl.DataFrame,
    level: int,
    meta: dict,
    *,
    hint: str = "",
    highlight: str | None = None,
    revision: str = "",
) -> tuple[go.Figure, list | str]:
    """(figure, notes under it) for the units of `level` in `children`."""
    if geo.has_boundaries():
        framing = geo.view(children["org_unit"].to_list(), level)
        center, zoom = framing if framing else (None, None)
        figure = figures.choropleth_map(
            children,
            geojson_url=dash.get_relative_path(GEOJSON_URLS[level]),
            level=level,
            center=center,
            zoom=zoom,
            unit=meta["unit"],
            favourable=meta["favourable"],
            highlight=highlight,
            revision=revision,
        )
        return figure, ui.map_footer(hint, ui.grey_note(), geography.ATTRIBUTION)
    if level == 1:
        located = children.join(
            units.select("code", "lat", "lon"), left_on="org_unit", right_on="code", how="left"
        )
        figure = figures.centroid_map(located, unit=meta["unit"], favourable=meta["favourable"])
        return figure, ui.no_pack_note()
    message = t("District maps need the boundary pack (MIZAN_GEO_DIR).")
    return figures.empty_figure(message), message
