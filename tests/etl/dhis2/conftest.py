"""The DHIS2 fixture folder (`../shared/data/dhis2_fixtures`), skipped with a reason when
absent; and a module without the boundary pack (generated instances that must not depend
on it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def fixtures(shared_data: Path) -> Path:
    folder = shared_data / "dhis2_fixtures"
    if not (folder / "PROVENANCE.md").is_file():
        pytest.skip(f"needs the DHIS2 fixture folder {folder}, which is absent")
    return folder


@pytest.fixture(scope="module")
def no_pack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MIZAN_GEO_DIR", str(tmp_path_factory.mktemp("no-geo")))
        yield
