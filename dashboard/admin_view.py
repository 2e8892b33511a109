"""The Immunization page's DHIS2 tab: facility reports the WHO way, next to the registry.

For an antigen, a year and a place: the WHO monitoring chart (cumulative doses against the
target line, with the cumulative Penta1 -> Penta3 dropout), the RED/REC scatter and map of
the place's districts, and dropout by district; each view exports its rows as CSV.
`attach(callbacks)` adds the callbacks to the page's collector, so they are registered
and role-gated with the page's (dashboard.wiring). They only work while the tab is open.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import admin_figures, exports, figures, geo, ids, selection
from dashboard import components as ui
from dashboard.i18n import t
from dashboard.session import current_scope, warehouse_url
from dashboard.wiring import Callbacks
from indicators import admin_views, config, geography, queries

TAB = "dhis2"
FILTERS = [
    Input(ids.IMM_SOURCE, "active_tab"),
    Input(ids.IMM_ADM_DOSE, "value"),
    Input(ids.IMM_ADM_YEAR, "value"),
    Input(ids.IMM_ADM_ORG_UNIT, "value"),
]
STATES = [State(i.component_id, i.component_property) for i in FILTERS[1:]]


def _default_year(scope_years: list[str], url: str, asked: str | None) -> str | None:
    """The year asked for, else the latest complete year, else the latest."""
    if asked in scope_years:
        return asked
    complete = [y for y in scope_years if admin_views.basis(current_scope(), y, url) == y]
    return (complete or scope_years or [None])[-1]


def layout(url: str, query: dict) -> html.Div:
    scope = current_scope()
    doses = admin_views.with_data(scope, admin_views.coverage_codes(), url)
    if not doses:
        return ui.note(no_reports(url), "warning")
    dose = query.get("dose") if query.get("dose") in doses else None
    dose = dose or (admin_views.PENTA[0] if admin_views.PENTA[0] in doses else doses[0])
    years = admin_views.years(scope, [admin_views.ytd(dose)], url)
    units = queries.org_units(scope, url)
    unit = selection.unit_row(units, selection.visible_unit(scope, query.get("org_unit")))
    options = [{"label": admin_views.dose_label(c), "value": c} for c in doses]
    year_options = [{"label": y, "value": y} for y in reversed(years)]
    filters = [
        (ui.dropdown(ids.IMM_ADM_DOSE, t("Antigen"), options, dose), 3),
        (ui.dropdown(ids.IMM_ADM_YEAR, t("Year"), year_options,
                     _default_year(years, url, query.get("year"))), 2),
        (ui.dropdown(ids.IMM_ADM_ORG_UNIT, t("Place"), selection.org_unit_options(units),
                     unit["code"]), 5),
    ]  # fmt: skip
    return html.Div([ui.filter_bar(filters), *_cards()], className="pt-3")


def no_reports(url: str) -> str:
    """Why there is nothing to show: no DHIS2 load yet, or none of it in the user's area."""
    if queries.latest_run(url, TAB) is None:
        return t("No DHIS2 reports have been loaded yet (etl load --dhis2).")
    return t("The DHIS2 reports loaded do not cover your area.")


def _chart_card(title: str, graph: str, export: str, download: str, note: str) -> dbc.Card:
    """A chart with its export button and a note under it."""
    return ui.card(
        title, ui.graph(graph), actions=ui.export_button(export, download),
        footer=html.Div(id=note),
    )  # fmt: skip


def _cards() -> list:
    monitor = _chart_card(
        t("Monitoring chart: doses against the target"), ids.IMM_ADM_MONITOR,
        ids.IMM_ADM_MONITOR_EXPORT, ids.IMM_ADM_MONITOR_DOWNLOAD, ids.IMM_ADM_MONITOR_NOTE,
    )  # fmt: skip
    scatter = _chart_card(
        t("RED/REC: Penta1 coverage and dropout by district"), ids.IMM_ADM_SCATTER,
        ids.IMM_ADM_SCATTER_EXPORT, ids.IMM_ADM_SCATTER_DOWNLOAD, ids.IMM_ADM_SCATTER_NOTE,
    )  # fmt: skip
    red_map = _chart_card(
        t("RED/REC categories by district"), ids.IMM_ADM_MAP,
        ids.IMM_ADM_MAP_EXPORT, ids.IMM_ADM_MAP_DOWNLOAD, ids.IMM_ADM_MAP_NOTE,
    )  # fmt: skip
    dropout = ui.card(
        t("Dropout Penta1 → Penta3 by district"),
        html.Div(ui.graph(ids.IMM_ADM_DROPOUT), className="scroll-panel"),
        actions=ui.export_button(ids.IMM_ADM_DROPOUT_EXPORT, ids.IMM_ADM_DROPOUT_DOWNLOAD),
        footer=t("Highest first. Dashed line: the dropout threshold ({threshold}%).").format(
            threshold=f"{config.red_dropout_threshold():g}"
        ),
    )
    return [
        html.H2(id=ids.IMM_ADM_TITLE, className="h5 mb-1"),
        html.P(id=ids.IMM_ADM_BASIS, className="text-muted small mb-3"),
        dbc.Row([dbc.Col(monitor, lg=6), dbc.Col(scatter, lg=6)], className="g-3"),
        dbc.Row([dbc.Col(red_map, lg=6), dbc.Col(dropout, lg=6)], className="g-3"),
    ]


# --- what a selection means ------------------------------------------------------------------


def _selection(dose: str | None, year: str | None, unit_code: str | None) -> dict:
    """The visible unit, the area whose districts are compared, and the basis period."""
    if not (dose and year):
        raise PreventUpdate
    scope, url = current_scope(), warehouse_url()
    units = queries.org_units(scope, url)
    unit = selection.unit_row(units, selection.visible_unit(scope, unit_code))
    area = selection.area_of(units, unit["code"])
    return {
        "scope": scope, "url": url, "unit": unit, "area": area, "dose": dose, "year": year,
        "basis": admin_views.basis(scope, year, url),
        "highlight": unit["code"] if unit["level"] == admin_views.DISTRICT else None,
    }  # fmt: skip


def _place_name(unit: dict) -> str:
    return unit["name_en"] if unit["level"] else t("Iraq")


def basis_text(year: str, basis: str | None) -> str:
    """Which months RED/REC and dropout cover."""
    if basis is None:
        return t("No Penta1 reports for {year}.").format(year=year)
    if basis == year:
        return t("RED/REC and dropout: {year}, the complete year.").format(year=year)
    months = admin_figures.month_names()
    return t("RED/REC and dropout: {first}–{last} {year}, year to date.").format(
        first=months[0], last=months[admin_views.month_of(basis) - 1], year=year
    )


def _monitor_note(rows: pl.DataFrame, names: dict[str, str]) -> list[html.Div]:
    months = admin_figures.month_names()
    lines = [
        t("Target: the annual target population × month ÷ 12 (WHO Immunization Analysis app).")
    ]
    hidden = rows.filter(pl.col("numerator").is_null() & pl.col("indicator").is_in(list(names)))
    if hidden.height:
        which = ", ".join(months[m - 1] for m in sorted(set(hidden["month"].to_list())))
        lines.append(t("Not shown (suppressed): {months}.").format(months=which))
    return ui.map_footer(*lines)


def _scatter_note(table: pl.DataFrame, plotted: int) -> list[html.Div]:
    lines = [
        t("Quadrants at Penta1 coverage {coverage}% and dropout {dropout}% "
          "(MIZAN_RED_COVERAGE, MIZAN_RED_DROPOUT).").format(
            coverage=f"{config.red_coverage_threshold():g}",
            dropout=f"{config.red_dropout_threshold():g}",
        ),
        t("Grey bands: coverage over 100 % and negative dropout are shown where they fall, "
          "not capped: they point to a target or reporting problem."),
    ]  # fmt: skip
    if table.height > plotted:
        lines.append(
            t("{count} of {total} districts not plotted: a value is suppressed or its "
              "denominator is under 25.").format(count=table.height - plotted, total=table.height)
        )  # fmt: skip
    return ui.map_footer(*lines)


# --- callbacks --------------------------------------------------------------------------------


def _monitor(tab: str, dose: str, year: str, unit_code: str):
    if tab != TAB:
        raise PreventUpdate
    chosen = _selection(dose, year, unit_code)
    unit = chosen["unit"]
    rows = admin_views.monitoring(chosen["scope"], dose, year, unit, chosen["url"])
    codes = admin_views.monitoring_codes(dose)
    names = {
        code: t("{dose} doses to date").format(
            dose=admin_views.dose_label(code.removesuffix("_ytd"))
        )
        for code in codes
        if not code.startswith(admin_views.DROPOUT)
    }
    dropout = next((c for c in codes if c.startswith(admin_views.DROPOUT)), None)
    figure = admin_figures.monitoring_chart(
        rows, admin_views.target_line(rows, dose), names, dropout
    )
    title = " · ".join([admin_views.dose_label(dose), _place_name(unit), year, t("DHIS2 reports")])
    return title, basis_text(year, chosen["basis"]), figure, _monitor_note(rows, names)


def _red(tab: str, dose: str, year: str, unit_code: str):
    if tab != TAB:
        raise PreventUpdate
    chosen = _selection(dose, year, unit_code)
    rows = admin_views.red_rows(chosen["scope"], year, chosen["area"]["code"], chosen["url"])
    table = admin_views.red_table(rows)
    scatter = admin_figures.red_scatter(
        table,
        coverage=config.red_coverage_threshold(),
        dropout=config.red_dropout_threshold(),
        highlight=chosen["highlight"],
    )
    plotted = admin_figures.plotted(table).height
    if not geo.has_boundaries():
        message = t("District maps need the boundary pack (MIZAN_GEO_DIR).")
        empty = figures.empty_figure(message)
        return scatter, _scatter_note(table, plotted), empty, message
    everywhere = admin_views.with_all_districts(
        table, chosen["scope"], chosen["area"]["code"], chosen["url"]
    )
    red_map = admin_figures.red_map(everywhere, geo.outlines(2), chosen["highlight"])
    note = ui.map_footer(
        t("Each district shows its category number and pattern; grey: no category "
          "(suppressed or no data). Click a district to select it."),
        geography.ATTRIBUTION,
    )  # fmt: skip
    return scatter, _scatter_note(table, plotted), red_map, note


def _dropout(tab: str, dose: str, year: str, unit_code: str):
    if tab != TAB:
        raise PreventUpdate
    chosen = _selection(dose, year, unit_code)
    rows = admin_views.dropout_rows(chosen["scope"], year, chosen["area"]["code"], chosen["url"])
    return admin_figures.dropout_bar(
        rows, threshold=config.red_dropout_threshold(), highlight=chosen["highlight"]
    )


def _drill(scatter_click: dict | None, map_click: dict | None) -> str:
    """Clicking a district's point or label selects it."""
    for click in (scatter_click, map_click):
        point = ((click or {}).get("points") or [{}])[0]
        data = point.get("customdata")
        if isinstance(data, list) and len(data) > 5 and data[5]:
            return data[5]
    return no_update


def _export(view: str, rows: pl.DataFrame, chosen: dict) -> dict:
    place = chosen["area"]["code"] if view != "monitoring" else chosen["unit"]["code"]
    period = chosen["basis"] or chosen["year"]
    return exports.indicator_download(
        rows, "dhis2", view, period, place,
        view=f"immunization-dhis2-{view}",
        selection={"dose": chosen["dose"], "year": chosen["year"], "org_unit": place},
    )  # fmt: skip


def _export_monitor(_clicks: int, dose: str, year: str, unit_code: str) -> dict:
    chosen = _selection(dose, year, unit_code)
    rows = admin_views.monitoring(chosen["scope"], dose, year, chosen["unit"], chosen["url"])
    return _export("monitoring", rows.drop("month"), chosen)


def _export_red(view: str):
    def export(_clicks: int, dose: str, year: str, unit_code: str) -> dict:
        chosen = _selection(dose, year, unit_code)
        rows = admin_views.red_rows(chosen["scope"], year, chosen["area"]["code"], chosen["url"])
        if view == "red-map":
            rows = rows.filter(pl.col("indicator") == admin_views.RED)
        return _export(view, rows, chosen)

    export.__name__ = f"export_{view.replace('-', '_')}"
    return export


def _export_dropout(_clicks: int, dose: str, year: str, unit_code: str) -> dict:
    chosen = _selection(dose, year, unit_code)
    rows = admin_views.dropout_rows(chosen["scope"], year, chosen["area"]["code"], chosen["url"])
    return _export("dropout", rows, chosen)


def attach(callbacks: Callbacks) -> None:
    """Add the tab's callbacks to the Immunization page's collector."""
    callbacks(
        Output(ids.IMM_ADM_TITLE, "children"),
        Output(ids.IMM_ADM_BASIS, "children"),
        Output(ids.IMM_ADM_MONITOR, "figure"),
        Output(ids.IMM_ADM_MONITOR_NOTE, "children"),
        *FILTERS,
    )(_monitor)
    callbacks(
        Output(ids.IMM_ADM_SCATTER, "figure"),
        Output(ids.IMM_ADM_SCATTER_NOTE, "children"),
        Output(ids.IMM_ADM_MAP, "figure"),
        Output(ids.IMM_ADM_MAP_NOTE, "children"),
        *FILTERS,
    )(_red)
    callbacks(Output(ids.IMM_ADM_DROPOUT, "figure"), *FILTERS)(_dropout)
    callbacks(
        Output(ids.IMM_ADM_ORG_UNIT, "value"),
        Input(ids.IMM_ADM_SCATTER, "clickData"),
        Input(ids.IMM_ADM_MAP, "clickData"),
        prevent_initial_call=True,
    )(_drill)
    downloads = (
        (ids.IMM_ADM_MONITOR_DOWNLOAD, ids.IMM_ADM_MONITOR_EXPORT, _export_monitor),
        (ids.IMM_ADM_SCATTER_DOWNLOAD, ids.IMM_ADM_SCATTER_EXPORT, _export_red("red-scatter")),
        (ids.IMM_ADM_MAP_DOWNLOAD, ids.IMM_ADM_MAP_EXPORT, _export_red("red-map")),
        (ids.IMM_ADM_DROPOUT_DOWNLOAD, ids.IMM_ADM_DROPOUT_EXPORT, _export_dropout),
    )
    for download, button, function in downloads:
        callbacks(
            Output(download, "data"), Input(button, "n_clicks"), *STATES,
            prevent_initial_call=True,
        )(function)  # fmt: skip
