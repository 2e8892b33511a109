"""Data (/data): what was loaded, when, from where, and what was rejected and why.

Lets a data manager check every load's row accounting and follow a rejected row back to
its file and line. Tables export as CSV with a BOM (not the indicator contract: these
are bookkeeping rows, not indicator rows).
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, html

from dashboard import auth, display, exports, figures, ids, runs, wiring
from dashboard import components as ui
from dashboard.i18n import t
from dashboard.session import warehouse_url
from indicators import queries

dash.register_page(
    __name__,
    path="/data",
    name="Data",
    order=4,
    title=lambda: f"Mizan · {t('Data')}",
    allowed_roles=auth.ADMIN_ONLY,  # load bookkeeping and raw rejected rows: all regions
)
callbacks = wiring.Callbacks()

SAMPLE_ROWS = 200


def _runs_table(table: pl.DataFrame) -> dbc.Table:
    def number(value: int | None) -> str:
        return display.MISSING_TEXT if value is None else f"{value:,}"

    def nowrap(text: str | None) -> html.Span:
        return html.Span(text, className="text-nowrap")

    def balance(value: bool | None) -> str:
        return {True: "✓", False: "✗ " + t("does not add up"), None: ""}[value]

    def duration(seconds: float | None) -> str:
        if seconds is None:
            return display.MISSING_TEXT
        minutes, rest = divmod(round(seconds), 60)
        if minutes:
            return t("{minutes} min {seconds} s").format(minutes=minutes, seconds=rest)
        return t("{seconds} s").format(seconds=f"{seconds:.1f}")

    body = [
        [
            f"#{r['run']}",
            nowrap(r["started_at"]),
            nowrap(r["as_of"] or display.MISSING_TEXT),
            r["source"] or display.MISSING_TEXT,
            t(r["status"]),
            duration(r["duration_s"]),
            r["file"] or display.MISSING_TEXT,
            *[number(r[c]) for c in runs.COUNTS],
            balance(r["balanced"]),
        ]
        for r in table.to_dicts()
    ]
    header = [
        t("Run"),
        t("Started"),
        t("As of"),
        t("Source"),
        t("Status"),
        t("Duration"),
        t("File"),
        t("Rows read"),
        t("Loaded"),
        t("Rejected"),
        t("Duplicates"),
        t("Balanced"),
    ]
    return ui.table(
        header,
        body,
        numeric=[False] * 7 + [True] * 4 + [False],
        caption=t("Balanced: rows read = loaded + rejected + duplicates, per file."),
    )


def layout(**_query: str) -> html.Div:
    url = warehouse_url()
    header = ui.page_header(
        t("Data loads and rejects"),
        t("Every load run with its row accounting, and the rows it rejected"),
    )
    all_runs = queries.load_runs(url)
    if all_runs.is_empty():
        return html.Div([header, ui.note(t("No data has been loaded yet."), "warning")])
    latest = queries.data_version(url) or int(all_runs["id"][0])
    return html.Div(
        [
            header,
            ui.card(
                t("Load runs"),
                html.Div(_runs_table(runs.accounting(all_runs)), id=ids.DATA_RUNS_TABLE),
                actions=ui.export_button(ids.DATA_RUNS_EXPORT, ids.DATA_RUNS_DOWNLOAD),
            ),
            ui.filter_bar(
                [(ui.dropdown(ids.DATA_RUN, t("Run"), runs.run_options(all_runs), latest), 5)],
            ),
            dbc.Row(
                [
                    dbc.Col(
                        ui.card(t("Rejected rows by rule"), ui.graph(ids.DATA_RULES_BAR)), lg=6
                    ),
                    dbc.Col(
                        ui.card(
                            t("Rules and files"),
                            html.Div(id=ids.DATA_RULES_TABLE),
                            actions=ui.export_button(
                                ids.DATA_RULES_EXPORT, ids.DATA_RULES_DOWNLOAD
                            ),
                        ),
                        lg=6,
                    ),
                ],
                className="g-3",
            ),
            ui.card(
                t("Rejected rows (first {n})").format(n=SAMPLE_ROWS),
                [
                    html.Div(
                        ui.dropdown(
                            ids.DATA_RULE,
                            t("Rule"),
                            [],
                            None,
                            clearable=True,
                            placeholder=t("All rules"),
                        ),
                        className="rule-filter mb-2",
                    ),
                    html.Div(id=ids.DATA_REJECTS_TABLE),
                ],
                actions=ui.export_button(ids.DATA_REJECTS_EXPORT, ids.DATA_REJECTS_DOWNLOAD),
            ),
        ]
    )


def _rules_table(frame: pl.DataFrame) -> object:
    if frame.is_empty():
        return html.P(t("No rejected rows in this run"), className="text-muted mb-0")
    return ui.table(
        [t("Rule"), t("File"), t("Rows")],
        [[r["rule"], r["file"], f"{r['rows']:,}"] for r in frame.to_dicts()],
        numeric=[False, False, True],
    )


def _sample(run: int, rule: str | None) -> pl.DataFrame:
    return queries.reject_rows(run, rule=rule, limit=SAMPLE_ROWS, url=warehouse_url())


@callbacks(
    Output(ids.DATA_RULES_BAR, "figure"),
    Output(ids.DATA_RULES_TABLE, "children"),
    Output(ids.DATA_RULE, "options"),
    Output(ids.DATA_RULE, "value"),
    Input(ids.DATA_RUN, "value"),
)
def update_rules(run: int | None):
    if run is None:
        return figures.empty_figure(t("No run selected"), height=200), "", [], None
    by_rule = queries.rejects_by_rule(run, url=warehouse_url())
    rules = sorted(by_rule["rule"].unique().to_list())
    return (
        figures.rejects_bar(by_rule),
        _rules_table(by_rule),
        [{"label": r, "value": r} for r in rules],
        None,
    )


@callbacks(
    Output(ids.DATA_REJECTS_TABLE, "children"),
    Input(ids.DATA_RUN, "value"),
    Input(ids.DATA_RULE, "value"),
)
def update_sample(run: int | None, rule: str | None):
    frame = _sample(run, rule) if run is not None else pl.DataFrame()
    if frame.is_empty():
        return html.P(t("No rejected rows in this run"), className="text-muted mb-0")
    body = [
        [
            r["file"],
            f"{r['line']:,}",
            r["rule"],
            html.Code(runs.values_text(r["values"]), className="reject-values"),
        ]
        for r in frame.to_dicts()
    ]
    return ui.table(
        [t("File"), t("Line"), t("Rule"), t("Values")], body, numeric=[False, True, False, False]
    )


@callbacks(
    Output(ids.DATA_RUNS_DOWNLOAD, "data"),
    Input(ids.DATA_RUNS_EXPORT, "n_clicks"),
    prevent_initial_call=True,
)
def export_runs(_clicks: int) -> dict:
    table = runs.accounting(queries.load_runs(warehouse_url()))
    return exports.table_download(table, "load-runs", view="data/load-runs", selection={})


@callbacks(
    Output(ids.DATA_RULES_DOWNLOAD, "data"),
    Input(ids.DATA_RULES_EXPORT, "n_clicks"),
    State(ids.DATA_RUN, "value"),
    prevent_initial_call=True,
)
def export_rules(_clicks: int, run: int) -> dict:
    return exports.table_download(
        queries.rejects_by_rule(run, url=warehouse_url()),
        "rejects-by-rule",
        f"run{run}",
        view="data/rejects-by-rule",
        selection={"run": run},
    )


@callbacks(
    Output(ids.DATA_REJECTS_DOWNLOAD, "data"),
    Input(ids.DATA_REJECTS_EXPORT, "n_clicks"),
    State(ids.DATA_RUN, "value"),
    State(ids.DATA_RULE, "value"),
    prevent_initial_call=True,
)
def export_rejects(_clicks: int, run: int, rule: str | None) -> dict:
    return exports.table_download(
        _sample(run, rule),
        "rejected-rows",
        f"run{run}",
        rule,
        view="data/rejected-rows",
        selection={"run": run, "rule": rule},
    )
