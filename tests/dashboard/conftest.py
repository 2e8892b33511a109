"""Fixtures for the dashboard's browser-free tests: a sample warehouse with one user per
role, an app on it, and a client that signs in through the real login form and calls
callbacks through `/_dash-update-component` like the renderer does (CSRF header included)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

import app as mizan_app
from dashboard import auth
from indicators import accounts
from tests.dashboard import sample_warehouse

PASSWORD = "test-password-1"
# name: (role, governorate). `baghdad` (IQG08) has rows in the tiny warehouse too.
USERS = {
    "admin": ("admin", None),
    "leader": ("leadership", None),
    "focal": ("focal_point", None),
    "basra": ("governorate", "IQG02"),
    "baghdad": ("governorate", "IQG08"),
}
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_users(url: str) -> None:
    """One user per role (and two governorate users), made with the real account layer."""
    existing = set(accounts.list_users(url)["username"])
    for name, (role, governorate) in USERS.items():
        if name not in existing:
            accounts.add_user(url, name, PASSWORD, role, governorate, actor="tests")


def login_token(client) -> str:  # noqa: ANN001
    """GET /login and read the form's login-CSRF token (its cookie stays in `client`)."""
    page = client.get("/login").data.decode()
    match = CSRF_FIELD.search(page)
    assert match, "the login form has no csrf_token field"
    return match.group(1)


def sign_in(client, user: str, password: str = PASSWORD, next_: str = "/"):  # noqa: ANN001
    """Submit the login form as a browser would; returns the response (303 on success)."""
    token = login_token(client)
    return client.post(
        "/login",
        data={"username": user, "password": password, "csrf_token": token, "next": next_},
    )


class DashClient:
    """Flask test client speaking Dash's callback protocol, signed in as `user`
    (None: anonymous, for the guard's tests)."""

    def __init__(self, dash_app, user: str | None = "admin") -> None:  # noqa: ANN001
        self.app = dash_app
        self.user = user
        self.client = dash_app.server.test_client()
        self.client.get("/login")  # the first request registers the pages router
        if user is not None:
            response = sign_in(self.client, user)
            assert response.status_code == 303, f"could not sign in as {user}"
            self.callbacks = json.loads(self.client.get("/_dash-dependencies").data)
        else:
            self.callbacks = []

    @property
    def csrf(self) -> str | None:
        cookie = self.client.get_cookie(auth.CSRF_COOKIE)
        return cookie.value if cookie else None

    def post(self, body: dict, csrf: bool = True):  # noqa: ANN201
        headers = {auth.CSRF_HEADER: self.csrf} if csrf and self.csrf else {}
        return self.client.post("/_dash-update-component", json=body, headers=headers)

    def find(self, output_id: str, prop: str | None = None) -> dict:
        """The callback that writes `output_id` (`.prop` narrows multi-output ones)."""
        wanted = f"{output_id}.{prop}" if prop else f"{output_id}."
        for callback in self.callbacks:
            outputs = callback["output"].strip(".").split("...")
            if any(o == wanted or (prop is None and o.startswith(wanted)) for o in outputs):
                return callback
        raise KeyError(output_id)

    def body(
        self,
        output_id: str,
        values: dict[str, object],
        prop: str | None = None,
        changed: list[str] | None = None,
    ) -> dict:
        """The request body the renderer would send for one callback."""
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
        return {
            "output": callback["output"],
            "outputs": outputs if callback["output"].startswith("..") else outputs[0],
            "inputs": inputs,
            "state": [spec(d) for d in callback["state"]],
            "changedPropIds": changed or [f"{i['id']}.{i['property']}" for i in inputs],
        }

    def call(
        self,
        output_id: str,
        values: dict[str, object],
        prop: str | None = None,
        changed: list[str] | None = None,
    ) -> tuple[int, dict]:
        """Post one callback. `values` maps "id.prop" to each input/state value."""
        response = self.post(self.body(output_id, values, prop, changed))
        data = json.loads(response.data) if response.status_code == 200 else {}
        return response.status_code, data.get("response", {})

    def page_status(self, path: str, search: str = "") -> int:
        """The status of rendering a page through the pages router (403 when refused)."""
        status, _ = self.call(
            "_pages_content",
            {"_pages_location.pathname": path, "_pages_location.search": search},
            prop="children",
        )
        return status

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
    add_users(url)
    return url


@pytest.fixture
def dash_client(sample_url: str) -> DashClient:
    return DashClient(mizan_app.create_app(sample_url))


@pytest.fixture
def make_client() -> Callable[..., DashClient]:
    """`make_client(url, user="admin")`: an app on `url` (users added) and a client."""

    def make(url: str, user: str | None = "admin") -> DashClient:
        add_users(url)
        return DashClient(mizan_app.create_app(url), user)

    return make


@pytest.fixture(scope="session")
def tiny_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The hand-built warehouse (`sample_warehouse.TINY_ROWS`) for exact assertions."""
    url = f"sqlite:///{tmp_path_factory.mktemp('tiny') / 'tiny.db'}"
    sample_warehouse.build(url, sample_warehouse.tiny_values())
    add_users(url)
    return url


@pytest.fixture(scope="session")
def admin_url(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> str:
    """Registry and DHIS2 data loaded by the real loaders (`admin_warehouse`): the tiny
    Baghdad instance, with the boundary pack."""
    from tests.dashboard import admin_warehouse

    folder = tmp_path_factory.mktemp("admin")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MIZAN_GEO_DIR", str(shared_data))
        url = admin_warehouse.build(folder, f"sqlite:///{folder / 'warehouse.db'}")
    add_users(url)
    return url


@pytest.fixture
def tiny(tiny_url: str) -> DashClient:
    """An administrator on the tiny warehouse (sees everything, like the CLI)."""
    return DashClient(mizan_app.create_app(tiny_url))
