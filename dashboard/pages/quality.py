"""Data quality (/quality): can the DHIS2 numbers be trusted, and where not?

Reporting completeness and timeliness, facility values flagged as outliers, and the
registry's doses against the doses facilities reported, for a year or a month and a
place (its children side by side). For administrators and leadership, and governorate
users on their own governorate (the query layer filters their rows). Every view exports.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, html

from dashboard import admin_figures, admin_view, auth, display, exports, ids, selection, wiring
from dashboard import components as ui
from dashboard.i18n import t
from dashboard.session import current_scope, warehouse_url
from indicators import admin_views, config, queries

dash.register_page(
    __name__,
    path="/quality",
    name="Data quality",
    order=3,
    title=lambda: f"Mizan · {t('Data quality')}",
    allowed_roles=auth.DATA_QUALITY,
)
callbacks = wiring.Callbacks()

ALL_MONTHS = "all"
LIST_ROWS = 25  # outliers listed on screen (the export has them all)
FILTERS = [
    Input(ids.DQ_YEAR, "value"),
    Input(ids.DQ_MONTH, "value"),
    Input(ids.DQ_ORG_UNIT, "value"),
]
STATES = [State(i.component_id, i.component_property) for i in FILTERS]


def _month_options(months: list[int]) -> list[dict]:
    names = admin_figures.month_names()
    return [{"label": t("All months"), "value": ALL_MONTHS}] + [
        {"label": names[m - 1], "value": str(m)} for m in reversed(months)
    ]


def layout(**query: str) -> html.Div:
    url = warehouse_url()
    header = ui.page_header(
        t("Data quality"),
        t("Reporting completeness and timeliness, outliers, and registry vs DHIS2 doses"),
    )
    if queries.latest_run(url) is None and queries.latest_run(url, "dhis2") is None:
        return html.Div([header, ui.note(t("No data has been loaded yet."), "warning")])
    scope = current_scope()
    years = admin_views.years(scope, list(admin_views.QUALITY), url)
    if not years:
        return html.Div([header, ui.note(admin_view.no_reports(url), "warning")])
    year = query.get("year") if query.get("year") in years else years[-1]
    units = queries.org_units(scope, url)
    unit = selection.unit_row(units, selection.visible_unit(scope, query.get("org_unit")))
    months = admin_views.months(scope, list(admin_views.QUALITY), year, url)
    filters = [
        (ui.dropdown(ids.DQ_YEAR, t("Year"), [{"label": y, "value": y} for y in reversed(years)],
                     year), 2),
        (ui.dropdown(ids.DQ_MONTH, t("Month"), _month_options(months), ALL_MONTHS), 2),
        (ui.dropdown(ids.DQ_ORG_UNIT, t("Place"), selection.org_unit_options(units),
                     unit["code"]), 5),
    ]  # fmt: skip
    return html.Div(
        [header, ui.filter_bar(filters), html.H2(id=ids.DQ_TITLE, className="h5 mb-3"),
         _reports_card(), _outliers_card(), _triangulation_card(url)]
    )  # fmt: skip


def _reports_card() -> dbc.Card:
    target = f"{config.completeness_target():g}"
    return ui.card(
        t("Reporting completeness and timeliness"),
        dbc.Row(
            [
                dbc.Col(html.Div(ui.graph(ids.DQ_REPORTS_BAR), className="scroll-panel"), lg=6),
                dbc.Col(html.Div(id=ids.DQ_REPORTS_TABLE), lg=6),
            ],
            className="g-3",
        ),
        actions=ui.export_button(ids.DQ_REPORTS_EXPORT, ids.DQ_REPORTS_DOWNLOAD),
        footer=t(
            "Completeness: monthly reports received over reports expected; timeliness: "
            "received within the data set's timely days. Dashed line: the {target}% target "
            "(MIZAN_COMPLETENESS_TARGET)."
        ).format(target=target),
    )


def _outliers_card() -> dbc.Card:
    actions = html.Span(
        [
            ui.export_button(ids.DQ_OUTLIERS_EXPORT, ids.DQ_OUTLIERS_DOWNLOAD, t("Export counts")),
            ui.export_button(ids.DQ_OUTLIER_LIST_EXPORT, ids.DQ_OUTLIER_LIST_DOWNLOAD,
                             t("Export list")),
        ],
        className="d-flex gap-2",
    )  # fmt: skip
    return ui.card(
        t("Outliers in facility reports"),
        dbc.Row(
            [
                dbc.Col(html.Div(id=ids.DQ_OUTLIERS_TABLE), lg=5),
                dbc.Col(html.Div(id=ids.DQ_OUTLIERS_LIST), lg=7),
            ],
            className="g-3",
        ),
        actions=actions,
        footer=t(
            "A facility's monthly doses of an antigen are an outlier when their modified "
            "z-score within the facility's own series is above {z} (WHO data quality tool). "
            "The list names the districts, antigens and months holding one, with the "
            "district's doses against its median month of the year."
        ).format(z=f"{config.outlier_threshold():g}"),
    )


def _triangulation_card(url: str) -> dbc.Card:
    codes = admin_views.with_data(current_scope(), admin_views.triangulation_codes(), url)
    options = [{"label": admin_views.dose_label(c), "value": c} for c in codes]
    default = "triangulation_penta1" if "triangulation_penta1" in codes else (codes or [None])[0]
    picker = ui.dropdown(ids.DQ_TRI_DOSE, t("Antigen"), options, default)
    return ui.card(
        t("Registry vs DHIS2: doses by month"),
        [
            dbc.Row(dbc.Col(picker, lg=3), className="mb-2"),
            html.H3(id=ids.DQ_TRI_TITLE, className="h6"),
            ui.graph(ids.DQ_TRI_CHART),
            html.Div(id=ids.DQ_TRI_TABLE, className="mt-3"),
        ],
        actions=ui.export_button(ids.DQ_TRI_EXPORT, ids.DQ_TRI_DOWNLOAD),
        footer=t(
            "DHIS2 doses (children under 1, facility reports) over the registry's doses given "
            "that month to children living in the place; 100% means both agree. Suppressed "
            "months are left out of year totals."
        ),
    )


# --- what a selection means ------------------------------------------------------------------


def _chosen(year: str | None, month: str | None, unit_code: str | None) -> dict:
    if not year:
        raise dash.exceptions.PreventUpdate
    scope, url = current_scope(), warehouse_url()
    units = queries.org_units(scope, url)
    unit = selection.unit_row(units, selection.visible_unit(scope, unit_code))
    area = selection.area_of(units, unit["code"])
    number = int(month) if month and month != ALL_MONTHS else None
    return {"scope": scope, "url": url, "unit": unit, "area": area, "year": year,
            "month": number}  # fmt: skip


def _when(chosen: dict) -> str:
    if chosen["month"]:
        return f"{admin_figures.month_names()[chosen['month'] - 1]} {chosen['year']}"
    return chosen["year"]


def _place_name(unit: dict) -> str:
    return unit["name_en"] if unit["level"] else t("Iraq")


def _percent(value: float | None) -> str:
    return display.number(value, "%")


def _highlight(chosen: dict) -> str | None:
    return chosen["unit"]["code"] if chosen["unit"]["code"] != chosen["area"]["code"] else None


# --- tables ------------------------------------------------------------------------------------


def _reports_table(table: pl.DataFrame, area: str) -> dbc.Table | html.P:
    if table.is_empty():
        return html.P(t("No data for this selection"), className="text-muted mb-0")
    target = config.completeness_target()
    rows = sorted(table.to_dicts(), key=lambda r: (r["org_unit"] != area, r["org_unit_name"]))
    body = [
        [r["org_unit_name"], display.count(r["expected"]), display.count(r["received"]),
         _percent(r["completeness"]) + (" ▼" if (r["completeness"] or 0) < target else ""),
         display.count(r["on_time"]), _percent(r["timeliness"])]
        for r in rows
    ]  # fmt: skip
    return ui.table(
        [t("Place"), t("Expected"), t("Received"), t("Completeness"), t("On time"),
         t("Timeliness")],
        body,
        numeric=[False, True, True, True, True, True],
        highlight=[r["org_unit"] == area for r in rows],
        caption=t("▼ below the completeness target"),
    )  # fmt: skip


def _outlier_counts(table: pl.DataFrame, area: str) -> dbc.Table | html.P:
    rows = [r for r in table.to_dicts() if r["tested"]]
    if not rows:
        return html.P(t("No values were tested for this selection"), className="text-muted mb-0")
    rows.sort(key=lambda r: (r["org_unit"] != area, -(r["outlier_share"] or 0)))
    body = [[r["org_unit_name"], display.count(r["tested"]), display.count(r["flagged"]),
             _percent(r["outlier_share"])] for r in rows]  # fmt: skip
    return ui.table(
        [t("Place"), t("Values tested"), t("Outliers"), t("Share")],
        body,
        numeric=[False, True, True, True],
        highlight=[r["org_unit"] == area for r in rows],
    )


def _outlier_list(flagged: pl.DataFrame) -> html.Div:
    if flagged.is_empty():
        return html.P(t("No outliers for this selection"), className="text-muted mb-0")
    names = admin_figures.month_names()
    rows = flagged.head(LIST_ROWS).to_dicts()
    body = [
        [r["org_unit_name"], admin_views.dose_label(r["indicator"]),
         f"{names[admin_views.month_of(r['period']) - 1]} {r['period'][:4]}",
         display.count(r["numerator"], r["suppressed"]), display.count(r["median"]),
         display.number(r["ratio"], "", 1) + "×" if r["ratio"] is not None else "–"]
        for r in rows
    ]  # fmt: skip
    table = ui.table(
        [t("District"), t("Antigen"), t("Month"), t("Doses reported"), t("Median month"),
         t("× median")],
        body,
        numeric=[False, False, False, True, True, True],
    )  # fmt: skip
    more = t("{shown} of {total}, farthest from the median first; the export lists all.")
    return html.Div(
        [table, html.P(more.format(shown=len(rows), total=flagged.height),
                       className="small text-muted mt-2 mb-0")]
    )  # fmt: skip


def _triangulation_table(table: pl.DataFrame, area: str) -> dbc.Table | html.P:
    if table.is_empty():
        return html.P(t("No data for this selection"), className="text-muted mb-0")
    rows = sorted(table.to_dicts(), key=lambda r: (r["org_unit"] != area, r["org_unit_name"]))
    body = [
        [r["org_unit_name"], display.count(r["registry"], r["months"] == 0),
         display.count(r["dhis2"], r["months"] == 0), _percent(r["ratio"]),
         f"{r['months']} / {r['months_total']}"]
        for r in rows
    ]  # fmt: skip
    return ui.table(
        [t("Place"), t("Registry doses"), t("DHIS2 doses"), t("DHIS2 / registry"),
         t("Months compared")],
        body,
        numeric=[False, True, True, True, True],
        highlight=[r["org_unit"] == area for r in rows],
    )  # fmt: skip


# --- callbacks --------------------------------------------------------------------------------


@callbacks(
    Output(ids.DQ_MONTH, "options"),
    Output(ids.DQ_MONTH, "value"),
    Input(ids.DQ_YEAR, "value"),
    State(ids.DQ_MONTH, "value"),
    prevent_initial_call=True,
)
def months_for(year: str, current: str | None):
    months = admin_views.months(current_scope(), list(admin_views.QUALITY), year, warehouse_url())
    options = _month_options(months)
    keep = current if current in {o["value"] for o in options} else ALL_MONTHS
    return options, keep


@callbacks(
    Output(ids.DQ_TITLE, "children"),
    Output(ids.DQ_REPORTS_BAR, "figure"),
    Output(ids.DQ_REPORTS_TABLE, "children"),
    *FILTERS,
)
def reports(year: str, month: str | None, unit_code: str):
    chosen = _chosen(year, month, unit_code)
    area = chosen["area"]
    rows = admin_views.quality_rows(chosen["scope"], year, chosen["month"], area, chosen["url"])
    table = admin_views.quality_table(rows)
    children = table.filter(pl.col("org_unit") != area["code"])
    bar = admin_figures.reporting_bar(
        children, target=config.completeness_target(), highlight=_highlight(chosen)
    )
    title = " · ".join([_place_name(area), _when(chosen)])
    return title, bar, _reports_table(table, area["code"])


@callbacks(
    Output(ids.DQ_OUTLIERS_TABLE, "children"),
    Output(ids.DQ_OUTLIERS_LIST, "children"),
    *FILTERS,
)
def outliers(year: str, month: str | None, unit_code: str):
    chosen = _chosen(year, month, unit_code)
    area = chosen["area"]
    rows = admin_views.quality_rows(chosen["scope"], year, chosen["month"], area, chosen["url"])
    counts = _outlier_counts(admin_views.quality_table(rows), area["code"])
    values = admin_views.outlier_rows(chosen["scope"], year, chosen["month"], area, chosen["url"])
    return counts, _outlier_list(admin_views.outlier_list(values))


@callbacks(
    Output(ids.DQ_TRI_TITLE, "children"),
    Output(ids.DQ_TRI_CHART, "figure"),
    Output(ids.DQ_TRI_TABLE, "children"),
    Input(ids.DQ_TRI_DOSE, "value"),
    *FILTERS,
)
def triangulation(code: str | None, year: str, month: str | None, unit_code: str):
    if not code:
        raise dash.exceptions.PreventUpdate
    chosen = _chosen(year, month, unit_code)
    area, unit = chosen["area"], chosen["unit"]
    # The area holds the unit: itself, or (a district) among its governorate's districts.
    rows = admin_views.triangulation_rows(chosen["scope"], code, year, area, chosen["url"])
    series = admin_views.series(rows, unit["code"])
    chart = admin_figures.triangulation_chart(series, year, chosen["month"])
    title = " · ".join([admin_views.dose_label(code), _place_name(unit), year])
    table = admin_views.triangulation_table(rows, year, chosen["month"])
    return title, chart, _triangulation_table(table, area["code"])


# --- exports -----------------------------------------------------------------------------------


def _selection_of(chosen: dict) -> dict:
    return {"year": chosen["year"], "month": chosen["month"], "org_unit": chosen["area"]["code"]}


@callbacks(
    Output(ids.DQ_REPORTS_DOWNLOAD, "data"),
    Input(ids.DQ_REPORTS_EXPORT, "n_clicks"),
    *STATES,
    prevent_initial_call=True,
)
def export_reports(_clicks: int, year: str, month: str | None, unit_code: str):
    """The published completeness and timeliness rows behind the view."""
    return _quality_download(year, month, unit_code, outliers=False, name="reporting")


@callbacks(
    Output(ids.DQ_OUTLIERS_DOWNLOAD, "data"),
    Input(ids.DQ_OUTLIERS_EXPORT, "n_clicks"),
    *STATES,
    prevent_initial_call=True,
)
def export_outlier_counts(_clicks: int, year: str, month: str | None, unit_code: str):
    """The published outlier-count rows behind the counts table."""
    return _quality_download(year, month, unit_code, outliers=True, name="outliers")


def _quality_download(
    year: str, month: str | None, unit_code: str, *, outliers: bool, name: str
) -> dict:
    """The published report rows (or outlier-count rows) of the selection, in the contract."""
    chosen = _chosen(year, month, unit_code)
    rows = admin_views.quality_rows(
        chosen["scope"], year, chosen["month"], chosen["area"], chosen["url"]
    )
    counted = pl.col("indicator") == admin_views.OUTLIERS
    return exports.indicator_download(
        rows.filter(counted if outliers else ~counted), name, year, month,
        chosen["area"]["code"], view=f"quality-{name}", selection=_selection_of(chosen),
    )  # fmt: skip


@callbacks(
    Output(ids.DQ_OUTLIER_LIST_DOWNLOAD, "data"),
    Input(ids.DQ_OUTLIER_LIST_EXPORT, "n_clicks"),
    *STATES,
    prevent_initial_call=True,
)
def export_outlier_list(_clicks: int, year: str, month: str | None, unit_code: str):
    """Every listed district, antigen and month (not only those on screen)."""
    chosen = _chosen(year, month, unit_code)
    values = admin_views.outlier_rows(
        chosen["scope"], year, chosen["month"], chosen["area"], chosen["url"]
    )
    table = admin_views.outlier_export(admin_views.outlier_list(values))
    return exports.table_download(
        table, "outlier-list", year, month, chosen["area"]["code"],
        view="quality-outlier-list", selection=_selection_of(chosen),
    )  # fmt: skip


@callbacks(
    Output(ids.DQ_TRI_DOWNLOAD, "data"),
    Input(ids.DQ_TRI_EXPORT, "n_clicks"),
    State(ids.DQ_TRI_DOSE, "value"),
    *STATES,
    prevent_initial_call=True,
)
def export_triangulation(_clicks: int, code: str, year: str, month: str | None, unit_code: str):
    """The published triangulation rows of the year for the place and its children."""
    chosen = _chosen(year, month, unit_code)
    rows = admin_views.triangulation_rows(
        chosen["scope"], code, year, chosen["area"], chosen["url"]
    )
    return exports.indicator_download(
        rows, code, year, chosen["area"]["code"],
        view="quality-triangulation", selection=_selection_of(chosen) | {"indicator": code},
    )  # fmt: skip
