"""Who is asking and which warehouse they read: the two things every callback needs.

Access control (a later issue) replaces only `current_scope`; every page already passes
its result to the query layer, which applies it to every read.
"""

from __future__ import annotations

import flask

from indicators import config
from indicators.scope import Scope

DB_URL_KEY = "MIZAN_DB_URL"


def current_scope() -> Scope:
    """The scope of the current request's user (everyone is national until login exists)."""
    return Scope.national()


def warehouse_url() -> str:
    """The warehouse of the app serving this request (set by `create_app`)."""
    if flask.has_app_context():
        return flask.current_app.config.get(DB_URL_KEY) or config.db_url()
    return config.db_url()
