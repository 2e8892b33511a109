"""Overview (/): the leadership page for the latest complete birth cohort.

Headline cards and the cohort trend are built with the page (they have no controls);
the map is a callback so a click on a governorate can show its districts.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, ctx, dcc, html, no_update

from dashboard import auth, display, exports, figures, ids, maps, selection, wiring
from dashboard import components as ui
from dashboard.environment_text import alert_list, alerts_title
from dashboard.i18n import t
from dashboard.session import current_scope, warehouse_url
from indicators import environment_views, geography, queries

dash.register_page(
    __name__,
    path="/",
    name="Overview",
    order=0,
    title=lambda: f"Mizan · {t('Overview')}",
    allowed_roles=auth.ALL_ROLES,
)
callbacks = wiring.Callbacks()
ALERTS_SHOWN = 5  # the Environment page lists them all


def _headline_rows(url: str) -> pl.DataFrame:
    """The home unit's all-children rows of the headline indicators, every year."""
    scope = current_scope()
    home = selection.home_unit(scope)
    frame = queries.indicator_values(
        scope,
        indicators=selection.HEADLINES,
        org_unit=home,
        level=0 if home == "IQ" else 1,
        sex="all",
        disability="all",
        url=url,
    )
    return frame.filter(
        (pl.col("org_unit") == home) & pl.col("period").str.contains(selection.YEAR.pattern)
    )


def cohort_of(url: str) -> str | None:
    """The latest complete birth cohort of the headline indicator (Penta3 by 12 months)."""
    return queries.latest_complete_cohort(current_scope(), selection.HEADLINE_INDICATOR, url)


def _detail(row: dict) -> str:
    interval = display.interval_text(row["ci_low"], row["ci_high"], row["suppressed"], row["flags"])
    return f"{t('95% interval')} {interval}" if interval else ""


def _cards(headline: pl.DataFrame, cohort: str) -> list[dbc.Col]:
    rows = {r["indicator"]: r for r in headline.filter(pl.col("period") == cohort).to_dicts()}
    cards = []
    for code, title in selection.PERCENT_CARDS[:2]:
        cards.append(_percent_card(rows.get(code), title))
    zero = rows.get("zero_dose_12m")
    if zero is None:
        cards.append(ui.kpi_card(t("Zero-dose children"), display.MISSING_TEXT, t("No data")))
    else:
        share = display.value_text(zero["value"], zero["suppressed"], zero["flags"])
        cards.append(
            ui.kpi_card(
                t("Zero-dose children"),
                display.count(zero["numerator"], zero["suppressed"]),
                t("{share} of eligible children had no Penta1 by 12 months").format(
                    share=share or display.MISSING_TEXT
                ),
                display.flag_text(zero["flags"]),
            )
        )
    for code, title in selection.PERCENT_CARDS[2:]:
        cards.append(_percent_card(rows.get(code), title))
    return [dbc.Col(card, xs=12, sm=6, lg=True, className="mb-3") for card in cards]


def _percent_card(row: dict | None, title: str) -> dbc.Card:
    if row is None:
        return ui.kpi_card(t(title), display.MISSING_TEXT, t("No data"))
    value = display.value_text(row["value"], row["suppressed"], row["flags"])
    return ui.kpi_card(
        t(title), value or display.MISSING_TEXT, _detail(row), display.flag_text(row["flags"])
    )


def _as_of_line(run: dict) -> str:
    return t("Data as of {as_of} · source: {source} · loaded {loaded}").format(
        as_of=run["as_of"] or display.MISSING_TEXT,
        source=run["source"] or display.MISSING_TEXT,
        loaded=run["finished_at"].strftime("%Y-%m-%d %H:%M") if run["finished_at"] else "–",
    )


def _no_data(message: str) -> html.Div:
    header = ui.page_header(
        t("Immunization overview"), t("Latest complete birth cohort, all children")
    )
    return html.Div([header, ui.note(message, "warning")])


def _alerts_card(url: str) -> dbc.Card | None:
    """The user's active facility alerts (latest month), the most severe first; none
    before facility data is loaded."""
    found = environment_views.active_alerts(current_scope(), url)
    if found.is_empty() and not environment_views.periods(current_scope(), url)["month"]:
        return None
    return ui.card(
        alerts_title(found),
        alert_list(found, ALERTS_SHOWN, link=True),
    )


def layout(**_query: str) -> html.Div:
    url = warehouse_url()
    run = queries.latest_run(url)
    if run is None:
        return _no_data(t("No data has been loaded yet."))
    headline = _headline_rows(url)
    cohort = cohort_of(url)
    if cohort is None:
        return _no_data(t("No complete birth cohort has data yet."))
    catalogue = queries.catalogue(url)
    map_options = [
        o for o in selection.indicator_options(catalogue) if o["value"] in selection.HEADLINES
    ]
    trend_names = {code: t(name) for code, name in selection.TREND_NAMES.items()}
    return html.Div(
        [
            dcc.Store(id=ids.OV_COHORT, data=cohort),
            dcc.Store(id=ids.OV_PLACE, data=None),
            html.Div(
                [
                    ui.page_header(
                        t("Immunization overview"),
                        t("Birth cohort {cohort}, all children").format(cohort=cohort),
                    ),
                    ui.export_button(ids.OV_EXPORT, ids.OV_DOWNLOAD),
                ],
                className="d-flex justify-content-between align-items-start gap-3",
            ),
            html.P(_as_of_line(run), id=ids.OV_ASOF, className="small text-muted"),
            dbc.Row(_cards(headline, cohort), id=ids.OV_CARDS, className="g-3"),
            html.Div(_alerts_card(url), id=ids.OV_ALERTS),
            dbc.Row(
                [
                    dbc.Col(
                        ui.card(
                            html.Span(id=ids.OV_MAP_TITLE),
                            [
                                html.Div(
                                    [
                                        ui.dropdown(
                                            ids.OV_MAP_INDICATOR,
                                            t("Map indicator"),
                                            map_options,
                                            selection.HEADLINE_INDICATOR,
                                        ),
                                        dbc.Button(
                                            t("← Back to Iraq"),
                                            id=ids.OV_BACK,
                                            color="link",
                                            size="sm",
                                            className="px-0",
                                            style={"display": "none"},
                                        ),
                                    ],
                                    className="map-controls mb-2",
                                ),
                                ui.graph(ids.OV_MAP),
                            ],
                            footer=html.Div(id=ids.OV_MAP_NOTE),
                        ),
                        lg=7,
                    ),
                    dbc.Col(
                        ui.card(
                            t("Trend by birth cohort"),
                            ui.graph(ids.OV_TREND, figures.trend(headline, trend_names)),
                        ),
                        lg=5,
                    ),
                ],
                className="g-3 mt-1",
            ),
        ]
    )


def _map_area(place: str | None) -> dict:
    scope = current_scope()
    units = queries.org_units(scope, warehouse_url())
    return selection.area_of(units, selection.visible_unit(scope, place))


def _map_rows(indicator: str, cohort: str, area: dict) -> pl.DataFrame:
    frame = queries.indicator_values(
        current_scope(),
        indicators=[indicator],
        period=cohort,
        org_unit=area["code"],
        sex="all",
        disability="all",
        url=warehouse_url(),
    )
    return selection.area_rows(frame, area)


@callbacks(
    Output(ids.OV_PLACE, "data"),
    Input(ids.OV_MAP, "clickData"),
    Input(ids.OV_BACK, "n_clicks"),
    State(ids.OV_PLACE, "data"),
    prevent_initial_call=True,
)
def drill(click: dict | None, _back: int | None, place: str | None) -> str | None:
    """A click on a governorate shows its districts; "Back" returns to Iraq."""
    if ctx.triggered_id == ids.OV_BACK:
        return None
    location = ((click or {}).get("points") or [{}])[0].get("location")
    if place is None and location and geography.DISTRICT_CODE.match(location) is None:
        return location
    return no_update


@callbacks(
    Output(ids.OV_MAP, "figure"),
    Output(ids.OV_MAP_TITLE, "children"),
    Output(ids.OV_MAP_NOTE, "children"),
    Output(ids.OV_BACK, "style"),
    Input(ids.OV_MAP_INDICATOR, "value"),
    Input(ids.OV_PLACE, "data"),
    State(ids.OV_COHORT, "data"),
)
def update_map(indicator: str, place: str | None, cohort: str):
    area = _map_area(place)
    meta = selection.indicator_meta(queries.catalogue(warehouse_url()), indicator)
    rows = _map_rows(indicator, cohort, area)
    children = selection.children(rows, area)
    title = f"{t(meta['name_en'])} · {area['name_en'] if area['level'] else t('Iraq')} · {cohort}"
    back = {"display": "inline-block"} if place else {"display": "none"}
    level = area["level"] + 1
    hint = t("Click a governorate to see its districts.") if level == 1 else ""
    units = queries.org_units(current_scope(), warehouse_url())
    figure, notes = maps.indicator_map(
        children, units, level, meta, hint=hint, revision=f"{area['code']}"
    )
    return figure, title, notes, back


@callbacks(
    Output(ids.OV_DOWNLOAD, "data"),
    Input(ids.OV_EXPORT, "n_clicks"),
    State(ids.OV_MAP_INDICATOR, "value"),
    State(ids.OV_PLACE, "data"),
    State(ids.OV_COHORT, "data"),
    prevent_initial_call=True,
)
def export(_clicks: int, indicator: str, place: str | None, cohort: str) -> dict:
    """Cards, trend and map rows: everything the page shows, in the CSV contract."""
    area = _map_area(place)
    on_map = selection.children(_map_rows(indicator, cohort, area), area)
    shown = pl.concat([_headline_rows(warehouse_url()), on_map]).unique()
    return exports.indicator_download(
        shown,
        "overview",
        cohort,
        area["code"],
        view="overview",
        selection={"indicator": indicator, "period": cohort, "org_unit": area["code"]},
    )
