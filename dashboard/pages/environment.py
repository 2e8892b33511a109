"""Environment (/environment): health-care waste, energy and carbon, and climate-sensitive
disease against heat, by governorate, district, facility type and urban/rural.

At a glance: which governorates burn or dump waste unsafely (the JMP ladder and the
unsafe-disposal ranking), how much diesel and CO2 the facilities burnt this month or
quarter (the cards and the carbon trend), and how much solar saved. Below: the solar
adoption map, heat against cases with the lag relationship, and the facility table with
one facility's year. Numbers come from `indicators.environment_views` (scoped, cached);
every view exports its rows, audited.
"""

from __future__ import annotations

from collections.abc import Callable

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import ALL, Input, Output, State, ctx, html, no_update

from dashboard import auth, exports, figures, geo, ids, selection, wiring
from dashboard import components as ui
from dashboard import environment_figures as charts
from dashboard import environment_text as words
from dashboard.i18n import t
from dashboard.session import current_scope, warehouse_url
from indicators import config, emissions, geography, queries
from indicators import environment_views as ev
from indicators import export as contract

dash.register_page(
    __name__,
    path="/environment",
    name="Environment",
    order=2.5,  # after Equity, before Data quality
    title=lambda: f"Mizan · {t('Environment')}",
    allowed_roles=auth.ALL_ROLES,
)
callbacks = wiring.Callbacks()

LIST_ROWS = 20  # facilities listed on screen (the export has them all)
ALERTS_SHOWN = 30  # alerts listed on screen (the export has them all)
TYPES = ("all", "hospital", "phc")
SETTINGS = ("all", "urban", "rural")
FILTERS = [
    Input(ids.ENV_PERIOD, "value"),
    Input(ids.ENV_ORG_UNIT, "value"),
    Input(ids.ENV_TYPE, "value"),
    Input(ids.ENV_SETTING, "value"),
]
STATES = [State(i.component_id, i.component_property) for i in FILTERS]


def _condition_labels() -> dict[str, str]:
    return {
        "heat_illness": t("Heat illness"),
        "awd": t("Acute watery diarrhoea"),
        "cholera": t("Suspected cholera"),
        "respiratory": t("Respiratory visits"),
        "leishmaniasis": t("Leishmaniasis"),
    }


def _period_options(found: list[str]) -> list[dict]:
    return [{"label": charts.period_label(p), "value": p} for p in reversed(found)]


def _choices(labels: dict[str, str]) -> list[dict]:
    return [{"label": label, "value": value} for value, label in labels.items()]


def layout(**query: str) -> html.Div:
    url = warehouse_url()
    header = ui.page_header(
        t("Environment: waste, energy, carbon and heat"),
        t("Health-care waste, clean energy and carbon in facilities, and climate-sensitive "
          "disease against heat"),
    )  # fmt: skip
    if queries.latest_run(url) is None and queries.latest_run(url, "dhis2") is None:
        return html.Div([header, ui.note(t("No data has been loaded yet."), "warning")])
    scope = current_scope()
    found = ev.periods(scope, url)
    if not found[ev.MONTHLY]:
        message = t("No facility reports have been loaded yet (etl load --dhis2 with the "
                    "facility data set), or none covers your area.")  # fmt: skip
        return html.Div([header, ui.note(message, "warning")])
    kind = ev.QUARTERLY if ev.QUARTER.match(query.get("period") or "") else ev.MONTHLY
    period = query.get("period") if query.get("period") in found[kind] else found[kind][-1]
    units = queries.org_units(scope, url)
    unit = selection.unit_row(units, selection.visible_unit(scope, query.get("org_unit")))
    kinds = {ev.MONTHLY: t("Month"), ev.QUARTERLY: t("Quarter")}
    types = {"all": t("All"), "hospital": t("Hospitals"), "phc": t("PHC centres")}
    settings = {"all": t("All"), "urban": t("Urban"), "rural": t("Rural")}
    filters = [
        (ui.radio(ids.ENV_PERIOD_KIND, t("Period"), _choices(kinds), kind), None),
        (ui.dropdown(ids.ENV_PERIOD, t("Month or quarter"), _period_options(found[kind]),
                     period), 2),
        (ui.dropdown(ids.ENV_ORG_UNIT, t("Place"), selection.org_unit_options(units),
                     unit["code"]), 4),
        (ui.radio(ids.ENV_TYPE, t("Facility type"), _choices(types),
                  query.get("type") if query.get("type") in TYPES else "all"), None),
        (ui.radio(ids.ENV_SETTING, t("Setting"), _choices(settings),
                  query.get("setting") if query.get("setting") in SETTINGS else "all"), None),
    ]  # fmt: skip
    return html.Div(
        [
            header,
            ui.filter_bar(filters),
            html.Div(
                [
                    html.H2(id=ids.ENV_TITLE, className="h5 mb-0"),
                    ui.export_button(
                        ids.ENV_CARDS_EXPORT, ids.ENV_CARDS_DOWNLOAD, t("Export cards")
                    ),
                ],
                className="d-flex justify-content-between align-items-center mb-2 gap-2",
            ),  # fmt: skip
            dbc.Row(id=ids.ENV_CARDS, className="g-3"),
            _alerts_card(),
            dbc.Row(
                [dbc.Col(_ladder_card(), lg=7), dbc.Col(_disposal_card(), lg=5)], className="g-3"
            ),  # fmt: skip
            dbc.Row(
                [dbc.Col(_carbon_card(), lg=7), dbc.Col(_solar_card(), lg=5)], className="g-3"
            ),  # fmt: skip
            _heat_section(),
            _facility_section(query.get("facility")),
        ]
    )


def _alerts_card() -> dbc.Card:
    return ui.card(
        html.Span(id=ids.ENV_ALERTS_TITLE),
        html.Div(id=ids.ENV_ALERTS, className="alert-scroll"),
        actions=ui.export_button(ids.ENV_ALERTS_EXPORT, ids.ENV_ALERTS_DOWNLOAD),
        footer=t(
            "Rules on the latest month loaded, for the place chosen: open burning or unsafe "
            "dumping; heat-illness cases above {ratio} × the district's seasonal baseline "
            "(and at least {cases}); vaccine fridges without reliable power; facilities "
            "without reliable electricity in a district with ≥ {days} heatwave days."
        ).format(ratio=f"{config.alert_baseline_ratio():g}",
                 cases=config.alert_min_cases(), days=config.heat_alert_days()),
    )  # fmt: skip


def _ladder_card() -> dbc.Card:
    compare = ui.radio(
        ids.ENV_LADDER_BY, t("Compare"),
        _choices({"place": t("Places"), "group": t("Facility type and setting")}), "place",
    )  # fmt: skip
    return ui.card(
        t("Health-care waste service ladder (JMP)"),
        [compare, ui.graph(ids.ENV_LADDER)],
        actions=ui.export_button(ids.ENV_LADDER_EXPORT, ids.ENV_LADDER_DOWNLOAD),
        footer=t(
            "Basic: waste segregated into three labelled bins in consultation areas, and "
            "sharps and infectious waste treated and disposed of safely. No service: no bins "
            "and unsafe treatment. Limited: the rest. Lowest basic service first; dashed "
            "line: Iraq's JMP baseline (2017), 20.5% basic."
        ),
    )


def _disposal_card() -> dbc.Card:
    actions = html.Span(
        [ui.export_button(ids.ENV_UNSAFE_EXPORT, ids.ENV_UNSAFE_DOWNLOAD),
         ui.export_button(ids.ENV_METHODS_EXPORT, ids.ENV_METHODS_DOWNLOAD,
                          t("Export methods"))],
        className="d-flex gap-2",
    )  # fmt: skip
    return ui.card(
        t("Who burns or dumps waste unsafely"),
        [
            html.H3(t("Facilities with open burning or unsafe dumping"), className="h6"),
            html.Div(ui.graph(ids.ENV_UNSAFE), className="scroll-panel"),
            html.H3(t("Final disposal methods"), className="h6 mt-3"),
            ui.graph(ids.ENV_METHODS),
        ],
        actions=actions,
        footer=t(
            "Unsafe: burning without protection or dumping of sharps or infectious waste "
            "(methods marked ⚠). Methods marked ✗ are outside the JMP safe set too; both "
            "are shaded."
        ),
    )


def _carbon_card() -> dbc.Card:
    return ui.card(
        t("Operational carbon footprint"),
        ui.graph(ids.ENV_CARBON),
        actions=ui.export_button(ids.ENV_CARBON_EXPORT, ids.ENV_CARBON_DOWNLOAD),
        footer=t(
            "Scope 1: diesel litres × {diesel} kg CO2e/L (IPCC 2006). Scope 2: grid kWh × "
            "{grid} kg CO2e/kWh (Iraq grid, Ember). Avoided by solar: solar kWh priced at the "
            "grid factor, the grid power it displaces. Factors: indicators/emissions.py."
        ).format(diesel=f"{emissions.diesel_factor():g}",
                 grid=f"{emissions.grid_factor():g}"),
    )  # fmt: skip


def _solar_card() -> dbc.Card:
    return ui.card(
        t("Solar adoption"),
        ui.graph(ids.ENV_SOLAR_MAP),
        actions=ui.export_button(ids.ENV_SOLAR_EXPORT, ids.ENV_SOLAR_DOWNLOAD),
        footer=html.Div(id=ids.ENV_SOLAR_NOTE),
    )


def _heat_section() -> dbc.Row:
    conditions = ui.dropdown(ids.ENV_CONDITION, t("Condition"),
                             _choices(_condition_labels()), "heat_illness")  # fmt: skip
    exposures = ui.radio(ids.ENV_EXPOSURE, t("Heat measure"),
                         _choices(charts.exposure_labels()), "heatwave_days")  # fmt: skip
    heat = ui.card(
        t("Heat and cases by month"),
        [dbc.Row([dbc.Col(conditions, md=5), dbc.Col(exposures, md=7)],
                 className="g-3 mb-2 align-items-end"),
         ui.graph(ids.ENV_HEAT)],
        actions=ui.export_button(ids.ENV_HEAT_EXPORT, ids.ENV_HEAT_DOWNLOAD),
        footer=t(
            "Cases reported by the place's facilities per 10,000 residents (suppressed months "
            "marked), against the population-weighted heatwave days or mean daily maximum "
            "of its districts. A heatwave day is in a run of at least 3 days at 45 °C or "
            "more. All facilities: the facility filters do not apply."
        ),
    )  # fmt: skip
    lag = ui.card(
        t("Do cases follow heat? Lag relationship"),
        [ui.graph(ids.ENV_LAG), html.P(id=ids.ENV_LAG_NOTE, className="small mt-3 mb-0")],
        actions=ui.export_button(ids.ENV_LAG_EXPORT, ids.ENV_LAG_DOWNLOAD),
        footer=t(
            "Spearman's rank correlation between a district's cases per 10,000 in a month "
            "and its heat measure in that month or 1 to 3 months before, over every "
            "district-month of the place."
        ),
    )
    return dbc.Row([dbc.Col(heat, lg=7), dbc.Col(lag, lg=5)], className="g-3")


def _facility_section(facility: str | None) -> html.Section:
    table = ui.card(
        t("Facilities"),
        html.Div(id=ids.ENV_FACILITIES),
        actions=ui.export_button(ids.ENV_FACILITIES_EXPORT, ids.ENV_FACILITIES_DOWNLOAD),
    )
    picker = ui.dropdown(ids.ENV_FACILITY, t("Facility"), [], facility,
                         placeholder=t("Choose a facility"))  # fmt: skip
    year = ui.card(
        html.Span(id=ids.ENV_FACILITY_TITLE),
        [dbc.Row(dbc.Col(picker, lg=6), className="mb-2"), ui.graph(ids.ENV_FACILITY_YEAR),
         html.Div(id=ids.ENV_FACILITY_TABLE, className="mt-3")],
        actions=ui.export_button(ids.ENV_FACILITY_EXPORT, ids.ENV_FACILITY_DOWNLOAD),
        footer=t(
            "Monthly reports of one facility. Case counts of 1 to 4 are hidden, and one more "
            "of the district's facilities that month when only one would be."
        ),
    )  # fmt: skip
    return html.Section([table, year])


# --- what a selection means ------------------------------------------------------------------


def _choice(period: str | None, unit: str | None, kind: str | None, setting: str | None
            ) -> ev.Choice:  # fmt: skip
    if not period:
        raise dash.exceptions.PreventUpdate
    place = selection.visible_unit(current_scope(), unit)
    return ev.Choice(
        period,
        place,
        kind if kind in TYPES else "all",
        setting if setting in SETTINGS else "all",
    )


def _units() -> pl.DataFrame:
    return queries.org_units(current_scope(), warehouse_url())


def _name(code: str, units: pl.DataFrame | None = None) -> str:
    if code == geography.NATIONAL:
        return t("Iraq")
    row = selection.unit_row(units if units is not None else _units(), code)
    return row["name_en"]


def _filters_text(choice: ev.Choice) -> list[str]:
    types = {"hospital": t("Hospitals"), "phc": t("PHC centres")}
    settings = {"urban": t("Urban"), "rural": t("Rural")}
    return [x for x in (types.get(choice.facility_type), settings.get(choice.setting)) if x]


def _selection_of(choice: ev.Choice) -> dict:
    return {"period": choice.period, "org_unit": choice.place,
            "facility_type": choice.facility_type, "setting": choice.setting}  # fmt: skip


def _children(frame: pl.DataFrame, area: str) -> pl.DataFrame:
    return frame.filter(pl.col("org_unit_level") == ev.level_of(area) + 1)


# --- callbacks --------------------------------------------------------------------------------


@callbacks(
    Output(ids.ENV_PERIOD, "options"),
    Output(ids.ENV_PERIOD, "value"),
    Input(ids.ENV_PERIOD_KIND, "value"),
    State(ids.ENV_PERIOD, "value"),
    prevent_initial_call=True,
)
def periods_for(kind: str, current: str | None):
    """Months or quarters; the one matching the current choice (its quarter, or the
    quarter's latest month), else the latest."""
    found = ev.periods(current_scope(), warehouse_url())
    offered = found.get(kind) or []
    if not offered:
        return [], None
    if current and kind == ev.QUARTERLY and ev.MONTH.match(current):
        wanted = ev.quarter_of(current)
    elif current and kind == ev.MONTHLY and ev.QUARTER.match(current):
        wanted = ev.status_month(current, found[ev.MONTHLY])
    else:
        wanted = current
    return _period_options(offered), wanted if wanted in offered else offered[-1]


@callbacks(
    Output(ids.ENV_TITLE, "children"),
    Output(ids.ENV_CARDS, "children"),
    *FILTERS,
)
def headline(period: str, unit: str, kind: str, setting: str):
    choice = _choice(period, unit, kind, setting)
    scope, url = current_scope(), warehouse_url()
    now, then, since = ev.headline(scope, choice, url)
    found = ev.periods(scope, url)
    state = ev.status_month(choice.period, found[ev.MONTHLY])
    to_date = any(m not in found[ev.MONTHLY] for m in ev.months_of(choice.period))
    title = " · ".join([_name(choice.place), charts.period_label(choice.period),
                        *_filters_text(choice)])  # fmt: skip
    since_state = ev.status_month(since, found[ev.MONTHLY]) if since else None
    cards = words.headline_cards(now, then, (since, since_state), choice.period, state, to_date)
    return title, cards


def _alerts_of(unit: str | None) -> pl.DataFrame:
    scope = current_scope()
    place = selection.visible_unit(scope, unit)
    found = ev.active_alerts(scope, warehouse_url())
    if place == geography.NATIONAL:
        return found
    return found.filter(pl.col("district").str.starts_with(place))


@callbacks(
    Output(ids.ENV_ALERTS_TITLE, "children"),
    Output(ids.ENV_ALERTS, "children"),
    Input(ids.ENV_ORG_UNIT, "value"),
)
def alerts(unit: str):
    found = _alerts_of(unit)
    summary = html.P(words.alert_counts(found), className="small fw-semibold mb-1")
    return words.alerts_title(found), [summary, words.alert_list(found, ALERTS_SHOWN)]


def _ladder_frame(choice: ev.Choice, by: str) -> tuple[pl.DataFrame, list[str] | None]:
    """The ladder's bars (key, label, indicator, value, numerator, denominator) and their
    order (None: by basic service)."""
    scope, url = current_scope(), warehouse_url()
    if by == "group":
        groups = ev.ladder_by_group(scope, choice, url)
        labels = {"all:all": t("All facilities"), "facility_type:hospital": t("Hospitals"),
                  "facility_type:phc": t("PHC centres"), "setting:urban": t("Urban"),
                  "setting:rural": t("Rural")}  # fmt: skip
        frame = groups.with_columns(
            key=pl.concat_str("dimension", pl.lit(":"), "group")
        ).with_columns(label=pl.col("key").replace_strict(labels, default=pl.col("key")))
        return frame, [k for k in labels if k in set(frame["key"])]
    rows = ev.rows(scope, choice, ev.LADDER, url)
    frame = rows.select(
        pl.col("org_unit").alias("key"),
        pl.when(pl.col("org_unit") == geography.NATIONAL).then(pl.lit(t("Iraq")))
        .otherwise(pl.col("org_unit_name")).alias("label"),
        "indicator", "value", "numerator", "denominator",
    )  # fmt: skip
    return frame, None


@callbacks(Output(ids.ENV_LADDER, "figure"), Input(ids.ENV_LADDER_BY, "value"), *FILTERS)
def ladder(by: str, period: str, unit: str, kind: str, setting: str):
    choice = _choice(period, unit, kind, setting)
    frame, order = _ladder_frame(choice, by)
    highlight = choice.place if choice.place != choice.area else None
    first = choice.area if by != "group" else "all:all"
    return charts.ladder_bar(frame, order=order, first=first, highlight=highlight)


@callbacks(
    Output(ids.ENV_UNSAFE, "figure"),
    Output(ids.ENV_METHODS, "figure"),
    *FILTERS,
)
def disposal(period: str, unit: str, kind: str, setting: str):
    choice = _choice(period, unit, kind, setting)
    scope, url = current_scope(), warehouse_url()
    rows = ev.rows(scope, choice, ("hcwm_unsafe_disposal",), url)
    own = rows.filter(pl.col("org_unit") == choice.area).to_dicts()
    reference = (_name(choice.area), own[0]["value"]) if own else None
    ranked = figures.ranked_bar(
        _children(rows, choice.area), unit="%", favourable="higher",
        highlight=choice.place if choice.place != choice.area else None, reference=reference,
    )  # fmt: skip
    return ranked, charts.method_mix_bar(ev.method_mix(scope, choice, url))


@callbacks(Output(ids.ENV_CARBON, "figure"), *FILTERS)
def carbon(period: str, unit: str, kind: str, setting: str):
    choice = _choice(period, unit, kind, setting)
    trend = ev.trend(current_scope(), choice, ev.CARBON, warehouse_url())
    return charts.carbon_trend(trend, selected=choice.period)


def _solar_frame(rows: pl.DataFrame, area: str) -> pl.DataFrame:
    children = _children(rows, area)
    share = children.filter(pl.col("indicator") == "solar_facilities").select(
        "org_unit", "org_unit_name", pl.col("value").alias("solar"),
        pl.col("denominator").alias("facilities"),
    )  # fmt: skip
    kwp = children.filter(pl.col("indicator") == "solar_kwp").select(
        "org_unit", pl.col("value").alias("kwp")
    )
    return share.join(kwp, on="org_unit", how="left")


@callbacks(
    Output(ids.ENV_SOLAR_MAP, "figure"),
    Output(ids.ENV_SOLAR_NOTE, "children"),
    *FILTERS,
)
def solar(period: str, unit: str, kind: str, setting: str):
    choice = _choice(period, unit, kind, setting)
    rows = ev.rows(current_scope(), choice, ev.SOLAR, warehouse_url())
    frame = _solar_frame(rows, choice.area)
    how = t("Share of facilities with solar panels (printed on each place; dark: few).")
    if not geo.has_boundaries():
        shares = _children(rows, choice.area).filter(pl.col("indicator") == "solar_facilities")
        note = ui.map_footer(how, t("Maps need the boundary pack (MIZAN_GEO_DIR)."))
        return figures.ranked_bar(shares, unit="%"), note
    level = ev.level_of(choice.area) + 1
    highlight = choice.place if choice.place != choice.area else None
    figure = charts.solar_map(frame, geo.outlines(level), highlight=highlight)
    return figure, ui.map_footer(how, geography.ATTRIBUTION)


@callbacks(
    Output(ids.ENV_HEAT, "figure"),
    Output(ids.ENV_LAG, "figure"),
    Output(ids.ENV_LAG_NOTE, "children"),
    Input(ids.ENV_CONDITION, "value"),
    Input(ids.ENV_EXPOSURE, "value"),
    Input(ids.ENV_PERIOD, "value"),
    Input(ids.ENV_ORG_UNIT, "value"),
)
def heat(condition: str, exposure: str, period: str | None, unit: str):
    if condition not in ev.CONDITIONS or exposure not in ev.EXPOSURES:
        raise dash.exceptions.PreventUpdate
    scope, url = current_scope(), warehouse_url()
    place = selection.visible_unit(scope, unit)
    series = ev.heat_cases(scope, place, condition, url)
    month = ev.status_month(period, ev.periods(scope, url)[ev.MONTHLY]) if period else None
    chart = charts.heat_cases_chart(series, condition=_condition_labels()[condition],
                                    exposure=exposure, selected=month)  # fmt: skip
    lags = ev.lag_correlation(ev.district_months(scope, place, condition, url), exposure)
    return chart, charts.lag_chart(lags), words.lag_note(lags, exposure)


@callbacks(
    Output(ids.ENV_FACILITIES, "children"),
    Output(ids.ENV_FACILITY, "options"),
    Output(ids.ENV_FACILITY, "value"),
    *FILTERS,
    State(ids.ENV_FACILITY, "value"),
)
def facility_list(period: str, unit: str, kind: str, setting: str, current: str | None):
    choice = _choice(period, unit, kind, setting)
    table = ev.facility_table(current_scope(), choice, warehouse_url())
    options = [{"label": f"{r['name']} · {r['district_name']}", "value": r["facility"]}
               for r in table.select("name", "district_name", "facility").to_dicts()]  # fmt: skip
    offered = {o["value"] for o in options}
    chosen = current if current in offered else (options[0]["value"] if options else None)
    return words.facility_table(table, LIST_ROWS, chosen), options, chosen


@callbacks(
    Output(ids.ENV_FACILITY, "value", allow_duplicate=True),
    Input({"type": ids.ENV_FACILITY_ROW, "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def facility_clicked(_clicks: list[int | None]):
    """A click on a facility's name opens its year (a re-drawn table fires no click)."""
    clicked = ctx.triggered_id
    if not isinstance(clicked, dict) or not any(t_["value"] for t_ in ctx.triggered):
        return no_update
    return clicked["index"]


@callbacks(
    Output(ids.ENV_FACILITY_TITLE, "children"),
    Output(ids.ENV_FACILITY_YEAR, "figure"),
    Output(ids.ENV_FACILITY_TABLE, "children"),
    Input(ids.ENV_FACILITY, "value"),
    Input(ids.ENV_PERIOD, "value"),
)
def facility_year(facility: str | None, period: str | None):
    if not facility or not period:
        empty = figures.empty_figure(t("Choose a facility in the table"))
        return t("One facility's year"), empty, ""
    scope, url = current_scope(), warehouse_url()
    month = ev.status_month(period, ev.periods(scope, url)[ev.MONTHLY])
    known = ev.facilities(scope, geography.NATIONAL, url).filter(pl.col("facility") == facility)
    if known.is_empty():
        empty = figures.empty_figure(t("No data for this selection"))
        return t("One facility's year"), empty, ""
    row = known.row(0, named=True)
    year = ev.facility_year(scope, facility, month, url)
    title = t("{facility} · {district} · 12 months to {month}").format(
        facility=row["name"], district=_name(row["district"]),
        month=charts.period_label(month),
    )  # fmt: skip
    return title, charts.facility_year_chart(year), words.facility_year_table(year)


# --- exports -------------------------------------------------------------------------------------


def _rows_download(frame: pl.DataFrame, choice: ev.Choice, name: str, view: str) -> dict:
    """Indicator rows in the CSV contract; computed ones (a facility filter) with two more
    columns saying which facilities they cover."""
    parts = (name, choice.period, choice.place, *_filters_text(choice))
    if not choice.filtered:
        return exports.indicator_download(frame, *parts, view=view,
                                          selection=_selection_of(choice))  # fmt: skip
    table = contract.to_csv_frame(frame).with_columns(
        facility_type=pl.lit(choice.facility_type), setting=pl.lit(choice.setting)
    )
    return exports.table_download(table, *parts, view=view, selection=_selection_of(choice))


def _rows_export(output: str, trigger: str, read: Callable[[ev.Choice], pl.DataFrame],
                 name: str) -> Callable:  # fmt: skip
    """An audited download of the indicator rows behind one view."""

    @callbacks(Output(output, "data"), Input(trigger, "n_clicks"), *STATES,
               prevent_initial_call=True)  # fmt: skip
    def download(_clicks: int, period: str, unit: str, kind: str, setting: str) -> dict:
        choice = _choice(period, unit, kind, setting)
        return _rows_download(read(choice), choice, name, f"environment/{name}")

    return download


export_cards = _rows_export(
    ids.ENV_CARDS_DOWNLOAD, ids.ENV_CARDS_EXPORT,
    lambda c: ev.headline_rows(current_scope(), c, warehouse_url()), "environment-cards",
)  # fmt: skip
export_unsafe = _rows_export(
    ids.ENV_UNSAFE_DOWNLOAD, ids.ENV_UNSAFE_EXPORT,
    lambda c: ev.rows(current_scope(), c, ("hcwm_unsafe_disposal",), warehouse_url()),
    "unsafe-disposal",
)  # fmt: skip
export_carbon = _rows_export(
    ids.ENV_CARBON_DOWNLOAD, ids.ENV_CARBON_EXPORT,
    lambda c: ev.trend(current_scope(), c, ev.CARBON, warehouse_url()), "carbon",
)  # fmt: skip
export_solar = _rows_export(
    ids.ENV_SOLAR_DOWNLOAD, ids.ENV_SOLAR_EXPORT,
    lambda c: ev.rows(current_scope(), c, ev.SOLAR, warehouse_url()), "solar",
)  # fmt: skip


@callbacks(
    Output(ids.ENV_LADDER_DOWNLOAD, "data"),
    Input(ids.ENV_LADDER_EXPORT, "n_clicks"),
    State(ids.ENV_LADDER_BY, "value"),
    *STATES,
    prevent_initial_call=True,
)
def export_ladder(_clicks: int, by: str, period: str, unit: str, kind: str, setting: str):
    """The ladder's rows: the places' published (or computed) rows, or the facility type
    and setting groups as a table."""
    choice = _choice(period, unit, kind, setting)
    scope, url = current_scope(), warehouse_url()
    if by != "group":
        rows = ev.rows(scope, choice, ev.LADDER, url)
        return _rows_download(rows, choice, "waste-ladder", "environment/waste-ladder")
    groups = ev.ladder_by_group(scope, choice, url).with_columns(
        pl.lit(choice.place).alias("org_unit"), pl.lit(choice.period).alias("period")
    )
    parts = ("waste-ladder-groups", choice.period, choice.place, *_filters_text(choice))
    return exports.table_download(groups, *parts, view="environment/waste-ladder-groups",
                                  selection=_selection_of(choice) | {"by": by})  # fmt: skip


def _table_export(output: str, trigger: str, read: Callable[[ev.Choice], pl.DataFrame],
                  name: str) -> Callable:  # fmt: skip
    """An audited download of a table that is not indicator rows."""

    @callbacks(Output(output, "data"), Input(trigger, "n_clicks"), *STATES,
               prevent_initial_call=True)  # fmt: skip
    def download(_clicks: int, period: str, unit: str, kind: str, setting: str) -> dict:
        choice = _choice(period, unit, kind, setting)
        parts = (name, choice.period, choice.place, *_filters_text(choice))
        return exports.table_download(read(choice), *parts, view=f"environment/{name}",
                                      selection=_selection_of(choice))  # fmt: skip

    return download


export_methods = _table_export(
    ids.ENV_METHODS_DOWNLOAD, ids.ENV_METHODS_EXPORT,
    lambda c: ev.method_mix(current_scope(), c, warehouse_url()), "disposal-methods",
)  # fmt: skip
export_facilities = _table_export(
    ids.ENV_FACILITIES_DOWNLOAD, ids.ENV_FACILITIES_EXPORT,
    lambda c: ev.facility_table(current_scope(), c, warehouse_url()), "facilities",
)  # fmt: skip
export_alerts = _table_export(
    ids.ENV_ALERTS_DOWNLOAD, ids.ENV_ALERTS_EXPORT, lambda c: _alerts_of(c.place), "alerts",
)  # fmt: skip


@callbacks(
    Output(ids.ENV_HEAT_DOWNLOAD, "data"),
    Input(ids.ENV_HEAT_EXPORT, "n_clicks"),
    State(ids.ENV_CONDITION, "value"),
    State(ids.ENV_ORG_UNIT, "value"),
    prevent_initial_call=True,
)
def export_heat(_clicks: int, condition: str, unit: str) -> dict:
    """The chart's months: published cases per 10,000 and the heat measures."""
    scope = current_scope()
    place = selection.visible_unit(scope, unit)
    series = ev.heat_cases(scope, place, condition, warehouse_url()).select(
        pl.lit(place).alias("org_unit"), pl.lit(condition).alias("condition"), "period",
        pl.col("numerator").alias("cases"), pl.col("value").alias("cases_per_10k"),
        "suppressed", "heatwave_days", "tmax",
    )  # fmt: skip
    return exports.table_download(
        series, "heat-cases", condition, place, view="environment/heat-cases",
        selection={"org_unit": place, "condition": condition},
    )  # fmt: skip


@callbacks(
    Output(ids.ENV_LAG_DOWNLOAD, "data"),
    Input(ids.ENV_LAG_EXPORT, "n_clicks"),
    State(ids.ENV_CONDITION, "value"),
    State(ids.ENV_EXPOSURE, "value"),
    State(ids.ENV_ORG_UNIT, "value"),
    prevent_initial_call=True,
)
def export_lag(_clicks: int, condition: str, exposure: str, unit: str) -> dict:
    """rho and the number of district-month pairs per lag."""
    scope = current_scope()
    place = selection.visible_unit(scope, unit)
    lags = ev.lag_correlation(ev.district_months(scope, place, condition, warehouse_url()),
                              exposure).select(
        pl.lit(place).alias("org_unit"), pl.lit(condition).alias("condition"),
        pl.lit(exposure).alias("exposure"), pl.col("lag").alias("lag_months"),
        pl.col("rho").alias("spearman_rho"), pl.col("pairs").alias("district_months"),
    )  # fmt: skip
    return exports.table_download(
        lags, "lag", condition, exposure, place, view="environment/lag",
        selection={"org_unit": place, "condition": condition, "exposure": exposure},
    )  # fmt: skip


@callbacks(
    Output(ids.ENV_FACILITY_DOWNLOAD, "data"),
    Input(ids.ENV_FACILITY_EXPORT, "n_clicks"),
    State(ids.ENV_FACILITY, "value"),
    State(ids.ENV_PERIOD, "value"),
    prevent_initial_call=True,
)
def export_facility_year(_clicks: int, facility: str | None, period: str | None) -> dict:
    """The facility's 12 months as shown (small case counts empty, with their flag)."""
    if not facility or not period:
        raise dash.exceptions.PreventUpdate
    scope, url = current_scope(), warehouse_url()
    month = ev.status_month(period, ev.periods(scope, url)[ev.MONTHLY])
    year = ev.facility_year(scope, facility, month, url)
    return exports.table_download(
        year, "facility", facility, month, view="environment/facility-year",
        selection={"facility": facility, "period": month},
    )  # fmt: skip
