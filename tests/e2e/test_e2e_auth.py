"""Sign-in, roles and sign-out in headless Chromium, through the real form and navbar.

Every page a role may open is visited, a filter is changed and a CSV downloaded; the
governorate user's place list and file hold only its governorate. Any SEVERE console
entry fails a test, which is also how a Content-Security-Policy violation would show.
"""

from __future__ import annotations

import io
import time

import polars as pl
from selenium.webdriver.common.keys import Keys

import app as mizan_app
from indicators import accounts, queries
from indicators.scope import Scope
from tests.e2e.test_e2e_pages import (
    assert_console_clean,
    choose_radio,
    download,
    pick,
    shot,
    sign_in,
    start,
    wait_idle,
)

GENERIC = "Sign-in failed. Check your user name and password, or try again later."
PUBLIC_PAGES = ["Overview", "Immunization", "Equity", "Environment"]  # every role sees these


def nav_links(duo) -> list[str]:  # noqa: ANN001
    return [link.text for link in duo.find_elements(".mizan-navbar .nav-link")]


def open_page(duo, name: str) -> None:  # noqa: ANN001
    """Follow a navbar link (in-app navigation, no reload)."""
    for link in duo.find_elements(".mizan-navbar .nav-link"):
        if link.text == name:
            link.click()
            return
    raise AssertionError(f"no navbar link {name!r}")


def place_options(duo, dropdown_id: str) -> list[str]:  # noqa: ANN001
    duo.find_element(f"#{dropdown_id}").click()
    duo.wait_for_element(".dash-dropdown-option")
    options = [option.text for option in duo.find_elements(".dash-dropdown-option")]
    duo.find_element(".dash-dropdown-search").send_keys(Keys.ESCAPE)
    return options


def csv_rows(body: bytes) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(body), infer_schema=False)


def test_login_form_generic_failure_then_success(dash_duo, e2e_url, screenshots):
    dash_duo.start_server(mizan_app.create_app(e2e_url), navigate=False)
    dash_duo.driver.get(dash_duo.server.url + "/equity")
    dash_duo.wait_for_element("#login-button")
    assert "/login?next=/equity" in dash_duo.driver.current_url
    shot(dash_duo, screenshots, "login")

    sign_in(dash_duo, "leader", "not-the-password")
    dash_duo.wait_for_text_to_equal("#login-error", GENERIC)
    assert dash_duo.find_element("#username").get_attribute("value") == "leader"
    shot(dash_duo, screenshots, "login-failed")
    failures = accounts.audit_log(e2e_url).filter(pl.col("actor") == "leader")
    assert failures["event"][0] == "login_failed"

    dash_duo.find_element("#username").clear()
    sign_in(dash_duo, "leader")
    dash_duo.wait_for_element("#eq-title")
    assert dash_duo.driver.current_url == dash_duo.server.url + "/equity"
    cookies = {c["name"]: c for c in dash_duo.driver.get_cookies()}
    assert cookies["mizan_session"]["httpOnly"] is True
    assert cookies["_csrf_token"]["httpOnly"] is False
    # The failed attempt's 401 is the only console entry allowed.
    severe = [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"]
    assert all("/login" in e["message"] and "401" in e["message"] for e in severe), severe


def test_leadership_pages_filters_download_and_sign_out(dash_duo, e2e_url, screenshots):
    start(dash_duo, e2e_url, "/", user="leader")
    assert nav_links(dash_duo) == [*PUBLIC_PAGES, "Data quality"]
    assert "leader" in dash_duo.find_element("#nav-user").text
    assert "Leadership" in dash_duo.find_element("#nav-user").text
    dash_duo.wait_for_element("#ov-cards .kpi-value")
    wait_idle(dash_duo)

    open_page(dash_duo, "Immunization")
    dash_duo.wait_for_text_to_equal(
        "#imm-title", "Penta3 coverage by 12 months · Iraq · 2024", timeout=10
    )
    choose_radio(dash_duo, "imm-sex", "Male")
    dash_duo.wait_for_text_to_equal(
        "#imm-title", "Penta3 coverage by 12 months · Iraq · 2024 · Male", timeout=10
    )
    wait_idle(dash_duo)
    frame = csv_rows(download(dash_duo, "imm-export", "mizan_cov_penta3_12m"))
    assert len({code[:5] for code in frame["org_unit"] if code != "IQ"}) == 18
    shot(dash_duo, screenshots, "leader-immunization")

    open_page(dash_duo, "Equity")
    dash_duo.wait_for_element("#eq-crosstab table")
    assert_console_clean(dash_duo)

    dash_duo.driver.get(dash_duo.server.url + "/data")  # not for this role
    dash_duo.wait_for_element("#message")
    assert "Your role may not open this page." in dash_duo.find_element("#message").text
    shot(dash_duo, screenshots, "leader-data-forbidden")
    dash_duo.find_element(".btn-outline-primary").click()  # back to the dashboard
    dash_duo.wait_for_element("#logout-button")
    dash_duo.get_logs()  # the 403 page's own console entry is expected

    dash_duo.find_element("#logout-button").click()
    dash_duo.wait_for_element("#login-button")
    names = {c["name"] for c in dash_duo.driver.get_cookies()}
    assert "mizan_session" not in names and "_csrf_token" not in names
    dash_duo.driver.get(dash_duo.server.url + "/immunization")
    dash_duo.wait_for_element("#login-button")
    assert "/login?next=/immunization" in dash_duo.driver.current_url
    assert accounts.audit_log(e2e_url).filter(pl.col("actor") == "leader")["event"][0] == "logout"


def test_governorate_user_sees_only_its_governorate(dash_duo, e2e_url, screenshots, geo_pack):
    units = queries.org_units(Scope("governorate", "IQG02"), e2e_url)
    basra = units.filter(pl.col("level") == 1)["name_en"][0]  # as the boundary pack spells it
    start(dash_duo, e2e_url, "/", user="basra")
    assert nav_links(dash_duo) == [*PUBLIC_PAGES, "Data quality"]
    assert f"Governorate · {basra}" in dash_duo.find_element("#nav-user").text
    dash_duo.wait_for_contains_text("#ov-map-title", f"· {basra} ·", timeout=15)
    wait_idle(dash_duo)
    shot(dash_duo, screenshots, "basra-overview")

    open_page(dash_duo, "Immunization")
    dash_duo.wait_for_contains_text("#imm-title", f"· {basra} ·", timeout=10)
    wait_idle(dash_duo)
    options = place_options(dash_duo, "imm-org-unit")
    assert options[0] == basra and len(options) == units.height
    assert all(option.startswith(f"{basra} › ") for option in options[1:]), options
    pick(dash_duo, "imm-org-unit", options[1])
    dash_duo.wait_for_contains_text("#imm-title", f"· {basra} ·", timeout=10)
    wait_idle(dash_duo)
    frame = csv_rows(download(dash_duo, "imm-export", "mizan_cov_penta3_12m"))
    assert {code[:5] for code in frame["org_unit"]} == {"IQG02"}
    shot(dash_duo, screenshots, "basra-immunization")

    open_page(dash_duo, "Equity")
    dash_duo.wait_for_contains_text("#eq-title", f"· {basra} ·", timeout=10)
    wait_idle(dash_duo)
    frame = csv_rows(download(dash_duo, "eq-export", "mizan_cov_penta3_12m"))
    assert set(frame["org_unit"]) == {"IQG02"}
    assert_console_clean(dash_duo)


def test_focal_point_equity_filters_and_download(dash_duo, e2e_url, screenshots):
    start(dash_duo, e2e_url, "/equity", user="focal")
    assert nav_links(dash_duo) == PUBLIC_PAGES
    dash_duo.wait_for_text_to_equal(
        "#eq-title", "Penta3 coverage by 12 months · Iraq · 2024", timeout=10
    )
    pick(dash_duo, "eq-org-unit", "Ninewa")
    dash_duo.wait_for_text_to_equal(
        "#eq-title", "Penta3 coverage by 12 months · Ninewa · 2024", timeout=10
    )
    wait_idle(dash_duo)
    frame = csv_rows(download(dash_duo, "eq-export", "mizan_cov_penta3_12m"))
    assert set(frame["org_unit"]) == {"IQG15"}
    shot(dash_duo, screenshots, "focal-equity")

    open_page(dash_duo, "Overview")
    dash_duo.wait_for_element("#ov-cards .kpi-value")
    open_page(dash_duo, "Immunization")
    dash_duo.wait_for_text_to_equal(
        "#imm-title", "Penta3 coverage by 12 months · Iraq · 2024", timeout=10
    )
    wait_idle(dash_duo)
    assert_console_clean(dash_duo)


def test_admin_audit_page_filter_and_export(dash_duo, e2e_url, screenshots):
    start(dash_duo, e2e_url, "/audit", user="admin")
    everything = [*PUBLIC_PAGES, "Data quality", "Data", "Audit"]
    assert nav_links(dash_duo) == everything
    dash_duo.wait_for_element("#audit-table table")
    pick(dash_duo, "audit-event", "login")
    wait_idle(dash_duo)
    time.sleep(0.3)
    events = [row.text for row in dash_duo.find_elements("#audit-table tbody tr")]
    assert events and all(" login " in f" {row} " for row in events)
    body = download(dash_duo, "audit-export", "mizan_audit")
    assert body.startswith("\ufeff".encode())
    frame = csv_rows(body)
    assert set(frame["event"]) == {"login"} and "admin" in set(frame["actor"])
    shot(dash_duo, screenshots, "admin-audit")

    open_page(dash_duo, "Data")
    dash_duo.wait_for_element("#data-runs-table table")
    wait_idle(dash_duo)
    assert_console_clean(dash_duo)
    last = accounts.audit_log(e2e_url).row(0, named=True)
    assert (last["actor"], last["event"]) == ("admin", "export")
