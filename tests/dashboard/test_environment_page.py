"""The Environment page and the Overview's alert list through the real callbacks (Flask
test client), on the sample registry warehouse plus the hand-built facility set
(`environment_warehouse`): cards, charts, tables, the facility drill-down, CSV exports,
roles and a governorate user's scope. Expected numbers are worked out in
`tests/indicators/test_environment_views.py`."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import app as mizan_app
from indicators import accounts
from indicators.export import COLUMNS
from tests.dashboard import environment_warehouse as ew
from tests.dashboard import sample_warehouse
from tests.dashboard.conftest import DashClient, add_users, component, texts, walk

BASE = {
    "env-period.value": "202508",
    "env-org-unit.value": "IQ",
    "env-type.value": "all",
    "env-setting.value": "all",
    "env-ladder-by.value": "place",
    "env-condition.value": "heat_illness",
    "env-exposure.value": "heatwave_days",
    "env-facility.value": "F1",
}


@pytest.fixture(scope="module")
def env_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder: Path = tmp_path_factory.mktemp("environment-page")
    url = f"sqlite:///{folder / 'warehouse.db'}"
    sample_warehouse.build(url)  # a registry load, so the Overview has its cohort
    ew.build(url)
    add_users(url)
    return url


@pytest.fixture(scope="module")
def clients(env_url: str) -> dict[str, DashClient]:
    app = mizan_app.create_app(env_url)
    return {u: DashClient(app, u) for u in ("admin", "focal", "basra", "baghdad")}


def numbers(values: object) -> list:
    """A trace's x or y: a list, or plotly's typed array ({"dtype", "bdata"})."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), values["dtype"]).tolist()
    return list(values)


def figure(response: dict, output: str) -> dict:
    return response[output]["figure"]


def traces(response: dict, output: str) -> dict[str, dict]:
    return {t.get("name"): t for t in figure(response, output)["data"]}


def csv_of(response: dict, output: str) -> pl.DataFrame:
    body = base64.b64decode(response[output]["data"]["content"])
    assert body.startswith("\ufeff".encode())
    return pl.read_csv(io.BytesIO(body), infer_schema=False)


def click_row(client: DashClient, facility: str, clicks: int):  # noqa: ANN201
    """Post the row-click callback as the renderer does for a pattern-matching input."""
    callback = next(c for c in client.callbacks if c["output"].startswith("env-facility.value@"))
    row = {"index": facility, "type": "env-facility-row"}
    return client.post({
        "output": callback["output"],
        "outputs": {"id": "env-facility", "property": callback["output"].split(".", 1)[1]},
        "inputs": [[{"id": row, "property": "n_clicks", "value": clicks}]],
        "changedPropIds": [json.dumps(row, separators=(",", ":")) + ".n_clicks"],
        "state": [],
    })  # fmt: skip


# --- the page -----------------------------------------------------------------------------------


def test_every_environment_callback_id_exists_in_the_page(clients):
    admin = clients["admin"]
    page = admin.page("/environment")
    present = {n["props"]["id"] for n in walk(page) if isinstance(n["props"].get("id"), str)}
    used = set()
    for callback in admin.callbacks:
        used |= {d["id"] for d in callback["inputs"] + callback["state"]}
        used |= {o.split(".")[0] for o in callback["output"].strip(".").split("...")}
    environment = {i for i in used if i.startswith("env-")}
    assert len(environment) > 40 and environment <= present
    assert component(page, "env-period")["props"]["value"] == "202508"
    options = component(page, "env-period")["props"]["options"]
    assert options[0] == {"label": "Aug 2025", "value": "202508"} and len(options) == 20
    assert "Environment" in json.dumps(json.loads(admin.client.get("/_dash-layout").data))


def test_the_period_kind_switches_between_months_and_quarters(clients):
    admin = clients["admin"]
    status, response = admin.call(
        "env-period", {"env-period-kind.value": "quarter", "env-period.value": "202505"},
        prop="options",
    )  # fmt: skip
    assert status == 200
    assert response["env-period"]["value"] == "2025Q2"  # May's quarter
    assert response["env-period"]["options"][0]["label"] == "2025 Q3"
    status, response = admin.call(
        "env-period", {"env-period-kind.value": "month", "env-period.value": "2025Q2"},
        prop="options",
    )  # fmt: skip
    assert response["env-period"]["value"] == "202506"  # the quarter's latest month


def test_headline_cards_with_their_change(clients):
    status, response = clients["admin"].call("env-cards", BASE)
    assert status == 200
    assert response["env-title"]["children"] == "Iraq · Aug 2025"
    cards = texts(response["env-cards"]["children"])
    assert "Basic waste service 75.0% 3 of 4 facilities · Aug 2025" in cards
    assert "▲ 25.0 points since Jul 2025" in cards  # 2 of 4 in July
    assert "Reliable electricity 50.0% 2 of 4 facilities" in cards
    assert "Carbon footprint 4.2 t CO2e Diesel: 750 litres · Aug 2025" in cards
    assert "Saved by solar 0.6 t CO2e" in cards
    assert "Facilities under heat stress 2" in cards
    assert "= no change since Jul 2025" in cards  # diesel and carbon the same each month
    status, response = clients["admin"].call("env-cards", BASE | {"env-period.value": "2025Q3"})
    assert response["env-title"]["children"] == "Iraq · 2025 Q3"
    cards = texts(response["env-cards"]["children"])
    assert "8.5 t CO2e Diesel: 1,500 litres · 2025 Q3 to date" in cards
    assert "75.0% 3 of 4 facilities · Aug 2025" in cards  # states: the quarter's last month
    assert "▲ 25.0 points since Jun 2025" in cards  # against Q2's last month (2 of 4)
    assert "to date: not compared with a whole quarter" in cards
    status, response = clients["admin"].call("env-cards", BASE | {"env-period.value": "2025Q2"})
    cards = texts(response["env-cards"]["children"])
    assert "12.7 t CO2e Diesel: 2,250 litres · 2025 Q2" in cards  # 3 x 4.246, 3 x 750
    assert "= no change since 2025 Q1" in cards
    filtered = BASE | {"env-type.value": "hospital", "env-org-unit.value": "IQG08"}
    status, response = clients["admin"].call("env-cards", filtered)
    assert response["env-title"]["children"] == "Baghdad · Aug 2025 · Hospitals"
    assert "100.0% 1 of 1 facilities" in texts(response["env-cards"]["children"])


def test_the_jmp_ladder_and_unsafe_disposal(clients):
    status, response = clients["admin"].call("env-ladder", BASE)
    assert status == 200
    bars = traces(response, "env-ladder")
    basic = bars["Basic service"]
    assert basic["y"][0] == "<b>Iraq</b>"
    assert numbers(basic["x"])[0] == pytest.approx(75.0)
    by_place = dict(zip(basic["y"], numbers(basic["x"]), strict=True))
    assert by_place["Baghdad"] == pytest.approx(200 / 3) and by_place["Basrah"] == 100.0
    assert basic["y"][1:] == ["Baghdad", "Basrah"]  # lowest basic service first
    patterns = [bars[n]["marker"]["pattern"]["shape"] for n in
                ("Basic service", "Limited service", "No service")]  # fmt: skip
    assert patterns == ["", "/", "x"]
    assert "JMP baseline, Iraq 2017 (basic): 20.5%" in bars
    status, response = clients["admin"].call("env-ladder", BASE | {"env-ladder-by.value": "group"})
    basic = traces(response, "env-ladder")["Basic service"]
    assert basic["y"] == ["<b>All facilities</b>", "Hospitals", "PHC centres", "Urban", "Rural"]
    assert numbers(basic["x"]) == pytest.approx([75.0, 100.0, 50.0, 100.0, 0.0])

    status, response = clients["admin"].call("env-unsafe", BASE)
    ranked = [t for t in figure(response, "env-unsafe")["data"] if t["type"] == "bar"][0]
    assert dict(zip(ranked["y"], numbers(ranked["x"]), strict=True)) == pytest.approx(
        {"Basrah": 50.0, "Baghdad": 100 / 3})  # fmt: skip
    methods = figure(response, "env-methods")["data"]
    labels = methods[0]["y"]
    assert labels[0] == "Autoclave (non-burn)"
    assert "⚠ Open burning, unprotected" in labels
    assert "⚠ Dumped in a covered pit (not lined)" in labels
    assert methods[-1]["name"].startswith("Not a safe method (JMP)")


def test_carbon_trend_and_solar_map(clients, geo_pack):
    status, response = clients["admin"].call("env-carbon", BASE)
    carbon = traces(response, "env-carbon")
    scope1 = carbon["Scope 1: diesel burnt on site"]
    assert scope1["x"][-1] == "Aug 2025" and len(scope1["x"]) == 20
    assert numbers(scope1["y"])[-1] == pytest.approx(750 * 2.68 / 1000)
    assert numbers(carbon["Avoided by solar"]["y"])[-1] == pytest.approx(1200 * 0.52 / 1000)
    assert figure(response, "env-carbon")["layout"]["barmode"] == "stack"

    status, response = clients["admin"].call("env-solar-map", BASE)
    assert status == 200
    labels = traces(response, "env-solar-map")["Places"]
    shares = {row[4]: text for row, text in zip(labels["customdata"], labels["text"],
                                                 strict=True)}  # fmt: skip
    assert shares["IQG08"] == "67%" and shares["IQG02"] == "0%"  # F1, F3 of 3; F4 of 1
    fills = {t["name"]: t["fillcolor"] for t in figure(response, "env-solar-map")["data"]
             if t.get("fill") == "toself"}  # fmt: skip
    assert fills["Basrah"] == "rgb(0, 34, 78)"  # the darkest Cividis: no solar
    assert "Administrative boundaries" in texts(response["env-solar-note"]["children"])


def test_heat_cases_and_the_lag_chart(clients):
    status, response = clients["admin"].call("env-heat", BASE | {"env-org-unit.value": "IQG08Q01"})
    assert status == 200
    heat = traces(response, "env-heat")
    rates = dict(zip(heat["Heat illness per 10,000"]["x"],
                     numbers(heat["Heat illness per 10,000"]["y"]), strict=True))  # fmt: skip
    assert rates["Aug 2025"] == pytest.approx(15.0)
    assert heat["Heatwave days (right axis)"]["yaxis"] == "y2"
    lag = [t for t in figure(response, "env-lag")["data"] if t["type"] == "bar"]
    rises = next(t for t in lag if t["name"] == "Cases rise with heat")
    assert rises["text"][1].startswith("ρ = 1.00<br>n = 19")
    assert (
        "most closely 1 month(s) later (ρ = 1.00, 19 district-months)"
        in (response["env-lag-note"]["children"])
    )


def test_facility_table_and_drill_down(clients):
    admin = clients["admin"]
    status, response = admin.call("env-facilities", BASE | {"env-org-unit.value": "IQG08"})
    assert status == 200
    table = texts(response["env-facilities"]["children"])
    assert table.index("Mansour PHC") < table.index("Karkh Hospital") < table.index(
        "Tarmiyah PHC")  # fmt: skip
    assert "⚠ Unsafe" in table and "3 of 3 facilities" in table
    assert response["env-facility"]["value"] == "F1"  # kept: still in the list
    assert len(response["env-facility"]["options"]) == 3
    # A click on a facility's name opens it; a re-drawn table (no click) changes nothing.
    assert click_row(admin, "F3", 1).status_code == 200
    assert json.loads(click_row(admin, "F3", 1).data)["response"]["env-facility"]["value"] == "F3"
    assert json.loads(click_row(admin, "F3", 0).data)["response"] == {}

    status, response = admin.call("env-facility-year", BASE)
    assert response["env-facility-title"]["children"] == (
        "Karkh Hospital · Al-Adhamiya · 12 months to Aug 2025"
    )
    year = traces(response, "env-facility-year")
    assert numbers(year["Hazardous waste"]["y"]) == [200.0] * 12
    assert numbers(year["Scope 1: diesel"]["y"]) == pytest.approx([0.536] * 12)
    assert "Acute watery diarrhoea: suppressed" in year  # hidden months marked
    months = texts(response["env-facility-table"]["children"])
    assert "Aug 2025 1,000 200 Basic 3,000 500 1,000 200 Reliable 2.1 150 suppressed" in months


def test_alerts_on_the_page_and_on_the_overview(clients):
    status, response = clients["admin"].call("env-alerts", BASE)
    assert response["env-alerts-title"]["children"] == "Active alerts · 7 in Aug 2025"
    listed = texts(response["env-alerts"]["children"])
    assert "⚠ High Open burning or unsafe dumping Mansour PHC (Al-Adhamiya) reported" in listed
    assert "Abu Al-Khaseeb: 270 heat-illness cases in Aug 2025, above the alert level of 255" in (
        listed
    )
    status, response = clients["admin"].call("env-alerts", BASE | {"env-org-unit.value": "IQG02"})
    assert response["env-alerts-title"]["children"] == "Active alerts · 4 in Aug 2025"

    overview = clients["admin"].page("/")
    card = texts(component(overview, "ov-alerts"))
    assert "Active alerts · 7 in Aug 2025" in card and "2 more alerts." in card
    link = next(n for n in walk(component(overview, "ov-alerts")) if n["type"] == "Link")
    assert link["props"]["href"] == "/environment"
    basra = texts(component(clients["basra"].page("/"), "ov-alerts"))
    assert "Active alerts · 4 in Aug 2025" in basra and "Mansour" not in basra


@pytest.mark.parametrize(
    ("output", "extra", "indicators"),
    [
        ("env-cards-download", {}, None),
        ("env-ladder-download", {}, {"hcwm_basic", "hcwm_limited", "hcwm_no_service"}),
        ("env-unsafe-download", {}, {"hcwm_unsafe_disposal"}),
        ("env-carbon-download", {}, {"co2e_scope1_t", "co2e_scope2_t", "solar_avoided_co2e_t"}),
        ("env-solar-download", {}, {"solar_facilities", "solar_kwp", "renewable_share"}),
    ],
)  # fmt: skip
def test_indicator_views_export_contract_rows(clients, env_url, output, extra, indicators):
    button = output.replace("-download", "-export")
    status, response = clients["admin"].call(output, BASE | extra | {f"{button}.n_clicks": 1})
    assert status == 200
    frame = csv_of(response, output)
    assert frame.columns == COLUMNS
    assert set(frame["source"]) == {"facility"}
    if indicators:
        assert set(frame["indicator"]) == indicators
    else:  # the cards: the chosen place, this month and the month before
        assert set(frame["org_unit"]) == {"IQ"} and set(frame["period"]) == {"202507", "202508"}
    last = accounts.audit_log(env_url).row(0, named=True)
    assert last["event"] == "export" and json.loads(last["detail"])["rows"] == frame.height


def test_filtered_exports_say_which_facilities_they_cover(clients):
    values = BASE | {"env-type.value": "phc", "env-ladder-export.n_clicks": 1}
    status, response = clients["admin"].call("env-ladder-download", values)
    frame = csv_of(response, "env-ladder-download")
    assert frame.columns == [*COLUMNS, "facility_type", "setting"]
    assert set(frame["facility_type"]) == {"phc"}
    basic = frame.filter((pl.col("indicator") == "hcwm_basic") & (pl.col("org_unit") == "IQ"))
    assert basic["value"].to_list() == ["50.0000"]
    assert "phc" in response["env-ladder-download"]["data"]["filename"].lower() or (
        "PHC" in response["env-ladder-download"]["data"]["filename"]
    )


def test_table_exports(clients):
    admin = clients["admin"]
    status, response = admin.call("env-facilities-download",
                                  BASE | {"env-facilities-export.n_clicks": 1})  # fmt: skip
    facilities = csv_of(response, "env-facilities-download")
    assert facilities["facility"].to_list() == ["F2", "F5", "F4", "F1", "F3"]
    status, response = admin.call("env-facility-download",
                                  BASE | {"env-facility-export.n_clicks": 1})  # fmt: skip
    year = csv_of(response, "env-facility-download")
    assert year.height == 12 and set(year["cases_awd"].fill_null("")) == {""}
    status, response = admin.call("env-lag-download", BASE | {"env-lag-export.n_clicks": 1})
    lag = csv_of(response, "env-lag-download")
    assert lag["lag_months"].to_list() == ["0", "1", "2", "3"]
    assert float(lag["spearman_rho"][1]) == pytest.approx(1.0)
    status, response = admin.call("env-methods-download", BASE | {"env-methods-export.n_clicks": 1})
    assert "open_burning_unprotected" in csv_of(response, "env-methods-download")["method"]
    status, response = admin.call("env-heat-download", BASE | {"env-heat-export.n_clicks": 1})
    heat = csv_of(response, "env-heat-download")
    assert heat.height == 20 and "heatwave_days" in heat.columns
    status, response = admin.call("env-alerts-download", BASE | {"env-alerts-export.n_clicks": 1})
    assert csv_of(response, "env-alerts-download").height == 7


# --- roles and scope -----------------------------------------------------------------------------


def test_every_role_may_open_the_page(clients):
    for user in ("admin", "focal", "basra", "baghdad"):
        assert clients[user].page_status("/environment") == 200, user


def test_a_governorate_user_sees_its_governorate_only(clients):
    basra = clients["basra"]
    page = basra.page("/environment")
    places = [o["value"] for o in component(page, "env-org-unit")["props"]["options"]]
    assert component(page, "env-org-unit")["props"]["value"] == "IQG02"
    assert places and all(p.startswith("IQG02") for p in places)
    asked_baghdad = BASE | {"env-org-unit.value": "IQG08"}
    status, response = basra.call("env-cards", asked_baghdad)
    assert response["env-title"]["children"] == "Basrah · Aug 2025"
    status, response = basra.call("env-facilities", asked_baghdad)
    assert {o["value"] for o in response["env-facility"]["options"]} == {"F4", "F5"}
    status, response = basra.call("env-facility-year", asked_baghdad)  # F1 is Baghdad's
    assert response["env-facility-title"]["children"] == "One facility's year"
    status, response = basra.call("env-alerts", asked_baghdad)
    assert "Mansour" not in texts(response["env-alerts"]["children"])
    for output in ("env-facilities-download", "env-cards-download", "env-alerts-download"):
        button = output.replace("-download", "-export")
        status, response = basra.call(output, asked_baghdad | {f"{button}.n_clicks": 1})
        frame = csv_of(response, output)
        column = next(c for c in ("org_unit", "district", "adm1_code") if c in frame.columns)
        assert frame.height and {v[:5] for v in frame[column]} == {"IQG02"}, output
    status, response = basra.call("env-facility-download",
                                  asked_baghdad | {"env-facility-export.n_clicks": 1})  # fmt: skip
    assert csv_of(response, "env-facility-download").is_empty()


def test_without_facility_data_the_page_says_so(tiny):
    assert "No facility reports have been loaded yet" in texts(tiny.page("/environment"))
    assert texts(component(tiny.page("/"), "ov-alerts")) == ""
