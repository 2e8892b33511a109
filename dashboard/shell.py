"""The app shell around every page: navbar (the pages the user's role may open, who is
signed in, sign-out), page, footer.

A function, so it is built per request: labels are translated in the user's language and
the navbar lists exactly the pages of the user's role. Dash also calls it once outside
any session (it validates the layout on its first request, before the guard has run);
then the navbar has no links and no user.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import flask
from dash import html

from dashboard import auth, ids, session
from dashboard.i18n import is_rtl, t
from indicators import geography
from indicators.accounts import User


def _user_menu(user: User) -> html.Div:
    role = auth.role_label(user.role)
    if user.governorate:
        names = {code: name for code, _, name, *_ in geography.GOVERNORATES}
        role = f"{role} · {names.get(user.governorate, user.governorate)}"
    return html.Div(
        [
            html.Span(
                [html.Span(user.username, className="user-name"), html.Small(role)],
                id=ids.NAV_USER,
                className="nav-user",
            ),
            html.Form(
                [
                    dbc.Input(
                        type="hidden", name=auth.CSRF_FIELD, value=flask.g.get("mizan_csrf")
                    ),
                    html.Button(
                        t("Sign out"),
                        id=ids.NAV_LOGOUT,
                        type="submit",
                        className="btn btn-sm btn-outline-light",
                    ),
                ],
                action=dash.get_relative_path(auth.LOGOUT_PATH),
                method="POST",
                className="logout-form",
            ),
        ],
        className="nav-account",
    )


def navbar() -> dbc.Navbar:
    user = session.signed_in_user()
    pages = auth.visible_pages(user.role) if user else []
    links = [
        dbc.NavItem(dbc.NavLink(t(page["name"]), href=page["relative_path"], active="exact"))
        for page in pages
    ]
    items = [dbc.Nav(links, navbar=True, className="ms-auto")]
    if user:
        items.append(_user_menu(user))
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(
                    [
                        html.Span("Mizan", className="brand-name"),
                        html.Span(
                            t("Immunization and environment analytics"), className="brand-sub"
                        ),
                    ],
                    href=dash.get_relative_path("/"),
                ),
                *items,
            ],
            fluid=True,
        ),
        id=ids.NAVBAR,
        color="primary",
        dark=True,
        className="mizan-navbar mb-3",
    )


def footer() -> html.Footer:
    return html.Footer(
        dbc.Container(
            html.Small(
                t(
                    "Mizan — Ministry of Health immunization analytics. Figures are "
                    "published with small-cell suppression."
                ),
                className="text-muted",
            ),
            fluid=True,
        ),
        className="mizan-footer py-3 mt-4",
    )


def layout() -> html.Div:
    return html.Div(
        [navbar(), dbc.Container(dash.page_container, fluid=True, className="page"), footer()],
        dir="rtl" if is_rtl() else "ltr",
    )
