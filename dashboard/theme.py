"""Colours and marks, fixed per category across every page (dash.md §6.3).

Okabe–Ito for categories and Cividis for maps are readable with colour-vision
deficiencies. Sex and disability are never told apart by colour alone: each category also
has a bar pattern and a marker symbol, and charts label categories directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.colors
import plotly.graph_objects as go

OKABE_ITO = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#000000",  # black
)
# Cividis as (position, colour) stops: the figure carries the exact scale, the same with or
# without plotly's validation (which would expand the name into these stops).
_CIVIDIS = plotly.colors.sequential.Cividis
SEQUENTIAL = [[i / (len(_CIVIDIS) - 1), c] for i, c in enumerate(_CIVIDIS)]
NO_VALUE = "#D9D9D9"  # suppressed, low denominator or no data
INK = "#1F2A37"
MUTED = "#5B6675"
ACCENT = "#0B5D7A"  # MoH teal used for the navbar and selection outlines
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Sans Arabic', sans-serif"


@dataclass(frozen=True)
class Mark:
    """How one category is drawn: colour, bar pattern and marker symbol."""

    colour: str
    pattern: str
    symbol: str


SEX_MARKS = {
    "F": Mark(OKABE_ITO[6], "/", "circle"),
    "M": Mark(OKABE_ITO[4], "", "square"),
    "U": Mark("#8C8C8C", ".", "diamond"),
}
DISABILITY_MARKS = {
    "yes": Mark(OKABE_ITO[5], "x", "triangle-up"),
    "no": Mark(OKABE_ITO[2], "", "circle"),
    "unknown": Mark("#8C8C8C", ".", "diamond"),
}
# The headline indicators keep one colour and one symbol on every chart.
INDICATOR_MARKS = {
    "cov_penta3_12m": Mark(OKABE_ITO[4], "", "circle"),
    "cov_mcv1_12m": Mark(OKABE_ITO[2], "", "square"),
    "zero_dose_12m": Mark(OKABE_ITO[5], "", "diamond"),
    "dropout_penta1_penta3_12m": Mark(OKABE_ITO[0], "", "triangle-up"),
    "birth_reg_30d": Mark(OKABE_ITO[6], "", "x"),
}
DEFAULT_MARK = Mark(OKABE_ITO[4], "", "circle")

TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": FONT, "size": 13, "color": INK},
        "colorway": list(OKABE_ITO),
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "separators": ".,",
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "hoverlabel": {"font": {"family": FONT}},
        "xaxis": {"gridcolor": "#E5E7EB", "zerolinecolor": "#9CA3AF", "automargin": True},
        "yaxis": {"gridcolor": "#E5E7EB", "zerolinecolor": "#9CA3AF", "automargin": True},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    }
)

GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "sendDataToCloud"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}
