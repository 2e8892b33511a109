"""Sign-in, sign-out, cookies, lockout, open redirects and the audit of logins and exports,
through the real login form on a fresh warehouse per test (failed logins count per
client address, so tests that fail logins do not share one)."""

from __future__ import annotations

import base64
import io
import json
from datetime import timedelta

import polars as pl
import pytest

import app as mizan_app
from dashboard import auth
from indicators import accounts
from indicators import warehouse as wh
from tests.dashboard import sample_warehouse
from tests.dashboard.conftest import PASSWORD, DashClient, add_users, login_token, sign_in

GENERIC = "Sign-in failed. Check your user name and password, or try again later."


@pytest.fixture
def url(sqlite_url: str) -> str:
    sample_warehouse.build(sqlite_url, sample_warehouse.tiny_values())
    add_users(sqlite_url)
    return sqlite_url


@pytest.fixture
def mizan(url):  # noqa: ANN001, ANN201
    return mizan_app.create_app(url)


@pytest.fixture
def browser(mizan):  # noqa: ANN001, ANN201
    """A fresh, anonymous test client (cookies are kept between its requests)."""
    return mizan.server.test_client()


def cookies(response) -> dict[str, str]:  # noqa: ANN001
    """Set-Cookie headers by cookie name (the whole header, attributes included)."""
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        found[header.split("=", 1)[0]] = header
    return found


def events(url: str, actor: str | None = None) -> list[tuple[str, dict]]:
    log = accounts.audit_log(url)
    if actor:
        log = log.filter(pl.col("actor") == actor)
    return [(r["event"], json.loads(r["detail"])) for r in log.to_dicts()]


# ---- the form ----------------------------------------------------------------------------


def test_login_page_has_the_form_and_a_login_csrf_cookie(browser):
    response = browser.get("/login")
    assert response.status_code == 200
    page = response.text
    for element in ('id="username"', 'id="password"', 'id="login-button"', 'type="password"'):
        assert element in page
    assert 'href="/vendor/bootstrap.min.css"' in page
    login_cookie = cookies(response)["mizan_login_csrf"]
    assert "HttpOnly" in login_cookie and "SameSite=Strict" in login_cookie
    assert "Path=/login" in login_cookie
    assert response.headers["Cache-Control"] == "no-store"


def test_success_sets_both_cookies_with_the_right_flags(browser, url):
    response = sign_in(browser, "leader", next_="/equity")
    assert response.status_code == 303 and response.headers["Location"] == "/equity"
    set_cookies = cookies(response)
    session_cookie, csrf_cookie = set_cookies["mizan_session"], set_cookies["_csrf_token"]
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Path=/" in session_cookie and "Secure" not in session_cookie  # demo: plain HTTP
    assert "HttpOnly" not in csrf_cookie and "SameSite=Strict" in csrf_cookie
    assert "Path=/" in csrf_cookie
    assert browser.get("/equity").status_code == 200
    assert events(url, "leader")[0] == ("login", {})


def test_cookies_are_secure_when_configured(browser, monkeypatch):
    monkeypatch.setenv("MIZAN_SECURE_COOKIES", "1")
    response = sign_in(browser, "leader")
    for name in ("mizan_session", "_csrf_token"):
        assert "Secure" in cookies(response)[name]
    assert "max-age=" in browser.get("/login").headers.get("Strict-Transport-Security", "")


def test_the_session_cookie_is_not_the_stored_value(browser, url):
    """The warehouse keeps a hash of the token: a copy of the table signs nobody in."""
    sign_in(browser, "focal")
    token = browser.get_cookie(auth.SESSION_COOKIE).value
    with wh.engine(url).connect() as connection:
        stored = connection.execute(wh.sessions.select()).all()
    assert stored and all(token not in tuple(map(str, row)) for row in stored)


@pytest.mark.parametrize(
    ("user", "password", "reason"),
    [
        ("leader", "wrong-password", "wrong password"),
        ("nobody", PASSWORD, "unknown user"),
    ],
)
def test_a_failed_login_is_generic_and_audited(browser, url, user, password, reason):
    response = sign_in(browser, user, password)
    assert response.status_code == 401
    assert GENERIC in response.text
    assert "mizan_session" not in cookies(response)
    event, detail = events(url, user)[0]
    assert (event, detail["reason"]) == ("login_failed", reason)


def test_a_disabled_user_gets_the_same_message(browser, url):
    accounts.set_disabled(url, "focal", True)
    response = sign_in(browser, "focal")
    assert response.status_code == 401 and GENERIC in response.text
    assert events(url, "focal")[0][1]["reason"] == "disabled"


def test_lockout_after_five_failures_is_shown_generically(browser, url):
    answers = [sign_in(browser, "leader", "wrong-password") for _ in range(accounts.MAX_FAILURES)]
    locked = sign_in(browser, "leader")  # the right password, but the account is locked
    assert locked.status_code == 401
    texts = {response.text.split('id="login-error">')[1].split("<")[0] for response in answers}
    assert texts == {GENERIC}
    assert locked.text.split('id="login-error">')[1].split("<")[0] == GENERIC
    assert "locked for 15 minutes" in locked.text  # the rule is stated, not the account state
    reasons = [detail["reason"] for _, detail in events(url, "leader")[:2]]
    assert reasons == ["locked", "wrong password (account locked)"]
    with wh.engine(url).begin() as connection:
        connection.execute(wh.users.update().values(locked_until=wh.now() - timedelta(seconds=1)))
    assert sign_in(browser, "leader").status_code == 303


def test_one_client_is_throttled_across_user_names(browser, url):
    for i in range(accounts.CLIENT_FAILURES):
        sign_in(browser, f"guess{i}", "wrong-password")
    response = sign_in(browser, "admin")  # right password, from the throttled address
    assert response.status_code == 401 and GENERIC in response.text
    assert events(url, "admin")[0][1]["reason"] == "too many failed logins from this client"


def test_login_without_the_form_token_is_refused_before_any_password_check(browser, url):
    browser.get("/login")
    for data in (
        {"username": "admin", "password": PASSWORD},
        {"username": "admin", "password": PASSWORD, "csrf_token": "forged.token"},
    ):
        response = browser.post("/login", data=data)
        assert response.status_code == 400
        assert "mizan_session" not in cookies(response)
    assert [e for e in events(url) if e[0].startswith("login")] == []


def test_a_token_from_another_browser_does_not_work(mizan, url):
    mine, theirs = mizan.server.test_client(), mizan.server.test_client()
    token = login_token(theirs)
    mine.get("/login")
    response = mine.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 400


def test_the_username_is_echoed_escaped(browser):
    response = sign_in(browser, "<script>alert(1)</script>", "wrong-password")
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/path",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/login",
        "",
    ],
)
def test_open_redirects_go_home(browser, target):
    response = sign_in(browser, "leader", next_=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_a_local_next_with_its_query_is_kept(browser):
    response = sign_in(browser, "leader", next_="/immunization?org_unit=IQG08")
    assert response.headers["Location"] == "/immunization?org_unit=IQG08"


def test_a_page_redirects_to_login_and_back(browser):
    response = browser.get("/equity?indicator=cov_mcv1_12m")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/equity?indicator%3Dcov_mcv1_12m"
    form = browser.get(response.headers["Location"]).text
    assert 'name="next" value="/equity?indicator=cov_mcv1_12m"' in form


def test_a_signed_in_user_opening_login_goes_to_the_dashboard(browser):
    sign_in(browser, "leader")
    response = browser.get("/login?next=/equity")
    assert response.status_code == 303 and response.headers["Location"] == "/equity"


# ---- sessions ----------------------------------------------------------------------------


def test_logout_kills_the_session(mizan, url):
    client = DashClient(mizan, "focal")
    old_session = client.client.get_cookie(auth.SESSION_COOKIE).value
    old_csrf = client.csrf
    response = client.client.post("/logout", data={"csrf_token": old_csrf})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    cleared = cookies(response)
    assert "Expires=Thu, 01 Jan 1970" in cleared["mizan_session"]
    assert "Expires=Thu, 01 Jan 1970" in cleared["_csrf_token"]
    assert events(url, "focal")[0] == ("logout", {})
    replay = mizan.server.test_client()  # someone who kept a copy of the old cookies
    replay.set_cookie(auth.SESSION_COOKIE, old_session)
    replay.set_cookie(auth.CSRF_COOKIE, old_csrf)
    assert replay.get("/_dash-layout").status_code == 401
    assert replay.get("/").status_code == 302
    body = client.body("imm-title", {"imm-indicator.value": "cov_penta3_12m"})
    headers = {auth.CSRF_HEADER: old_csrf}
    assert replay.post("/_dash-update-component", json=body, headers=headers).status_code == 401


def test_logout_needs_the_csrf_token(mizan):
    client = DashClient(mizan, "focal")
    assert client.client.post("/logout").status_code == 403
    assert client.client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    client.client.get("/logout")  # a link or an <img src> cannot sign anyone out
    assert client.client.get("/_dash-layout").status_code == 200  # still signed in


def test_logout_without_a_session_just_goes_to_login(browser):
    response = browser.post("/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/login"


def test_signing_in_again_ends_the_previous_session(mizan):
    client = DashClient(mizan, "leader")
    first = client.client.get_cookie(auth.SESSION_COOKIE).value
    browser = mizan.server.test_client()  # the same browser, with the login form open
    token = login_token(browser)
    browser.set_cookie(auth.SESSION_COOKIE, first)
    form = {"username": "focal", "password": PASSWORD, "csrf_token": token}
    response = browser.post("/login", data=form)
    assert response.status_code == 303
    assert browser.get_cookie(auth.SESSION_COOKIE).value != first
    stale = mizan.server.test_client()
    stale.set_cookie(auth.SESSION_COOKIE, first)
    assert stale.get("/_dash-layout").status_code == 401


def test_disabling_a_user_ends_their_access_at_once(mizan, url):
    client = DashClient(mizan, "focal")
    assert client.client.get("/_dash-layout").status_code == 200
    accounts.set_disabled(url, "focal", True, actor="admin")
    assert client.client.get("/_dash-layout").status_code == 401


def test_an_idle_session_expires(mizan, url):
    client = DashClient(mizan, "focal")
    with wh.engine(url).begin() as connection:
        connection.execute(
            wh.sessions.update().values(last_seen=wh.now() - accounts.SESSION_IDLE * 2)
        )
    assert client.client.get("/_dash-layout").status_code == 401


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(url, monkeypatch):
    forwarded = {"X-Forwarded-For": "10.9.8.7"}
    client = mizan_app.create_app(url).server.test_client()
    client.get("/login")
    client.post("/login", data={"csrf_token": "x"}, headers=forwarded)  # refused, no audit
    sign_in(client, "nobody")
    assert accounts.audit_log(url)["client"][0] == "127.0.0.1"
    monkeypatch.setenv("MIZAN_TRUSTED_PROXIES", "1")
    proxied = mizan_app.create_app(url).server.test_client()
    token = login_token(proxied)
    proxied.post(
        "/login",
        data={"username": "nobody", "password": "x" * 10, "csrf_token": token},
        headers=forwarded,
    )
    assert accounts.audit_log(url)["client"][0] == "10.9.8.7"


# ---- exports are audited -----------------------------------------------------------------


def test_an_export_writes_an_audit_row_with_selection_and_rows(mizan, url):
    client = DashClient(mizan, "baghdad")
    values = {
        "imm-export.n_clicks": 1,
        "imm-indicator.value": "cov_penta3_12m",
        "imm-period.value": "2024",
        "imm-org-unit.value": "IQ",  # asks for Iraq; gets (and is logged as) Baghdad
        "imm-sex.value": "all",
        "imm-disability.value": "all",
    }
    status, response = client.call("imm-download", values)
    body = base64.b64decode(response["imm-download"]["data"]["content"])
    rows = pl.read_csv(io.BytesIO(body)).height
    row = accounts.audit_log(url).row(0, named=True)
    assert (row["actor"], row["event"], row["client"]) == ("baghdad", "export", "127.0.0.1")
    assert json.loads(row["detail"]) == {
        "view": "immunization",
        "rows": rows,
        "selection": {
            "indicator": "cov_penta3_12m",
            "period": "2024",
            "org_unit": "IQG08",
            "sex": "all",
            "disability": "all",
        },
    }
    assert rows == 4  # Baghdad and its three districts


@pytest.mark.parametrize(
    ("output", "values", "view"),
    [
        (
            "ov-download",
            {
                "ov-export.n_clicks": 1,
                "ov-map-indicator.value": "cov_penta3_12m",
                "ov-place.data": None,
                "ov-cohort.data": "2024",
            },
            "overview",
        ),
        (
            "eq-download",
            {
                "eq-export.n_clicks": 1,
                "eq-indicator.value": "cov_penta3_12m",
                "eq-period.value": "2024",
                "eq-org-unit.value": "IQG08",
            },
            "equity",
        ),
        ("data-runs-download", {"data-runs-export.n_clicks": 1}, "data/load-runs"),
        (
            "data-rules-download",
            {"data-rules-export.n_clicks": 1, "data-run.value": 1},
            "data/rejects-by-rule",
        ),
        (
            "data-rejects-download",
            {"data-rejects-export.n_clicks": 1, "data-run.value": 1, "data-rule.value": None},
            "data/rejected-rows",
        ),
        ("audit-download", {"audit-export.n_clicks": 1, "audit-event.value": "all"}, "audit"),
    ],
)
def test_every_download_is_audited(mizan, url, output, values, view):
    client = DashClient(mizan, "admin")
    status, response = client.call(output, values)
    assert status == 200
    body = base64.b64decode(response[output]["data"]["content"])
    assert body.startswith("\ufeff".encode())
    rows = len(body.decode("utf-8-sig").splitlines()) - 1
    event, detail = events(url, "admin")[0]
    assert (event, detail["view"], detail["rows"]) == ("export", view, rows)
    assert isinstance(detail["selection"], dict)


def test_the_audit_page_lists_and_filters_events(mizan, url):
    DashClient(mizan, "leader")  # a login to find
    sign_in(mizan.server.test_client(), "leader", "wrong-password")
    admin = DashClient(mizan, "admin")
    status, response = admin.call("audit-table", {"audit-event.value": "login_failed"})
    table = json.dumps(response["audit-table"]["children"])
    assert "leader" in table and "wrong password" in table
    assert '"login"' not in table  # only the chosen event
    status, response = admin.call(
        "audit-download", {"audit-export.n_clicks": 1, "audit-event.value": "login"}
    )
    body = base64.b64decode(response["audit-download"]["data"]["content"])
    frame = pl.read_csv(io.BytesIO(body))
    assert frame.columns == ["id", "at", "actor", "event", "client", "detail"]
    assert set(frame["event"]) == {"login"} and {"leader", "admin"} <= set(frame["actor"])
    page = json.dumps(admin.page("/audit"))
    assert "basra" in page and "IQG02" in page  # the users list
