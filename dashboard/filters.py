"""The indicator / period / place controls shared by the Immunization and Equity pages.

Built per request from the warehouse (catalogue, periods with data, the org units the
user's scope may see). Query strings pre-select values, so views can be linked to.
"""

from __future__ import annotations

import polars as pl
from dash import html

from dashboard import components as ui
from dashboard import selection
from dashboard.i18n import t
from dashboard.session import current_scope
from indicators import queries


def indicator_period_place(
    url: str,
    query: dict,
    *,
    indicator_id: str,
    period_id: str,
    unit_id: str,
    source: str | None = None,
) -> list[html.Div]:
    """Three labelled dropdowns (deep links: `?indicator=...&org_unit=...&period=...`);
    `source` keeps the indicators of one source (`registry`: cohorts, not DHIS2 months)."""
    scope = current_scope()
    catalogue = queries.catalogue(url)
    if source:
        catalogue = catalogue.filter(pl.col("source") == source)
    options = selection.indicator_options(catalogue)
    codes = [o["value"] for o in options]
    indicator = query.get("indicator")
    if indicator not in codes:
        fallback = codes[0] if codes else None
        indicator = (
            selection.HEADLINE_INDICATOR if selection.HEADLINE_INDICATOR in codes else fallback
        )
    period_options, period = period_choices(url, indicator, query.get("period"))
    units = queries.org_units(scope, url)
    unit = selection.unit_row(units, selection.visible_unit(scope, query.get("org_unit")))
    return [
        ui.dropdown(indicator_id, t("Indicator"), options, indicator),
        ui.dropdown(
            period_id,
            t("Birth cohort / period"),
            period_options,
            period,
        ),
        ui.dropdown(unit_id, t("Place"), selection.org_unit_options(units), unit["code"]),
    ]


def period_choices(
    url: str, indicator: str | None, current: str | None
) -> tuple[list[dict[str, str]], str | None]:
    """Period options of an indicator (newest first) and the one to select: the user's,
    else the latest complete cohort."""
    if not indicator:
        return [], None
    scope = current_scope()
    periods = queries.periods(scope, indicator, url)
    complete = queries.latest_complete_cohort(scope, indicator, url)
    return selection.period_options(periods), selection.default_period(periods, current, complete)
