"""The Equity page through the Flask test client: captions, measures, trend, widest gaps,
zero-dose focus, scope, and the audited downloads (view CSV, measures, HEAT Plus, zero-dose).

Expected numbers come from the published rows the sample warehouse was built from
(`sample_warehouse.values_frame()`), worked out here in plain Python.
"""

from __future__ import annotations

import base64
import io
import json
import math

import polars as pl
import pytest

import app as mizan_app
from dashboard import equity_figures as charts
from dashboard import figures
from indicators import accounts, catalogue, geography, queries, warehouse
from indicators import equity_views as ev
from indicators.heat_export import HEAT_PLUS_COLUMNS, SUPPRESSED_NOTE
from indicators.scope import Scope
from tests.dashboard import sample_warehouse
from tests.dashboard.conftest import DashClient, component, texts
from tests.dashboard.test_dash_figures import _pruned

PENTA3 = "cov_penta3_12m"
BASRAH = {
    "eq-indicator.value": PENTA3,
    "eq-period.value": "2024",
    "eq-org-unit.value": "IQG02",
    "eq-dimension.value": "sex_disability",
}
YEARS = ["2022", "2023", "2024"]


@pytest.fixture(scope="module")
def published() -> pl.DataFrame:
    """What `sample_url` holds (the generator is deterministic)."""
    return sample_warehouse.values_frame()


@pytest.fixture(scope="module")
def mizan(sample_url):  # noqa: ANN001, ANN201
    return mizan_app.create_app(sample_url)


@pytest.fixture(scope="module")
def focal(mizan) -> DashClient:  # noqa: ANN001
    return DashClient(mizan, "focal")


def cell(frame, unit, period, sex="all", disability="all", ind=PENTA3) -> dict:  # noqa: ANN001
    return frame.filter(
        (pl.col("indicator") == ind)
        & (pl.col("period") == period)
        & (pl.col("org_unit") == unit)
        & (pl.col("sex") == sex)
        & (pl.col("disability") == disability)
    ).row(0, named=True)


def download(response: dict, output_id: str) -> str:
    body = base64.b64decode(response[output_id]["data"]["content"])
    assert body.startswith("\ufeff".encode())
    return body.decode("utf-8-sig")


def last_export(url: str) -> dict:
    log = accounts.audit_log(url).filter(pl.col("event") == "export")
    return json.loads(log["detail"][0])


def test_three_clicks_girls_with_disabilities_vs_boys_without(published, focal):
    """Governorate, then sex × disability: the caption answers the question and the trend
    says whether the gap is closing."""
    status, response = focal.call("eq-subgroups", BASRAH)
    assert status == 200
    girls = cell(published, "IQG02", "2024", "F", "yes")
    boys = cell(published, "IQG02", "2024", "M", "no")
    caption = texts(response["eq-caption"]["children"])
    assert caption.startswith(
        f"Girls with disabilities in Basrah: {girls['value']:.1f}% "
        f"({girls['ci_low']:.1f}–{girls['ci_high']:.1f}) vs {boys['value']:.1f}% "
        "for boys without disabilities."
    )
    assert f"Gap: {boys['value'] - girls['value']:.1f} percentage points" in caption
    markers = response["eq-subgroups"]["figure"]["data"][0]
    expected = [
        cell(published, "IQG02", "2024", s, d)["value"]
        for s, d in [("F", "yes"), ("F", "no"), ("M", "yes"), ("M", "no")]
    ]
    assert markers["x"] == pytest.approx(expected)
    assert len(set(markers["marker"]["symbol"])) == 4  # every group its own symbol
    trend = response["eq-trend"]["figure"]["data"]
    gap = next(trace for trace in trend if trace["name"] == "Gap with 95% interval")
    assert gap["x"] == YEARS
    gaps = [
        cell(published, "IQG02", y, "M", "no")["value"]
        - cell(published, "IQG02", y, "F", "yes")["value"]
        for y in YEARS
    ]
    assert gap["y"] == pytest.approx(gaps)
    assert [trace["name"] for trace in trend[:2]] == [
        "Boys without disabilities",
        "Girls with disabilities",
    ]
    assert response["eq-trend-caption"]["children"].startswith(
        f"Gap in 2022: {gaps[0]:.1f} points; in 2024: {gaps[2]:.1f} points."
    )
    assert "Girls with disabilities: " in texts(response["eq-trend-table"]["children"])


def test_measures_table_gives_heat_measures_or_the_reason(focal):
    status, response = focal.call("eq-subgroups", BASRAH)
    table = texts(response["eq-measures"]["children"])
    assert "Between-group variance (BGV)" in table
    assert "Mean difference from reference, weighted (MDRW)" in table
    assert "reference: Boys without disabilities" in table
    status, response = focal.call("eq-subgroups", BASRAH | {"eq-dimension.value": "governorate"})
    assert "governorates are compared at national level (choose Iraq)" in texts(
        response["eq-measures"]["children"]
    )
    assert texts(response["eq-caption"]["children"]).startswith("No gap is shown for Basrah")
    national = BASRAH | {"eq-org-unit.value": "IQ", "eq-dimension.value": "district_fifth"}
    status, response = focal.call("eq-subgroups", national)
    assert "Slope index of inequality (SII), percentage points" in texts(
        response["eq-measures"]["children"]
    )
    assert "Fifth 1 (worst off in the previous cohort)" in json.dumps(response["eq-subgroups"])


def test_widest_gap_districts(published, focal):
    values = BASRAH | {"eq-org-unit.value": "IQ", "eq-dimension.value": "disability"}
    status, response = focal.call("eq-subgroups", values)
    districts = published.filter(
        (pl.col("indicator") == PENTA3)
        & (pl.col("period") == "2024")
        & (pl.col("org_unit_level") == 2)
    )["org_unit"].unique()
    gaps, withheld = [], 0
    for code in districts:
        pair = [cell(published, code, "2024", disability=d) for d in ("no", "yes")]
        if any(r["suppressed"] or r["denominator"] < 25 for r in pair):
            withheld += 1
        else:
            gaps.append(pair[0]["value"] - pair[1]["value"])
    bars = response["eq-gaps"]["figure"]["data"][0]
    assert bars["x"] == pytest.approx(sorted(gaps, reverse=True)[:10])
    assert f"{withheld} districts not shown" in response["eq-gaps-note"]["children"]
    status, response = focal.call("eq-subgroups", values | {"eq-dimension.value": "district"})
    assert response["eq-gaps-note"]["children"].startswith("Choose sex, disability")


def test_a_governorate_user_sees_only_its_governorate(mizan, sample_url):
    basra = DashClient(mizan, "basra")
    page = basra.page("/equity", "?org_unit=IQG08&dimension=governorate")
    radio = component(page, "eq-dimension")["props"]
    assert "governorate" not in [o["value"] for o in radio["options"]]
    assert radio["value"] == "sex"
    asked = BASRAH | {"eq-org-unit.value": "IQG08"}
    status, response = basra.call("eq-subgroups", asked)
    assert status == 200 and "Basrah" in response["eq-title"]["children"]
    shown = json.dumps(response)
    assert "Baghdad" not in shown and "IQG08" not in shown
    status, response = basra.call("eq-heat-download", asked | {"eq-heat-export.n_clicks": 1})
    heat = pl.read_csv(io.StringIO(download(response, "eq-heat-download")))
    assert set(heat["setting"]) == {"Basrah"}
    status, response = basra.call("eq-download", asked | {"eq-export.n_clicks": 1})
    rows = pl.read_csv(io.StringIO(download(response, "eq-download")), infer_schema=False)
    assert set(rows["org_unit"]) == {"IQG02"}
    zero = {"eq-period.value": "2024", "eq-org-unit.value": "IQG08", "eq-zd-export.n_clicks": 1}
    status, response = basra.call("eq-zd-download", zero)
    districts = pl.read_csv(io.StringIO(download(response, "eq-zd-download")), infer_schema=False)
    assert districts.height > 0 and all(c.startswith("IQG02") for c in districts["org_unit"])


def test_zero_dose_cards_and_ranked_districts(published, focal, sample_url):
    values = {"eq-period.value": "2024", "eq-org-unit.value": "IQG02", "eq-zd-baseline.value": None}
    status, response = focal.call("eq-zd-cards", values)
    counts = {y: cell(published, "IQG02", y, ind="zero_dose_12m")["numerator"] for y in YEARS}
    cards = texts(response["eq-zd-cards"]["children"])
    reduction = 100 * (counts["2022"] - counts["2024"]) / counts["2022"]
    assert f"Baseline 2022 {counts['2022']:,.0f}" in cards
    assert f"Current 2024 {counts['2024']:,.0f}" in cards
    assert f"IA2030 target by 2030 {counts['2022'] / 2:,.0f} half the baseline count" in cards
    assert f"Progress {reduction * 2:.0f}% of the way {reduction:.1f}% fewer" in cards
    districts = published.filter(
        (pl.col("indicator") == "zero_dose_12m")
        & (pl.col("period") == "2024")
        & (pl.col("org_unit_level") == 2)
        & pl.col("org_unit").str.starts_with("IQG02")
        & (pl.col("sex") == "all")
        & (pl.col("disability") == "all")
    ).sort(["numerator", "org_unit"], descending=[True, False])
    names = dict(
        queries.org_units(Scope.national(), sample_url).select("code", "name_en").iter_rows()
    )
    top = districts.row(0, named=True)
    table = texts(response["eq-zd-districts"]["children"])
    assert f"1 {names[top['org_unit']]} {top['numerator']:,.0f}" in table
    girls = cell(published, "IQG02", "2024", "F", ind="zero_dose_12m")
    assert f"Girls {girls['numerator']:,.0f} {girls['denominator']:,.0f}" in texts(
        response["eq-zd-subgroups"]["children"]
    )
    status, response = focal.call("eq-zd-download", values | {"eq-zd-export.n_clicks": 1})
    frame = pl.read_csv(io.StringIO(download(response, "eq-zd-download")))
    assert frame["org_unit"].to_list() == districts["org_unit"].to_list()
    assert frame["zero_dose"].to_list() == districts["numerator"].cast(pl.Int64).to_list()
    detail = last_export(sample_url)
    assert (detail["view"], detail["rows"]) == ("equity/zero-dose", districts.height)


def test_measures_download_has_every_cohort_and_is_audited(focal, sample_url):
    status, response = focal.call(
        "eq-measures-download", BASRAH | {"eq-measures-export.n_clicks": 1}
    )
    frame = pl.read_csv(io.StringIO(download(response, "eq-measures-download")))
    assert frame.columns[:6] == [
        "indicator",
        "period",
        "org_unit",
        "dimension",
        "comparison",
        "measure",
    ]
    assert sorted(frame["period"].cast(pl.String).unique()) == YEARS
    assert set(frame["comparison"]) == {"all subgroups", "focus vs reference"}
    assert frame.height == 3 * (17 + 2)  # per cohort: every HEAT measure, the pair's D and R
    detail = last_export(sample_url)
    assert (detail["view"], detail["rows"]) == ("equity/measures", frame.height)
    assert detail["selection"]["dimension"] == "sex_disability"


# ---------------------------------------------------------------- HEAT Plus


def hand_values() -> pl.DataFrame:
    """Baghdad 2023-2024 with a suppressed girls-with-disabilities cell in 2024."""
    cells = {
        ("F", "yes"): (3, 40),
        ("F", "no"): (200, 220),
        ("M", "yes"): (30, 40),
        ("M", "no"): (210, 230),
        ("all", "all"): (443, 530),
    }
    rows = [
        (
            PENTA3,
            year,
            "IQG08",
            1,
            "IQG08",
            sex,
            dis,
            float(num + (year == "2023") * 10),
            float(den),
        )
        for year in ("2023", "2024")
        for (sex, dis), (num, den) in cells.items()
    ]
    return sample_warehouse.published_rows(rows)


@pytest.fixture
def hand_url(tmp_path) -> str:  # noqa: ANN001
    """A warehouse whose indicator name starts like a spreadsheet formula."""
    url = f"sqlite:///{tmp_path / 'hand.db'}"
    names = catalogue.as_frame().with_columns(
        pl.when(pl.col("code") == PENTA3)
        .then(pl.lit('=HYPERLINK("http://x")'))
        .otherwise(pl.col("name_en"))
        .alias("name_en")
    )
    engine = warehouse.engine(url)
    warehouse.replace_results(
        engine,
        sample_warehouse.run_dict(),
        hand_values(),
        sample_warehouse.rejects_frame(),
        geography.org_units([]),
        names,
    )
    return url


def test_heat_plus_download_leaves_suppressed_subgroups_out_and_is_audited(make_client, hand_url):
    client = make_client(hand_url, "focal")
    values = {
        "eq-heat-export.n_clicks": 1,
        "eq-indicator.value": PENTA3,
        "eq-period.value": "2024",
        "eq-org-unit.value": "IQG08",
        "eq-dimension.value": "sex_disability",
    }
    status, response = client.call("eq-heat-download", values)
    assert status == 200
    text = download(response, "eq-heat-download")
    assert text.splitlines()[0] == ",".join(HEAT_PLUS_COLUMNS)
    frame = pl.read_csv(io.StringIO(text), infer_schema=False)
    assert frame.columns == HEAT_PLUS_COLUMNS
    y2024 = frame.filter(pl.col("date") == "2024")
    assert "Girls with disabilities" not in y2024["subgroup"].to_list()
    assert y2024.height == 3 and all(SUPPRESSED_NOTE in note for note in y2024["note"])
    assert frame.filter(pl.col("date") == "2023").height == 4
    assert set(frame["indicator_name"]) == {'\'=HYPERLINK("http://x")'}  # never run
    assert set(frame["reference_subgroup"]) == {"0", "1"}
    boys = frame.filter(pl.col("subgroup") == "Boys without disabilities")
    assert boys["estimate"].cast(pl.Float64).to_list() == pytest.approx(
        [100 * 220 / 230, 100 * 210 / 230]
    )
    p = 210 / 230
    assert float(boys["se"][1]) == pytest.approx(100 * math.sqrt(p * (1 - p) / 230))
    detail = last_export(hand_url)
    assert (detail["view"], detail["rows"]) == ("equity/heat-plus", frame.height)
    assert detail["selection"] == {
        "indicator": PENTA3,
        "period": "2024",
        "org_unit": "IQG08",
        "dimension": "sex_disability",
    }
    status, response = client.call(
        "eq-subgroups", {k: v for k, v in values.items() if k != "eq-heat-export.n_clicks"}
    )
    assert "a subgroup is suppressed (small numbers)" in texts(response["eq-measures"]["children"])
    assert texts(response["eq-caption"]["children"]) == (
        "No gap is shown for Baghdad: a subgroup is suppressed (small numbers)."
    )


def test_unvalidated_equity_figures_equal_validated_ones(sample_url, monkeypatch):
    """The app skips plotly's validation for speed (figures.UNCHECKED); same figures."""
    national = Scope.national()
    view = ev.View(PENTA3, "2024", "IQ", ev.DISABILITY)
    subgroups = ev.subgroups(national, view, sample_url)
    trend = ev.gap_trend(national, view, sample_url)
    gaps = ev.widest_gaps(national, view, sample_url)
    builders = [
        lambda: charts.subgroup_figure(subgroups, view.dimension, overall=("All", 80.0)),
        lambda: charts.gap_trend_figure(trend, view.dimension),
        lambda: charts.widest_gap_figure(gaps, view.dimension),
    ]
    checked = [_pruned(build().to_plotly_json()) for build in builders]
    monkeypatch.setattr(figures, "UNCHECKED", {"_validate": False})
    assert [_pruned(build().to_plotly_json()) for build in builders] == checked
