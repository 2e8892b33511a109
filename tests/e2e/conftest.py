"""Headless Chromium for dash.testing, offline, plus the e2e sample warehouse.

`pytest_setup_options` must return an Options object, not a list (dash.md §3.1).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options

from etl.dhis2.load import load_dhis2
from etl.generate import generate
from etl.load import load_registry
from tests.dashboard import sample_warehouse
from tests.dashboard.conftest import add_users

os.environ.setdefault("DASH_TEST_CHROMEPATH", "/usr/bin/chromium")
GENERATED_CHILDREN = 20_000
SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "var" / "screenshots"


HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder: marked e2e, skipped without a browser, and quiet about
    selenium 4.2's use of APIs urllib3 deprecates (pinned by dash[testing]; not ours)."""
    no_browser = shutil.which("chromedriver") is None
    for item in items:
        if HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.e2e)
        item.add_marker(pytest.mark.filterwarnings("ignore::DeprecationWarning:selenium"))
        if no_browser:
            item.add_marker(pytest.mark.skip(
                reason="needs chromedriver and Chromium (apt-get install chromium-driver)"
            ))  # fmt: skip


def pytest_setup_options() -> Options:
    options = Options()
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1400,1000",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(argument)
    # Its own profile: a second Chromium on the default profile hands over to a running one
    # (another test session's) and the driver waits forever.
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='mizan-chromium-')}")
    return options


@pytest.fixture(scope="session")
def e2e_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Every catalogue indicator, every district of the boundary pack, four periods."""
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'warehouse.db'}"
    sample_warehouse.build(url, indicators=tuple(sample_warehouse.RATES))
    add_users(url)
    return url


@pytest.fixture(scope="session")
def generated_url(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> str:
    """A generated registry and DHIS2 instance (EPI and facility reports, climate), loaded
    by `etl load` and `etl load --dhis2`: what `make run` shows, smaller."""
    folder = tmp_path_factory.mktemp("generated-e2e")
    export = folder / "export"
    generate(export, children=GENERATED_CHILDREN, dhis2=True)
    url = f"sqlite:///{folder / 'warehouse.db'}"
    load_registry(export, url)
    load_dhis2(export / "dhis2", url)
    add_users(url)
    return url


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
