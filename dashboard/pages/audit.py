"""Audit (/audit, administrators only): the append-only trail of sign-ins (and failures),
sign-outs, exports and user changes, newest first, filterable by event and exportable;
and the list of users with their role, region and state.

Users are managed with `python -m etl users ...`; every change there is audited too.
"""

from __future__ import annotations

import json

import dash
import polars as pl
from dash import Input, Output, State, html

from dashboard import auth, exports, ids, wiring
from dashboard import components as ui
from dashboard.i18n import t
from dashboard.session import warehouse_url
from indicators import accounts

dash.register_page(
    __name__,
    path="/audit",
    name="Audit",
    order=5,
    title=lambda: f"Mizan · {t('Audit')}",
    allowed_roles=auth.ADMIN_ONLY,
)
callbacks = wiring.Callbacks()

SHOWN = 200  # rows on screen; the export has every matching row up to EXPORT_LIMIT
EXPORT_LIMIT = 100_000
ALL_EVENTS = "all"


def _log(event: str | None) -> pl.DataFrame:
    log = accounts.audit_log(warehouse_url(), limit=EXPORT_LIMIT)
    if event and event != ALL_EVENTS:
        log = log.filter(pl.col("event") == event)
    return log


def _detail_text(detail: str | None) -> str:
    """`{"rows": 3, "view": "equity"}` → `rows=3; view=equity` (nested values as JSON)."""
    try:
        data = json.loads(detail or "{}")
    except ValueError:
        return detail or ""
    if not isinstance(data, dict):
        return str(data)
    parts = []
    for key, value in data.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{key}={shown}")
    return "; ".join(parts)


def _events_table(log: pl.DataFrame) -> object:
    if log.is_empty():
        return html.P(t("No events"), className="text-muted mb-0")
    body = [
        [
            html.Span(r["at"].strftime("%Y-%m-%d %H:%M:%S"), className="text-nowrap"),
            r["actor"],
            html.Code(r["event"]),
            r["client"],
            html.Span(_detail_text(r["detail"]), className="audit-detail"),
        ]
        for r in log.head(SHOWN).to_dicts()
    ]
    return ui.table([t("Time"), t("User"), t("Event"), t("Client"), t("Detail")], body)


def _users_table() -> object:
    users = accounts.list_users(warehouse_url())
    if users.is_empty():
        return html.P(t("No users"), className="text-muted mb-0")
    body = [
        [
            r["username"],
            auth.role_label(r["role"]),
            r["governorate"] or t("All regions"),
            t("Disabled") if r["disabled"] else t("Active"),
            r["locked_until"].strftime("%Y-%m-%d %H:%M") if r["locked_until"] else "",
        ]
        for r in users.to_dicts()
    ]
    return ui.table(
        [t("User"), t("Role"), t("Region"), t("State"), t("Locked until")],
        body,
        caption=t("Manage users with: python -m etl users add | passwd | disable | enable"),
    )


def layout(**_query: str) -> html.Div:
    events = sorted(set(accounts.audit_log(warehouse_url(), limit=EXPORT_LIMIT)["event"]))
    options = [{"label": t("All events"), "value": ALL_EVENTS}] + [
        {"label": event, "value": event} for event in events
    ]
    return html.Div(
        [
            ui.page_header(
                t("Audit log"),
                t("Sign-ins, exports and user changes, newest first; the log cannot be edited"),
            ),
            ui.filter_bar([(ui.dropdown(ids.AUDIT_EVENT, t("Event"), options, ALL_EVENTS), 4)]),
            ui.card(
                html.Span(id=ids.AUDIT_COUNT),
                html.Div(id=ids.AUDIT_TABLE),
                actions=ui.export_button(ids.AUDIT_EXPORT, ids.AUDIT_DOWNLOAD),
            ),
            ui.card(t("Users"), html.Div(_users_table(), id=ids.AUDIT_USERS)),
        ]
    )


@callbacks(
    Output(ids.AUDIT_TABLE, "children"),
    Output(ids.AUDIT_COUNT, "children"),
    Input(ids.AUDIT_EVENT, "value"),
)
def update(event: str | None):
    log = _log(event)
    count = t("{shown} of {total} events").format(shown=min(SHOWN, log.height), total=log.height)
    return _events_table(log), count


@callbacks(
    Output(ids.AUDIT_DOWNLOAD, "data"),
    Input(ids.AUDIT_EXPORT, "n_clicks"),
    State(ids.AUDIT_EVENT, "value"),
    prevent_initial_call=True,
)
def export(_clicks: int, event: str | None) -> dict:
    log = _log(event).with_columns(pl.col("at").dt.strftime("%Y-%m-%d %H:%M:%S"))
    return exports.table_download(
        log, "audit", event, view="audit", selection={"event": event or ALL_EVENTS}
    )
