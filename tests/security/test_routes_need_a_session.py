"""Without a session, no route of the app gives anything but the sign-in page or a refusal.

Every rule of the real app's `url_map` is enumerated (a new route without a sample URL
here fails the test, so nobody adds a route without deciding about it), every method it
accepts is tried, and so is every page path. Only the public list answers 200.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

import app as mizan_app
from dashboard import auth
from tests.dashboard.conftest import DashClient

# Decided here, not imported from the app: widening the public list must fail this test.
PUBLIC = {
    "/assets/<path:filename>",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>",
    "/_favicon.ico",
    "/vendor/bootstrap.min.css",
}
SESSION_OPTIONAL = {"/login", "/logout"}  # tested in test_login.py
PAGE_RULES = {"/", "/<path:path>"}
OTHER_PATHS = ["/nothing-here", "/data/", "/AUDIT", "/immunization/extra"]
IMM = {
    "imm-indicator.value": "cov_penta3_12m",
    "imm-period.value": "2024",
    "imm-org-unit.value": "IQ",
    "imm-sex.value": "all",
    "imm-disability.value": "all",
}


@pytest.fixture(scope="module")
def mizan(tiny_url):  # noqa: ANN001, ANN201
    return mizan_app.create_app(tiny_url)


@pytest.fixture(scope="module")
def admin(mizan) -> DashClient:  # noqa: ANN001
    return DashClient(mizan, "admin")


@pytest.fixture
def anonymous(mizan):  # noqa: ANN001, ANN201
    client = mizan.server.test_client()
    client.get("/login")  # the first request registers Dash's pages router
    return client


def a_bundle(admin: DashClient) -> str:
    """A real JS bundle URL, read from the index page a signed-in user gets."""
    index = admin.client.get("/").data.decode()
    return re.search(r'src="(/_dash-component-suites/[^"]+\.js)"', index).group(1)


def sample_urls(rule: str, admin: DashClient) -> list[str]:
    if rule == "/<path:path>":
        pages = [p["path"] for p in mizan_app.dash.page_registry.values()]
        return pages + OTHER_PATHS
    if rule == "/assets/<path:filename>":
        return ["/assets/mizan.css", "/assets/session.js"]
    if rule == "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>":
        return [a_bundle(admin)]
    assert "<" not in rule, f"add a sample URL for the new route {rule} to this test"
    return [rule]


def all_routes(mizan, admin: DashClient) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """(rule, url, method) for every rule and every method it accepts."""
    found = []
    for rule in mizan.server.url_map.iter_rules():
        for url in sample_urls(rule.rule, admin):
            for method in sorted(rule.methods):
                found.append((rule.rule, url, method))
    return found


def test_the_route_list_is_the_known_one(mizan, admin):
    rules = {rule.rule for rule in mizan.server.url_map.iter_rules()}
    assert rules == PUBLIC | SESSION_OPTIONAL | PAGE_RULES | {
        "/_dash-layout",
        "/_dash-dependencies",
        "/_dash-update-component",
        "/_reload-hash",
        "/geo/adm1.geojson",
        "/geo/adm2.geojson",
    }, "a route was added or removed: decide whether it needs a session, then update this test"
    assert "/static/<path:filename>" not in rules  # no Flask static folder to forget about


def test_no_route_answers_without_a_session(mizan, admin, anonymous):
    checked = 0
    for rule, url, method in all_routes(mizan, admin):
        if rule in PUBLIC or rule in SESSION_OPTIONAL:
            continue
        response = anonymous.open(url, method=method, json={} if method == "POST" else None)
        checked += 1
        where = f"{method} {url}"
        if method in {"GET", "HEAD"} and rule in PAGE_RULES:
            assert response.status_code == 302, where
            location = urlsplit(response.headers["Location"])
            assert location.path == "/login", where
            assert parse_qs(location.query)["next"] == [url], where
        else:
            assert response.status_code == 401, where
            if method != "HEAD":
                assert response.get_json() == {"error": "sign in first"}, where
    assert checked >= 25


def test_public_routes_answer_without_a_session_and_hold_no_data(mizan, admin, anonymous):
    for rule in sorted(PUBLIC):
        for url in sample_urls(rule, admin):
            response = anonymous.get(url)
            assert response.status_code == 200, url
            assert response.mimetype in {"text/css", "text/javascript", "image/x-icon"}, url


def test_a_forged_or_unknown_session_cookie_is_no_session(mizan, anonymous):
    anonymous.set_cookie(auth.SESSION_COOKIE, "forged-token-" + "x" * 30)
    assert anonymous.get("/_dash-layout").status_code == 401
    assert anonymous.get("/data").status_code == 302


def test_path_tricks_do_not_pass_as_public_files(anonymous):
    for url in ("/assets/../_dash-layout", "/assets/%2e%2e/_dash-layout", "/vendor/../data"):
        response = anonymous.get(url)
        assert response.status_code in {302, 401, 404}, url
        assert b"NavLink" not in response.data and b"ov-cards" not in response.data, url


def test_a_real_callback_needs_a_session_and_its_csrf_token(mizan, admin, anonymous):
    body = admin.body("imm-map", IMM)
    assert anonymous.post("/_dash-update-component", json=body).status_code == 401
    assert admin.post(body, csrf=False).status_code == 403
    wrong = {auth.CSRF_HEADER: "not-the-token"}
    response = admin.client.post("/_dash-update-component", json=body, headers=wrong)
    assert response.status_code == 403
    response = admin.post(body)
    assert response.status_code == 200
    assert json.loads(response.data)["response"]["imm-title"]["children"].startswith("Penta3")


def test_the_csrf_cookie_alone_is_not_enough(admin):
    """A cross-site form can make the browser send cookies, never the header."""
    body = admin.body("imm-map", IMM)
    response = admin.client.post(
        "/_dash-update-component", data=json.dumps(body), content_type="text/plain"
    )
    assert response.status_code == 403


def test_every_response_has_the_security_headers(admin, anonymous):
    responses = [
        anonymous.get("/login"),
        anonymous.get("/"),  # 302
        anonymous.get("/_dash-layout"),  # 401
        anonymous.get("/assets/mizan.css"),
        admin.client.get("/"),
        admin.post(admin.body("imm-map", IMM)),
    ]
    for response in responses:
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert "unsafe-eval" not in policy
        script_src = re.search(r"script-src ([^;]+)", policy).group(1)
        assert "'unsafe-inline'" not in script_src


def test_the_csp_allows_the_inline_scripts_dash_serves_and_no_others(admin):
    """Each executable inline <script> of the real index page is allowed by its hash."""
    response = admin.client.get("/")
    policy = response.headers["Content-Security-Policy"]
    allowed = set(re.findall(r"'sha256-([^']+)'", policy))
    page = re.sub(r"<!--.*?-->", "", response.text, flags=re.S)  # the IE-only comment
    inline = [
        body
        for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
        if "src=" not in attributes and "application/json" not in attributes
    ]
    assert len(inline) >= 2  # the renderer start-up and the pages router's title callback
    digests = {
        base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() for body in inline
    }
    assert digests == allowed


def test_data_responses_are_not_cached(admin):
    for response in (admin.client.get("/"), admin.post(admin.body("imm-map", IMM))):
        assert response.headers["Cache-Control"] == "no-store"
    assert "no-store" not in admin.client.get("/assets/mizan.css").headers.get("Cache-Control", "")
