"""Plain Flask routes next to Dash: vendored Bootstrap CSS and the boundary GeoJSON.

Both are read from where they are installed (the bootstrap-flask package, the deployment's
boundary pack) instead of being copied into the repository, and both are cacheable by
the browser so maps and pages load once per session, offline. The CSS is public (the
sign-in page uses it); the boundaries need a session like everything else.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import flask
import flask_bootstrap

from indicators import geography

BOOTSTRAP_URL = "/vendor/bootstrap.min.css"
GEOJSON_URLS = {1: "/geo/adm1.geojson", 2: "/geo/adm2.geojson"}
MAX_AGE_S = 3600


def bootstrap_css_path() -> Path:
    """Bootstrap 5 as shipped by the bootstrap-flask package."""
    package = Path(flask_bootstrap.__file__).resolve().parent
    return package / "static" / "bootstrap5" / "css" / "bootstrap.min.css"


def _bootstrap_css() -> flask.Response:
    return flask.send_file(bootstrap_css_path(), mimetype="text/css", max_age=MAX_AGE_S)


@cache
def _geojson_bytes(level: int, directory: str) -> bytes | None:
    """Parsed once per pack folder; re-serialised compactly (no whitespace)."""
    data = geography.geojson(level)
    return None if data is None else json.dumps(data, separators=(",", ":")).encode("utf-8")


def _geojson(level: int) -> flask.Response:
    body = _geojson_bytes(level, str(geography.boundary_pack().directory))
    if body is None:
        flask.abort(404, "no boundary pack installed (MIZAN_GEO_DIR)")
    response = flask.Response(body, mimetype="application/geo+json")
    response.cache_control.max_age = MAX_AGE_S
    response.cache_control.private = True  # served to signed-in users only
    return response


def register(server: flask.Flask) -> None:
    """Add the routes to one Flask server (called by `create_app`, once per app)."""
    server.add_url_rule(BOOTSTRAP_URL, "mizan_bootstrap_css", _bootstrap_css)
    server.add_url_rule(GEOJSON_URLS[1], "mizan_geo_adm1", lambda: _geojson(1))
    server.add_url_rule(GEOJSON_URLS[2], "mizan_geo_adm2", lambda: _geojson(2))
