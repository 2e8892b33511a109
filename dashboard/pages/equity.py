"""Equity (/equity): one indicator in one place, by sex and by disability.

For gender and inclusion focal points: the subgroups side by side with their intervals,
the all-children value as a reference line, and the sex × disability cross-tab where
suppression allows it to be published.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, html

from dashboard import auth, display, exports, figures, filters, ids, selection, theme, wiring
from dashboard import components as ui
from dashboard.i18n import t
from dashboard.session import current_scope, warehouse_url
from indicators import queries

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
        t("Equity: sex and disability"),
        t("Who is reached and who is missed, in one place and cohort"),
    )
    if queries.latest_run(url) is None:
        return html.Div([header, ui.note(t("No data has been loaded yet."), "warning")])
    indicator, period, place = filters.indicator_period_place(
        url,
        query,
        indicator_id=ids.EQ_INDICATOR,
        period_id=ids.EQ_PERIOD,
        unit_id=ids.EQ_ORG_UNIT,
    )
    return html.Div(
        [
            header,
            ui.filter_bar([(indicator, 5), (period, 2), (place, 5)]),
            html.Div(
                [
                    html.H2(id=ids.EQ_TITLE, className="h5 mb-0"),
                    ui.export_button(ids.EQ_EXPORT, ids.EQ_DOWNLOAD),
                ],
                className="d-flex justify-content-between align-items-center mb-3 gap-2",
            ),
            dbc.Row(
                [
                    dbc.Col(ui.card(t("By sex"), ui.graph(ids.EQ_SEX_BAR)), lg=6),
                    dbc.Col(ui.card(t("By disability"), ui.graph(ids.EQ_DISABILITY_BAR)), lg=6),
                ],
                className="g-3",
            ),
            ui.card(t("Sex × disability"), [html.Div(id=ids.EQ_CROSSTAB), ui.legend_note()]),
        ]
    )


def _rows(indicator: str, period: str, unit: str) -> tuple[dict, pl.DataFrame]:
    """Every published sex × disability row of one place (not its children)."""
    url, scope = warehouse_url(), current_scope()
    place = selection.unit_row(queries.org_units(scope, url), selection.visible_unit(scope, unit))
    frame = queries.indicator_values(
        scope,
        indicators=[indicator],
        period=period,
        org_unit=place["code"],
        level=place["level"],
        url=url,
    )
    return place, frame.filter(pl.col("org_unit") == place["code"])


def crosstab(frame: pl.DataFrame, unit: str) -> dbc.Table:
    """Sex rows × disability columns; each cell is the value (or "suppressed" / the flag) and n."""
    cells = {(r["sex"], r["disability"]): r for r in frame.to_dicts()}
    sexes = {**selection.sex_labels(), "all": t("All")}
    disabilities = {**selection.disability_labels(), "all": t("All")}

    def cell(row: dict | None) -> object:
        if row is None:
            return display.MISSING_TEXT
        text = display.value_text(row["value"], row["suppressed"], row["flags"], unit)
        if not text:
            text = t("low denominator")
        n = display.count(row["denominator"], row["suppressed"])
        size = html.Small(t("n = {n}").format(n=n), className="text-muted")
        return [html.Span(text), html.Br(), size]

    body = [[label, *[cell(cells.get((s, d))) for d in disabilities]] for s, label in sexes.items()]
    return ui.table(
        [t("Sex"), *disabilities.values()], body, numeric=[False] + [True] * len(disabilities)
    )


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
    Output(ids.EQ_SEX_BAR, "figure"),
    Output(ids.EQ_DISABILITY_BAR, "figure"),
    Output(ids.EQ_CROSSTAB, "children"),
    Input(ids.EQ_INDICATOR, "value"),
    Input(ids.EQ_PERIOD, "value"),
    Input(ids.EQ_ORG_UNIT, "value"),
)
def update(indicator: str, period: str | None, unit: str):
    if not (indicator and period):
        empty = figures.empty_figure(t("No data for this selection"))
        return t("No data for this selection"), empty, empty, ""
    meta = selection.indicator_meta(queries.catalogue(warehouse_url()), indicator)
    place, rows = _rows(indicator, period, unit)
    overall = selection.own_row(
        rows.filter((pl.col("sex") == "all") & (pl.col("disability") == "all")), place["code"]
    )
    reference = None
    if overall and not display.is_hidden(overall["suppressed"], overall["flags"]):
        reference = (t("All children"), overall["value"])
    by_sex = figures.category_bar(
        rows.filter(pl.col("disability") == "all"),
        dimension="sex",
        labels=selection.sex_labels(),
        marks=theme.SEX_MARKS,
        overall=reference,
        unit=meta["unit"],
    )
    by_disability = figures.category_bar(
        rows.filter(pl.col("sex") == "all"),
        dimension="disability",
        labels=selection.disability_labels(),
        marks=theme.DISABILITY_MARKS,
        overall=reference,
        unit=meta["unit"],
    )
    name = place["name_en"] if place["level"] else t("Iraq")
    title = " · ".join([t(meta["name_en"]), name, selection.period_label(period)])
    table = (
        crosstab(rows, meta["unit"])
        if not rows.is_empty()
        else html.P(t("No data for this selection"), className="text-muted mb-0")
    )
    return title, by_sex, by_disability, table


@callbacks(
    Output(ids.EQ_DOWNLOAD, "data"),
    Input(ids.EQ_EXPORT, "n_clicks"),
    State(ids.EQ_INDICATOR, "value"),
    State(ids.EQ_PERIOD, "value"),
    State(ids.EQ_ORG_UNIT, "value"),
    prevent_initial_call=True,
)
def export(_clicks: int, indicator: str, period: str, unit: str) -> dict:
    """Every sex × disability row of the place: the bars and the cross-tab."""
    place, rows = _rows(indicator, period, unit)
    return exports.indicator_download(
        rows,
        indicator,
        period,
        place["code"],
        "equity",
        view="equity",
        selection={"indicator": indicator, "period": period, "org_unit": place["code"]},
    )
