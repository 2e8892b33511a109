"""Equity (/equity): who is left behind, by how much, and is the gap closing?

For gender and inclusion focal points. Choose an indicator, a cohort, a place and what to
compare (sex, disability, both, governorates, districts, or district fifths); the page shows
the subgroups with their 95 % intervals, a plain-language caption, WHO HEAT's summary
measures, the gap over birth cohorts, the districts where it is widest and the sex ×
disability cross-tab; a second part follows zero-dose children against the IA2030 goal.
Numbers come from `indicators.equity_views` (scoped, published rows only); the exports are
the view's rows in the CSV contract, the measures, the HEAT Plus upload file and the
zero-dose district list, each audited.
"""

from __future__ import annotations

from collections.abc import Callable

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, html

from dashboard import auth, display, exports, figures, filters, ids, selection, wiring
from dashboard import components as ui
from dashboard import equity_figures as charts
from dashboard import equity_text as words
from dashboard.i18n import t
from dashboard.session import current_scope, warehouse_url
from indicators import equity_views as ev
from indicators import queries
from indicators.scope import Scope

dash.register_page(
    __name__,
    path="/equity",
    name="Equity",
    order=2,
    title=lambda: f"Mizan · {t('Equity')}",
    allowed_roles=auth.ALL_ROLES,
)
callbacks = wiring.Callbacks()


def layout(**query: str) -> html.Div:
    url = warehouse_url()
    header = ui.page_header(
        t("Equity: who is left behind"),
        t("Girls and boys, children with and without disabilities, and places compared"),
    )
    if queries.latest_run(url) is None:
        return html.Div([header, ui.note(t("No data has been loaded yet."), "warning")])
    indicator, period, place = filters.indicator_period_place(
        url,
        query,
        indicator_id=ids.EQ_INDICATOR,
        period_id=ids.EQ_PERIOD,
        unit_id=ids.EQ_ORG_UNIT,
        source="registry",  # subgroups by sex and disability exist for registry cohorts only
    )
    scope = current_scope()
    options = words.dimension_options(scope.restricted)
    chosen = query.get("dimension")
    dimension = chosen if chosen in [o["value"] for o in options] else ev.SEX
    compare = ui.radio(ids.EQ_DIMENSION, t("Compare"), options, dimension)
    home = selection.visible_unit(scope, query.get("org_unit"))
    return html.Div(
        [
            header,
            ui.filter_bar([(indicator, 5), (period, 2), (place, 5)], [compare]),
            _title_row(),
            html.Div(
                id=ids.EQ_CAPTION,
                className="equity-caption border-start border-4 "
                "border-primary bg-white rounded-end px-3 py-2 mb-3",
            ),
            *_gap_section(),
            ui.card(t("Sex × disability"), [html.Div(id=ids.EQ_CROSSTAB), ui.legend_note()]),
            _zero_dose_section(ev.zero_dose_years(scope, home, url)),
        ]
    )


def _title_row() -> html.Div:
    return html.Div(
        [
            html.H2(id=ids.EQ_TITLE, className="h5 mb-0"),
            html.Div(
                [
                    ui.export_button(ids.EQ_EXPORT, ids.EQ_DOWNLOAD),
                    ui.export_button(
                        ids.EQ_HEAT_EXPORT, ids.EQ_HEAT_DOWNLOAD, t("Export for HEAT Plus")
                    ),
                ],
                className="d-flex gap-2",
            ),
        ],
        className="d-flex justify-content-between align-items-center mb-2 gap-2 flex-wrap",
    )


def _gap_section() -> list[dbc.Row]:
    subgroups = ui.card(
        html.Span(id=ids.EQ_SUBGROUPS_TITLE),
        ui.graph(ids.EQ_SUBGROUPS),
        footer=t("Bars are 95% intervals; the dashed line is the value for all children."),
    )
    trend = ui.card(
        t("Is the gap closing?"),
        [
            html.P(id=ids.EQ_TREND_CAPTION, className="mb-2"),
            ui.graph(ids.EQ_TREND),
            html.Div(id=ids.EQ_TREND_TABLE, className="mt-2"),
        ],
    )
    measures = ui.card(
        t("Gap measures (WHO HEAT) with 95% intervals"),
        html.Div(id=ids.EQ_MEASURES),
        actions=ui.export_button(ids.EQ_MEASURES_EXPORT, ids.EQ_MEASURES_DOWNLOAD),
        footer=t(
            "Computed as WHO's Health Equity Assessment Toolkit does, over every subgroup "
            "shown; not computed when a subgroup is suppressed or has fewer than 25 children."
        ),
    )
    gaps = ui.card(
        t("Districts where the gap is widest"),
        [ui.graph(ids.EQ_GAPS), html.Div(id=ids.EQ_GAPS_NOTE, className="small text-muted")],
    )
    return [
        dbc.Row([dbc.Col(subgroups, lg=6), dbc.Col(trend, lg=6)], className="g-3"),
        dbc.Row([dbc.Col(measures, lg=6), dbc.Col(gaps, lg=6)], className="g-3"),
    ]


def _zero_dose_section(years: list[str]) -> html.Section:
    default = ev.IA2030_BASELINE if ev.IA2030_BASELINE in years else (years or [None])[0]
    baseline = ui.dropdown(
        ids.EQ_ZD_BASELINE,
        t("Baseline cohort"),
        [{"label": year, "value": year} for year in years],
        default,
    )
    return html.Section(
        [
            html.H2(t("Zero-dose children and the IA2030 goal"), className="h5 mt-4 mb-1"),
            html.P(
                t(
                    "Children with no Penta1 by their first birthday. Immunization Agenda "
                    "2030 aims to halve their number from a baseline year by 2030."
                ),
                className="text-muted small mb-2",
            ),
            dbc.Row(
                [
                    dbc.Col(baseline, xs=12, md=3),
                    dbc.Col(html.P(id=ids.EQ_ZD_TITLE, className="mb-0 fw-semibold"), md=9),
                ],
                className="g-3 align-items-end mb-3",
            ),
            dbc.Row(id=ids.EQ_ZD_CARDS, className="g-3 mb-3"),
            dbc.Row(
                [
                    dbc.Col(
                        ui.card(
                            t("Zero-dose by sex and disability"),
                            [html.Div(id=ids.EQ_ZD_SUBGROUPS), ui.legend_note()],
                        ),
                        lg=5,
                    ),
                    dbc.Col(
                        ui.card(
                            t("Districts holding most zero-dose children"),
                            html.Div(id=ids.EQ_ZD_DISTRICTS),
                            actions=ui.export_button(ids.EQ_ZD_EXPORT, ids.EQ_ZD_DOWNLOAD),
                        ),
                        lg=7,
                    ),
                ],
                className="g-3",
            ),
        ]
    )


# ---------------------------------------------------------------- helpers


def _view(
    indicator: str,
    period: str,
    unit: str | None,
    dimension: str | None,
    scope: Scope | None = None,
) -> ev.View:
    """The selection as the user's scope may see it (another governorate means its own)."""
    place = selection.visible_unit(scope or current_scope(), unit)
    chosen = dimension if dimension in ev.DIMENSIONS else ev.SEX
    return ev.View(indicator, period, place, chosen)


def _place_name(unit: dict | None) -> str:
    if unit is None:
        return display.MISSING_TEXT
    return unit["name_en"] if unit["level"] else t("Iraq")


def _reference(context: ev.Context) -> tuple[str, float] | None:
    """The setting's all-children value, for the dashed line (None when hidden)."""
    period = context.view.period
    rows = context.setting_rows().filter(pl.col("period") == period)
    row = rows.to_dicts()[0] if rows.height else None
    if row is None or display.is_hidden(row["suppressed"], row["flags"]):
        return None
    return t("All children"), row["value"]


def crosstab(frame: pl.DataFrame, unit: str) -> dbc.Table | html.P:
    """Sex rows × disability columns; each cell is the value (or "suppressed" / the flag) and n."""
    if frame.is_empty():
        return html.P(t("No data for this selection"), className="text-muted mb-0")
    cells = {(r["sex"], r["disability"]): r for r in frame.to_dicts()}
    sexes = {**selection.sex_labels(), "all": t("All")}
    disabilities = {**selection.disability_labels(), "all": t("All")}

    def cell(row: dict | None) -> object:
        if row is None:
            return display.MISSING_TEXT
        text = display.value_text(row["value"], row["suppressed"], row["flags"], unit)
        n = display.count(row["denominator"], row["suppressed"])
        size = html.Small(t("n = {n}").format(n=n), className="text-muted")
        return [html.Span(text or t("low denominator")), html.Br(), size]

    body = [[label, *[cell(cells.get((s, d))) for d in disabilities]] for s, label in sexes.items()]
    return ui.table(
        [t("Sex"), *disabilities.values()], body, numeric=[False] + [True] * len(disabilities)
    )


def _subgroups_title(dimension: str) -> str:
    titles = {
        ev.SEX: t("Girls and boys"),
        ev.DISABILITY: t("Children with and without disabilities"),
        ev.SEX_DISABILITY: t("Girls and boys, with and without disabilities"),
        ev.GOVERNORATE: t("Governorates"),
        ev.DISTRICT: t("Districts"),
        ev.FIFTH: t("District fifths by their value in the previous cohort"),
    }
    return titles[dimension] + " · " + t("values with 95% intervals")


# ---------------------------------------------------------------- callbacks


@callbacks(
    Output(ids.EQ_PERIOD, "options"),
    Output(ids.EQ_PERIOD, "value"),
    Input(ids.EQ_INDICATOR, "value"),
    State(ids.EQ_PERIOD, "value"),
    prevent_initial_call=True,
)
def periods_for(indicator: str, current: str | None):
    return filters.period_choices(warehouse_url(), indicator, current)


@callbacks(
    Output(ids.EQ_TITLE, "children"),
    Output(ids.EQ_CAPTION, "children"),
    Output(ids.EQ_SUBGROUPS_TITLE, "children"),
    Output(ids.EQ_SUBGROUPS, "figure"),
    Output(ids.EQ_MEASURES, "children"),
    Output(ids.EQ_TREND_CAPTION, "children"),
    Output(ids.EQ_TREND, "figure"),
    Output(ids.EQ_TREND_TABLE, "children"),
    Output(ids.EQ_GAPS, "figure"),
    Output(ids.EQ_GAPS_NOTE, "children"),
    Output(ids.EQ_CROSSTAB, "children"),
    Input(ids.EQ_INDICATOR, "value"),
    Input(ids.EQ_PERIOD, "value"),
    Input(ids.EQ_ORG_UNIT, "value"),
    Input(ids.EQ_DIMENSION, "value"),
)
def update(indicator: str, period: str | None, unit: str, dimension: str | None):
    if not (indicator and period):
        empty = figures.empty_figure(t("No data for this selection"))
        nothing = t("No data for this selection")
        return nothing, "", "", empty, "", "", empty, "", empty, "", ""
    url, scope = warehouse_url(), current_scope()
    view = _view(indicator, period, unit, dimension, scope)
    # One context for the whole callback: the place, setting, indicator and the area's rows
    # are read once, and what the parts share (subgroups, cohorts, gaps) is computed once.
    context = ev.Context(scope, view, url)
    favourable = context.info["favourable"]
    meta = selection.indicator_meta(queries.catalogue(url), indicator)
    name = _place_name(context.place)
    setting = _place_name(context.setting)
    title = " · ".join([t(meta["name_en"]), name, selection.period_label(period)])
    caption = [
        html.P(s, className="mb-1")
        for s in words.caption(context.gap(), setting, view.dimension, favourable)
    ]
    subgroups = charts.subgroup_figure(
        context.subgroups(),
        view.dimension,
        unit=meta["unit"],
        favourable=favourable,
        overall=_reference(context),
        highlight=view.place if view.dimension in (ev.GOVERNORATE, ev.DISTRICT) else None,
    )
    trend = context.gap_trend()
    gaps, gap_note = _widest(context)
    return (
        title,
        caption,
        _subgroups_title(view.dimension),
        subgroups,
        words.measures_table(context.measures(), view.dimension),
        words.trend_caption(trend),
        charts.gap_trend_figure(trend, view.dimension, unit=meta["unit"]),
        words.gap_trend_table(trend, view.dimension, meta["unit"]),
        gaps,
        gap_note,
        crosstab(context.place_rows(), meta["unit"]),
    )


def _widest(context: ev.Context):
    """The widest-gap chart and its note (why districts are missing, or what to choose)."""
    view = context.view
    if view.dimension not in ev.PERSONAL:
        message = t("Choose sex, disability or sex × disability to rank districts by their gap.")
        return figures.empty_figure(t("Districts are ranked by a sex or disability gap")), message
    gaps = context.widest_gaps()
    withheld = gaps.filter(pl.col("estimate").is_null()).height
    note = t(
        "Gap = reference minus the subgroup in focus for coverage (the reverse for zero-dose and "
        "dropout): positive means the focus group is behind."
    )
    if withheld:
        note += " " + t(
            "{n} districts not shown: a subgroup is suppressed or has fewer than 25 children."
        ).format(n=withheld)
    return charts.widest_gap_figure(gaps, view.dimension), note


@callbacks(
    Output(ids.EQ_ZD_TITLE, "children"),
    Output(ids.EQ_ZD_CARDS, "children"),
    Output(ids.EQ_ZD_SUBGROUPS, "children"),
    Output(ids.EQ_ZD_DISTRICTS, "children"),
    Input(ids.EQ_PERIOD, "value"),
    Input(ids.EQ_ORG_UNIT, "value"),
    Input(ids.EQ_ZD_BASELINE, "value"),
)
def update_zero_dose(period: str | None, unit: str, baseline: str | None):
    url, scope = warehouse_url(), current_scope()
    focus = ev.ZeroDose(scope, selection.visible_unit(scope, unit), url)  # read once
    progress = focus.progress(period or "", baseline)
    cards = [
        dbc.Col(ui.kpi_card(*card), xs=12, sm=6, lg=3) for card in words.progress_cards(progress)
    ]
    name = _place_name(focus.place)
    title = t("{place}, birth cohort {period}").format(
        place=name, period=selection.period_label(period or display.MISSING_TEXT)
    )
    if not period:
        return title, cards, "", ""
    return (
        title,
        cards,
        words.zero_dose_subgroup_table(focus.subgroups(period)),
        words.zero_dose_district_table(focus.districts(period)),
    )


# ---------------------------------------------------------------- exports


def _chosen(view: ev.View) -> dict:
    return {
        "indicator": view.indicator,
        "period": view.period,
        "org_unit": view.place,
        "dimension": view.dimension,
    }


VIEW_STATE = (
    State(ids.EQ_INDICATOR, "value"),
    State(ids.EQ_PERIOD, "value"),
    State(ids.EQ_ORG_UNIT, "value"),
    State(ids.EQ_DIMENSION, "value"),
)


@callbacks(Output(ids.EQ_DOWNLOAD, "data"), Input(ids.EQ_EXPORT, "n_clicks"), *VIEW_STATE,
           prevent_initial_call=True)  # fmt: skip
def export(_clicks: int, indicator: str, period: str, unit: str, dimension: str | None) -> dict:
    """The published rows the view is computed from, in the CSV contract."""
    view = _view(indicator, period, unit, dimension)
    rows = ev.view_rows(current_scope(), view, warehouse_url())
    return exports.indicator_download(
        rows,
        indicator,
        period,
        view.place,
        "equity",
        view.dimension,
        view="equity",
        selection=_chosen(view),
    )


def _table_export(
    output: str, trigger: str, rows_of: Callable, name: str, audited_as: str
) -> Callable:
    """An audited download of one table of the view (`rows_of(scope, view, url)`)."""

    @callbacks(Output(output, "data"), Input(trigger, "n_clicks"), *VIEW_STATE,
               prevent_initial_call=True)  # fmt: skip
    def download(_clicks: int, indicator: str, period: str, unit: str, dimension: str | None):
        view = _view(indicator, period, unit, dimension)
        rows = rows_of(current_scope(), view, warehouse_url())
        return exports.table_download(
            rows, name, indicator, period, view.place, view.dimension,
            view=audited_as, selection=_chosen(view),
        )  # fmt: skip

    return download


# The 20-column HEAT Plus upload file (every cohort of the trend), and the measures with the
# headline gap for the selected period and every cohort.
export_heat = _table_export(
    ids.EQ_HEAT_DOWNLOAD, ids.EQ_HEAT_EXPORT, ev.heat_plus, "heat-plus", "equity/heat-plus"
)
export_measures = _table_export(
    ids.EQ_MEASURES_DOWNLOAD, ids.EQ_MEASURES_EXPORT, ev.measures_export, "equity-measures",
    "equity/measures",
)


@callbacks(
    Output(ids.EQ_ZD_DOWNLOAD, "data"),
    Input(ids.EQ_ZD_EXPORT, "n_clicks"),
    State(ids.EQ_PERIOD, "value"),
    State(ids.EQ_ORG_UNIT, "value"),
    prevent_initial_call=True,
)
def export_zero_dose(_clicks: int, period: str, unit: str) -> dict:
    """Every district of the place with its zero-dose count, rate and share."""
    scope = current_scope()
    place = selection.visible_unit(scope, unit)
    rows = ev.zero_dose_districts(scope, period, place, warehouse_url())
    return exports.table_download(
        ev.zero_dose_table(rows),
        "zero-dose-districts",
        period,
        place,
        view="equity/zero-dose",
        selection={"period": period, "org_unit": place},
    )
