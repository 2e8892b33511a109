"""The Equity page in headless Chromium: the focal point's "three clicks" (a governorate,
then sex × disability) give the girls-with-disabilities caption and the trend; the HEAT Plus
file downloads. Screenshots go to var/screenshots/equity-*.png for a human look."""

from __future__ import annotations

import io

import polars as pl

from indicators import queries
from indicators.heat_export import HEAT_PLUS_COLUMNS
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


def published(url: str, sex: str, disability: str) -> dict:
    return queries.indicator_values(
        Scope.national(),
        indicators=["cov_penta3_12m"],
        period="2024",
        org_unit="IQG02",
        level=1,
        sex=sex,
        disability=disability,
        url=url,
    ).row(0, named=True)


def test_three_clicks_to_the_gap_and_its_trend(dash_duo, e2e_url, screenshots):
    start(dash_duo, e2e_url, "/equity", user="focal")
    dash_duo.wait_for_text_to_equal(
        "#eq-title", "Penta3 coverage by 12 months · Iraq · 2024", timeout=10
    )
    pick(dash_duo, "eq-org-unit", "Basrah")  # click 1 (and 2: the option)
    choose_radio(dash_duo, "eq-dimension", "Sex × disability")  # click 3
    dash_duo.wait_for_contains_text("#eq-caption", "Girls with disabilities in Basrah", timeout=15)
    wait_idle(dash_duo)
    girls, boys = published(e2e_url, "F", "yes"), published(e2e_url, "M", "no")
    caption = dash_duo.find_element("#eq-caption").text
    assert f"Girls with disabilities in Basrah: {girls['value']:.1f}%" in caption
    assert f"vs {boys['value']:.1f}% for boys without disabilities" in caption
    assert dash_duo.find_element("#eq-trend-caption").text.startswith("Gap in 2022:")
    traces = dash_duo.driver.execute_script(
        "return document.querySelector('#eq-trend .js-plotly-plot').data.map(d => d.name)"
    )
    assert traces == [
        "Boys without disabilities",
        "Girls with disabilities",
        "Gap with 95% interval",
    ]
    assert "Between-group variance" not in dash_duo.find_element("#eq-measures").text
    dash_duo.find_element("#eq-measures summary").click()  # "More measures (13)"
    assert "Between-group variance" in dash_duo.find_element("#eq-measures").text
    assert dash_duo.find_element("#eq-zd-districts table")
    dash_duo.driver.execute_script("window.scrollTo(0, 0)")
    shot(dash_duo, screenshots, "equity-basrah-sex-disability")

    heat = download(dash_duo, "eq-heat-export", "mizan_heat-plus")
    frame = pl.read_csv(io.BytesIO(heat.decode("utf-8-sig").encode()))
    assert frame.columns == HEAT_PLUS_COLUMNS
    assert set(frame["setting"]) == {"Basrah"}
    assert set(frame["dimension"]) == {"Sex and disability"}
    assert_console_clean(dash_duo)


def test_a_governorate_user_compares_its_districts(dash_duo, e2e_url, screenshots):
    start(dash_duo, e2e_url, "/equity", user="basra")
    dash_duo.wait_for_text_to_equal(
        "#eq-title", "Penta3 coverage by 12 months · Basrah · 2024", timeout=10
    )
    labels = [e.text for e in dash_duo.find_elements("#eq-dimension label")]
    assert "Governorate" not in labels
    choose_radio(dash_duo, "eq-dimension", "District")
    dash_duo.wait_for_contains_text("#eq-caption", "is furthest behind in Basrah", timeout=15)
    wait_idle(dash_duo)
    assert "Baghdad" not in dash_duo.find_element("#eq-subgroups").text
    shot(dash_duo, screenshots, "equity-basra-districts")
    assert_console_clean(dash_duo)
