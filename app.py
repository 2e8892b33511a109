"""Mizan's Dash app: `create_app()` builds it, gunicorn serves `app:server`.

In demo mode nothing here touches the warehouse: the URL is only stored in the Flask
config, and pages read it per request, so importing this module (each gunicorn worker,
tests) is cheap. In production (`MIZAN_ENV=production`) `create_app` first checks the
configuration and the users table and refuses to start when anything is unsafe.

Every request passes the guard of `dashboard.auth` (session, CSRF, role) before any route
runs; see that module for the public routes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dash
import flask
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard import auth, figures, headers, login, production, routes, shell, wiring
from indicators import config, warmup

PROJECT_DIR = Path(__file__).resolve().parent
MAX_REQUEST_BYTES = 4 * 1024 * 1024  # callback payloads are small; refuse huge bodies


def create_app(url: str | None = None) -> dash.Dash:
    """A fresh app reading the warehouse at `url` (default: the configured one)."""
    url = url or config.db_url()
    production.check(url)
    # No Flask static folder: every route the app has is one we know and guard.
    server = flask.Flask(__name__, static_folder=None)
    server.secret_key = config.secret_key()
    server.config.update(
        MIZAN_DB_URL=url,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies(),
    )
    proxies = config.trusted_proxies()
    if proxies:
        server.wsgi_app = ProxyFix(
            server.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(PROJECT_DIR / "dashboard" / "pages"),
        assets_folder=str(PROJECT_DIR / "assets"),
        external_stylesheets=[routes.BOOTSTRAP_URL],
        title="Mizan",
        # Page layouts read the warehouse (filter options, headline cards). Without this,
        # Dash would call every page layout on the first request to build a validation
        # layout and embed it in each index page; tests check callback ids instead.
        suppress_callback_exceptions=True,
        update_title=None,
        enable_mcp=False,
        include_pages_meta=False,  # an internal tool: no social-media preview tags
        serve_locally=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
        csrf_token_name=auth.CSRF_COOKIE,
        csrf_header_name=auth.CSRF_HEADER,
    )
    auth.install(server)
    headers.install(app)
    login.register(server)
    routes.register(server)
    wiring.register_pages(app)
    app.layout = shell.layout
    # plotly 7.1 races on lazily built templates under threaded workers (dash.md §4.1).
    figures.warm_up()
    # Dash registers its script paths on the first request, after marking it done: under
    # threaded workers a script requested meanwhile got a 500 (found by
    # benchmarks/first_paint). Doing that first-request setup now closes the race.
    with server.test_request_context("/"):
        app._setup_server()
    return app


GUNICORN_BOOT_ERROR = 3  # a worker exiting with it makes gunicorn stop instead of respawning

try:
    app = create_app()
except production.ProductionConfigError as error:
    print(f"mizan: {error}", file=sys.stderr)
    sys.exit(GUNICORN_BOOT_ERROR if "gunicorn.arbiter" in sys.modules else 1)
server = app.server

if __name__ == "__main__":
    if config.production():
        sys.exit("mizan: production is served by gunicorn: gunicorn -c gunicorn.conf.py app:server")
    warmup.start()
    # The version check would call dash-version.plotly.com: the deployment is offline.
    app.run(
        host=config.host(),
        port=config.port(),
        debug=config.debug(),
        dev_tools_disable_version_check=True,
    )
