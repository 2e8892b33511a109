"""The registry load at national scale: time and peak memory per stage, the pandas ratio and
how the cost grows with the number of children (issue 4; results in BENCHMARKS.md).

    .venv/bin/python -m benchmarks.etl_scaling                       # 0.5, 1.1, 2.2, 5.5 M
    .venv/bin/python -m benchmarks.etl_scaling --sizes 20000 --pandas-max 20000   # smoke run

Each size is generated once (deterministic, seed 1, Parquet) under `--workdir` and reused.
Every load and every pandas run happens in a fresh process, so each peak memory figure is
that run's own. Memory is read from /proc (Linux).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from etl.progress import Progress

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (500_000, 1_100_000, 2_200_000, 5_500_000)
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
GIB = 2**30


class MeasuredProgress(Progress):
    """Progress that also keeps the peak resident memory of each step, sampled every 10 ms."""

    def __init__(self, total_steps: int):
        super().__init__(total_steps, quiet=True)
        self.peaks: dict[str, int] = {}
        self._label: str | None = None
        threading.Thread(target=self._sample, daemon=True).start()

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        self._label = label
        with super().step(label):
            yield
        self._label = None

    def _sample(self) -> None:
        while True:
            label = self._label
            if label is not None:
                self.peaks[label] = max(self.peaks.get(label, 0), _rss())
            time.sleep(0.01)


def _rss() -> int:
    """Current resident memory of this process, in bytes."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def load_once(folder: Path, url: str) -> dict:
    """Load one registry (in this process) and return the stage timings and peaks."""
    from etl.load import LOAD_STEPS, load_registry

    progress = MeasuredProgress(LOAD_STEPS)
    started = time.perf_counter()
    result = load_registry(folder, url, None, progress)
    total = time.perf_counter() - started
    accounts = result.extract.accounts
    return {
        "children": accounts["children"].rows_read,
        "doses": accounts["vaccinations"].rows_read,
        "indicator_rows": result.indicator_rows,
        "stages": [
            {"stage": label, "seconds": seconds, "peak_gib": progress.peaks.get(label, 0) / GIB}
            for label, seconds in progress.timings
        ],
        "total_seconds": total,
        "peak_gib": _peak_rss() / GIB,
    }


def _child(args: list[str]) -> dict:
    """Run this module (or the pandas baseline) in a fresh process; its last line is JSON."""
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=PROJECT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _registry(workdir: Path, children: int) -> Path:
    """The generated registry of this size, generated on first use."""
    folder = workdir / f"registry-{children}"
    if not (folder / "manifest.json").is_file():
        from etl.generate import generate

        generate(folder, children=children, seed=1, fmt="parquet")
    return folder


def _warehouse(workdir: Path, children: int, url: str | None) -> str:
    if url:
        return url
    path = workdir / f"warehouse-{children}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if "model name" in line)
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PHYS_PAGES") * PAGE / GIB
    python = platform.python_version()
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, Python {python}"


def run(sizes: list[int], pandas_max: int, workdir: Path, url: str | None) -> list[dict]:
    workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for children in sizes:
        folder = _registry(workdir, children)
        ours = _child(["benchmarks.etl_scaling", "--one", str(folder),
                       "--db", _warehouse(workdir, children, url)])  # fmt: skip
        if children <= pandas_max:
            ours["pandas"] = _child(["benchmarks.pandas_baseline", str(folder)])
        results.append(ours)
        print(f"{children:,} children: {ours['total_seconds']:.1f} s", file=sys.stderr)
    return results


def _until_cube(result: dict) -> float:
    """Seconds from reading to the finished cube: the work the pandas baseline also does."""
    stages = result["stages"]
    last = next(i for i, s in enumerate(stages) if s["stage"].startswith("building"))
    return sum(s["seconds"] for s in stages[: last + 1])


def _row(result: dict) -> str:
    pandas = result.get("pandas")
    ratio, pandas_cell = "-", "-"
    if pandas:
        ratio = f"{pandas['total'] / _until_cube(result):.1f}x"
        pandas_cell = f"{pandas['total']:.1f} s / {pandas['peak_rss_mb'] / 1024:.1f} GiB"
    return (
        f"| {result['children']:,} | {result['doses']:,} | {result['total_seconds']:.1f} s | "
        f"{result['peak_gib']:.1f} GiB | {_until_cube(result):.1f} s | {pandas_cell} | {ratio} |"
    )


def report(results: list[dict]) -> str:
    """The Markdown tables BENCHMARKS.md quotes: scaling with the pandas ratio, then stages."""
    lines = [
        f"Machine: {machine()}",
        "",
        "| children | doses | whole load | peak memory | read → cube | pandas read → cube "
        "| pandas / Mizan |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        *(_row(result) for result in results),
        "",
        "| stage | " + " | ".join(f"{r['children']:,}" for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    for i, stage in enumerate(results[0]["stages"]):
        cells = [f"{r['stages'][i]['seconds']:.1f} s ({r['stages'][i]['peak_gib']:.1f} GiB)"
                 for r in results]  # fmt: skip
        lines.append(f"| {stage['stage']} | " + " | ".join(cells) + " |")
    per_million = [r["total_seconds"] / r["children"] * 1e6 for r in results]
    lines += ["", "Seconds per million children: " + ", ".join(f"{s:.1f}" for s in per_million)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.etl_scaling")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="children per registry, comma-separated")  # fmt: skip
    parser.add_argument("--pandas-max", type=int, default=2_200_000,
                        help="largest size also run with the pandas baseline")  # fmt: skip
    parser.add_argument("--workdir", type=Path, default=PROJECT / "var" / "bench")
    parser.add_argument("--db", help="warehouse URL (default: a fresh SQLite file per size)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(load_once(args.one, args.db)))
        return 0
    sizes = [int(size) for size in args.sizes.split(",")]
    results = run(sizes, args.pandas_max, args.workdir, args.db)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
