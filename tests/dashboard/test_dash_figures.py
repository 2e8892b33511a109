"""Figure builders on hand-made frames: real values land in traces, hidden ones never do."""

from __future__ import annotations

import polars as pl
import pytest

from dashboard import figures, theme

COLUMNS = [
    "indicator",
    "period",
    "org_unit",
    "org_unit_level",
    "org_unit_name",
    "sex",
    "disability",
    "numerator",
    "denominator",
    "value",
    "ci_low",
    "ci_high",
    "suppressed",
    "flags",
    "lat",
    "lon",
]


def frame(*rows: dict) -> pl.DataFrame:
    base = {
        "indicator": "cov_penta3_12m",
        "period": "2024",
        "org_unit_level": 1,
        "sex": "all",
        "disability": "all",
        "numerator": None,
        "denominator": None,
        "value": None,
        "ci_low": None,
        "ci_high": None,
        "suppressed": False,
        "flags": "",
        "lat": 33.0,
        "lon": 44.0,
    }
    schema = {
        c: pl.Float64
        for c in ("numerator", "denominator", "value", "ci_low", "ci_high", "lat", "lon")
    } | {"suppressed": pl.Boolean, "org_unit_level": pl.Int8}
    return pl.DataFrame([base | r for r in rows], schema_overrides=schema).select(COLUMNS)


@pytest.fixture
def places() -> pl.DataFrame:
    return frame(
        {
            "org_unit": "IQG01",
            "org_unit_name": "Anbar",
            "numerator": 80,
            "denominator": 100,
            "value": 80.0,
            "ci_low": 71.1,
            "ci_high": 86.7,
        },
        {
            "org_unit": "IQG02",
            "org_unit_name": "Basrah",
            "numerator": 36,
            "denominator": 40,
            "value": 90.0,
            "ci_low": 76.9,
            "ci_high": 96.0,
            "flags": "caution",
        },
        {
            "org_unit": "IQG03",
            "org_unit_name": "Muthanna",
            "numerator": 15,
            "denominator": 20,
            "value": 75.0,
            "ci_low": 53.1,
            "ci_high": 88.8,
            "flags": "low_denominator",
        },
        {
            "org_unit": "IQG04",
            "org_unit_name": "Najaf",
            "denominator": 30,
            "suppressed": True,
            "flags": "caution",
        },
    )


def test_ranked_bar_ranks_shown_values_with_wilson_error_bars(places):
    fig = figures.ranked_bar(places)
    bar = fig.data[0]
    assert list(bar.y[:2]) == ["Basrah", "Anbar"]  # best first
    assert list(bar.x[:2]) == [90.0, 80.0]
    assert bar.error_x.array[1] == pytest.approx(86.7 - 80.0)
    assert bar.error_x.arrayminus[1] == pytest.approx(80.0 - 71.1)
    assert bar.text[0] == "(90.0%)"  # caution: in parentheses
    assert bar.text[1] == "80.0%"
    assert bar.marker.pattern.shape[0] == "/"  # caution is also patterned, not only labelled


def test_ranked_bar_never_draws_hidden_values(places):
    fig = figures.ranked_bar(places)
    bar, hidden = fig.data[0], fig.data[1]
    assert 75.0 not in bar.x  # low denominator: no value drawn
    assert [x for x in bar.x if x is not None] == [90.0, 80.0]
    assert bar.error_x.array[2] is None and bar.error_x.array[3] is None
    assert list(hidden.y) == ["Muthanna", "Najaf"]
    assert [text.strip() for text in hidden.text] == ["low denominator", "suppressed"]
    hover = [row[1] for row in hidden.customdata]
    assert hover == ["not shown", "suppressed"]


def test_ranked_bar_lower_is_better_ranks_ascending_and_shows_reference(places):
    fig = figures.ranked_bar(
        places, favourable="lower", reference=("Iraq", 82.5), highlight="IQG01"
    )
    assert list(fig.data[0].y[:2]) == ["▶ Anbar", "Basrah"]
    assert fig.data[0].marker.color[0] == theme.ACCENT
    legend = [trace.name for trace in fig.data if trace.showlegend]
    assert legend == ["Iraq: 82.5%"]
    assert fig.layout.shapes[0].x0 == 82.5


def test_choropleth_passes_geojson_by_url_and_greys_hidden_units(places):
    fig = figures.choropleth_map(
        places, geojson_url="/geo/adm1.geojson", level=1, favourable="lower"
    )
    shown, hidden = fig.data
    assert shown.type == "choroplethmap"
    assert shown.geojson == "/geo/adm1.geojson"  # a URL, never the geometry itself
    assert shown.featureidkey == "properties.adm1_pcode"
    assert list(shown.locations) == ["IQG01", "IQG02"]
    assert list(shown.z) == [80.0, 90.0]
    assert shown.reversescale is True  # lower is better: high values drawn dark
    assert list(hidden.locations) == ["IQG03", "IQG04"]
    assert hidden.showscale is False
    assert fig.layout.map.style == "white-bg"


def test_choropleth_district_level_key():
    fig = figures.choropleth_map(
        frame(
            {
                "org_unit": "IQG08Q01",
                "org_unit_name": "Karkh",
                "value": 70.0,
                "numerator": 70,
                "denominator": 100,
                "ci_low": 60.0,
                "ci_high": 78.0,
            }
        ),
        geojson_url="/geo/adm2.geojson",
        level=2,
        center={"lat": 33.3, "lon": 44.4},
        zoom=8,
    )
    assert fig.data[0].featureidkey == "properties.adm2_pcode"
    assert fig.layout.map.zoom == 8


def test_centroid_map_has_no_text_layer(places):
    """Map text would make MapLibre fetch glyph fonts from the internet."""
    fig = figures.centroid_map(places)
    assert {trace.type for trace in fig.data} == {"scattermap"}
    assert all(trace.mode == "markers" for trace in fig.data)
    assert list(fig.data[0].marker.color) == [80.0, 90.0]


def test_trend_uses_category_years_and_hides_low_denominator_points():
    data = frame(
        {
            "org_unit": "IQ",
            "org_unit_name": "Iraq",
            "period": "2023",
            "value": 70.0,
            "numerator": 70,
            "denominator": 100,
        },
        {
            "org_unit": "IQ",
            "org_unit_name": "Iraq",
            "period": "2024",
            "value": 72.0,
            "numerator": 18,
            "denominator": 24,
            "flags": "low_denominator",
        },
        {
            "org_unit": "IQ",
            "org_unit_name": "Iraq",
            "period": "2024",
            "value": 10.0,
            "indicator": "zero_dose_12m",
            "numerator": 10,
            "denominator": 100,
        },
    )
    fig = figures.trend(data, {"cov_penta3_12m": "Penta3", "zero_dose_12m": "Zero-dose"})
    penta, zero = fig.data
    assert list(penta.x) == ["2023", "2024"]
    assert list(penta.y) == [70.0, None]
    assert list(zero.y) == [None, 10.0]
    assert penta.marker.symbol != zero.marker.symbol  # not told apart by colour alone
    assert fig.layout.xaxis.type == "category"


def test_category_bar_orders_subgroups_with_patterns_and_labels():
    data = frame(
        {
            "org_unit": "IQ",
            "org_unit_name": "Iraq",
            "sex": "M",
            "value": 92.0,
            "numerator": 92,
            "denominator": 100,
            "ci_low": 85.0,
            "ci_high": 96.0,
        },
        {
            "org_unit": "IQ",
            "org_unit_name": "Iraq",
            "sex": "F",
            "value": 88.0,
            "numerator": 88,
            "denominator": 100,
            "ci_low": 80.2,
            "ci_high": 93.0,
        },
        {
            "org_unit": "IQ",
            "org_unit_name": "Iraq",
            "sex": "U",
            "suppressed": True,
            "denominator": None,
        },
    )
    labels = {"F": "Female", "M": "Male", "U": "Unknown"}
    fig = figures.category_bar(
        data, dimension="sex", labels=labels, marks=theme.SEX_MARKS, overall=("All children", 90.0)
    )
    bar = fig.data[0]
    assert list(bar.x) == ["Female", "Male", "Unknown"]
    assert list(bar.y) == [88.0, 92.0, None]
    assert list(bar.marker.pattern.shape) == ["/", "", "."]
    assert bar.error_y.arrayminus[0] == pytest.approx(88.0 - 80.2)
    assert fig.layout.xaxis.ticktext[0] == "Female<br><b>88.0%</b>"
    assert fig.layout.xaxis.ticktext[2] == "Unknown<br><b>suppressed</b>"
    assert [t.name for t in fig.data if t.showlegend] == ["All children: 90.0%"]


def test_rejects_bar_sums_files_per_rule():
    data = pl.DataFrame(
        {"file": ["a.csv", "b.csv", "a.csv"], "rule": ["r1", "r1", "r2"], "rows": [2, 3, 1]}
    )
    fig = figures.rejects_bar(data)
    assert list(fig.data[0].y) == ["r1", "r2"]
    assert list(fig.data[0].x) == [5, 1]


def test_empty_inputs_give_a_message():
    nothing = frame({"org_unit": "IQ", "org_unit_name": "Iraq"}).clear()
    assert figures.ranked_bar(nothing).layout.annotations[0].text == ("No data for this selection")
    empty_rejects = pl.DataFrame(schema={"file": pl.String, "rule": pl.String, "rows": pl.Int64})
    assert "No rejected rows" in figures.rejects_bar(empty_rejects).layout.annotations[0].text


def test_warm_up_builds_every_trace_type():
    figures.warm_up()


def test_unvalidated_builds_equal_validated_ones(places, monkeypatch):
    """The app skips plotly's validation for speed; the figure must be the same."""
    builders = [
        lambda: figures.ranked_bar(places, highlight="IQG01", reference=("Iraq", 82.0)),
        lambda: figures.choropleth_map(places, geojson_url="/geo/adm1.geojson", level=1),
        lambda: figures.centroid_map(places),
    ]
    checked = [_pruned(build().to_plotly_json()) for build in builders]
    monkeypatch.setattr(figures, "UNCHECKED", {"_validate": False})
    assert [_pruned(build().to_plotly_json()) for build in builders] == checked


def _pruned(value):  # noqa: ANN001, ANN202
    """Without empty lists and dicts (an unvalidated figure keeps `annotations: []`)."""
    if isinstance(value, dict):
        kept = {key: _pruned(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item not in ([], {})}
    if isinstance(value, list | tuple):
        return [_pruned(item) for item in value]
    return value


def test_highlight_band_sits_behind_the_selected_category():
    (band,) = figures.highlight(["2024-01", "2024-02", "2024-03"], "2024-02")
    assert (band["x0"], band["x1"], band["layer"]) == (0.5, 1.5, "below")
    assert figures.highlight(["2024-01"], "2025-01") == figures.highlight([], None) == []


def test_reference_marks_come_as_a_legend_entry_and_a_line_or_not_at_all():
    legends, shapes = figures.reference_marks(("Iraq", 81.5), "%", horizontal=True)
    assert [trace.name for trace in legends] == ["Iraq: 81.5%"]  # the value in the label
    assert (shapes[0]["y0"], shapes[0]["y1"], shapes[0]["xref"]) == (81.5, 81.5, "x domain")
    assert figures.reference_marks(None, "%", horizontal=True) == ([], [])
    assert figures.reference_marks(("Iraq", None), "%", horizontal=False) == ([], [])
