"""Callbacks through `/_dash-update-component`, on the hand-built warehouse.

Asserts what a user would read (table cells, card numbers, titles) and that every export
equals the query layer's CSV for the same selection.
"""

from __future__ import annotations

import base64

import polars as pl

from indicators import geography, queries
from indicators.export import BOM, to_csv_bytes
from indicators.scope import Scope
from tests.dashboard import sample_warehouse
from tests.dashboard.conftest import component, texts

NATIONAL = Scope.national()
IMM = {
    "imm-indicator.value": "cov_penta3_12m",
    "imm-period.value": "2024",
    "imm-org-unit.value": "IQ",
    "imm-sex.value": "all",
    "imm-disability.value": "all",
}


def csv_of(response: dict, output_id: str) -> bytes:
    download = response[output_id]["data"]
    assert download["type"] == "text/csv"
    assert download["filename"].endswith(".csv")
    return base64.b64decode(download["content"])


# Overview ------------------------------------------------------------------------------


def test_overview_cards_show_the_latest_complete_cohort(tiny):
    page = tiny.page("/")
    assert component(page, "ov-cohort")["props"]["data"] == "2024"  # not the 2025Q1 quarter
    cards = texts(component(page, "ov-cards"))
    assert "90.0%" in cards  # Penta3 900 / 1000
    assert "87.0%" in cards  # MCV1
    assert "80" in cards and "8.0% of eligible children" in cards  # zero-dose count, share
    assert "2.2%" in cards  # dropout 20 / 920
    assert "70.0%" in cards  # timely registration
    assert "95% interval 88.0–91.7" in cards
    asof = texts(component(page, "ov-asof"))
    assert "Data as of 2025-12-31" in asof and "synthetic test data" in asof


def test_overview_trend_has_the_years_only(tiny):
    figure = component(tiny.page("/"), "ov-trend")["props"]["figure"]
    penta3 = next(trace for trace in figure["data"] if trace["name"] == "Penta3")
    assert penta3["x"] == ["2023", "2024"]
    assert penta3["y"] == [85.0, 90.0]


def test_overview_map_of_governorates_with_attribution(tiny, geo_pack):
    status, response = tiny.call(
        "ov-map",
        {
            "ov-map-indicator.value": "cov_penta3_12m",
            "ov-place.data": None,
            "ov-cohort.data": "2024",
        },
    )
    assert status == 200
    figure = response["ov-map"]["figure"]
    trace = figure["data"][0]
    assert trace["type"] == "choroplethmap"
    assert trace["geojson"] == "/geo/adm1.geojson"
    assert trace["featureidkey"] == "properties.adm1_pcode"
    assert trace["locations"] == ["IQG08", "IQG15"]
    assert trace["z"] == [90.0, 90.0]
    assert response["ov-map-title"]["children"] == "Penta3 coverage by 12 months · Iraq · 2024"
    assert geography.ATTRIBUTION in str(response["ov-map-note"]["children"])
    assert response["ov-back"]["style"] == {"display": "none"}


def test_overview_click_shows_the_governorates_districts(tiny, geo_pack):
    click = {"points": [{"location": "IQG08"}]}
    status, response = tiny.call(
        "ov-place", {"ov-map.clickData": click, "ov-place.data": None}, changed=["ov-map.clickData"]
    )
    assert status == 200 and response["ov-place"]["data"] == "IQG08"

    status, response = tiny.call(
        "ov-map",
        {
            "ov-map-indicator.value": "cov_penta3_12m",
            "ov-place.data": "IQG08",
            "ov-cohort.data": "2024",
        },
    )
    shown, hidden = response["ov-map"]["figure"]["data"]
    assert shown["geojson"] == "/geo/adm2.geojson"
    assert shown["featureidkey"] == "properties.adm2_pcode"
    assert shown["locations"] == ["IQG08Q03"]
    assert hidden["locations"] == ["IQG08Q01", "IQG08Q02"]  # suppressed, low denominator
    assert "z" not in hidden or hidden["z"] == [0, 0]
    zoom = response["ov-map"]["figure"]["layout"]["map"]["zoom"]
    assert zoom > 7  # framed on Baghdad, not on Iraq
    assert response["ov-back"]["style"] == {"display": "inline-block"}

    status, response = tiny.call(
        "ov-place", {"ov-back.n_clicks": 1, "ov-place.data": "IQG08"}, changed=["ov-back.n_clicks"]
    )
    assert response["ov-place"]["data"] is None


def test_overview_click_on_a_district_changes_nothing(tiny, geo_pack):
    status, response = tiny.call(
        "ov-place",
        {"ov-map.clickData": {"points": [{"location": "IQG08Q01"}]}, "ov-place.data": "IQG08"},
        changed=["ov-map.clickData"],
    )
    assert status == 200 and response == {}  # no_update


def test_overview_without_boundary_pack_shows_centroids_and_a_note(tiny, no_geo_pack):
    status, response = tiny.call(
        "ov-map",
        {
            "ov-map-indicator.value": "cov_penta3_12m",
            "ov-place.data": None,
            "ov-cohort.data": "2024",
        },
    )
    trace = response["ov-map"]["figure"]["data"][0]
    assert trace["type"] == "scattermap"
    assert trace["lat"] == [33.3, 36.3]  # Baghdad, Ninewa built-in centroids
    note = texts(response["ov-map-note"]["children"])
    assert "District maps need the boundary pack (MIZAN_GEO_DIR)." in note
    assert geography.ATTRIBUTION not in note  # no boundaries drawn, nothing to attribute


def test_immunization_without_boundary_pack(tiny, no_geo_pack):
    status, response = tiny.call("imm-map", IMM)
    assert response["imm-map"]["figure"]["data"][0]["type"] == "scattermap"
    status, response = tiny.call("imm-map", IMM | {"imm-org-unit.value": "IQG08"})
    note = texts(response["imm-map-note"]["children"])
    assert note == "District maps need the boundary pack (MIZAN_GEO_DIR)."
    assert "District maps need" in response["imm-map"]["figure"]["layout"]["annotations"][0]["text"]


def test_overview_export_is_everything_on_screen(tiny, tiny_url, geo_pack):
    status, response = tiny.call(
        "ov-download",
        {
            "ov-export.n_clicks": 1,
            "ov-map-indicator.value": "cov_penta3_12m",
            "ov-place.data": "IQG08",
            "ov-cohort.data": "2024",
        },
    )
    body = csv_of(response, "ov-download")
    headline = queries.indicator_values(
        NATIONAL, org_unit="IQ", level=0, sex="all", disability="all", url=tiny_url
    ).filter(pl.col("period").is_in(["2023", "2024"]))
    districts = queries.indicator_values(
        NATIONAL,
        indicators=["cov_penta3_12m"],
        period="2024",
        org_unit="IQG08",
        level=2,
        sex="all",
        disability="all",
        url=tiny_url,
    )
    assert body == to_csv_bytes(pl.concat([headline, districts]))
    assert body.startswith(BOM.encode())


# Immunization --------------------------------------------------------------------------


def test_immunization_national_table_bar_and_map(tiny):
    status, response = tiny.call("imm-map", IMM)
    assert status == 200
    assert response["imm-title"]["children"] == "Penta3 coverage by 12 months · Iraq · 2024"
    table = texts(response["imm-table"]["children"])
    assert "Iraq 90.0% 88.0–91.7 900 1,000" in table
    assert "Ninewa (90.0%) 76.9–96.0 36 40 Caution: denominator 25–49" in table
    bar = response["imm-bar"]["figure"]["data"][0]
    assert bar["x"] == [90.0, 90.0]
    assert abs(bar["error_x"]["array"][0] - (92.332244 - 90.0)) < 1e-5
    assert abs(bar["error_x"]["arrayminus"][0] - (90.0 - 87.057809)) < 1e-5


def test_immunization_district_rows_follow_the_display_rules(tiny, geo_pack):
    status, response = tiny.call("imm-map", IMM | {"imm-org-unit.value": "IQG08"})
    rows = response["imm-table"]["children"]["props"]["children"][1]["props"]["children"]
    cells = {
        texts(r["props"]["children"][0]): [texts(c) for c in r["props"]["children"]] for r in rows
    }
    assert list(cells) == ["Baghdad", "Al-Adhamiya", "Al-Kadhmiyah", "Al-Karkh"]
    assert cells["Baghdad"][:5] == ["Baghdad", "90.0%", "87.1–92.3", "450", "500"]
    # IQG08Q01, suppressed: the word for the value and the hidden numerator, no interval
    assert cells["Al-Adhamiya"][1:4] == ["suppressed", "", "suppressed"]
    # IQG08Q02, low denominator: no value and no interval, only the flag (counts kept)
    assert cells["Al-Kadhmiyah"][1:] == ["", "", "15", "20", "Low denominator (<25)"]
    bar = response["imm-bar"]["figure"]["data"]
    assert bar[0]["x"] == [86.95652173913044, None, None]  # only Al-Karkh has a value drawn
    assert [text.strip() for text in bar[1]["text"]] == ["suppressed", "low denominator"]


def test_immunization_selected_district_highlights_it_among_its_siblings(tiny, geo_pack):
    status, response = tiny.call("imm-map", IMM | {"imm-org-unit.value": "IQG08Q03"})
    assert "Baghdad" in response["imm-title"]["children"]
    bar = response["imm-bar"]["figure"]["data"][0]
    assert bar["y"] == ["▶ Al-Karkh", "Al-Adhamiya", "Al-Kadhmiyah"]
    assert bar["x"] == [86.95652173913044, None, None]


def test_immunization_subgroup_title_and_empty_selection(tiny):
    status, response = tiny.call(
        "imm-map", IMM | {"imm-org-unit.value": "IQG08", "imm-sex.value": "F"}
    )
    assert response["imm-title"]["children"].endswith("· Female")
    status, response = tiny.call("imm-map", IMM | {"imm-period.value": None})
    assert response["imm-title"]["children"] == "No data for this selection"


def test_immunization_period_options_follow_the_indicator(tiny):
    status, response = tiny.call(
        "imm-period",
        {"imm-indicator.value": "cov_penta3_12m", "imm-period.value": "1999"},
        prop="options",
    )
    assert [o["value"] for o in response["imm-period"]["options"]] == ["2025Q1", "2024", "2023"]
    assert response["imm-period"]["value"] == "2024"


def test_immunization_map_click_selects_the_place(tiny):
    status, response = tiny.call(
        "imm-org-unit",
        {"imm-map.clickData": {"points": [{"location": "IQG15"}]}},
        changed=["imm-map.clickData"],
    )
    assert response["imm-org-unit"]["value"] == "IQG15"


def test_immunization_export_equals_the_query(tiny, tiny_url):
    values = {"imm-export.n_clicks": 1, **IMM, "imm-org-unit.value": "IQG08"}
    status, response = tiny.call("imm-download", values)
    expected = queries.indicator_values(
        NATIONAL,
        indicators=["cov_penta3_12m"],
        period="2024",
        org_unit="IQG08",
        sex="all",
        disability="all",
        url=tiny_url,
    )
    body = csv_of(response, "imm-download")
    assert body == to_csv_bytes(expected)
    assert body.decode("utf-8-sig").count("\n") == expected.height + 1 == 5


# Equity --------------------------------------------------------------------------------

EQ = {
    "eq-indicator.value": "cov_penta3_12m",
    "eq-period.value": "2024",
    "eq-org-unit.value": "IQG08",
}


def test_equity_subgroups_with_intervals_and_caption(tiny):
    status, response = tiny.call("eq-subgroups", EQ | {"eq-dimension.value": "sex"})
    figure = response["eq-subgroups"]["figure"]
    markers = figure["data"][0]
    assert markers["x"] == [88.0, 92.6829268292683]
    assert markers["marker"]["symbol"] == ["circle", "square"]  # not colour alone
    low, high = sample_warehouse.wilson(220, 250)
    assert markers["y"][0] == f"Girls<br><b>88.0% ({low:.1f}–{high:.1f})</b>"
    assert [t["name"] for t in figure["data"][1:]] == ["All children: 90.0%"]
    caption = texts(response["eq-caption"]["children"])
    assert caption.startswith(f"Girls in Baghdad: 88.0% ({low:.1f}–{high:.1f}) vs 92.7% for boys.")
    status, response = tiny.call("eq-subgroups", EQ | {"eq-dimension.value": "disability"})
    caption = texts(response["eq-caption"]["children"])
    assert caption.startswith("Children with disabilities in Baghdad: 66.7% (")
    assert "(caution: 25–49 children) vs 90.9% for children without disabilities." in caption


def test_equity_crosstab_shows_published_cells_only(tiny):
    status, response = tiny.call("eq-subgroups", EQ)
    table = texts(response["eq-crosstab"]["children"])
    assert "Female low denominator n = 14 90.9% n = 220 – 88.0% n = 250" in table
    assert "Sex unknown – – – suppressed n = suppressed" in table


def test_equity_export_equals_the_query(tiny, tiny_url):
    status, response = tiny.call("eq-download", {"eq-export.n_clicks": 1, **EQ})
    expected = queries.indicator_values(
        NATIONAL,
        indicators=["cov_penta3_12m"],
        period="2024",
        org_unit="IQG08",
        level=1,
        url=tiny_url,
    )
    assert csv_of(response, "eq-download") == to_csv_bytes(expected)
    assert expected.height == 9  # the sex × disability rows published for Baghdad


# Data ----------------------------------------------------------------------------------


def test_data_page_lists_runs_with_balanced_accounting(tiny):
    table = texts(component(tiny.page("/data"), "data-runs-table"))
    assert "children 1,003 1,000 3 0 ✓" in table
    assert "vaccinations 8,010 8,000 3 7 ✓" in table


def test_data_rejects_by_rule_and_sample_rows(tiny):
    status, response = tiny.call("data-rules-bar", {"data-run.value": 1})
    assert response["data-rules-bar"]["figure"]["data"][0]["y"][0] == "unknown_adm2_code"
    assert [o["value"] for o in response["data-rule"]["options"]] == [
        "birth_date_after_as_of",
        "dose_before_birth",
        "unknown_adm2_code",
        "unknown_vaccine",
    ]
    status, response = tiny.call(
        "data-rejects-table", {"data-run.value": 1, "data-rule.value": "unknown_adm2_code"}
    )
    table = texts(response["data-rejects-table"]["children"])
    assert "children.csv 57 unknown_adm2_code health_id=H57; adm2_code=IQG99Q01" in table
    assert "vaccinations.csv 10 unknown_adm2_code" in table
    assert "unknown_vaccine" not in table


def test_data_exports_have_a_bom_and_the_rows_on_screen(tiny, tiny_url):
    status, response = tiny.call(
        "data-rejects-download",
        {
            "data-rejects-export.n_clicks": 1,
            "data-run.value": 1,
            "data-rule.value": "unknown_adm2_code",
        },
    )
    body = csv_of(response, "data-rejects-download")
    assert body.startswith(BOM.encode())
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0] == "file,line,rule,values"
    assert len(lines) == 1 + queries.reject_rows(1, rule="unknown_adm2_code", url=tiny_url).height

    status, response = tiny.call("data-runs-download", {"data-runs-export.n_clicks": 1})
    runs_csv = csv_of(response, "data-runs-download").decode("utf-8-sig").splitlines()
    assert runs_csv[0].startswith("run,started_at,finished_at,status,source,as_of")
    assert len(runs_csv) == 3  # one run, two files

    status, response = tiny.call(
        "data-rules-download", {"data-rules-export.n_clicks": 1, "data-run.value": 1}
    )
    assert (
        csv_of(response, "data-rules-download").decode("utf-8-sig").startswith("file,rule,rows\n")
    )
