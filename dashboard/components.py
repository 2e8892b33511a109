"""Reusable layout pieces: filter controls, KPI cards, chart cards, export buttons, tables.

Pure functions returning components; every label goes through `t`. Tables apply the
display rules of `dashboard.display`, so a suppressed cell reads the same wherever it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
import polars as pl
from dash import dcc, html

from dashboard import display, theme
from dashboard.i18n import t


def page_header(title: str, lead: str) -> html.Div:
    return html.Div(
        [html.H1(title, className="h3 mb-1"), html.P(lead, className="text-muted mb-0")],
        className="page-header mb-3",
    )


def dropdown(
    id_: str,
    label: str,
    options: list[dict],
    value: object,
    clearable: bool = False,
    placeholder: str | None = None,
) -> html.Div:
    """A labelled Dash dropdown (the label is a real <label> for screen readers)."""
    return html.Div(
        [
            dbc.Label(label, html_for=id_, className="form-label small fw-semibold mb-1"),
            dcc.Dropdown(
                id=id_,
                options=options,
                value=value,
                clearable=clearable,
                placeholder=placeholder,
                labels={"search": t("Search"), "no_options_found": t("No options found")},
            ),
        ],
        className="filter",
    )


def radio(id_: str, label: str, options: list[dict], value: str) -> html.Div:
    """Few choices (sex, disability): all visible at once as toggle buttons."""
    return html.Div(
        [
            dbc.Label(label, html_for=id_, className="form-label small fw-semibold mb-1 d-block"),
            dbc.RadioItems(
                id=id_,
                options=options,
                value=value,
                inline=True,
                className="choice-group",
                inputClassName="btn-check",
                labelClassName="btn btn-sm btn-outline-secondary",
                labelCheckedClassName="active",
            ),
        ],
        className="filter",
    )


Control = html.Div | tuple[html.Div, int | None]


def filter_bar(*rows: list[Control]) -> dbc.Card:
    """Rows of filters; a control may come with its column width out of 12 (large screens)."""

    def column(control: Control) -> dbc.Col:
        widget, width = control if isinstance(control, tuple) else (control, None)
        return dbc.Col(widget, xs=12, lg=width or "auto", className="mb-2 mb-lg-0")

    return dbc.Card(
        dbc.CardBody(
            [
                dbc.Row(
                    [column(c) for c in row],
                    className="g-3 align-items-end" + (" mt-0 pt-2" if i else ""),
                )
                for i, row in enumerate(rows)
            ]
        ),
        className="filter-bar mb-3",
    )


def kpi_card(title: str, value: object, detail: str = "", note: str = "") -> dbc.Card:
    """A headline number with its cohort/interval line and any reliability flag."""
    body = [
        html.Div(title, className="kpi-title"),
        html.Div(value, className="kpi-value"),
        html.Div(detail, className="kpi-detail"),
    ]
    if note:
        body.append(html.Div(note, className="kpi-note"))
    return dbc.Card(dbc.CardBody(body), className="kpi-card h-100")


def graph(id_: str, figure: object | None = None) -> dcc.Loading:
    return dcc.Loading(
        dcc.Graph(id=id_, figure=figure or {}, config=theme.GRAPH_CONFIG),
        type="default",
        delay_show=300,
    )


def export_button(button_id: str, download_id: str, label: str | None = None) -> html.Span:
    """A CSV button and its `dcc.Download` (the callback sends what is on screen)."""
    return html.Span(
        [
            dbc.Button(
                label or t("Export CSV"),
                id=button_id,
                color="secondary",
                outline=True,
                size="sm",
                className="export-button",
            ),
            dcc.Download(id=download_id),
        ]
    )


def card(
    title: object,
    body: object,
    *,
    actions: object = None,
    footer: object = None,
    title_id: str | None = None,
) -> dbc.Card:
    """A titled section with optional actions (export) on the header's end side."""
    heading = html.H2(title, className="h6 mb-0", **({"id": title_id} if title_id else {}))
    header = dbc.CardHeader(
        html.Div(
            [heading, actions], className="d-flex justify-content-between align-items-center gap-2"
        )
    )
    parts = [header, dbc.CardBody(body)]
    if footer is not None:
        parts.append(dbc.CardFooter(footer, className="small text-muted"))
    return dbc.Card(parts, className="section-card mb-3")


def note(text: str, color: str = "info") -> dbc.Alert:
    return dbc.Alert(text, color=color, className="py-2 px-3 small mb-2")


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    numeric: Sequence[bool] | None = None,
    highlight: Sequence[bool] | None = None,
    caption: str | None = None,
) -> dbc.Table:
    """A plain accessible table; numeric columns align to the end (right in LTR)."""
    numeric = numeric or [False] * len(header)
    head = html.Thead(
        html.Tr(
            [
                html.Th(h, scope="col", className="text-end" if n else None)
                for h, n in zip(header, numeric, strict=True)
            ]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(cell, className="text-end" if n else None)
                    for cell, n in zip(row, numeric, strict=True)
                ],
                className="table-active fw-semibold" if highlight and highlight[i] else None,
            )
            for i, row in enumerate(rows)
        ]
    )
    parts = [head, body]
    if caption:
        parts.insert(0, html.Caption(caption, className="small"))
    return dbc.Table(
        parts, striped=True, hover=True, size="sm", responsive=True, className="mb-0 data-table"
    )


def values_table(
    frame: pl.DataFrame, *, unit: str = "%", highlight: str | None = None, first: str | None = None
) -> dbc.Table | html.P:
    """Indicator rows as users read them: "suppressed" for suppressed cells, flags spelled out,
    no value for a low denominator, caution values in parentheses."""
    if frame.is_empty():
        return html.P(t("No data for this selection"), className="text-muted mb-0")
    rows = sorted(frame.to_dicts(), key=lambda r: (r["org_unit"] != first, r["org_unit_name"]))
    body = [
        [
            r["org_unit_name"],
            display.value_text(r["value"], r["suppressed"], r["flags"], unit),
            display.interval_text(r["ci_low"], r["ci_high"], r["suppressed"], r["flags"]),
            display.count(r["numerator"], r["suppressed"]),
            display.count(r["denominator"], r["suppressed"]),
            display.flag_text(r["flags"]),
        ]
        for r in rows
    ]
    return table(
        [t("Place"), t("Value"), t("95% interval"), t("Numerator"), t("Denominator"), t("Flags")],
        body,
        numeric=[False, True, True, True, True, False],
        highlight=[r["org_unit"] in (highlight, first) for r in rows],
    )


def legend_note() -> html.P:
    """What the table's symbols mean (shown under every indicator table)."""
    return html.P(
        t(
            "Suppressed: hidden because it, or a related figure, counts 1–4 children. Values "
            "in parentheses: denominator 25–49, interpret with caution. No value: "
            "denominator under 25."
        ),
        className="small text-muted mt-2 mb-0",
    )


def map_footer(*lines: str) -> list[html.Div]:
    """The notes under a map: how to read it, then the boundary attribution."""
    return [html.Div(line) for line in lines if line]


def no_pack_note() -> list[html.Div]:
    """Shown instead of the attribution when the deployment has no boundary pack."""
    return map_footer(
        t("Dots mark governorate centres: hover a dot for its name and value."),
        t("District maps need the boundary pack (MIZAN_GEO_DIR)."),
    )


def grey_note() -> str:
    return t("Grey: no value shown (suppressed, or denominator under 25).")
