"""Fixtures for the dashboard's browser-free tests: a sample warehouse, an app on it, and
a helper that calls a callback through `/_dash-update-component` like the renderer does."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import app as mizan_app
from tests.dashboard import sample_warehouse


class DashClient:
    """Flask test client speaking Dash's callback protocol."""

    def __init__(self, dash_app) -> None:  # noqa: ANN001
        self.app = dash_app
        self.client = dash_app.server.test_client()
        self.client.get("/")  # the first request registers the pages router
        self.callbacks = json.loads(self.client.get("/_dash-dependencies").data)

    def find(self, output_id: str, prop: str | None = None) -> dict:
        """The callback that writes `output_id` (`.prop` narrows multi-output ones)."""
        wanted = f"{output_id}.{prop}" if prop else f"{output_id}."
        for callback in self.callbacks:
            outputs = callback["output"].strip(".").split("...")
            if any(o == wanted or (prop is None and o.startswith(wanted)) for o in outputs):
                return callback
        raise KeyError(output_id)

    def call(
        self,
        output_id: str,
        values: dict[str, object],
        prop: str | None = None,
        changed: list[str] | None = None,
    ) -> tuple[int, dict]:
        """Post one callback. `values` maps "id.prop" to each input/state value."""
        callback = self.find(output_id, prop)

        def spec(dependency: dict) -> dict:
            key = f"{dependency['id']}.{dependency['property']}"
            return {
                "id": dependency["id"],
                "property": dependency["property"],
                "value": values.get(key),
            }

        outputs = [
            {"id": o.split(".")[0], "property": o.split(".")[1]}
            for o in callback["output"].strip(".").split("...")
        ]
        inputs = [spec(d) for d in callback["inputs"]]
        body = {
            "output": callback["output"],
            "outputs": outputs if callback["output"].startswith("..") else outputs[0],
            "inputs": inputs,
            "state": [spec(d) for d in callback["state"]],
            "changedPropIds": changed or [f"{i['id']}.{i['property']}" for i in inputs],
        }
        response = self.client.post("/_dash-update-component", json=body)
        data = json.loads(response.data) if response.status_code == 200 else {}
        return response.status_code, data.get("response", {})

    def page(self, path: str, search: str = "") -> dict:
        """Render a page server-side through the pages router; returns its layout JSON."""
        status, response = self.call(
            "_pages_content",
            {"_pages_location.pathname": path, "_pages_location.search": search},
            prop="children",
        )
        assert status == 200, f"{path} returned {status}"
        return response["_pages_content"]["children"]


def walk(tree: object) -> list[dict]:
    """Every component dict in a layout JSON tree."""
    found: list[dict] = []
    if isinstance(tree, dict):
        if "type" in tree and "props" in tree:
            found.append(tree)
            tree = tree["props"]
        for value in tree.values():
            found.extend(walk(value))
    elif isinstance(tree, list):
        for item in tree:
            found.extend(walk(item))
    return found


def component(tree: object, id_: str) -> dict:
    for node in walk(tree):
        if node["props"].get("id") == id_:
            return node
    raise KeyError(id_)


def texts(tree: object) -> str:
    """All text in a layout tree, space-separated (to assert what a user reads)."""
    parts: list[str] = []

    def collect(node: object) -> None:
        if isinstance(node, str | int | float) and not isinstance(node, bool):
            parts.append(str(node))
        elif isinstance(node, list):
            for item in node:
                collect(item)
        elif isinstance(node, dict) and "props" in node:
            collect(node["props"].get("children"))

    collect(tree)
    return " ".join(parts)


@pytest.fixture(scope="session")
def sample_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One sample warehouse for the session (built from the real boundary pack's units)."""
    path: Path = tmp_path_factory.mktemp("warehouse") / "sample.db"
    url = f"sqlite:///{path}"
    sample_warehouse.build(url)
    return url


@pytest.fixture
def dash_client(sample_url: str) -> DashClient:
    return DashClient(mizan_app.create_app(sample_url))


@pytest.fixture
def make_client() -> Callable[[str], DashClient]:
    return lambda url: DashClient(mizan_app.create_app(url))


@pytest.fixture(scope="session")
def tiny_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The hand-built warehouse (`sample_warehouse.TINY_ROWS`) for exact assertions."""
    url = f"sqlite:///{tmp_path_factory.mktemp('tiny') / 'tiny.db'}"
    sample_warehouse.build(url, sample_warehouse.tiny_values())
    return url


@pytest.fixture
def tiny(tiny_url: str) -> DashClient:
    return DashClient(mizan_app.create_app(tiny_url))
