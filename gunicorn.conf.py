"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py app:server`.

Every value can be overridden by the environment (GUNICORN_CMD_ARGS or the MIZAN_* below).
Each worker builds the app itself (no `preload_app`): polars' thread pool does not survive
`fork`, so a master that had touched polars would hand its workers a pool that deadlocks on
their first data callback (found by `benchmarks/callback_load.py`). The production checks
run in every worker; one failing makes the worker exit with gunicorn's boot-error code, and
gunicorn then stops with the check's message.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = f"{os.environ.get('MIZAN_HOST', '').strip() or '127.0.0.1'}:{_int('MIZAN_PORT', 8050)}"
workers = _int("MIZAN_WORKERS", 2 * multiprocessing.cpu_count())
worker_class = "gthread"
threads = min(max(_int("MIZAN_THREADS", 4), 2), 4)
preload_app = False  # see above: polars and fork
timeout = 60  # a callback slower than this is a bug; the worker is restarted
graceful_timeout = 30
keepalive = 5
max_requests = 1000  # recycle workers against slow memory growth ...
max_requests_jitter = 100  # ... but not all at the same moment
# Bodies and headers: Dash callback payloads are small (the app refuses bodies over 4 MB).
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("MIZAN_LOG_LEVEL", "info")
# The access log records the path and status, not query strings with selections or cookies.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
# The client address behind a reverse proxy: set MIZAN_TRUSTED_PROXIES (werkzeug ProxyFix
# in the app), so lockouts and the audit see the real client, not the proxy.


def post_worker_init(worker) -> None:  # noqa: ANN001 (gunicorn's hook signature)
    """Warm the query cache in the background once the worker has built the app."""
    from indicators import warmup

    warmup.start()
