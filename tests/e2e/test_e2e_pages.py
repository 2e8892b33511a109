"""Every page in headless Chromium: renders, filters, map click-through, CSV downloads.

Any SEVERE browser-console entry fails the test (it is how offline breakage shows up,
e.g. a map fetching tiles or topojson from the internet). Screenshots go to
var/screenshots/ for a human look.
"""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

import app as mizan_app
from indicators import queries
from indicators.export import BOM, to_csv_bytes
from indicators.scope import Scope
from tests.dashboard.conftest import PASSWORD

NATIONAL = Scope.national()


def assert_console_clean(duo) -> None:  # noqa: ANN001
    severe = [entry for entry in duo.get_logs() if entry.get("level") == "SEVERE"]
    assert severe == [], f"browser console errors: {severe}"


def sign_in(duo, user: str, password: str = PASSWORD) -> None:  # noqa: ANN001
    """Type into the login form and submit it, as a person would."""
    duo.wait_for_element("#username").send_keys(user)
    duo.find_element("#password").send_keys(password)
    duo.find_element("#login-button").click()


def start(duo, url: str, path: str = "/", user: str = "admin") -> None:  # noqa: ANN001
    """Serve a fresh app, open `path` (the guard sends the browser to the login form, which
    comes back to `path`) and sign in as `user`."""
    duo.start_server(mizan_app.create_app(url), navigate=False)
    duo.driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": duo.download_path}
    )
    duo.driver.get(duo.server.url + path)
    sign_in(duo, user)
    duo.wait_for_element(".mizan-navbar")
    assert duo.driver.current_url == duo.server.url + path
    # Bootstrap scrolls smoothly; Selenium clicks where an element is *before* the scroll.
    duo.driver.execute_script("document.documentElement.style.scrollBehavior = 'auto'")


def wait_idle(duo, timeout: float = 10) -> None:  # noqa: ANN001
    """Wait until no callback is in flight (Dash marks the document while loading)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        busy = duo.driver.execute_script(
            "return document.querySelector('[data-dash-is-loading=\"true\"]') !== null"
        )
        if not busy:
            time.sleep(0.3)
            if not duo.driver.execute_script(
                "return document.querySelector('[data-dash-is-loading=\"true\"]') !== null"
            ):
                return
        time.sleep(0.1)


def wait_map(duo, graph_id: str) -> None:  # noqa: ANN001
    duo.wait_for_element(f"#{graph_id} .maplibregl-canvas", timeout=20)
    duo.driver.execute_script(
        "window._mapIdle = false;"
        f"const gd = document.querySelector('#{graph_id} .js-plotly-plot');"
        "const map = gd._fullLayout.map._subplot.map;"
        "if (map.loaded()) {window._mapIdle = true} else {map.once('idle', () => "
        "window._mapIdle = true)}"
    )
    deadline = time.time() + 20
    while not duo.driver.execute_script("return window._mapIdle") and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)


def shot(duo, screenshots: Path, name: str) -> None:  # noqa: ANN001
    wait_idle(duo)
    height = duo.driver.execute_script("return document.body.scrollHeight")
    duo.driver.set_window_size(1400, max(1000, height + 40))
    time.sleep(0.8)
    duo.driver.save_screenshot(str(screenshots / f"{name}.png"))
    duo.driver.set_window_size(1400, 1000)


def pick(duo, dropdown_id: str, label: str) -> None:  # noqa: ANN001
    """Choose an option of a Dash 4 dropdown by its label, searching first."""
    duo.find_element(f"#{dropdown_id}").click()
    search = duo.wait_for_element(".dash-dropdown-search")
    search.send_keys(label)
    for option in duo.find_elements(".dash-dropdown-option"):
        if option.text == label:
            option.click()
            return
    search.send_keys(Keys.ESCAPE)
    raise AssertionError(f"no option {label!r} in #{dropdown_id}")


def choose_radio(duo, radio_id: str, label: str) -> None:  # noqa: ANN001
    for element in duo.find_elements(f"#{radio_id} label"):
        if element.text == label:
            element.click()
            return
    raise AssertionError(f"no choice {label!r} in #{radio_id}")


def download(duo, button_id: str, prefix: str) -> bytes:  # noqa: ANN001
    folder = Path(duo.download_path)
    before = set(folder.glob("*.csv"))
    duo.find_element(f"#{button_id}").click()
    deadline = time.time() + 15
    while time.time() < deadline:
        new = [p for p in set(folder.glob("*.csv")) - before if p.name.startswith(prefix)]
        if new:
            time.sleep(0.3)
            return new[0].read_bytes()
        time.sleep(0.2)
    raise AssertionError(f"no {prefix}*.csv downloaded into {folder}")


def click_map_at(duo, graph_id: str, lon: float, lat: float) -> None:  # noqa: ANN001
    """Click a geographic point on a plotly MapLibre map (real mouse event)."""
    # Bootstrap makes scrolling smooth: jump instead, so the rectangles below are final.
    duo.driver.execute_script(
        f"document.querySelector('#{graph_id}').scrollIntoView("
        "{block: 'center', behavior: 'instant'});"
    )
    x, y = duo.driver.execute_script(
        f"const gd = document.querySelector('#{graph_id} .js-plotly-plot');"
        "const map = gd._fullLayout.map._subplot.map;"
        f"const p = map.project([{lon}, {lat}]);"
        "const c = map.getCanvas().getBoundingClientRect();"
        "const r = gd.getBoundingClientRect();"
        "return [p.x + c.left - r.left, p.y + c.top - r.top];"
    )
    plot = duo.find_element(f"#{graph_id} .js-plotly-plot")
    size = plot.size
    # From the element's centre: the same in every Selenium version.
    ActionChains(duo.driver).move_to_element(plot).move_by_offset(
        int(x - size["width"] / 2), int(y - size["height"] / 2)
    ).click().perform()


def test_overview_cards_trend_map_and_drill_down(dash_duo, e2e_url, screenshots, geo_pack):
    start(dash_duo, e2e_url)
    dash_duo.wait_for_element("#ov-cards .kpi-value")
    penta3 = queries.indicator_values(
        NATIONAL,
        indicators=["cov_penta3_12m"],
        period="2024",
        org_unit="IQ",
        level=0,
        sex="all",
        disability="all",
        url=e2e_url,
    ).row(0, named=True)
    assert f"{penta3['value']:.1f}%" in dash_duo.find_element("#ov-cards").text
    dash_duo.wait_for_text_to_equal(
        "#ov-map-title", "Penta3 coverage by 12 months · Iraq · 2024", timeout=10
    )
    wait_map(dash_duo, "ov-map")
    assert "Administrative boundaries" in dash_duo.find_element("#ov-map-note").text
    shot(dash_duo, screenshots, "overview")

    click_map_at(dash_duo, "ov-map", 44.35, 33.3)  # Baghdad
    dash_duo.wait_for_text_to_equal(
        "#ov-map-title", "Penta3 coverage by 12 months · Baghdad · 2024", timeout=10
    )
    wait_map(dash_duo, "ov-map")
    shot(dash_duo, screenshots, "overview-baghdad")

    csv = download(dash_duo, "ov-export", "mizan_overview")
    assert csv.startswith(BOM.encode())
    lines = csv.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("indicator,indicator_name,period,org_unit")
    assert any(",IQG08Q01," in line for line in lines)  # a Baghdad district from the map
    dash_duo.find_element("#ov-back").click()
    dash_duo.wait_for_text_to_equal(
        "#ov-map-title", "Penta3 coverage by 12 months · Iraq · 2024", timeout=10
    )
    assert_console_clean(dash_duo)


def test_immunization_filters_and_csv(dash_duo, e2e_url, screenshots, geo_pack):
    start(dash_duo, e2e_url, "/immunization")
    dash_duo.wait_for_text_to_equal(
        "#imm-title", "Penta3 coverage by 12 months · Iraq · 2024", timeout=10
    )
    wait_map(dash_duo, "imm-map")
    shot(dash_duo, screenshots, "immunization")

    pick(dash_duo, "imm-org-unit", "Baghdad")
    choose_radio(dash_duo, "imm-sex", "Female")
    dash_duo.wait_for_text_to_equal(
        "#imm-title", "Penta3 coverage by 12 months · Baghdad · 2024 · Female", timeout=10
    )
    wait_map(dash_duo, "imm-map")
    shot(dash_duo, screenshots, "immunization-baghdad-female")

    choose_radio(dash_duo, "imm-disability", "With disability")
    dash_duo.wait_for_text_to_equal(
        "#imm-title",
        "Penta3 coverage by 12 months · Baghdad · 2024 · Female · With disability",
        timeout=10,
    )
    wait_idle(dash_duo)
    table = dash_duo.find_element("#imm-table").text
    assert "Low denominator (<25)" in table or "suppressed" in table
    shot(dash_duo, screenshots, "immunization-baghdad-female-disability")

    csv = download(dash_duo, "imm-export", "mizan_cov_penta3_12m")
    expected = queries.indicator_values(
        NATIONAL,
        indicators=["cov_penta3_12m"],
        period="2024",
        org_unit="IQG08",
        sex="F",
        disability="yes",
        url=e2e_url,
    )
    assert csv.startswith(BOM.encode())
    assert csv == to_csv_bytes(expected)
    assert len(csv.decode("utf-8-sig").splitlines()) == expected.height + 1
    assert_console_clean(dash_duo)


def test_equity_subgroups_and_csv(dash_duo, e2e_url, screenshots):
    start(dash_duo, e2e_url, "/equity")
    dash_duo.wait_for_text_to_equal(
        "#eq-title", "Penta3 coverage by 12 months · Iraq · 2024", timeout=10
    )
    pick(dash_duo, "eq-indicator", "MCV1 coverage by 12 months")
    pick(dash_duo, "eq-org-unit", "Ninewa")
    dash_duo.wait_for_text_to_equal(
        "#eq-title", "MCV1 coverage by 12 months · Ninewa · 2024", timeout=10
    )
    wait_idle(dash_duo)
    assert "With disability" in dash_duo.find_element("#eq-crosstab").text
    shot(dash_duo, screenshots, "equity")

    csv = download(dash_duo, "eq-export", "mizan_cov_mcv1_12m")
    expected = queries.indicator_values(
        NATIONAL,
        indicators=["cov_mcv1_12m"],
        period="2024",
        org_unit="IQG15",
        level=1,
        url=e2e_url,
    )
    # Up to 4 sexes × 4 disability values (a zero-denominator combination has no row).
    assert 12 <= expected.height <= 16
    assert set(expected["org_unit"]) == {"IQG15"}
    assert csv == to_csv_bytes(expected)
    assert_console_clean(dash_duo)


def test_data_page_runs_rejects_and_csv(dash_duo, e2e_url, screenshots):
    start(dash_duo, e2e_url, "/data")
    dash_duo.wait_for_element("#data-runs-table table")
    dash_duo.wait_for_element("#data-rejects-table table")
    assert "unknown_adm2_code" in dash_duo.find_element("#data-rules-table").text
    shot(dash_duo, screenshots, "data")

    pick(dash_duo, "data-rule", "unknown_adm2_code")
    dash_duo.wait_for_element("#data-rejects-table table")
    wait_idle(dash_duo)
    rows = dash_duo.find_elements("#data-rejects-table tbody tr")
    assert len(rows) == 3

    csv = download(dash_duo, "data-rejects-export", "mizan_rejected-rows")
    assert csv.startswith(BOM.encode())
    frame = pl.read_csv(csv.decode("utf-8-sig").encode())
    expected = queries.reject_rows(1, rule="unknown_adm2_code", url=e2e_url)
    assert frame["line"].to_list() == expected["line"].to_list()
    assert frame.columns == ["file", "line", "rule", "values"]

    runs_csv = download(dash_duo, "data-runs-export", "mizan_load-runs")
    assert runs_csv.startswith(BOM.encode())
    assert "rows_read" in runs_csv.decode("utf-8-sig").splitlines()[0]
    assert_console_clean(dash_duo)


def test_overview_without_boundary_pack(dash_duo, e2e_url, screenshots, no_geo_pack):
    start(dash_duo, e2e_url)
    dash_duo.wait_for_contains_text(
        "#ov-map-note", "District maps need the boundary pack (MIZAN_GEO_DIR).", timeout=10
    )
    wait_map(dash_duo, "ov-map")
    assert (
        dash_duo.driver.execute_script(
            "return document.querySelector('#ov-map .js-plotly-plot').data[0].type"
        )
        == "scattermap"
    )
    shot(dash_duo, screenshots, "overview-no-boundary-pack")
    assert_console_clean(dash_duo)
