"""Query results cached per data version: in each process, and shared between processes.

A cached function takes the data version as its first argument, so a new load makes new
keys and an answer can never outlive its data; old entries simply age out. The version is
the latest successful load's id and start time, so a warehouse that is recreated (ids start
again at 1) cannot meet the answers of its predecessor.

The shared layer is a folder (`MIZAN_CACHE_DIR`, written atomically by cachelib), so the
gunicorn workers of one machine compute each answer once. Machines behind a load balancer
each keep their own folder: with versioned keys there is nothing to invalidate between them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar

from cachelib import FileSystemCache

from indicators import config

T = TypeVar("T")
SHARED_ENTRIES = 2_000  # files kept before cachelib prunes the oldest
SHARED_SECONDS = 24 * 3600

_lock = threading.Lock()
_shared: dict[str, FileSystemCache] = {}


def shared_store() -> FileSystemCache | None:
    """The folder cache of this machine, or None when `MIZAN_CACHE_DIR` is empty."""
    folder = config.cache_dir()
    if folder is None:
        return None
    key = str(folder)
    with _lock:
        if key not in _shared:
            _shared[key] = FileSystemCache(
                key, threshold=SHARED_ENTRIES, default_timeout=SHARED_SECONDS
            )
        return _shared[key]


def versioned(maxsize: int) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Cache `function(version, *args)` in this process (LRU) and in the shared store.

    Arguments must be hashable and have a stable `repr` (strings, numbers, tuples, frozen
    dataclasses such as `Scope`): the shared key is a digest of the name and the arguments.
    """

    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        name = f"{function.__module__}.{function.__qualname__}"

        @lru_cache(maxsize=maxsize)
        @wraps(function)
        def cached(*args: Any) -> T:
            store = shared_store()
            if store is None:
                return function(*args)
            key = hashlib.sha256(repr((name, args)).encode()).hexdigest()
            hit = store.get(key)
            if hit is not None:
                return hit[0]
            value = function(*args)
            store.set(key, (value,))  # a tuple, so that a cached None is still a hit
            return value

        return cached

    return decorate
