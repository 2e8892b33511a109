"""The app shell around every page: navbar (from the page registry), page, footer.

A function, so it is built per request: labels are translated in the user's language
and the navbar lists exactly the registered pages.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard import ids
from dashboard.i18n import is_rtl, t


def navbar() -> dbc.Navbar:
    pages = sorted(dash.page_registry.values(), key=lambda p: p.get("order") or 0)
    links = [
        dbc.NavItem(dbc.NavLink(t(page["name"]), href=page["relative_path"], active="exact"))
        for page in pages
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(
                    [
                        html.Span("Mizan", className="brand-name"),
                        html.Span(t("Immunization analytics"), className="brand-sub"),
                    ],
                    href=dash.get_relative_path("/"),
                ),
                dbc.Nav(links, navbar=True, className="ms-auto"),
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
