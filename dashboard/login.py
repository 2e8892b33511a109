"""Sign-in and sign-out: a plain Flask HTML form (no Dash needed before a session exists).

The flow is one small interface, so a later OIDC login adds a route and reuses the rest:

    password form:  accounts.authenticate(url, name, password, client) -> User | None
    OIDC (later):   IdP callback -> claims -> accounts.active_user(url, mapped name) -> User
    both:           sign_in(user, next) -> new server-side session, cookies, redirect

The form is protected against login CSRF with a signed double-submit token: a random nonce
in an HttpOnly cookie scoped to /login, and `nonce.HMAC(secret, nonce)` in the form, so a
page elsewhere can neither read nor forge the pair. Failures show one generic message
whatever the reason (unknown user, wrong password, locked, disabled, throttled); the
reason goes to the audit trail (`accounts.authenticate`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

import flask

from dashboard import auth, session
from dashboard.i18n import is_rtl, t
from indicators import accounts, config
from indicators.accounts import User

LOGIN_CSRF_COOKIE = "mizan_login_csrf"
LOGIN_CSRF_MAX_AGE = 3600
MAX_USERNAME = 64  # the users table's column
MAX_PASSWORD = 1024

PAGE = """<!DOCTYPE html>
<html lang="{{ lang }}" dir="{{ direction }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<link rel="icon" type="image/x-icon" href="/_favicon.ico">
<link rel="stylesheet" href="/vendor/bootstrap.min.css">
<link rel="stylesheet" href="/assets/mizan.css">
</head>
<body class="login-page">
<main class="login-box">
<div class="card login-card">
<div class="card-body">
<p class="login-brand mb-0"><span class="brand-name">Mizan</span></p>
<p class="login-sub">{{ subtitle }}</p>
{% if form %}
<h1 class="h5 mb-3">{{ heading }}</h1>
{% if error %}
<div class="alert alert-danger py-2" role="alert" id="login-error">{{ error }}</div>
{% endif %}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next }}">
<div class="mb-3">
<label for="username" class="form-label">{{ username_label }}</label>
<input id="username" name="username" class="form-control" autocomplete="username"
 maxlength="64" required {% if not username %}autofocus {% endif %}value="{{ username }}">
</div>
<div class="mb-3">
<label for="password" class="form-label">{{ password_label }}</label>
<input id="password" name="password" type="password" class="form-control"
 autocomplete="current-password" maxlength="1024" required{% if username %} autofocus{% endif %}>
</div>
<button id="login-button" type="submit" class="btn btn-primary w-100">{{ button }}</button>
</form>
<p class="small text-muted mt-3 mb-0">{{ lockout }}</p>
{% else %}
<div class="alert alert-warning" role="alert" id="message">{{ message }}</div>
<a href="/" class="btn btn-outline-primary">{{ back }}</a>
{% endif %}
</div>
</div>
{% if demo %}<p class="small text-center mt-3 demo-note" id="demo-note">{{ demo }}</p>{% endif %}
</main>
</body>
</html>
"""


def _render(status: int, **values: object) -> flask.Response:
    common = {
        "lang": config.language(),
        "direction": "rtl" if is_rtl() else "ltr",
        "title": f"Mizan · {t('Sign in')}",
        "subtitle": t("Immunization and environment analytics"),
        "demo": "" if config.production() else t(
            "Demo mode: synthetic data and demo accounts. Never enter real data here."
        ),
    }
    html = flask.render_template_string(PAGE, **(common | values))
    response = flask.make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def message_page(message: str, status: int) -> flask.Response:
    """A small page for a refusal (403) in the login page's look."""
    return _render(status, form=False, message=message, back=t("Back to the dashboard"))


# ---- login CSRF (signed double submit) -------------------------------------------------------


def _signature(nonce: str) -> str:
    key = str(flask.current_app.secret_key or "").encode()
    return hmac.new(key, b"mizan-login|" + nonce.encode(), hashlib.sha256).hexdigest()


def _login_nonce() -> str:
    """The browser's nonce if it has a plausible one (several tabs keep working), else new."""
    nonce = flask.request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return nonce if 20 <= len(nonce) <= 100 else secrets.token_urlsafe(32)


def _login_token_ok() -> bool:
    nonce = flask.request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = flask.request.form.get(auth.CSRF_FIELD, "")
    sent_nonce, _, signature = sent.partition(".")
    return bool(nonce) and hmac.compare_digest(sent_nonce.encode(), nonce.encode()) and (
        hmac.compare_digest(signature.encode(), _signature(nonce).encode())
    )


def _form(status: int = 200, error: str = "", username: str = "", target: str = "/"):
    nonce = _login_nonce()
    response = _render(
        status,
        form=True,
        heading=t("Sign in"),
        error=error,
        csrf=f"{nonce}.{_signature(nonce)}",
        next=target,
        username=username,
        username_label=t("User name"),
        password_label=t("Password"),
        button=t("Sign in"),
        lockout=t(
            "After {failures} failed attempts an account is locked for {minutes} minutes. "
            "Ask an administrator if you cannot sign in."
        ).format(
            failures=accounts.MAX_FAILURES,
            minutes=int(accounts.LOCKOUT.total_seconds() // 60),
        ),
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        nonce,
        max_age=LOGIN_CSRF_MAX_AGE,
        path=auth.LOGIN_PATH,
        httponly=True,
        samesite="Strict",
        secure=config.secure_cookies(),
    )
    return response


# ---- redirects ---------------------------------------------------------------------------


def safe_next(target: str | None) -> str:
    """A local path to go to after sign-in; anything else (another host, a scheme, `//x`,
    `/\\x`, control characters, the login pages themselves) means `/`."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return "/"
    if target.startswith(("//", "/\\")) or any(ord(c) < 32 or c == "\\" for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    if parts.path in (auth.LOGIN_PATH, auth.LOGOUT_PATH):
        return "/"
    return target


# ---- sessions ----------------------------------------------------------------------------


def sign_in(user: User, target: str) -> flask.Response:
    """Start a fresh session for an authenticated user and go to `target` (a safe path).

    Any session the browser already had ends first (no session fixation). A future OIDC
    callback calls this too, after mapping the IdP's claims to an active Mizan user.
    """
    url, client = session.warehouse_url(), session.client_address()
    old = flask.request.cookies.get(auth.SESSION_COOKIE)
    if old:
        accounts.end_session(url, old, client)
    token, csrf = accounts.start_session(url, user)
    response = flask.redirect(safe_next(target), code=303)
    secure = config.secure_cookies()
    response.set_cookie(
        auth.SESSION_COOKIE, token, path="/", httponly=True, samesite="Lax", secure=secure
    )
    # Not HttpOnly: the Dash renderer reads it and sends it back as the X-CSRFToken header.
    response.set_cookie(
        auth.CSRF_COOKIE, csrf, path="/", httponly=False, samesite="Strict", secure=secure
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=auth.LOGIN_PATH)
    return response


def _clear(response: flask.Response) -> flask.Response:
    secure = config.secure_cookies()
    response.delete_cookie(auth.SESSION_COOKIE, path="/", httponly=True, secure=secure)
    response.delete_cookie(auth.CSRF_COOKIE, path="/", secure=secure)
    return response


def login() -> flask.Response:
    target = safe_next(flask.request.values.get("next"))
    if flask.request.method != "POST":
        if session.signed_in_user() is not None:
            return flask.redirect(target, code=303)
        return _form(target=target)
    if not _login_token_ok():
        return _form(400, t("The sign-in form expired. Please try again."), target=target)
    username = flask.request.form.get("username", "").strip()
    password = flask.request.form.get("password", "")
    user = None
    if username and password and len(username) <= MAX_USERNAME and len(password) <= MAX_PASSWORD:
        user = accounts.authenticate(
            session.warehouse_url(), username, password, session.client_address()
        )
    if user is None:
        generic = t(
            "Sign-in failed. Check your user name and password, or try again later."
        )
        return _form(401, generic, username[:MAX_USERNAME], target)
    return sign_in(user, target)


def logout() -> flask.Response:
    """POST only, with the session's CSRF token: ends the server-side session."""
    token = flask.g.get("mizan_token")
    if token:
        if not auth.csrf_ok(flask.g.get("mizan_csrf")):
            return message_page(t("Sign-out needs the form's security token."), 403)
        accounts.end_session(session.warehouse_url(), token, session.client_address())
    return _clear(flask.redirect(flask.url_for("mizan_login"), code=303))


def register(server: flask.Flask) -> None:
    server.add_url_rule(auth.LOGIN_PATH, "mizan_login", login, methods=["GET", "POST"])
    server.add_url_rule(auth.LOGOUT_PATH, "mizan_logout", logout, methods=["POST"])
