"""Attach page callbacks to the app being built, not to Dash's process-global list, and
attach each page's role gate to its layout and to every one of its callbacks.

`@dash.callback` queues callbacks globally and the first app to serve a request takes
them all, and `dash.get_app()` can return a previous app (its context variable leaks out
of request handling). Both break a factory that builds more than one app per process
(tests, or the module-level app plus a test app). Pages therefore declare callbacks on
their own `callbacks` collector, and `create_app` registers each page's collector on its
own app with the public `app.callback`.

Every page declares `allowed_roles=` in `dash.register_page`; a page without it refuses to
start. The roles are enforced three times, because anyone can POST any callback:
the request guard checks a page GET and a callback's output key before any page code runs
(`dashboard.auth`), and the layout function and each callback function re-check inside.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable

import dash

from dashboard import auth
from indicators import queries


class Callbacks:
    """A page's callbacks, waiting for `register(app)`; used like `@callback(...)`."""

    def __init__(self) -> None:
        self._pending: list[tuple[tuple, dict, Callable]] = []

    def __call__(self, *dependencies: object, **options: object) -> Callable:
        def collect(function: Callable) -> Callable:
            self._pending.append((dependencies, options, function))
            return function

        return collect

    def register(self, app: dash.Dash, roles: Iterable[str]) -> None:
        for dependencies, options, function in self._pending:
            app.callback(*dependencies, **options)(role_checked(function, roles))


def role_checked(function: Callable, roles: Iterable[str]) -> Callable:
    """`function`, refusing (403) a signed-in user whose role is not in `roles`, and reading
    the data version once for all its queries."""
    allowed = tuple(roles)
    if getattr(function, "mizan_roles", None) == allowed:
        return function

    @functools.wraps(function)
    def checked(*args: object, **kwargs: object) -> object:
        auth.require_role(allowed)
        with queries.one_version():  # one data version (and one read of it) per call
            return function(*args, **kwargs)

    checked.mizan_roles = allowed  # type: ignore[attr-defined]
    return checked


def register_pages(app: dash.Dash) -> None:
    """Register the callbacks of every page module Dash just executed for `app`, wrap the
    page layouts in their role check, and give the request guard the role of every page
    path and every callback output key."""
    page_roles: dict[str, tuple[str, ...]] = {}
    callback_roles: dict[str, tuple[str, ...]] = {}
    for page in dash.page_registry.values():
        roles = page.get("allowed_roles")
        if not roles or not set(roles) <= set(auth.ALL_ROLES):
            raise RuntimeError(f"page {page['module']} needs allowed_roles= (roles it is for)")
        if page.get("path_template"):
            raise RuntimeError(f"page {page['module']}: path templates are not role-checked")
        roles = tuple(roles)
        page_roles[auth.page_key(page["path"])] = roles
        if callable(page.get("layout")):
            page["layout"] = role_checked(page["layout"], roles)
        module = sys.modules.get(page["module"])
        collector = getattr(module, "callbacks", None)
        if isinstance(collector, Callbacks):
            before = set(app.callback_map)
            collector.register(app, roles)
            callback_roles |= dict.fromkeys(set(app.callback_map) - before, roles)
    app.server.config[auth.PAGE_ROLES_KEY] = page_roles
    app.server.config[auth.CALLBACK_ROLES_KEY] = callback_roles
