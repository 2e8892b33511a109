"""The Environment page in headless Chromium on a warehouse the real loaders built from a
generated registry and its DHIS2 instance with the facility data set and the climate file:
cards and every chart render offline (no console error), the period switches to quarters,
a facility's name opens its year, the CSVs download, a governorate user sees its own
governorate, and the Overview lists the alerts. Screenshots go to
var/screenshots/environment-*.png for a human look."""

from __future__ import annotations

import io

import polars as pl

from dashboard.environment_figures import period_label
from indicators import environment_views as ev
from indicators.scope import Scope
from tests.e2e.test_e2e_pages import (
    assert_console_clean,
    choose_radio,
    download,
    pick,
    shot,
    start,
    wait_idle,
)

GRAPHS = ("env-ladder", "env-unsafe", "env-methods", "env-carbon", "env-solar-map", "env-heat",
          "env-lag", "env-facility-year")  # fmt: skip


def wait_graphs(duo, graphs: tuple[str, ...] = GRAPHS) -> None:  # noqa: ANN001
    for graph in graphs:
        duo.wait_for_element(f"#{graph} .main-svg", timeout=30)


def csv_frame(body: bytes) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(body), infer_schema=False)


def test_environment_page_renders_offline_and_drills_down(
    dash_duo, generated_url, screenshots, geo_pack
):
    latest = ev.latest(Scope.national(), generated_url)
    assert latest["month"], "the generated instance has no facility reports"
    start(dash_duo, generated_url, "/environment", user="admin")
    month = period_label(latest["month"])
    dash_duo.wait_for_text_to_equal("#env-title", f"Iraq · {month}", timeout=30)
    wait_graphs(dash_duo)
    cards = dash_duo.find_elements("#env-cards .kpi-card")
    assert len(cards) == 6
    values = [c.find_element("css selector", ".kpi-value").text for c in cards]
    assert all(v and v != "–" for v in values), values
    titles = [c.find_element("css selector", ".kpi-title").text for c in cards]
    assert titles[3].upper() == "CARBON FOOTPRINT" and values[3].endswith("t CO2e")
    dash_duo.wait_for_element("#env-facilities table", timeout=30)
    # The solar map is SVG shapes with the share printed on each governorate.
    assert len(dash_duo.find_elements("#env-solar-map .textpoint")) == 18
    shot(dash_duo, screenshots, "environment")

    name = dash_duo.find_elements("#env-facilities .facility-link")[1]
    chosen = name.text
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", name)
    name.click()
    dash_duo.wait_for_contains_text("#env-facility-title", chosen, timeout=20)
    wait_idle(dash_duo)
    dash_duo.driver.execute_script(
        "document.querySelector('#env-facility-title').scrollIntoView({block: 'start'})"
    )
    shot(dash_duo, screenshots, "environment-facility")

    body = download(dash_duo, "env-facilities-export", "mizan_facilities")
    facilities = csv_frame(body)
    reporting = ev.facility_table(Scope.national(), ev.Choice(latest["month"]), generated_url)
    assert facilities["facility"].to_list() == reporting["facility"].to_list()  # all, in order

    choose_radio(dash_duo, "env-period-kind", "Quarter")
    quarter = period_label(latest["quarter"])
    dash_duo.wait_for_text_to_equal("#env-title", f"Iraq · {quarter}", timeout=20)
    wait_graphs(dash_duo)
    assert quarter in dash_duo.find_element("#env-cards").text  # the totals' period
    shot(dash_duo, screenshots, "environment-quarter")

    pick(dash_duo, "env-org-unit", "Basrah")
    dash_duo.wait_for_text_to_equal("#env-title", f"Basrah · {quarter}", timeout=20)
    wait_idle(dash_duo)
    choose_radio(dash_duo, "env-type", "Hospitals")
    dash_duo.wait_for_text_to_equal("#env-title", f"Basrah · {quarter} · Hospitals", timeout=20)
    wait_graphs(dash_duo)
    shot(dash_duo, screenshots, "environment-basrah-hospitals")
    body = download(dash_duo, "env-ladder-export", "mizan_waste-ladder")
    ladder = csv_frame(body)
    assert set(ladder["facility_type"]) == {"hospital"}
    assert {code[:5] for code in ladder["org_unit"]} == {"IQG02"}
    assert_console_clean(dash_duo)


def test_a_governorate_user_and_the_overview_alerts(dash_duo, generated_url, screenshots, geo_pack):
    start(dash_duo, generated_url, "/", user="basra")
    dash_duo.wait_for_element("#ov-alerts .section-card", timeout=30)
    text = dash_duo.find_element("#ov-alerts").text
    assert text.startswith("Active alerts")
    alerts = ev.active_alerts(Scope("governorate", "IQG02"), generated_url)
    assert set(alerts["adm1_code"]) <= {"IQG02"}
    shot(dash_duo, screenshots, "environment-overview-alerts")
    dash_duo.find_element("#ov-alerts a").click()
    month = period_label(ev.latest(Scope.national(), generated_url)["month"])
    dash_duo.wait_for_text_to_equal("#env-title", f"Basrah · {month}", timeout=30)
    wait_graphs(dash_duo)
    options = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#env-facilities .facility-link')].length"
    )
    assert options > 0
    shot(dash_duo, screenshots, "environment-basrah")
    assert_console_clean(dash_duo)
