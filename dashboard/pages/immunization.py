"""Immunization (/immunization): one indicator across places, for any subgroup.

Two tabs, one per source. Registry cohorts: the selected place and its children shown
three ways (map, ranked bar with Wilson intervals, table); the export gives exactly the
table's rows. DHIS2 reports: the administrative views of `dashboard.admin_view`
(`?source=dhis2` opens it).
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, html, no_update

from dashboard import admin_view, auth, exports, figures, filters, ids, maps, selection, wiring
from dashboard import components as ui
from dashboard.i18n import t
from dashboard.session import current_scope, warehouse_url
from indicators import queries

dash.register_page(
    __name__,
    path="/immunization",
    name="Immunization",
    order=1,
    title=lambda: f"Mizan · {t('Immunization')}",
    allowed_roles=auth.ALL_ROLES,
)
callbacks = wiring.Callbacks()
admin_view.attach(callbacks)
REGISTRY = "registry"


def layout(**query: str) -> html.Div:
    url = warehouse_url()
    header = ui.page_header(
        t("Immunization coverage"),
        t("Coverage, zero-dose, dropout and registration by place and subgroup"),
    )
    registry, dhis2 = queries.latest_run(url), queries.latest_run(url, admin_view.TAB)
    if registry is None and dhis2 is None:
        return html.Div([header, ui.note(t("No data has been loaded yet."), "warning")])
    if registry is None:
        cohorts = ui.note(t("No registry data has been loaded yet."), "warning")
    else:
        cohorts = _registry_view(url, query)
    source = query.get("source") if query.get("source") == admin_view.TAB else REGISTRY
    tabs = dbc.Tabs(
        [
            dbc.Tab(cohorts, label=t("Registry cohorts"), tab_id=REGISTRY),
            dbc.Tab(admin_view.layout(url, query), label=t("DHIS2 reports"), tab_id=admin_view.TAB),
        ],
        id=ids.IMM_SOURCE,
        active_tab=source,
        className="source-tabs",
    )
    return html.Div([header, tabs])


def _registry_view(url: str, query: dict) -> html.Div:
    """The registry cohorts tab: filters, map, ranked bar and table."""
    indicator, period, place = filters.indicator_period_place(
        url,
        query,
        indicator_id=ids.IMM_INDICATOR,
        period_id=ids.IMM_PERIOD,
        unit_id=ids.IMM_ORG_UNIT,
        source=REGISTRY,
    )
    subgroups = [
        ui.radio(ids.IMM_SEX, t("Sex"), selection.sex_options(), "all"),
        ui.radio(ids.IMM_DISABILITY, t("Disability"), selection.disability_options(), "all"),
    ]
    return html.Div(
        [
            ui.filter_bar([(indicator, 5), (period, 2), (place, 5)], subgroups),
            html.H2(id=ids.IMM_TITLE, className="h5 mb-3"),
            dbc.Row(
                [
                    dbc.Col(
                        ui.card(
                            t("Map"), ui.graph(ids.IMM_MAP), footer=html.Div(id=ids.IMM_MAP_NOTE)
                        ),
                        lg=6,
                    ),
                    dbc.Col(ui.card(t("Ranking with 95% intervals"), ui.graph(ids.IMM_BAR)), lg=6),
                ],
                className="g-3",
            ),
            ui.card(
                t("Table"),
                [html.Div(id=ids.IMM_TABLE), ui.legend_note()],
                actions=ui.export_button(ids.IMM_EXPORT, ids.IMM_DOWNLOAD),
            ),
        ],
        className="pt-3",
    )


def _rows(indicator: str, period: str, unit: str, sex: str, disability: str):
    """The area of the selected unit and its children, for one subgroup."""
    url, scope = warehouse_url(), current_scope()
    units = queries.org_units(scope, url)
    area = selection.area_of(units, selection.visible_unit(scope, unit))
    frame = queries.indicator_values(
        scope,
        indicators=[indicator],
        period=period,
        org_unit=area["code"],
        sex=sex,
        disability=disability,
        url=url,
    )
    return area, units, selection.area_rows(frame, area)


@callbacks(
    Output(ids.IMM_PERIOD, "options"),
    Output(ids.IMM_PERIOD, "value"),
    Input(ids.IMM_INDICATOR, "value"),
    State(ids.IMM_PERIOD, "value"),
    prevent_initial_call=True,
)
def periods_for(indicator: str, current: str | None):
    return filters.period_choices(warehouse_url(), indicator, current)


@callbacks(
    Output(ids.IMM_ORG_UNIT, "value"),
    Input(ids.IMM_MAP, "clickData"),
    prevent_initial_call=True,
)
def drill(click: dict | None) -> str:
    """Clicking a governorate or district on the map selects it."""
    location = ((click or {}).get("points") or [{}])[0].get("location")
    return location or no_update


@callbacks(
    Output(ids.IMM_TITLE, "children"),
    Output(ids.IMM_MAP, "figure"),
    Output(ids.IMM_MAP_NOTE, "children"),
    Output(ids.IMM_BAR, "figure"),
    Output(ids.IMM_TABLE, "children"),
    Input(ids.IMM_INDICATOR, "value"),
    Input(ids.IMM_PERIOD, "value"),
    Input(ids.IMM_ORG_UNIT, "value"),
    Input(ids.IMM_SEX, "value"),
    Input(ids.IMM_DISABILITY, "value"),
)
def update(indicator: str, period: str | None, unit: str, sex: str, disability: str):
    if not (indicator and period):
        empty = figures.empty_figure(t("No data for this selection"))
        return t("No data for this selection"), empty, "", empty, ""
    meta = selection.indicator_meta(queries.catalogue(warehouse_url()), indicator)
    area, units, rows = _rows(indicator, period, unit, sex, disability)
    children = selection.children(rows, area)
    own = selection.own_row(rows, area["code"])
    highlight = unit if unit != area["code"] else None
    subgroup = [
        label
        for value, label in (
            (sex, selection.sex_labels().get(sex)),
            (disability, selection.disability_labels().get(disability)),
        )
        if value != "all"
    ]
    title = " · ".join(
        [
            t(meta["name_en"]),
            area["name_en"] if area["level"] else t("Iraq"),
            selection.period_label(period),
            *subgroup,
        ]
    )
    reference = (
        (area["name_en"] if area["level"] else t("Iraq"), own["value"])
        if own and (own["value"] is not None and not own["suppressed"])
        else None
    )
    bar = figures.ranked_bar(
        children,
        unit=meta["unit"],
        highlight=highlight,
        reference=reference,
        favourable=meta["favourable"],
    )
    map_figure, note = maps.indicator_map(
        children, units, area["level"] + 1, meta, highlight=highlight, revision=area["code"]
    )
    table = ui.values_table(rows, unit=meta["unit"], highlight=highlight, first=area["code"])
    return title, map_figure, note, bar, table


@callbacks(
    Output(ids.IMM_DOWNLOAD, "data"),
    Input(ids.IMM_EXPORT, "n_clicks"),
    State(ids.IMM_INDICATOR, "value"),
    State(ids.IMM_PERIOD, "value"),
    State(ids.IMM_ORG_UNIT, "value"),
    State(ids.IMM_SEX, "value"),
    State(ids.IMM_DISABILITY, "value"),
    prevent_initial_call=True,
)
def export(_clicks: int, indicator: str, period: str, unit: str, sex: str, disability: str):
    """The table's rows (the area and its children), in the CSV contract."""
    area, _units, rows = _rows(indicator, period, unit, sex, disability)
    chosen = {"indicator": indicator, "period": period, "org_unit": area["code"]}
    return exports.indicator_download(
        rows,
        indicator,
        period,
        area["code"],
        sex,
        disability,
        view="immunization",
        selection=chosen | {"sex": sex, "disability": disability},
    )
