"""Security headers on every response, and a Content-Security-Policy that Dash runs under.

The policy was tightened in headless Chromium, one directive at a time, until the pages,
maps, filters and downloads ran with no console error; each exception below was needed
(removing it shows CSP violations in the console):

- scripts: only this origin, plus the SHA-256 of each inline script Dash writes into its
  index page (the renderer start-up line and the inline clientside callbacks, from
  `Dash.csp_hashes()`); no 'unsafe-inline' and no 'unsafe-eval' (Dash 4, Plotly 7 and
  MapLibre run without eval);
- styles: this origin and inline styles (the renderer, the Dash components and Plotly
  inject them at run time; a style cannot run script);
- images: this origin and `data:` (Bootstrap's radio and check icons are SVG data URIs);
- workers: this origin and `blob:` (MapLibre starts its worker from a blob);
- connections, fonts, forms: this origin only; no plugins, no framing, no `<base>`.
"""

from __future__ import annotations

import dash
import flask

from dashboard import auth
from indicators import config

# Static, cacheable library files and styles: no `no-store` for them.
CACHEABLE_RULES = auth.PUBLIC_RULES | {"/geo/adm1.geojson", "/geo/adm2.geojson"}


def content_security_policy(script_hashes: list[str]) -> str:
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def install(app: dash.Dash) -> None:
    """Add the headers to every response of `app` (errors and redirects included)."""
    cached: dict[tuple[str, ...], str] = {}

    def policy() -> str:
        # Dash adds an inline script (the pages router's title callback) on its first
        # request, so the hashes are read per response; the policy text is cached.
        hashes = tuple(app.csp_hashes())
        if hashes not in cached:
            cached.clear()
            cached[hashes] = content_security_policy(list(hashes))
        return cached[hashes]

    def add_headers(response: flask.Response) -> flask.Response:
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        headers["Content-Security-Policy"] = policy()
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        if config.secure_cookies():
            headers["Strict-Transport-Security"] = "max-age=31536000"
        rule = flask.request.url_rule
        if rule is None or rule.rule not in CACHEABLE_RULES:
            # Health data and session-bound pages: never kept by a browser or proxy cache.
            headers["Cache-Control"] = "no-store"
        return response

    app.server.after_request(add_headers)
