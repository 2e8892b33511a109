"""A small progress display for long CLI steps: a bar on a terminal, plain lines in logs."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class Progress:
    """Numbered steps with their durations; `bar` redraws one line while a step advances."""

    def __init__(self, total_steps: int, stream: TextIO | None = None, quiet: bool = False):
        self.total = total_steps
        self.done = 0
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty()
        self.timings: list[tuple[str, float]] = []  # (label, seconds) of each finished step

    def _write(self, text: str) -> None:
        if not self.quiet:
            self.stream.write(text)
            self.stream.flush()

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        self.done += 1
        prefix = f"[{self.done}/{self.total}] {label}"
        self._write(f"{prefix} …" + ("" if self.tty else "\n"))
        started = time.perf_counter()
        yield
        elapsed = time.perf_counter() - started
        self.timings.append((label, elapsed))
        self._write(("\r" if self.tty else "") + f"{prefix}: {elapsed:.1f} s\n")

    def bar(self, label: str, current: int, total: int, width: int = 30) -> None:
        """Redraw a bar for a step with a known size (only on a terminal)."""
        if not self.tty or total <= 0:
            return
        filled = int(width * current / total)
        self._write(f"\r    {label} [{'#' * filled}{'.' * (width - filled)}] {current:,}/{total:,}")
        if current >= total:
            self._write("\n")
