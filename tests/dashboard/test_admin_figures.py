"""The DHIS2 figures on hand-made frames: values beyond 100 % and below 0 are drawn where
they fall, hidden values never reach a trace, categories carry more than a colour."""

from __future__ import annotations

import json

import numpy as np
import plotly.io as pio
import polars as pl
import pytest

from dashboard import admin_figures, figures

TABLE_SCHEMA = {
    "org_unit": pl.String, "org_unit_name": pl.String, "adm1_code": pl.String,
    "coverage": pl.Float64, "coverage_suppressed": pl.Boolean, "coverage_flags": pl.String,
    "dropout": pl.Float64, "dropout_suppressed": pl.Boolean, "dropout_flags": pl.String,
    "dropout_denominator": pl.Float64, "category": pl.Int8,
}  # fmt: skip


def district(code: str, coverage: float | None, dropout: float | None, category: int | None,
             **extra: object) -> dict:  # fmt: skip
    return {
        "org_unit": code, "org_unit_name": f"District {code[-2:]}", "adm1_code": code[:5],
        "coverage": coverage, "coverage_suppressed": coverage is None, "coverage_flags": "",
        "dropout": dropout, "dropout_suppressed": dropout is None, "dropout_flags": "",
        "dropout_denominator": 500.0, "category": category, **extra,
    }  # fmt: skip


@pytest.fixture
def table() -> pl.DataFrame:
    rows = [
        district("IQG08Q01", 120.0, 12.0, 2, coverage_flags="over_100"),
        district("IQG08Q02", 80.0, -15.0, 3, dropout_flags="negative_dropout"),
        district("IQG08Q03", 95.0, 4.0, 1),
        district("IQG08Q04", 70.0, 30.0, 4),
        district("IQG08Q05", None, None, None),  # suppressed
        district("IQG08Q06", 85.0, 20.0, 4, dropout_flags="low_denominator"),
    ]
    return pl.DataFrame(rows, schema=TABLE_SCHEMA)


def points(figure) -> dict[str, list[tuple[float, float]]]:  # noqa: ANN001
    return {t.name: list(zip(t.x, t.y, strict=True)) for t in figure.data}


def test_red_scatter_draws_out_of_range_values_uncapped(table):
    figure = admin_figures.red_scatter(table, coverage=90, dropout=10, highlight="IQG08Q04")
    drawn = points(figure)
    assert drawn["2 · Good access, poor use"] == [(120.0, 12.0)]  # over 100 %, not capped
    assert drawn["3 · Poor access, good use"] == [(80.0, -15.0)]  # negative, not capped
    assert drawn["4 · Poor access, poor use"] == [(70.0, 30.0)]  # Q06: low denominator
    x_range, y_range = figure.layout.xaxis.range, figure.layout.yaxis.range
    assert x_range[0] < 70 and x_range[1] > 120 and y_range[0] < -15 and y_range[1] > 30
    symbols = [t.marker.symbol for t in figure.data]
    assert len(set(symbols)) == 4  # each category its own symbol, not only its colour
    assert [a.text for a in figure.layout.annotations] == [
        f"<b>{label}</b>" for label in admin_figures.category_labels().values()
    ]
    highlighted = figure.data[3]
    assert list(highlighted.marker.size) == [16] and list(highlighted.text) == ["District 04"]


def test_red_scatter_names_every_point_only_when_few(table):
    many = pl.concat([table.with_columns(pl.col("org_unit") + str(i)) for i in range(6)])
    figure = admin_figures.red_scatter(many, coverage=90, dropout=10)
    names = [text for t in figure.data for text in t.text]
    assert len(names) == 24 and "" not in names  # 24 plotted: all named
    figure = admin_figures.red_scatter(pl.concat([many, many]), coverage=90, dropout=10)
    named = {text for t in figure.data for text in t.text} - {""}
    # Beyond 25 points: the notable ones (category 4, over 100 %, negative dropout).
    assert named == {"District 01", "District 02", "District 04"}


def test_red_map_fills_categories_with_patterns_and_numbers(table, geo_pack):
    from dashboard import geo

    figure = admin_figures.red_map(table, geo.outlines(2), highlight="IQG08Q01")
    fills = [t for t in figure.data if t.fill == "toself"]
    assert [t.name for t in fills][-1] == "No category (suppressed or no data)"
    assert [t.fillpattern.shape for t in fills[:4]] == [None, "/", ".", "x"]
    gaps = np.isnan(np.asarray(fills[1].x, dtype=float))
    assert gaps.any()  # several rings in one trace, split by gaps
    labels = figure.data[-1]
    assert list(labels.text) == ["2", "3", "1", "4", "", "4"]
    assert any(t.name == "Selected" for t in figure.data)
    assert figure.layout.yaxis.scaleanchor == "x"


def test_dropout_bar_classes_and_hidden_rows():
    rows = pl.DataFrame(
        {
            "org_unit": ["A1", "A2", "A3", "A4"],
            "org_unit_name": ["A", "B", "C", "D"],
            "numerator": [30.0, 5.0, -12.0, None],
            "denominator": [100.0, 100.0, 100.0, 100.0],
            "value": [30.0, 5.0, -12.0, None],
            "suppressed": [False, False, False, True],
            "flags": ["", "", "negative_dropout", ""],
        }
    )
    figure = admin_figures.dropout_bar(rows, threshold=10)
    bars = {t.name: [x for x in t.x if x is not None] for t in figure.data if t.type == "bar"}
    assert bars == {
        "Above the threshold": [30.0],
        "At or below the threshold": [5.0],
        "Negative: check the reports": [-12.0],
    }
    assert figure.layout.xaxis.range[0] < -12
    assert list(figure.data[-1].y) == ["D"] and "suppressed" in figure.data[-1].text[0]
    patterns = {t.name: t.marker.pattern.shape for t in figure.data if t.type == "bar"}
    assert len(set(patterns.values())) == 3


def test_monitoring_chart_target_runs_to_december():
    rows = pl.DataFrame(
        {
            "indicator": ["admin_cov_bcg_ytd"] * 3,
            "month": [1, 2, 3],
            "numerator": [10.0, None, 35.0],
            "denominator": [12.0, 24.0, 36.0],
            "value": [83.3, None, 97.2],
            "suppressed": [False, True, False],
            "flags": ["low_denominator", "", ""],
        }
    )
    target = pl.DataFrame({"month": list(range(1, 13)), "target": [12.0 * m for m in range(1, 13)]})
    figure = admin_figures.monitoring_chart(rows, target, {"admin_cov_bcg_ytd": "BCG"}, None)
    line, doses = figure.data
    assert list(line.y) == [12.0 * m for m in range(1, 13)] and list(line.x)[-1] == "Dec"
    assert list(doses.x) == ["Jan", "Mar"] and list(doses.y) == [10.0, 35.0]  # Feb hidden
    assert doses.customdata[0][1] == "not shown"  # low denominator: the count, not the %


def test_empty_inputs_say_why():
    empty = pl.DataFrame(schema=TABLE_SCHEMA)
    for figure in (
        admin_figures.red_scatter(empty, coverage=90, dropout=10),
        admin_figures.red_map(empty, {}),
        admin_figures.dropout_bar(pl.DataFrame(), threshold=10),
        admin_figures.triangulation_chart(pl.DataFrame(), "2024"),
        admin_figures.monitoring_chart(pl.DataFrame(), pl.DataFrame(), {}, None),
    ):
        assert figure.layout.annotations[0].text


def test_unvalidated_builds_equal_validated_ones(table, monkeypatch):
    """The app skips plotly's validation (figures.UNCHECKED); the figure must not change
    (key order aside)."""

    def build() -> list[dict]:
        return [
            json.loads(pio.to_json(admin_figures.red_scatter(table, coverage=90, dropout=10))),
            json.loads(pio.to_json(admin_figures.dropout_bar(pl.DataFrame({
                "org_unit": ["A1"], "org_unit_name": ["A"], "numerator": [3.0],
                "denominator": [30.0], "value": [10.0], "suppressed": [False], "flags": [""],
            }), threshold=10))),
            json.loads(pio.to_json(admin_figures.reporting_bar(pl.DataFrame({
                "org_unit": ["A1"], "org_unit_name": ["A"], "expected": [10.0],
                "received": [9.0], "on_time": [7.0], "completeness": [90.0],
                "timeliness": [70.0],
            }), target=90))),
            json.loads(pio.to_json(admin_figures.triangulation_chart(pl.DataFrame({
                "month": [1, 2], "numerator": [9.0, None], "denominator": [10.0, None],
                "value": [90.0, None], "suppressed": [False, True],
            }), "2024", 2))),
        ]  # fmt: skip

    checked = build()
    monkeypatch.setattr(figures, "UNCHECKED", {"_validate": False})
    assert build() == checked
