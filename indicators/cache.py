"""Query results cached per data version: in each process, and shared between processes.

A cached function takes the data version as its first argument, so a new load makes new
keys and an answer can never outlive its data; old versions' folders are deleted. The version is
the latest successful load's id and start time, so a warehouse that is recreated (ids start
again at 1) cannot meet the answers of its predecessor.

The shared layer is a folder (`MIZAN_CACHE_DIR`, written atomically by cachelib), so the
gunicorn workers of one machine compute each answer once. Machines behind a load balancer
each keep their own folder: with versioned keys there is nothing to invalidate between them.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from collections.abc import Callable
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any, TypeVar

from cachelib import FileSystemCache

from indicators import config

T = TypeVar("T")
STALE_SECONDS = 600  # another version's folder untouched this long is deleted

_lock = threading.Lock()
_shared: dict[str, FileSystemCache] = {}


def shared_store(version: object) -> FileSystemCache | None:
    """This machine's folder for one data version, or None when `MIZAN_CACHE_DIR` is `off`.

    One folder per version, never pruned entry by entry (cachelib's pruning opens every
    file on every write once a threshold is passed: seconds per write at a few thousand
    entries). When a new version's folder is made, the folders of versions nobody has
    written to for `STALE_SECONDS` are deleted whole, so a worker still answering from the
    previous version a moment after a load is not pulled from under its feet.
    """
    root = config.cache_dir()
    if root is None:
        return None
    folder = root / hashlib.sha256(repr(version).encode()).hexdigest()[:20]
    with _lock:
        store = _shared.get(str(folder))
        if store is None:
            _delete_stale(root, keep=folder)
            store = _shared[str(folder)] = FileSystemCache(str(folder), threshold=0)
        return store


def _delete_stale(root: Path, keep: Path) -> None:
    if not root.is_dir():
        return
    cutoff = time.time() - STALE_SECONDS
    for folder in root.iterdir():
        if folder != keep and folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


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
            store = shared_store(args[0])
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
