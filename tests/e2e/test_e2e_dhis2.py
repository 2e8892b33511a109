"""The DHIS2 views in headless Chromium on a warehouse the real loaders built from a small
generated registry and its DHIS2 instance: the Immunization page's DHIS2 tab and the Data
quality page render offline (no console error), follow a place, and download their CSVs.
Screenshots go to var/screenshots/dhis2-*.png and quality-*.png for a human look."""

from __future__ import annotations

import io

import polars as pl

from indicators import admin_views, queries
from indicators.scope import Scope
from tests.e2e.test_e2e_pages import assert_console_clean, download, pick, shot, start, wait_idle


def csv_frame(body: bytes) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(body), infer_schema=False)


def wait_graph(duo, graph_id: str) -> None:  # noqa: ANN001
    duo.wait_for_element(f"#{graph_id} .main-svg", timeout=20)


def test_dhis2_tab_charts_follow_the_place_and_export(dash_duo, generated_url, screenshots):
    start(dash_duo, generated_url, "/immunization?source=dhis2", user="admin")
    dash_duo.wait_for_text_to_equal(
        "#imm-adm-title", "Penta1 · Iraq · 2025 · DHIS2 reports", timeout=20
    )
    for graph in ("imm-adm-monitor", "imm-adm-scatter", "imm-adm-map", "imm-adm-dropout"):
        wait_graph(dash_duo, graph)
    # The map is SVG shapes with the category numbers as text: one label per district.
    labels = dash_duo.find_elements("#imm-adm-map .textpoint")
    assert len(labels) == 101
    assert (
        "RED/REC and dropout: 2025, the complete year."
        in dash_duo.find_element("#imm-adm-basis").text
    )
    shot(dash_duo, screenshots, "dhis2-immunization")

    pick(dash_duo, "imm-adm-org-unit", "Baghdad")
    dash_duo.wait_for_text_to_equal(
        "#imm-adm-title", "Penta1 · Baghdad · 2025 · DHIS2 reports", timeout=15
    )
    wait_idle(dash_duo)
    shot(dash_duo, screenshots, "dhis2-immunization-baghdad")

    body = download(dash_duo, "imm-adm-scatter-export", "mizan_dhis2_red-scatter")
    frame = csv_frame(body)
    assert set(frame["indicator"]) == {"admin_cov_penta1", "admin_dropout_penta1_penta3",
                                       "red_category"}  # fmt: skip
    assert {code[:5] for code in frame["org_unit"]} == {"IQG08"}
    expected = queries.indicator_values(
        Scope.national(), indicators=["red_category"], period="2025", org_unit="IQG08", level=2,
        url=generated_url,
    )  # fmt: skip
    assert frame.filter(pl.col("indicator") == "red_category").height == expected.height == 7

    dash_duo.find_element("#imm-source .nav-link").click()  # back to the registry tab
    wait_graph(dash_duo, "imm-bar")
    wait_idle(dash_duo)
    # Drawn while its tab was hidden, the registry chart takes its full width once shown.
    width = dash_duo.driver.execute_script(
        "return document.querySelector('#imm-bar .main-svg').getBoundingClientRect().width"
    )
    assert width > 500
    shot(dash_duo, screenshots, "dhis2-back-to-registry")
    assert_console_clean(dash_duo)


def test_data_quality_page_for_leadership(dash_duo, generated_url, screenshots):
    start(dash_duo, generated_url, "/quality", user="leader")
    dash_duo.wait_for_element("#dq-reports-table table", timeout=20)
    for graph in ("dq-reports-bar", "dq-tri-chart"):
        wait_graph(dash_duo, graph)
    dash_duo.wait_for_element("#dq-outliers-list table", timeout=20)
    years = admin_views.years(Scope.national(), list(admin_views.QUALITY), generated_url)
    assert dash_duo.find_element("#dq-title").text == f"Iraq · {years[-1]}"
    shot(dash_duo, screenshots, "quality")

    pick(dash_duo, "dq-year", "2025")
    pick(dash_duo, "dq-month", "Mar")
    pick(dash_duo, "dq-org-unit", "Baghdad")
    dash_duo.wait_for_text_to_equal("#dq-title", "Baghdad · Mar 2025", timeout=15)
    dash_duo.wait_for_text_to_equal("#dq-tri-title", "Penta1 · Baghdad · 2025", timeout=15)
    wait_idle(dash_duo)
    shot(dash_duo, screenshots, "quality-baghdad")

    body = download(dash_duo, "dq-reports-export", "mizan_reporting")
    frame = csv_frame(body)
    assert set(frame["period"]) == {"202503"}
    assert set(frame["indicator"]) == {"report_completeness", "report_timeliness"}
    assert {code[:5] for code in frame["org_unit"]} == {"IQG08"}
    assert_console_clean(dash_duo)
