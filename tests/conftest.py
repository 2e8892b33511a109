"""Shared fixtures: the `../shared` folder (skipped with a reason when absent) and warehouses."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data`, or skip: these tests need the boundary pack and DHIS2 fixtures."""
    data = SHARED / "data"
    if not (data / "iraq_adm2.csv").is_file():
        pytest.skip(f"needs the shared data folder {data} (boundary pack), which is absent")
    return data


@pytest.fixture
def geo_pack(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point Mizan at the real boundary pack for this test."""
    monkeypatch.setenv("MIZAN_GEO_DIR", str(shared_data))
    return shared_data


@pytest.fixture
def no_geo_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run without a boundary pack (an empty folder), as a deployment without it would."""
    empty = tmp_path / "no-geo"
    empty.mkdir()
    monkeypatch.setenv("MIZAN_GEO_DIR", str(empty))
    return empty


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh embedded warehouse file for one test."""
    return f"sqlite:///{tmp_path / 'warehouse.db'}"
