"""Words and small components of the Environment page and the Overview's alert list:
headline cards with their change since the previous period, the alerts, the facility
table and one facility's months as a table.

Pure functions of small frames (no queries), every label through `t`. Changes are written
out with an arrow and a word ("▲ 2.1 points since Jun 2025"), never told by colour.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import dcc, html

from dashboard import components as ui
from dashboard import display, ids
from dashboard.environment_figures import WARNING, period_label
from dashboard.i18n import t, tn
from indicators import config

PERCENT_CODES = ("hcwm_basic", "elec_reliable", "renewable_share")
MISSING = display.MISSING_TEXT


def card_titles() -> dict[str, str]:
    return {
        "hcwm_basic": t("Basic waste service"),
        "elec_reliable": t("Reliable electricity"),
        "renewable_share": t("Renewable share of electricity"),
        "co2e_t": t("Carbon footprint"),
        "solar_avoided_co2e_t": t("Saved by solar"),
        "facilities_heat_stress": t("Facilities under heat stress"),
    }


def tonnes(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def _value(code: str, row: dict | None) -> object:
    if row is None or row["value"] is None or row["suppressed"]:
        return display.hidden_text() if row and row["suppressed"] else MISSING
    if code in PERCENT_CODES:
        return display.number(row["value"], "%")
    if code in ("co2e_t", "solar_avoided_co2e_t"):  # the unit beside the number, as written
        return [tonnes(row["value"]), html.Span(t("t CO2e"), className="kpi-unit")]
    return display.count(row["value"])


def change_text(code: str, now: dict | None, then: dict | None, since: str | None) -> str:
    """The change since the previous period: points for shares, per cent for totals,
    the count for facilities ("" without both values)."""
    if not (now and then and since) or now["value"] is None or then["value"] is None:
        return ""
    if now["suppressed"] or then["suppressed"]:
        return ""
    difference = now["value"] - then["value"]
    when = period_label(since)
    if code in PERCENT_CODES:
        shown = round(difference, 1)
        amount = t("{n} points").format(n=f"{abs(shown):.1f}")
    elif code == "facilities_heat_stress":
        shown = round(difference)
        amount = f"{abs(shown):,.0f}"
    elif then["value"]:
        shown = round(difference / abs(then["value"]) * 100)
        amount = f"{abs(shown):.0f}%"
    else:
        shown = difference
        amount = tonnes(abs(difference))
    if shown == 0:  # nothing a reader could see at the shown precision
        return t("= no change since {when}").format(when=when)
    arrow = "▲" if shown > 0 else "▼"
    return t("{arrow} {amount} since {when}").format(arrow=arrow, amount=amount, when=when)


def _detail(code: str, row: dict | None, rows: dict, when: str) -> str:
    if row is None:
        return t("No data")
    if code in ("hcwm_basic", "elec_reliable"):
        return t("{n} of {d} facilities · {when}").format(
            n=display.count(row["numerator"]), d=display.count(row["denominator"]), when=when
        )
    if code == "renewable_share":
        return t("of the electricity facilities used · {when}").format(when=when)
    if code == "co2e_t":
        diesel = rows.get("diesel_litres")
        litres = display.number(diesel["value"], "", 0) if diesel else MISSING
        return t("Diesel: {litres} litres · {when}").format(litres=litres, when=when)
    if code == "solar_avoided_co2e_t":
        return t("what the grid would have emitted · {when}").format(when=when)
    return t("≥ {days} heatwave days, no reliable electricity · {when}").format(
        days=config.heat_alert_days(), when=when
    )


def headline_cards(
    now: dict,
    then: dict,
    since: tuple[str | None, str | None],
    period: str,
    state_month: str,
    to_date: bool,
) -> list[dbc.Col]:
    """Six cards: waste service, reliable electricity, renewable share (at the status
    month), carbon with diesel and solar savings (the period's totals), heat stress.
    `since`: the previous period and its status month, which the changes compare with."""
    total_when = period_label(period) + (" " + t("to date") if to_date else "")
    state_when = period_label(state_month)
    cards = []
    for code, title in card_titles().items():
        total = code in ("co2e_t", "solar_avoided_co2e_t")
        row = now.get(code)
        cards.append(
            ui.kpi_card(
                title,
                _value(code, row),
                _detail(code, row, now, total_when if total else state_when),
                t("to date: not compared with a whole quarter")
                if total and to_date
                else change_text(code, row, then.get(code), since[0] if total else since[1]),
            )
        )
    return [dbc.Col(card, xs=12, sm=6, lg=4, xl=2, className="mb-3") for card in cards]


# --- alerts ---------------------------------------------------------------------------------------


def rule_labels() -> dict[str, str]:
    return {
        "open_burning": t("Open burning or unsafe dumping"),
        "heat_illness_above_baseline": t("Heat illness above the seasonal baseline"),
        "fridge_unreliable_power": t("Vaccine fridges without reliable power"),
        "heat_stress_facilities": t("Facilities under heat stress"),
    }


def severity_labels() -> dict[str, str]:
    return {"high": t("High"), "medium": t("Medium")}


def _number(value: float | None) -> str:
    return display.count(value) if value is not None else MISSING


def interleaved(alerts: pl.DataFrame) -> pl.DataFrame:
    """The first alert of each rule, then the second of each, ... (rules in the order
    `indicators.alerts` ranks them), so a short list shows every kind of alert."""
    return (
        alerts.with_row_index("_i")
        .with_columns(
            pl.col("_i").rank("ordinal").over("rule").alias("_n"),
            pl.col("_i").min().over("rule").alias("_first"),
        )
        .sort("_n", "_first")
        .drop("_i", "_n", "_first")
    )


def alert_text(row: dict) -> str:
    """The alert in the interface language (the English `message` is for `etl alerts`)."""
    fields = {
        "facility": row["facility_name"] or row["facility"] or "",
        "district": row["district_name"] or row["district"] or "",
        "period": period_label(row["period"] or ""),
        "value": _number(row["value"]),
        "threshold": _number(row["threshold"]),
    }
    templates = {
        "open_burning": t(
            "{facility} ({district}) reported open burning or unsafe dumping of sharps or "
            "infectious waste in {period}."
        ),
        "heat_illness_above_baseline": t(
            "{district}: {value} heat-illness cases in {period}, above the alert level of "
            "{threshold} (the seasonal baseline × {ratio})."
        ),
        "fridge_unreliable_power": tn(
            "{facility} ({district}): {value} vaccine fridge not on solar direct-drive and "
            "no reliable electricity in {period}.",
            "{facility} ({district}): {value} vaccine fridges not on solar direct-drive and "
            "no reliable electricity in {period}.",
            row["value"],
        ),
        "heat_stress_facilities": tn(
            "{district}: {value} facility without reliable electricity during a heat "
            "alert in {period}.",
            "{district}: {value} facilities without reliable electricity during a heat "
            "alert in {period}.",
            row["value"],
        ),
    }
    template = templates.get(row["rule"])
    if template is None:
        return row["message"] or ""
    return template.format(**fields, ratio=f"{config.alert_baseline_ratio():g}")


def alert_list(alerts: pl.DataFrame, limit: int | None = None, *, link: bool = False) -> html.Div:
    """The alerts as a list: severity (a word and a sign), rule, message; `limit` shown
    with a line saying how many more there are, and a link to the Environment page."""
    if alerts.is_empty():
        return html.Div(html.P(t("No active alerts."), className="text-muted mb-0"))
    rows = interleaved(alerts).to_dicts()
    shown = rows[:limit] if limit else rows
    severities, rules = severity_labels(), rule_labels()
    items = [
        html.Li(
            [
                html.Span(
                    f"{WARNING} {severities.get(r['severity'], r['severity'])}"
                    if r["severity"] == "high" else severities.get(r["severity"], r["severity"]),
                    className=f"alert-severity alert-severity-{r['severity']}",
                ),
                html.Span(rules.get(r["rule"], r["rule"]), className="alert-rule"),
                html.Span(alert_text(r), className="alert-message"),
            ],
            className="alert-item",
        )
        for r in shown
    ]  # fmt: skip
    parts: list = [html.Ul(items, className="alert-list mb-0")]
    extra = len(rows) - len(shown)
    if extra > 0:
        parts.append(html.P(t("{n} more alerts.").format(n=f"{extra:,}"),
                            className="small text-muted mt-2 mb-0"))  # fmt: skip
    if link:
        more = t("All alerts and the facility data on the Environment page →")
        parts.append(dcc.Link(more, href=dash.get_relative_path("/environment"),
                              className="small"))  # fmt: skip
    return html.Div(parts)


def alert_counts(alerts: pl.DataFrame) -> str:
    """How many alerts of each rule ("917 open burning or unsafe dumping · ..."), or ""."""
    if alerts.is_empty():
        return ""
    counts = dict(alerts.group_by("rule").len().iter_rows())
    rules = rule_labels()
    return " · ".join(f"{counts[r]:,} × {rules[r]}" for r in rules if r in counts)


def alerts_title(alerts: pl.DataFrame) -> str:
    if alerts.is_empty():
        return t("Active alerts")
    month = period_label(alerts["period"].max())
    return t("Active alerts · {n} in {month}").format(n=f"{alerts.height:,}", month=month)


# --- the facility table ---------------------------------------------------------------------------


def level_labels() -> dict[str, str]:
    return {"basic": t("Basic"), "limited": t("Limited"), "none": t("No service")}


def power_labels() -> dict[str, str]:
    return {"reliable": t("Reliable"), "unreliable": t("Unreliable"), "none": t("None")}


def type_labels() -> dict[str, str]:
    return {"hospital": t("Hospital"), "phc": t("PHC centre")}


def setting_labels() -> dict[str, str]:
    return {"urban": t("Urban"), "rural": t("Rural")}


def _flag(value: bool | None, text: str) -> str:
    if value is None:
        return MISSING
    return f"{WARNING} {text}" if value else t("No")


def facility_table(table: pl.DataFrame, limit: int, selected: str | None = None) -> html.Div:
    """The first `limit` facilities (the ones needing attention first), each name a button
    that opens the facility's year below; a line says how many the export holds."""
    if table.is_empty():
        return html.Div(html.P(t("No facility reports for this selection"),
                               className="text-muted mb-0"))  # fmt: skip
    rows = table.head(limit).to_dicts()
    levels, power = level_labels(), power_labels()
    kinds, settings = type_labels(), setting_labels()
    body = [
        [
            html.Button(r["name"], id={"type": ids.ENV_FACILITY_ROW, "index": r["facility"]},
                        n_clicks=0, className="btn btn-link btn-sm p-0 text-start facility-link",
                        title=t("Show this facility's last 12 months")),
            r["district_name"],
            kinds.get(r["facility_type"], r["facility_type"] or MISSING),
            settings.get(r["setting"], r["setting"] or MISSING),
            levels.get(r["hcwm_level"], MISSING),
            _flag(r["unsafe_disposal"], t("Unsafe")),
            power.get(r["electricity_level"], MISSING),
            display.number(r["solar_kwp"], "", 1) if r["solar_kwp"] else "0",
            display.number(r["diesel_litres"], "", 0),
            tonnes(r["co2e_t"]),
            _flag(r["heat_stress"], t("Yes")),
        ]
        for r in rows
    ]  # fmt: skip
    table_component = ui.table(
        [t("Facility"), t("District"), t("Type"), t("Setting"), t("Waste service"),
         t("Unsafe disposal"), t("Electricity"), t("Solar kWp"), t("Diesel (litres)"),
         t("t CO2e"), t("Heat stress")],
        body,
        numeric=[False] * 7 + [True] * 3 + [False],
        highlight=[r["facility"] == selected for r in rows],
    )  # fmt: skip
    note = t(
        "{shown} of {total} facilities: unsafe disposal and heat stress first, then the "
        "largest emitters. Choose a name for its 12 months; the export lists all."
    )
    return html.Div([
        table_component,
        html.P(note.format(shown=len(rows), total=f"{table.height:,}"),
               className="small text-muted mt-2 mb-0"),
    ])  # fmt: skip


def facility_year_table(year: pl.DataFrame) -> dbc.Table | html.P:
    """The facility's months as numbers (the chart's table alternative)."""
    if year.is_empty():
        return html.P(t("No data for this selection"), className="text-muted mb-0")
    levels, power = level_labels(), power_labels()

    def cases(row: dict, column: str) -> str:
        return display.count(row[column], bool(row[f"{column}_hidden"]))

    body = [
        [
            period_label(r["period"]),
            display.count(r["waste_general_kg"]),
            display.count(r["waste_hazardous_kg"]),
            levels.get(r["hcwm_level"], MISSING),
            display.count(r["kwh_grid"]),
            display.count(r["kwh_generator"]),
            display.count(r["kwh_solar"]),
            display.number(r["diesel_litres"], "", 0),
            power.get(r["electricity_level"], MISSING),
            tonnes(_tonnes(r["co2e_scope1_kg"], r["co2e_scope2_kg"])),
            cases(r, "cases_heat_illness"),
            cases(r, "cases_awd"),
        ]
        for r in year.sort("period").to_dicts()
    ]  # fmt: skip
    return ui.table(
        [t("Month"), t("General waste (kg)"), t("Hazardous waste (kg)"), t("Waste service"),
         t("Grid kWh"), t("Generator kWh"), t("Solar kWh"), t("Diesel (litres)"),
         t("Electricity"), t("t CO2e"), t("Heat illness"), t("Acute watery diarrhoea")],
        body,
        numeric=[False, True, True, False, True, True, True, True, False, True, True, True],
    )  # fmt: skip


def _tonnes(scope1: float | None, scope2: float | None) -> float | None:
    if scope1 is None and scope2 is None:
        return None
    return ((scope1 or 0) + (scope2 or 0)) / 1000


def lag_note(lags: pl.DataFrame, exposure: str) -> str:
    """Which lag relates most closely, in words (or why none is shown)."""
    known = lags.filter(pl.col("rho").is_not_null())
    if known.is_empty():
        return t("Not enough district-months with both cases and climate data.")
    best = known.sort(pl.col("rho").abs(), descending=True).row(0, named=True)
    lag = best["lag"]
    when = t("in the same month") if lag == 0 else t("{n} month(s) later").format(n=lag)
    measure = t("heatwave days") if exposure == "heatwave_days" else t("the mean daily maximum")
    return t(
        "Cases follow {measure} most closely {when} (ρ = {rho}, {n} district-months). "
        "A descriptive association, pooled over districts and months and not adjusted for "
        "season: both peak in summer."
    ).format(measure=measure, when=when, rho=f"{best['rho']:.2f}", n=f"{best['pairs']:,}")
