"""Mizan's Dash app: `create_app()` builds it, gunicorn serves `app:server`.

Nothing here touches the warehouse: the URL is only stored in the Flask config, and
pages read it per request, so importing this module (gunicorn `--preload`, tests) is cheap.
"""

from __future__ import annotations

from pathlib import Path

import dash

from dashboard import figures, routes, shell, wiring
from indicators import config

PROJECT_DIR = Path(__file__).resolve().parent


def create_app(url: str | None = None) -> dash.Dash:
    """A fresh app reading the warehouse at `url` (default: the configured one)."""
    app = dash.Dash(
        __name__,
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
    )
    server = app.server
    server.config["MIZAN_DB_URL"] = url or config.db_url()
    routes.register(server)
    wiring.register_pages(app)
    app.layout = shell.layout
    # plotly 7.1 races on lazily built templates under threaded workers (dash.md §4.1).
    figures.warm_up()
    return app


app = create_app()
server = app.server

if __name__ == "__main__":
    # The version check would call dash-version.plotly.com: the deployment is offline.
    app.run(
        host=config.host(),
        port=config.port(),
        debug=config.debug(),
        dev_tools_disable_version_check=True,
    )
