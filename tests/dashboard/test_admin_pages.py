"""The DHIS2 tab of the Immunization page and the Data quality page, through the real
callbacks (Flask test client), on the warehouse the real loaders built from the tiny
Baghdad instance and its registry (`admin_url`, `admin_warehouse`): figures, tables, CSV exports,
roles and a governorate user's scope."""

from __future__ import annotations

import base64
import io
import json

import polars as pl
import pytest

import app as mizan_app
from indicators import accounts
from tests.dashboard.admin_warehouse import D1, D2, GOVERNORATE
from tests.dashboard.conftest import DashClient, component, texts, walk

TAB = {"imm-source.active_tab": "dhis2"}
ADM = TAB | {
    "imm-adm-dose.value": "admin_cov_penta1",
    "imm-adm-year.value": "2024",
    "imm-adm-org-unit.value": GOVERNORATE,
}
DQ = {
    "dq-year.value": "2024",
    "dq-month.value": "all",
    "dq-org-unit.value": GOVERNORATE,
    "dq-tri-dose.value": "triangulation_penta1",
}
BAGHDAD_TARGET = 1200 + 900  # the districts' surviving infants (see tiny_instance)
BAGHDAD_PENTA1 = 90 + 60  # doses a month


@pytest.fixture(scope="module")
def clients(admin_url: str) -> dict[str, DashClient]:
    app = mizan_app.create_app(admin_url)
    return {u: DashClient(app, u) for u in ("admin", "leader", "focal", "baghdad", "basra")}


def csv_of(response: dict, output: str) -> pl.DataFrame:
    body = base64.b64decode(response[output]["data"]["content"])
    assert body.startswith("\ufeff".encode())
    return pl.read_csv(io.BytesIO(body), infer_schema=False)


def traces(response: dict, output: str) -> list[dict]:
    return response[output]["figure"]["data"]


def numbers(values: object) -> list[float]:
    """A trace's x or y: a list, or plotly's typed array ({"dtype", "bdata"})."""
    if isinstance(values, dict):
        import numpy as np

        return np.frombuffer(base64.b64decode(values["bdata"]), values["dtype"]).tolist()
    return list(values)


# ---- the Immunization page's DHIS2 tab -----------------------------------------------------


def test_every_dhis2_callback_id_exists_in_its_page(clients):
    """test_dash_app's check for the ids that exist once DHIS2 data is loaded."""
    admin = clients["admin"]
    present = {
        node["props"]["id"]
        for path in ("/immunization", "/quality")
        for node in walk(admin.page(path, "?source=dhis2"))
        if isinstance(node["props"].get("id"), str)
    }
    used = set()
    for callback in admin.callbacks:
        used |= {d["id"] for d in callback["inputs"] + callback["state"]}
        used |= {o.split(".")[0] for o in callback["output"].strip(".").split("...")}
    dhis2 = {i for i in used if i.startswith(("imm-adm-", "dq-"))}
    assert len(dhis2) > 30 and dhis2 <= present
    assert "imm-source" in present


def test_immunization_has_a_registry_and_a_dhis2_tab(clients):
    admin = clients["admin"]
    page = admin.page("/immunization", "?source=dhis2&org_unit=IQG08&year=2024")
    tabs = component(page, "imm-source")
    assert tabs["props"]["active_tab"] == "dhis2"
    assert [tab["props"]["label"] for tab in tabs["props"]["children"]] == [
        "Registry cohorts", "DHIS2 reports"
    ]  # fmt: skip
    dose = component(page, "imm-adm-dose")["props"]
    assert dose["value"] == "admin_cov_penta1"
    assert [o["label"] for o in dose["options"]] == ["Penta1", "Penta3", "MCV1"]
    assert component(page, "imm-adm-year")["props"]["value"] == "2024"
    assert component(page, "imm-adm-org-unit")["props"]["value"] == GOVERNORATE
    # The registry tab offers registry indicators only.
    registry = [o["value"] for o in component(page, "imm-indicator")["props"]["options"]]
    assert registry and not any(code.startswith(("admin_", "triangulation_")) for code in registry)
    assert component(admin.page("/immunization"), "imm-source")["props"]["active_tab"] == (
        "registry"
    )


def test_the_equity_page_offers_registry_indicators_only(clients):
    """DHIS2 reports have no disability and few sexes: not equity subgroups."""
    page = clients["admin"].page("/equity", "")
    codes = [o["value"] for o in component(page, "eq-indicator")["props"]["options"]]
    assert "cov_penta3_12m" in codes
    assert not any(code.startswith(("admin_", "triangulation_", "report_")) for code in codes)


def test_monitoring_chart_cumulates_doses_against_the_target(clients):
    status, response = clients["admin"].call("imm-adm-monitor", ADM)
    assert status == 200
    assert response["imm-adm-title"]["children"] == "Penta1 · Baghdad · 2024 · DHIS2 reports"
    assert response["imm-adm-basis"]["children"] == (
        "RED/REC and dropout: 2024, the complete year."
    )
    data = {t["name"]: t for t in traces(response, "imm-adm-monitor")}
    target = data["Target (annual target × month ÷ 12)"]
    assert numbers(target["y"]) == pytest.approx([BAGHDAD_TARGET * m / 12 for m in range(1, 13)])
    penta1 = data["Penta1 doses to date"]
    assert numbers(penta1["y"]) == [BAGHDAD_PENTA1 * m for m in range(1, 13)]
    assert penta1["x"][0] == "Jan" and penta1["x"][-1] == "Dec"
    assert "Penta3 doses to date" in data
    dropout = data["Dropout Penta1 → Penta3 to date (right axis)"]
    assert dropout["yaxis"] == "y2"
    # January: (150 - 130) / 150; February adds F3's 70 Penta3.
    assert numbers(dropout["y"])[:2] == pytest.approx([100 * 20 / 150, 100 * 25 / 300])


def test_dhis2_callbacks_wait_for_their_tab(clients):
    admin = clients["admin"]
    body = admin.body("imm-adm-monitor", ADM | {"imm-source.active_tab": "registry"})
    assert admin.post(body).status_code == 204  # nothing computed for a hidden tab


def test_red_scatter_map_and_dropout_bars(clients):
    status, response = clients["admin"].call("imm-adm-scatter", ADM)
    assert status == 200
    points = {
        t["name"]: list(zip(numbers(t["x"]), numbers(t["y"]), t["text"], strict=True))
        for t in traces(response, "imm-adm-scatter")
    }
    (x, y, label), = points["2 · Good access, poor use"]  # fmt: skip
    assert (x, y) == pytest.approx((90.0, 100 * 180 / 1080)) and label == "Al-Adhamiya"
    (x, y, label), = points["3 · Poor access, good use"]  # fmt: skip
    assert (x, y) == pytest.approx((80.0, 6.25)) and label == "Al-Kadhmiyah"
    assert points["1 · Good access, good use"] == points["4 · Poor access, poor use"] == []
    layout = response["imm-adm-scatter"]["figure"]["layout"]
    lines = [s for s in layout["shapes"] if s["type"] == "line"]
    assert {s["x0"] for s in lines if s["x0"] == s["x1"]} == {90.0}
    assert {s["y0"] for s in lines if s["y0"] == s["y1"]} == {10.0}
    # The map: one filled trace per category, the category number at each district.
    shapes = traces(response, "imm-adm-map")
    assert [t["name"] for t in shapes if t.get("fill") == "toself"][:4] == [
        "1 · Good access, good use", "2 · Good access, poor use",
        "3 · Poor access, good use", "4 · Poor access, poor use",
    ]  # fmt: skip
    patterns = [t.get("fillpattern", {}).get("shape", "") for t in shapes[:4]]
    assert patterns == ["", "/", ".", "x"]  # colour is never the only cue
    labels = shapes[-1]
    numbered = dict(zip([row[5] for row in labels["customdata"]], labels["text"], strict=True))
    assert numbered[D1] == "2" and numbered[D2] == "3"
    # Baghdad's other districts have no DHIS2 rows: drawn grey, without a number.
    assert len(numbered) == 7 and {numbered[c] for c in set(numbered) - {D1, D2}} == {""}
    assert "Administrative boundaries" in texts(response["imm-adm-map-note"]["children"])

    status, response = clients["admin"].call("imm-adm-dropout", ADM)
    bars = {t["name"]: t for t in traces(response, "imm-adm-dropout") if t["type"] == "bar"}
    above = bars["Above the threshold"]
    assert above["y"][0] == "Al-Adhamiya" and numbers(above["x"])[0] == pytest.approx(16.667, 1e-3)
    assert numbers(bars["At or below the threshold"]["x"])[1] == pytest.approx(6.25)


def test_a_click_on_a_district_selects_it(clients):
    click = {"points": [{"customdata": ["Al-Adhamiya", "", "", "", "", D1]}]}
    status, response = clients["admin"].call(
        "imm-adm-org-unit",
        {"imm-adm-scatter.clickData": click, "imm-adm-map.clickData": None},
        changed=["imm-adm-scatter.clickData"],
    )
    assert status == 200 and response["imm-adm-org-unit"]["value"] == D1
    status, response = clients["admin"].call("imm-adm-monitor", ADM | {
        "imm-adm-org-unit.value": D1})  # fmt: skip
    assert response["imm-adm-title"]["children"] == "Penta1 · Al-Adhamiya · 2024 · DHIS2 reports"
    status, response = clients["admin"].call("imm-adm-scatter", ADM | {
        "imm-adm-org-unit.value": D1})  # fmt: skip
    highlighted = [t for t in traces(response, "imm-adm-map") if t.get("name") == "Selected"]
    assert len(highlighted) == 1  # the district's outline, among its governorate's districts


@pytest.mark.parametrize(
    ("output", "indicators"),
    [
        ("imm-adm-monitor-download",
         {"admin_cov_penta1_ytd", "admin_cov_penta3_ytd", "admin_dropout_penta1_penta3_ytd"}),
        ("imm-adm-scatter-download",
         {"admin_cov_penta1", "admin_dropout_penta1_penta3", "red_category"}),
        ("imm-adm-map-download", {"red_category"}),
        ("imm-adm-dropout-download", {"admin_dropout_penta1_penta3"}),
    ],
)  # fmt: skip
def test_each_dhis2_view_exports_its_rows(clients, admin_url, output, indicators):
    button = output.replace("-download", "-export")
    status, response = clients["admin"].call(output, ADM | {f"{button}.n_clicks": 1})
    assert status == 200
    frame = csv_of(response, output)
    assert set(frame["indicator"]) == indicators
    assert frame.columns[:3] == ["indicator", "indicator_name", "period"]
    assert {code[:5] for code in frame["org_unit"]} == {GOVERNORATE}
    last = accounts.audit_log(admin_url).row(0, named=True)
    assert last["event"] == "export" and json.loads(last["detail"])["rows"] == frame.height


# ---- the Data quality page -----------------------------------------------------------------


def test_quality_page_filters_and_reporting(clients):
    page = clients["leader"].page("/quality")
    assert component(page, "dq-year")["props"]["value"] == "2024"
    months = component(page, "dq-month")["props"]["options"]
    assert months[0] == {"label": "All months", "value": "all"} and len(months) == 13
    status, response = clients["leader"].call("dq-title", DQ)
    assert status == 200
    assert response["dq-title"]["children"] == "Baghdad · 2024"
    table = texts(response["dq-reports-table"]["children"])
    assert "Baghdad 36 34 94.4% 32 88.9%" in table
    assert "Al-Adhamiya 24 22 91.7% 20 83.3%" in table
    assert "Al-Kadhmiyah 12 12 100.0% 12 100.0%" in table
    bars = {t["name"]: t for t in traces(response, "dq-reports-bar")}
    assert set(bars) == {"Completeness", "Timeliness"}
    assert bars["Completeness"]["y"] == ["Al-Adhamiya", "Al-Kadhmiyah"]  # lowest first
    status, response = clients["leader"].call("dq-title", DQ | {"dq-month.value": "11"})
    assert response["dq-title"]["children"] == "Baghdad · Nov 2024"
    assert "Al-Adhamiya 2 1 50.0% ▼ 1 50.0%" in texts(response["dq-reports-table"]["children"])


def test_quality_outliers_and_triangulation(clients):
    status, response = clients["admin"].call("dq-outliers-table", DQ)
    counts = texts(response["dq-outliers-table"]["children"])
    assert "Baghdad 108 2 1.9%" in counts and "Al-Kadhmiyah 36 2 5.6%" in counts
    listed = texts(response["dq-outliers-list"]["children"])
    assert "Al-Kadhmiyah MCV1 Jul 2024 550 55 10.0×" in listed
    assert "Al-Kadhmiyah Penta3 Feb 2024 70 55 1.3×" in listed

    status, response = clients["admin"].call("dq-tri-chart", DQ)
    assert response["dq-tri-title"]["children"] == "Penta1 · Baghdad · 2024"
    chart = {t["name"]: t for t in traces(response, "dq-tri-chart")}
    assert numbers(chart["Registry doses"]["y"]) == [80 + 66, 100 + 50]
    assert numbers(chart["DHIS2 doses"]["y"]) == [150, 150]
    table = texts(response["dq-tri-table"]["children"])
    assert "Al-Adhamiya 180 180 100.0% 2 / 2" in table
    assert "Al-Kadhmiyah 116 120 103.4% 2 / 2" in table


@pytest.mark.parametrize(
    ("output", "column", "values"),
    [
        ("dq-reports-download", "indicator", {"report_completeness", "report_timeliness"}),
        ("dq-outliers-download", "indicator", {"dq_outliers"}),
        ("dq-outlier-list-download", "indicator", {"admin_cov_mcv1", "admin_cov_penta3"}),
        ("dq-tri-download", "indicator", {"triangulation_penta1"}),
    ],
)
def test_each_quality_view_exports(clients, output, column, values):
    button = output.replace("-download", "-export")
    status, response = clients["admin"].call(output, DQ | {f"{button}.n_clicks": 1})
    assert status == 200
    frame = csv_of(response, output)
    assert set(frame[column]) == values
    assert {code[:5] for code in frame["org_unit"]} == {GOVERNORATE}


# ---- roles and scope -----------------------------------------------------------------------


def test_quality_page_roles(clients):
    for user in ("admin", "leader", "baghdad", "basra"):
        assert clients[user].page_status("/quality") == 200, user
    focal = clients["focal"]
    assert focal.client.get("/quality").status_code == 403
    assert focal.page_status("/quality") == 403
    body = clients["admin"].body("dq-title", DQ)  # a real payload, replayed
    assert focal.post(body).status_code == 403
    nav = json.loads(focal.client.get("/_dash-layout").data)
    assert "Data quality" not in json.dumps(nav)


def test_governorate_user_sees_its_governorate_only(clients):
    baghdad, basra = clients["baghdad"], clients["basra"]
    page = baghdad.page("/quality")
    places = [o["value"] for o in component(page, "dq-org-unit")["props"]["options"]]
    assert component(page, "dq-org-unit")["props"]["value"] == GOVERNORATE
    assert places and all(p.startswith(GOVERNORATE) for p in places)
    asked_iraq = DQ | {"dq-org-unit.value": "IQ", "dq-outlier-list-export.n_clicks": 1}
    status, response = baghdad.call("dq-title", asked_iraq)
    assert response["dq-title"]["children"] == "Baghdad · 2024"  # not Iraq
    status, response = baghdad.call("dq-outlier-list-download", asked_iraq)
    assert set(csv_of(response, "dq-outlier-list-download")["org_unit"]) == {D2}
    # Basra's user asking for Baghdad gets Basra, which has no DHIS2 rows.
    page = basra.page("/quality")
    assert "The DHIS2 reports loaded do not cover your area." in texts(page)
    for output, values in (("dq-reports-download", DQ | {"dq-reports-export.n_clicks": 1}),
                           ("imm-adm-scatter-download",
                            ADM | {"imm-adm-scatter-export.n_clicks": 1})):  # fmt: skip
        status, response = basra.call(output, values)
        assert status == 200 and csv_of(response, output).is_empty(), output
    status, response = basra.call("imm-adm-scatter", ADM)
    assert response["imm-adm-scatter"]["figure"]["layout"]["annotations"][0]["text"].startswith(
        "No district"
    )


def test_without_dhis2_data_the_views_say_how_to_load_it(tiny):
    """The registry-only warehouse: both DHIS2 views point to `etl load --dhis2`."""
    message = "No DHIS2 reports have been loaded yet (etl load --dhis2)."
    assert message in texts(tiny.page("/quality"))
    page = tiny.page("/immunization", "?source=dhis2")
    assert component(page, "imm-source")["props"]["active_tab"] == "dhis2"
    assert message in texts(page)
