"""Per role, through the real callbacks and exports: who may open what, and which rows a
governorate user gets back, whatever the request asks for.

The tiny warehouse has Iraq, Baghdad (IQG08, three districts) and Ninewa (IQG15); the
`baghdad` user is scoped to IQG08. The sample warehouse has every governorate; `basra`
is scoped to IQG02.
"""

from __future__ import annotations

import base64
import io
import json

import polars as pl
import pytest

import app as mizan_app
from dashboard import auth, wiring
from tests.dashboard.conftest import DashClient, walk

ALL_PAGES = ["/", "/immunization", "/equity"]
ADMIN_PAGES = ["/data", "/audit"]
NON_ADMINS = ["leader", "focal", "baghdad"]
IMM = {
    "imm-indicator.value": "cov_penta3_12m",
    "imm-period.value": "2024",
    "imm-sex.value": "all",
    "imm-disability.value": "all",
}
EQ = {"eq-indicator.value": "cov_penta3_12m", "eq-period.value": "2024"}
# The callbacks of the admin-only pages, with inputs that make them do their work.
ADMIN_CALLBACKS = [
    ("data-rules-bar", {"data-run.value": 1}),
    ("data-rejects-table", {"data-run.value": 1, "data-rule.value": None}),
    ("data-runs-download", {"data-runs-export.n_clicks": 1}),
    ("data-rules-download", {"data-rules-export.n_clicks": 1, "data-run.value": 1}),
    ("data-rejects-download", {"data-rejects-export.n_clicks": 1, "data-run.value": 1}),
    ("audit-table", {"audit-event.value": "all"}),
    ("audit-download", {"audit-export.n_clicks": 1, "audit-event.value": "all"}),
]


@pytest.fixture(scope="module")
def tiny_app(tiny_url):  # noqa: ANN001, ANN201
    return mizan_app.create_app(tiny_url)


@pytest.fixture(scope="module")
def clients(tiny_app) -> dict[str, DashClient]:  # noqa: ANN001
    return {user: DashClient(tiny_app, user) for user in ["admin", *NON_ADMINS]}


def csv_frame(response: dict, output_id: str) -> pl.DataFrame:
    download = response[output_id]["data"]
    body = base64.b64decode(download["content"])
    assert body.startswith("\ufeff".encode())
    return pl.read_csv(io.BytesIO(body), infer_schema=False)


def prefixes(frame: pl.DataFrame) -> set[str]:
    """The governorate of each row (`IQ` for the national row)."""
    return {code[:5] if len(code) >= 5 else code for code in frame["org_unit"]}


# ---- pages and callbacks by role ---------------------------------------------------------


@pytest.mark.parametrize("user", ["admin", *NON_ADMINS])
def test_every_role_opens_the_dashboards(clients, user):
    client = clients[user]
    for path in ALL_PAGES:
        assert client.client.get(path).status_code == 200, path
        assert client.page_status(path) == 200, path


@pytest.mark.parametrize("user", NON_ADMINS)
def test_data_and_audit_are_refused_to_non_admins(clients, user):
    client = clients[user]
    for path in ADMIN_PAGES:
        response = client.client.get(path)
        assert response.status_code == 403, path
        assert "Your role may not open this page." in response.text
        assert client.page_status(path) == 403, path  # the layout, through the router
    admin = clients["admin"]
    for output, values in ADMIN_CALLBACKS:
        body = admin.body(output, values)  # a real payload, replayed by the other user
        response = client.post(body)
        assert response.status_code == 403, output
        assert b"response" not in response.data


def test_data_and_audit_open_for_an_admin(clients):
    admin = clients["admin"]
    for path in ADMIN_PAGES:
        assert admin.client.get(path).status_code == 200
        assert admin.page_status(path) == 200
    for output, values in ADMIN_CALLBACKS:
        status, response = admin.call(output, values)
        assert status == 200 and output in response, output


@pytest.mark.parametrize(
    ("user", "pages"),
    [
        ("admin", ["Overview", "Immunization", "Equity", "Environment", "Data quality", "Data",
                   "Audit"]),
        ("leader", ["Overview", "Immunization", "Equity", "Environment", "Data quality"]),
        ("focal", ["Overview", "Immunization", "Equity", "Environment"]),
        ("baghdad", ["Overview", "Immunization", "Equity", "Environment", "Data quality"]),
    ],
)
def test_navbar_shows_the_roles_pages_and_who_is_signed_in(clients, user, pages):
    layout = json.loads(clients[user].client.get("/_dash-layout").data)
    nodes = walk(layout)
    assert [n["props"]["children"] for n in nodes if n["type"] == "NavLink"] == pages
    account = next(n for n in nodes if n["props"].get("id") == "nav-user")
    assert user in json.dumps(account)
    form = next(n for n in nodes if n["type"] == "Form")
    assert form["props"]["action"] == "/logout" and form["props"]["method"] == "POST"
    hidden = next(n for n in walk(form) if n["props"].get("type") == "hidden")
    assert hidden["props"]["name"] == "csrf_token"
    assert hidden["props"]["value"] == clients[user].csrf


def test_every_page_callback_has_a_role_gate(tiny_app, clients):
    roles = tiny_app.server.config["MIZAN_CALLBACK_ROLES"]
    outputs = {c["output"] for c in clients["admin"].callbacks}
    ungated = {o for o in outputs - set(roles) if "_pages" not in o}
    assert ungated == set(), "every page callback must be role-gated"
    for key, callback in tiny_app.callback_map.items():
        if key in roles:
            assert getattr(callback["callback"], "__wrapped__", None) is not None, key


def refusals(client: DashClient, admin: DashClient) -> list[int]:
    """What a non-admin gets for the Data page's layout (router) and its callbacks."""
    statuses = [client.page_status("/data"), client.page_status("/audit/")]
    for output, values in ADMIN_CALLBACKS:
        statuses.append(client.post(admin.body(output, values)).status_code)
    return statuses


def test_the_guard_alone_refuses(tiny_url, monkeypatch):
    """With the in-function checks removed, the request guard still refuses."""
    monkeypatch.setattr(wiring, "role_checked", lambda function, roles: function)
    app = mizan_app.create_app(tiny_url)
    admin, leader = DashClient(app, "admin"), DashClient(app, "leader")
    assert set(refusals(leader, admin)) == {403}
    assert leader.client.get("/data").status_code == 403


def test_the_in_function_checks_alone_refuse(tiny_url, monkeypatch):
    """With the guard's role checks removed, the layouts and callbacks still refuse."""
    monkeypatch.setattr(auth, "_callback_allowed", lambda role: True)
    monkeypatch.setattr(auth, "page_allowed", lambda role, path: True)
    app = mizan_app.create_app(tiny_url)
    admin, leader = DashClient(app, "admin"), DashClient(app, "leader")
    assert set(refusals(leader, admin)) == {403}


def test_no_user_means_no_scope_never_national(tiny_app):
    from dashboard import session

    with pytest.raises(session.NotSignedIn):
        session.current_scope()  # outside any request
    with tiny_app.server.test_request_context("/"):
        with pytest.raises(session.NotSignedIn):
            session.current_scope()
        with pytest.raises(session.NotSignedIn):
            session.current_user()


def test_a_role_check_inside_a_callback_refuses_even_without_the_guard(tiny_app):
    """Defence in depth: the wrapped function itself refuses a user of the wrong role."""
    from werkzeug.exceptions import Forbidden

    from dashboard import session
    from indicators.accounts import User

    guarded = wiring.role_checked(lambda: "data", ("admin",))
    with tiny_app.server.test_request_context("/"):
        session.set_user(User("leader", "leadership", None))
        with pytest.raises(Forbidden):
            guarded()
        session.set_user(User("admin", "admin", None))
        assert guarded() == "data"


# ---- rows a governorate user gets --------------------------------------------------------


@pytest.mark.parametrize("asked", ["IQ", "IQG15", "IQG08", "IQG08Q03", None])
def test_governorate_user_gets_only_its_rows_from_immunization(clients, asked):
    client = clients["baghdad"]
    values = IMM | {"imm-org-unit.value": asked}
    status, response = client.call("imm-map", values)
    assert status == 200
    assert "Baghdad" in response["imm-title"]["children"]
    shown = json.dumps(response)
    assert "Ninewa" not in shown and "IQG15" not in shown
    status, response = client.call("imm-download", values | {"imm-export.n_clicks": 1})
    frame = csv_frame(response, "imm-download")
    assert not frame.is_empty()
    assert prefixes(frame) == {"IQG08"}


@pytest.mark.parametrize("asked", ["IQ", "IQG15", "IQG08"])
def test_governorate_user_gets_only_its_rows_from_equity(clients, asked):
    client = clients["baghdad"]
    values = EQ | {"eq-org-unit.value": asked}
    status, response = client.call("eq-subgroups", values)
    assert status == 200 and "Baghdad" in response["eq-title"]["children"]
    status, response = client.call("eq-download", values | {"eq-export.n_clicks": 1})
    frame = csv_frame(response, "eq-download")
    assert set(frame["org_unit"]) == {"IQG08"} and frame.height == 9


@pytest.mark.parametrize("place", [None, "IQ", "IQG15"])
def test_governorate_user_gets_only_its_rows_from_the_overview(clients, place):
    client = clients["baghdad"]
    values = {"ov-map-indicator.value": "cov_penta3_12m", "ov-place.data": place}
    status, response = client.call("ov-map", values | {"ov-cohort.data": "2024"})
    assert status == 200
    assert response["ov-map-title"]["children"].endswith("· Baghdad · 2024")
    download = values | {"ov-export.n_clicks": 1, "ov-cohort.data": "2024"}
    status, response = client.call("ov-download", download)
    frame = csv_frame(response, "ov-download")
    assert prefixes(frame) == {"IQG08"}


def test_governorate_user_starts_at_its_governorate_and_only_lists_its_places(clients):
    client = clients["baghdad"]
    page = client.page("/immunization", "?org_unit=IQG15")
    place = next(n for n in walk(page) if n["props"].get("id") == "imm-org-unit")
    assert place["props"]["value"] == "IQG08"
    codes = [o["value"] for o in place["props"]["options"]]
    assert codes[0] == "IQG08" and all(code.startswith("IQG08") for code in codes)
    overview = json.dumps(client.page("/"))
    assert "Ninewa" not in overview


@pytest.mark.parametrize("user", ["leader", "focal", "admin"])
def test_national_roles_see_every_governorate(clients, user):
    client = clients[user]
    values = IMM | {"imm-org-unit.value": "IQ", "imm-export.n_clicks": 1}
    status, response = client.call("imm-download", values)
    assert prefixes(csv_frame(response, "imm-download")) == {"IQ", "IQG08", "IQG15"}
    status, response = client.call("imm-download", values | {"imm-org-unit.value": "IQG15"})
    assert prefixes(csv_frame(response, "imm-download")) == {"IQG15"}


def test_basra_user_on_the_full_sample_sees_only_basra(sample_url):
    client = DashClient(mizan_app.create_app(sample_url), "basra")
    values = IMM | {"imm-org-unit.value": "IQ", "imm-export.n_clicks": 1}
    status, response = client.call("imm-download", values)
    frame = csv_frame(response, "imm-download")
    assert prefixes(frame) == {"IQG02"} and frame.height > 1  # Basra and its districts
    leader = DashClient(mizan_app.create_app(sample_url), "leader")
    status, response = leader.call("imm-download", values)
    assert len(prefixes(csv_frame(response, "imm-download"))) == 19  # Iraq + 18 governorates
