"""Keep the query cache warm: after a start or a load, read every registry indicator and the
facility months once in the background, so that no user waits for a whole-table read
(about half a second each at national scale; `queries.indicator_rows`,
`environment_views.facility_rows`).

The shared cache store makes the reads once per data version for all workers of a machine:
one worker reads while the others wait for it, then find every indicator stored. Started by
gunicorn's `post_worker_init` and by the demo server; `MIZAN_WARM_INTERVAL` (seconds
between version checks, 0 = off) configures it.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from indicators import config, environment_views, queries

log = logging.getLogger(__name__)


def start(url: str | None = None, stop: threading.Event | None = None) -> threading.Thread | None:
    """Start the background warmer (a daemon thread), unless switched off; setting `stop`
    ends it."""
    interval = config.warm_interval()
    if interval <= 0:
        return None
    thread = threading.Thread(
        target=_run,
        args=(url, interval, stop or threading.Event()),
        name="mizan-cache-warmer",
        daemon=True,
    )
    thread.start()
    return thread


def _run(url: str | None, interval: float, stop: threading.Event) -> None:
    warmed = None
    while not stop.is_set():
        try:
            version = queries.data_version(url)
            if version != warmed:
                started = time.perf_counter()
                with _one_at_a_time():
                    count = queries.warm(url)
                    environment_views.warm(url)
                warmed = version
                log.info("warmed %d indicators in %.1f s", count, time.perf_counter() - started)
        except Exception:  # a warehouse being recreated or unreachable: try again later
            log.exception("cache warm-up failed; retrying in %s s", interval)
        stop.wait(interval)


@contextmanager
def _one_at_a_time() -> Iterator[None]:
    """One warming worker per machine (a lock beside the shared store): workers warming side
    by side would read each indicator once each, on the cores users need."""
    folder = config.cache_dir()
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "warm.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
