"""Who is asking and which warehouse they read: the two things every callback needs.

The request guard (`dashboard.auth`) resolves the session cookie once per request and puts
the user on `flask.g`; everything here reads it from there. Without a signed-in user,
`current_user` and `current_scope` raise (HTTP 401 inside a request): there is no
fallback to a national scope, so a code path that forgot the guard fails closed.
"""

from __future__ import annotations

import flask
from werkzeug.exceptions import Unauthorized

from indicators import accounts, config
from indicators.accounts import User
from indicators.scope import Scope

DB_URL_KEY = "MIZAN_DB_URL"
USER_KEY = "mizan_user"


class NotSignedIn(Unauthorized):
    """No signed-in user for this request (a 401 when raised while serving one)."""

    description = "Sign in first."


def set_user(user: User | None) -> None:
    """Called by the request guard only."""
    setattr(flask.g, USER_KEY, user)


def signed_in_user() -> User | None:
    """The user, or None (for code that renders something harmless either way)."""
    if not flask.has_app_context():
        return None
    return flask.g.get(USER_KEY)


def current_user() -> User:
    """The signed-in user of this request; raises `NotSignedIn` without one."""
    user = signed_in_user()
    if user is None:
        raise NotSignedIn()
    return user


def current_scope() -> Scope:
    """The rows the current user may read: every query is filtered by it."""
    return current_user().scope


def client_address() -> str:
    """The client's address as the server sees it (made the real client's by ProxyFix
    when MIZAN_TRUSTED_PROXIES says how many proxies to trust)."""
    if not flask.has_request_context():
        return ""
    return flask.request.remote_addr or ""


def warehouse_url() -> str:
    """The warehouse of the app serving this request (set by `create_app`)."""
    if flask.has_app_context():
        return flask.current_app.config.get(DB_URL_KEY) or config.db_url()
    return config.db_url()


def audit(event: str, detail: dict) -> None:
    """Append an event by the current user to the audit trail (raises without a user)."""
    user = current_user()
    accounts.audit(warehouse_url(), user.username, event, detail, client_address())
