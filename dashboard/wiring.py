"""Attach page callbacks to the app being built, not to Dash's process-global list.

`@dash.callback` queues callbacks globally and the first app to serve a request takes
them all, and `dash.get_app()` can return a previous app (its context variable leaks out
of request handling). Both break a factory that builds more than one app per process
(tests, or the module-level app plus a test app). Pages therefore declare callbacks on
their own `callbacks` collector, and `create_app` registers each page's collector on its
own app with the public `app.callback`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import dash


class Callbacks:
    """A page's callbacks, waiting for `register(app)`; used like `@callback(...)`."""

    def __init__(self) -> None:
        self._pending: list[tuple[tuple, dict, Callable]] = []

    def __call__(self, *dependencies: object, **options: object) -> Callable:
        def collect(function: Callable) -> Callable:
            self._pending.append((dependencies, options, function))
            return function

        return collect

    def register(self, app: dash.Dash) -> None:
        for dependencies, options, function in self._pending:
            app.callback(*dependencies, **options)(function)


def register_pages(app: dash.Dash) -> None:
    """Register the callbacks of every page module Dash just executed for `app`."""
    for page in dash.page_registry.values():
        module = sys.modules.get(page["module"])
        collector = getattr(module, "callbacks", None)
        if isinstance(collector, Callbacks):
            collector.register(app)
