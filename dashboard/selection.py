"""Pure helpers that turn filter values into what a view shows (options, areas, rows).

Kept apart from the pages so that the rules ("a district shows its governorate's
districts", "the headline cohort is the latest full year") are unit-tested without Dash.
"""

from __future__ import annotations

import re

import polars as pl

from dashboard.i18n import t
from indicators.scope import Scope

NATIONAL = "IQ"
YEAR = re.compile(r"^\d{4}$")
HEADLINE_INDICATOR = "cov_penta3_12m"
HEADLINES = (
    "cov_penta3_12m",
    "cov_mcv1_12m",
    "zero_dose_12m",
    "dropout_penta1_penta3_12m",
    "birth_reg_30d",
)
# Overview cards (besides the zero-dose count) and the trend's short legend names.
PERCENT_CARDS = (
    ("cov_penta3_12m", "Penta3 coverage"),
    ("cov_mcv1_12m", "MCV1 coverage"),
    ("dropout_penta1_penta3_12m", "Dropout Penta1 → Penta3"),
    ("birth_reg_30d", "Timely birth registration"),
)
TREND_NAMES = {
    "cov_penta3_12m": "Penta3",
    "cov_mcv1_12m": "MCV1",
    "dropout_penta1_penta3_12m": "Dropout Penta1→3",
    "zero_dose_12m": "Zero-dose",
    "birth_reg_30d": "Birth reg. ≤30 days",
}
PAGE_NAMES = ("Overview", "Immunization", "Equity", "Data quality", "Data", "Audit")
RUN_STATUSES = ("succeeded", "failed")
SEXES = ("F", "M", "U")
DISABILITIES = ("yes", "no", "unknown")


def sex_labels() -> dict[str, str]:
    return {"F": t("Female"), "M": t("Male"), "U": t("Sex unknown")}


def disability_labels() -> dict[str, str]:
    return {
        "yes": t("With disability"),
        "no": t("Without disability"),
        "unknown": t("Disability unknown"),
    }


def sex_options() -> list[dict[str, str]]:
    return [{"label": t("All"), "value": "all"}] + [
        {"label": label, "value": code} for code, label in sex_labels().items()
    ]


def disability_options() -> list[dict[str, str]]:
    return [{"label": t("All"), "value": "all"}] + [
        {"label": label, "value": code} for code, label in disability_labels().items()
    ]


def indicator_options(catalogue: pl.DataFrame) -> list[dict[str, str]]:
    """Catalogue order, translated names."""
    return [{"label": t(r["name_en"]), "value": r["code"]} for r in catalogue.to_dicts()]


def indicator_meta(catalogue: pl.DataFrame, code: str) -> dict:
    """Name, unit and direction of one indicator (neutral defaults when unknown)."""
    rows = catalogue.filter(pl.col("code") == code).to_dicts()
    if not rows:
        return {"code": code, "name_en": code, "unit": "%", "favourable": "higher"}
    row = rows[0]
    return {**row, "unit": row.get("unit") or "%", "favourable": row.get("favourable") or "higher"}


def period_label(period: str) -> str:
    match = re.match(r"^(\d{4})Q(\d)$", period)
    if match:
        return f"{match.group(1)} Q{match.group(2)}"
    return period


def period_options(periods: list[str]) -> list[dict[str, str]]:
    """Newest first: the latest cohort is what users ask for most."""
    return [{"label": period_label(p), "value": p} for p in reversed(periods)]


def default_period(
    periods: list[str], current: str | None = None, complete: str | None = None
) -> str | None:
    """Keep the user's period if still offered, else the latest complete cohort, else the
    latest year (a quarter is a partial cohort), else the latest period."""
    years = [p for p in periods if YEAR.match(p)]
    for choice in (current, complete, years[-1] if years else None):
        if choice in periods:
            return choice
    return periods[-1] if periods else None


def org_unit_options(units: pl.DataFrame) -> list[dict[str, str]]:
    """Iraq, then each governorate followed by its districts ("Governorate › District")."""
    rows = units.to_dicts()
    names = {r["code"]: r["name_en"] for r in rows}
    options = []
    for row in sorted(
        rows, key=lambda r: (r["level"] > 0, r["adm1_code"] or "", r["level"], r["name_en"])
    ):
        if row["level"] == 0:
            label = t("Iraq (national)")
        elif row["level"] == 1:
            label = row["name_en"]
        else:
            label = f"{names.get(row['parent'], row['parent'])} › {row['name_en']}"
        options.append({"label": label, "value": row["code"]})
    return options


def unit_row(units: pl.DataFrame, code: str | None) -> dict:
    """The org unit's row; unknown codes (or none) mean national."""
    rows = units.filter(pl.col("code") == (code or NATIONAL)).to_dicts()
    if rows:
        return rows[0]
    return {"code": NATIONAL, "level": 0, "parent": None, "adm1_code": None, "name_en": "Iraq"}


def area_of(units: pl.DataFrame, code: str | None) -> dict:
    """The area a view shows for a selected unit: itself, or a district's governorate.

    A district has no children, so its view is its governorate's districts, with the
    district highlighted.
    """
    unit = unit_row(units, code)
    if unit["level"] >= 2:
        return unit_row(units, unit["parent"])
    return unit


def area_rows(frame: pl.DataFrame, area: dict) -> pl.DataFrame:
    """The area's own row and its children's rows from a selection under the area."""
    return frame.filter(
        (pl.col("org_unit") == area["code"]) | (pl.col("org_unit_level") == area["level"] + 1)
    )


def children(frame: pl.DataFrame, area: dict) -> pl.DataFrame:
    return frame.filter(pl.col("org_unit_level") == area["level"] + 1)


def own_row(frame: pl.DataFrame, code: str) -> dict | None:
    rows = frame.filter(pl.col("org_unit") == code).to_dicts()
    return rows[0] if rows else None


def home_unit(scope: Scope) -> str:
    """Where a user's views start: Iraq, or a governorate user's own governorate."""
    return scope.governorate if scope.restricted and scope.governorate else NATIONAL


def visible_unit(scope: Scope, code: str | None) -> str:
    """The unit a view shows when `code` is asked for: `code` itself if the scope may see
    it, else the user's home unit (a governorate user asking for Iraq or for another
    governorate gets its own; the query layer would return nothing else anyway)."""
    if code and scope.allows_org_unit(code):
        return code
    return home_unit(scope)
