"""The app factory, its routes and its wiring (no browser)."""

from __future__ import annotations

import json

import dash
import pytest

import app as mizan_app
from dashboard import ids
from indicators import geography, warehouse
from tests.dashboard.conftest import DashClient, walk

PATHS = {
    "/": "Overview",
    "/immunization": "Immunization",
    "/equity": "Equity",
    "/environment": "Environment",
    "/quality": "Data quality",
    "/data": "Data",
    "/audit": "Audit",
}
DATA_PATHS = [path for path in PATHS if path != "/audit"]  # pages that read indicator data
DHIS2_VIEWS = ("imm-adm-", "dq-")  # ids of views shown once DHIS2 data is loaded
# ids shown once facility data is loaded (test_environment_page checks them), and the
# facility table's row buttons (a pattern-matching id)
FACILITY_VIEWS = ("env-", '{"index":["ALL"],"type":"env-')


def test_create_app_touches_no_database(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("create_app must not open the warehouse")

    monkeypatch.setattr(warehouse, "engine", refuse)
    created = mizan_app.create_app("sqlite:////nonexistent/never.db")
    assert created.server.config["MIZAN_DB_URL"] == "sqlite:////nonexistent/never.db"
    assert created.title == "Mizan"


def test_scripts_are_servable_before_any_page_was_opened():
    """A worker may get a script request first (another worker served the page): Dash's
    first-request setup has run at creation, so the script is there, not a 500."""
    created = mizan_app.create_app("sqlite:////nonexistent/never.db")
    assert "dash" in created.registered_paths
    client = created.server.test_client()
    script = next(p for p in created.registered_paths["dash"] if p.startswith("deps/react@"))
    response = client.get(f"/_dash-component-suites/dash/{script}")
    assert response.status_code == 200


def test_module_app_uses_the_configured_warehouse():
    assert mizan_app.server is mizan_app.app.server
    assert mizan_app.server.config["MIZAN_DB_URL"]


def test_pages_are_registered_in_order():
    mizan_app.create_app("sqlite:///:memory:")
    pages = sorted(dash.page_registry.values(), key=lambda p: p["order"])
    assert {p["path"]: p["name"] for p in pages} == PATHS


def test_every_app_gets_its_own_callbacks(tiny_url):
    """The factory pitfall: a second app must not lose (or double) the page callbacks."""
    first, second = (
        DashClient(mizan_app.create_app(tiny_url)),
        DashClient(mizan_app.create_app(tiny_url)),
    )
    assert len(first.callbacks) == len(second.callbacks) >= 17
    outputs = [c["output"] for c in second.callbacks]
    assert len(outputs) == len(set(outputs))


def test_every_callback_id_exists_in_a_page(tiny):
    """Stands in for Dash's validation layout (off: pages read the warehouse). The DHIS2
    views exist once DHIS2 data is loaded: test_admin_pages checks theirs."""
    present = {
        node["props"]["id"]
        for path in PATHS
        for node in walk(tiny.page(path))
        if isinstance(node["props"].get("id"), str)
    }
    present |= {
        node["props"]["id"]
        for node in walk(json.loads(tiny.client.get("/_dash-layout").data))
        if isinstance(node["props"].get("id"), str)
    }
    used = set()
    for callback in tiny.callbacks:
        used |= {d["id"] for d in callback["inputs"] + callback["state"]}
        used |= {o.split(".")[0] for o in callback["output"].strip(".").split("...")}
    skipped = ("_pages", *DHIS2_VIEWS, *FACILITY_VIEWS)
    missing = sorted(i for i in used - present if not i.startswith(skipped))
    assert missing == []


def test_ids_are_unique():
    assert len(ids.all_ids()) == len(set(ids.all_ids()))


def test_index_is_offline_and_uses_local_bootstrap(tiny):
    html = tiny.client.get("/").data.decode()
    assert "/vendor/bootstrap.min.css" in html
    assert "http://" not in html and "https://" not in html
    css = tiny.client.get("/vendor/bootstrap.min.css")
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    assert b"Bootstrap" in css.data[:200]


def test_geojson_routes_serve_the_boundary_pack(tiny, geo_pack):
    adm1 = tiny.client.get("/geo/adm1.geojson")
    assert adm1.status_code == 200
    assert adm1.mimetype == "application/geo+json"
    features = json.loads(adm1.data)["features"]
    assert len(features) == 18
    assert {f["properties"]["adm1_pcode"] for f in features} == geography.governorate_codes()
    adm2 = json.loads(tiny.client.get("/geo/adm2.geojson").data)
    assert "adm2_pcode" in adm2["features"][0]["properties"]


def test_geojson_routes_404_without_a_pack(tiny, no_geo_pack):
    assert tiny.client.get("/geo/adm1.geojson").status_code == 404


@pytest.mark.parametrize("path", DATA_PATHS)
def test_pages_say_when_nothing_is_loaded(make_client, sqlite_url, path):
    empty = make_client(sqlite_url)
    from tests.dashboard.conftest import texts

    assert "No data has been loaded yet." in texts(empty.page(path))


def test_navbar_lists_every_page_for_an_administrator(tiny):
    layout = json.loads(tiny.client.get("/_dash-layout").data)
    links = [n["props"] for n in walk(layout) if n["type"] == "NavLink"]
    assert [(link["children"], link["href"]) for link in links] == [
        ("Overview", "/"),
        ("Immunization", "/immunization"),
        ("Equity", "/equity"),
        ("Environment", "/environment"),
        ("Data quality", "/quality"),
        ("Data", "/data"),
        ("Audit", "/audit"),
    ]


def test_unknown_query_strings_do_not_break_pages(tiny):
    for path in PATHS:
        tiny.page(path, "?foo=bar&indicator=nonsense&org_unit=XX")
