"""The query layer: selections, the access scope on every read, the complete cohort."""

from __future__ import annotations

import pytest

from indicators import queries
from indicators.scope import Scope
from tests.dashboard import sample_warehouse


@pytest.fixture
def url(warehouse_url: str, geo_pack) -> str:  # noqa: ANN001
    sample_warehouse.build(warehouse_url, sample_warehouse.tiny_values())
    return warehouse_url


def test_selection_by_org_unit_includes_descendants(url: str) -> None:
    rows = queries.indicator_values(
        Scope.national(), indicators=["cov_penta3_12m"], period="2024", org_unit="IQG08", url=url
    )
    assert set(rows["org_unit"]) == {"IQG08", "IQG08Q01", "IQG08Q02", "IQG08Q03"}
    baghdad = rows.filter((rows["org_unit"] == "IQG08") & (rows["sex"] == "all"))
    assert baghdad.filter(baghdad["disability"] == "all")["numerator"].to_list() == [450.0]
    assert rows["org_unit_name"].to_list()[0] == "Baghdad"


def test_governorate_scope_never_returns_other_rows(url: str) -> None:
    basra = Scope("governorate", "IQG08")
    rows = queries.indicator_values(basra, url=url)
    assert rows.height > 0 and set(rows["adm1_code"]) == {"IQG08"}
    # asking for the nation or another governorate gives nothing, not other rows
    assert queries.indicator_values(basra, org_unit="IQ", level=0, url=url).is_empty()
    assert queries.indicator_values(basra, org_unit="IQG15", url=url).is_empty()
    assert set(queries.org_units(basra, url=url)["adm1_code"]) == {"IQG08"}
    everyone = queries.indicator_values(Scope("leadership"), url=url)
    assert {"IQ", "IQG15"} <= set(everyone["org_unit"])


def test_latest_complete_cohort_needs_every_child_old_enough(url: str) -> None:
    # as of 2025-12-31 the 2024 cohort's last child is exactly 12 months old: complete;
    # the 2025Q1 quarter is not a year, and nothing later is complete
    assert queries.latest_complete_cohort(Scope.national(), "cov_penta3_12m", url) == "2024"
    assert queries.periods(Scope.national(), "cov_penta3_12m", url) == ["2023", "2024", "2025Q1"]


def test_indicator_rows_are_the_scoped_rows_of_one_indicator(url: str) -> None:
    """The whole-indicator read that views cut in memory equals the SQL selection, for the
    nation and for a governorate user (the scope applied in memory, as in SQL)."""
    for scope in (Scope.national(), Scope("governorate", "IQG08")):
        rows = queries.indicator_rows(scope, "cov_penta3_12m", url)
        expected = queries.indicator_values(scope, indicators=["cov_penta3_12m"], url=url)
        assert rows.height > 0 and rows.equals(expected)
    basra = queries.indicator_rows(Scope("governorate", "IQG08"), "cov_penta3_12m", url)
    assert set(basra["adm1_code"]) == {"IQG08"}


def test_warm_reads_every_registry_indicator(url: str) -> None:
    registry = queries.catalogue(url).filter(source="registry")["code"].to_list()
    assert queries.warm(url) == len(registry) > 0
