"""The request guard: who is signed in, whether the request is theirs (CSRF), and whether
their role may open what they ask for. Installed by `create_app` before any route runs.

Public (no session needed), decided by the *matched route*, not by the path text:
`/login` (form and POST), `/logout` (ends a session if there is one), `/assets/…` (our CSS
and JS), `/vendor/bootstrap.min.css`, `/_favicon.ico` and Dash's
`/_dash-component-suites/…` (library bundles; no data). Everything else needs a live
server-side session (`indicators.accounts.session_user`): a page GET without one is sent
to `/login?next=<path>`, any other request gets 401.

CSRF: the session's token is in the `_csrf_token` cookie (readable by scripts, SameSite
Strict); the Dash renderer copies it into an `X-CSRFToken` header on its requests, forms
send it as a `csrf_token` field. Every POST/PUT/PATCH/DELETE with a session must carry it
(compared in constant time), or gets 403. The cookie alone proves nothing: another site
can make the browser send cookies but cannot read them to copy into a header.

Roles: each page declares `allowed_roles`; the guard answers 403 to a page GET or a
callback (keyed by its output, exactly as Dash dispatches it) outside the user's role, and
the layouts and callbacks re-check (`dashboard.wiring`).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

import flask
from werkzeug.exceptions import Forbidden

from dashboard import session
from dashboard.i18n import t
from indicators import accounts
from indicators.scope import ROLES

ALL_ROLES = ROLES
ADMIN_ONLY = ("admin",)
# Data quality: administrators, leadership, and governorate users for their governorate.
DATA_QUALITY = ("admin", "leadership", "governorate")

SESSION_COOKIE = "mizan_session"
CSRF_COOKIE = "_csrf_token"  # the name the Dash renderer reads (Dash(csrf_token_name=))
CSRF_HEADER = "X-CSRFToken"
CSRF_FIELD = "csrf_token"
LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

PAGE_ROLES_KEY = "MIZAN_PAGE_ROLES"
CALLBACK_ROLES_KEY = "MIZAN_CALLBACK_ROLES"
UPDATE_COMPONENT = "/_dash-update-component"
ROUTER_OUTPUT = ".._pages_content.children..."  # Dash's pages router (content, title)
# Routes anyone may fetch: their rule strings, so `/assets/../x` cannot pass as an asset.
PUBLIC_RULES = frozenset(
    {
        "/assets/<path:filename>",
        "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>",
        "/_favicon.ico",
        "/vendor/bootstrap.min.css",
    }
)
SESSION_OPTIONAL_RULES = frozenset({LOGIN_PATH, LOGOUT_PATH})  # they check CSRF themselves
PAGE_RULES = frozenset({"/", "/<path:path>"})  # Dash's index: the HTML of every page


def page_key(path: str) -> str:
    """How Dash's page router compares paths (`_pages._path_to_page`): no outer slashes."""
    return path.strip("/")


def require_role(roles: Iterable[str]) -> None:
    """403 unless the signed-in user's role is in `roles` (401 without a user)."""
    if session.current_user().role not in tuple(roles):
        raise Forbidden("Your role may not open this page.")


def role_label(role: str) -> str:
    labels = {
        "admin": t("Administrator"),
        "leadership": t("Leadership"),
        "focal_point": t("Focal point"),
        "governorate": t("Governorate"),
    }
    return labels.get(role, role)


def page_allowed(role: str, path: str) -> bool:
    """May `role` open the page at `path`? Unknown paths (Dash's 404 page) are allowed."""
    roles = flask.current_app.config.get(PAGE_ROLES_KEY, {}).get(page_key(path))
    return roles is None or role in roles


def visible_pages(role: str) -> list[dict]:
    """The registered pages `role` may open, in navbar order."""
    import dash

    pages = sorted(dash.page_registry.values(), key=lambda p: p.get("order") or 0)
    return [p for p in pages if role in (p.get("allowed_roles") or ())]


# ---- the guard -----------------------------------------------------------------------------


def _rule() -> str | None:
    rule = flask.request.url_rule
    return rule.rule if rule is not None else None


def is_public() -> bool:
    return _rule() in PUBLIC_RULES


def _is_page_request() -> bool:
    return flask.request.method in {"GET", "HEAD"} and _rule() in PAGE_RULES


def _unauthenticated() -> flask.Response:
    if _is_page_request():
        target = flask.request.full_path.rstrip("?")
        return flask.redirect(flask.url_for("mizan_login", next=target), code=302)
    response = flask.jsonify(error="sign in first")
    response.status_code = 401
    return response


def _forbidden(message: str) -> flask.Response:
    if _is_page_request():
        from dashboard import login

        return login.message_page(message, 403)
    response = flask.jsonify(error=message)
    response.status_code = 403
    return response


def csrf_ok(expected: str | None) -> bool:
    sent = flask.request.headers.get(CSRF_HEADER)
    if sent is None and flask.request.mimetype in {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }:
        sent = flask.request.form.get(CSRF_FIELD)
    return bool(sent and expected) and hmac.compare_digest(sent.encode(), expected.encode())


def _callback_allowed(role: str) -> bool:
    """May `role` run the callback this request asks for? Keyed by the body's `output`,
    which is exactly what Dash looks the callback up by. The pages router renders the
    page named by its first input (Dash passes inputs by position), so it is checked like
    a page GET of that path."""
    body = flask.request.get_json(silent=True)
    output = body.get("output") if isinstance(body, dict) else None
    if not isinstance(output, str):
        return True  # not a callback Dash can run: Dash answers it with an error
    if output.startswith(ROUTER_OUTPUT):
        inputs = body.get("inputs")
        first = inputs[0] if isinstance(inputs, list) and inputs else None
        path = first.get("value") if isinstance(first, dict) else None
        return isinstance(path, str) and page_allowed(role, path)
    roles = flask.current_app.config.get(CALLBACK_ROLES_KEY, {}).get(output)
    return roles is None or role in roles


def load_session() -> None:
    """Resolve the session cookie into `flask.g` (user, its CSRF token, the cookie)."""
    token = flask.request.cookies.get(SESSION_COOKIE)
    found = accounts.session_user(session.warehouse_url(), token) if token else None
    user, csrf = found if found else (None, None)
    session.set_user(user)
    flask.g.mizan_csrf = csrf
    flask.g.mizan_token = token if found else None


def guard() -> flask.Response | None:
    """`before_request`: None lets the request through; a response refuses it."""
    session.set_user(None)
    flask.g.mizan_csrf = flask.g.mizan_token = None
    if is_public():
        return None  # no warehouse access for static files
    load_session()
    if _rule() in SESSION_OPTIONAL_RULES:
        return None
    user = session.signed_in_user()
    if user is None:
        return _unauthenticated()
    if flask.request.method not in SAFE_METHODS and not csrf_ok(flask.g.mizan_csrf):
        return _forbidden("missing or wrong CSRF token")
    if _is_page_request() and not page_allowed(user.role, flask.request.path):
        return _forbidden(t("Your role may not open this page."))
    if flask.request.path == UPDATE_COMPONENT and not _callback_allowed(user.role):
        return _forbidden("your role may not use this view")
    return None


def install(server: flask.Flask) -> None:
    server.before_request(guard)
