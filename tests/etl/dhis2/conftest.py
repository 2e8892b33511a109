"""The DHIS2 fixture folder (`../shared/data/dhis2_fixtures`), skipped with a reason when absent."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def fixtures(shared_data: Path) -> Path:
    folder = shared_data / "dhis2_fixtures"
    if not (folder / "PROVENANCE.md").is_file():
        pytest.skip(f"needs the DHIS2 fixture folder {folder}, which is absent")
    return folder
