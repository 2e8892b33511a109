"""Simulated dashboard users against gunicorn: callback latency under load (issue 4).

    .venv/bin/python -m benchmarks.callback_load --serve --db sqlite:///var/bench/warehouse-5500000.db

`--serve` starts `gunicorn -c gunicorn.conf.py app:server` on that warehouse (or point
`--url` at a running server). Each simulated user signs in through the login form with its
own session (leadership users and governorate users, created in the warehouse when
missing), then, until the time is up, picks a step a dashboard user takes (open a page,
change the map indicator, drill into a governorate, change the Immunization filters, compare
subgroups on the Equity page, look at its zero-dose focus) and posts exactly the requests
the Dash renderer posts to `/_dash-update-component` (CSRF header, session cookie, the
callback's outputs/inputs/state), with a pause of
`--think` seconds (uniform) between steps, as a person reading a chart would. Every status
other than 200 (or 204 for "no update") counts as an error.

The choices (indicators, cohorts, governorates, districts) come from the warehouse through
the query layer, so the payloads carry real values, and the cache sees the spread of
selections real users make rather than one hot key. Standard library only on the client.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
PASSWORD = "load-test-password-1"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
CSRF_COOKIE, CSRF_HEADER = "_csrf_token", "X-CSRFToken"
SEXES, DISABILITIES = ("all", "all", "F", "M"), ("all", "all", "yes", "no")
COMPARISONS = ("sex", "disability", "sex_disability", "governorate", "district", "district_fifth")


@dataclass
class Choices:
    """What users pick from, read from the warehouse once."""

    indicators: list[str]
    periods: dict[str, list[str]]
    cohort: str
    governorates: list[str]
    districts: list[str]
    months: list[str]  # months of facility environment data (none: no Environment steps)


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, step: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies.setdefault(step, []).append(seconds)
            if error:
                self.errors.append(f"{step}: {error}")


# --- the simulated user ----------------------------------------------------------------------


class User:
    """One browser: its own cookie jar (session and CSRF cookies) and the callbacks list."""

    def __init__(self, base: str, name: str):
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.sign_in(name)
        self.callbacks = json.loads(self.get("/_dash-dependencies"))

    def get(self, path: str) -> bytes:
        with self.http.open(self.base + path, timeout=30) as response:
            return response.read()

    def sign_in(self, name: str) -> None:
        token = CSRF_FIELD.search(self.get("/login").decode())
        if token is None:
            raise SystemExit("the login page has no csrf_token field")
        form = {"username": name, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"}
        body = urllib.parse.urlencode(form).encode()
        with self.http.open(self.base + "/login", data=body, timeout=30) as response:
            if "/login" in response.url:
                raise SystemExit(f"could not sign in as {name}")

    def csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == CSRF_COOKIE), "")

    def post(self, body: dict) -> tuple[int, float]:
        request = urllib.request.Request(
            self.base + "/_dash-update-component",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", CSRF_HEADER: self.csrf()},
        )
        started = time.perf_counter()
        try:
            with self.http.open(request, timeout=30) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:  # no answer in time, connection refused or reset
            status = 0
        return status, time.perf_counter() - started

    def body(self, output: str, values: dict[str, object], changed: list[str]) -> dict:
        """The renderer's request for the callback writing `output` (id.property)."""
        callback = next(c for c in self.callbacks if output in c["output"])

        def spec(dependency: dict) -> dict:
            key = f"{dependency['id']}.{dependency['property']}"
            return {**dependency, "value": values.get(key)}

        outputs = [
            dict(zip(("id", "property"), o.split("."), strict=True))
            for o in callback["output"].strip(".").split("...")
        ]
        return {
            "output": callback["output"],
            "outputs": outputs if callback["output"].startswith("..") else outputs[0],
            "inputs": [spec(d) for d in callback["inputs"]],
            "state": [spec(d) for d in callback["state"]],
            "changedPropIds": changed,
        }


FACILITY_TYPES, SETTINGS = ("all", "hospital", "phc"), ("all", "urban", "rural")
ENVIRONMENT_CHARTS = ("env-ladder.figure", "env-unsafe.figure", "env-carbon.figure",
                      "env-solar-map.figure", "env-heat.figure")  # fmt: skip


def steps(user: User, choices: Choices, rng: random.Random) -> dict[str, dict]:
    """One request per kind of step, with fresh random choices."""
    indicator = rng.choice(choices.indicators)
    place = rng.choice([None, None, *choices.governorates])
    unit = rng.choice(["IQ", *choices.governorates, *choices.districts])
    period = rng.choice(choices.periods[indicator])
    path = rng.choice(["/", "/immunization", "/equity"])
    router = {"_pages_location.pathname": path, "_pages_location.search": ""}
    overview = {
        "ov-map-indicator.value": indicator, "ov-place.data": place,
        "ov-cohort.data": choices.cohort,
    }  # fmt: skip
    filters = {
        "imm-indicator.value": indicator, "imm-period.value": period, "imm-org-unit.value": unit,
        "imm-sex.value": rng.choice(SEXES), "imm-disability.value": rng.choice(DISABILITIES),
    }  # fmt: skip
    equity = {
        "eq-indicator.value": indicator, "eq-period.value": period, "eq-org-unit.value": unit,
        "eq-dimension.value": rng.choice(COMPARISONS), "eq-zd-baseline.value": None,
    }  # fmt: skip
    found = {
        "open a page": user.body("_pages_content.children", router, ["_pages_location.pathname"]),
        "equity view": user.body("eq-subgroups.figure", equity, ["eq-dimension.value"]),
        "equity zero-dose": user.body("eq-zd-cards.children", equity, ["eq-org-unit.value"]),
        "overview map": user.body("ov-map.figure", overview, ["ov-map-indicator.value"]),
        "immunization view": user.body("imm-map.figure", filters, ["imm-org-unit.value"]),
        "immunization periods": user.body(
            "imm-period.options", filters, ["imm-indicator.value"]
        ),
    }
    if choices.months:  # the Environment page: cards, and one of its charts
        environment = {
            "env-period.value": rng.choice(choices.months), "env-org-unit.value": unit,
            "env-type.value": rng.choice(FACILITY_TYPES),
            "env-setting.value": rng.choice(SETTINGS), "env-ladder-by.value": "place",
            "env-condition.value": "heat_illness", "env-exposure.value": "heatwave_days",
        }  # fmt: skip
        changed = ["env-type.value"]
        found["environment cards"] = user.body("env-cards.children", environment, changed)
        found["environment chart"] = user.body(rng.choice(ENVIRONMENT_CHARTS), environment, changed)
    return found


def simulate(base: str, name: str, choices: Choices, until: float, think: float,
             stats: Stats, seed: int) -> None:  # fmt: skip
    rng = random.Random(seed)
    try:
        user = User(base, name)
    except (OSError, SystemExit) as error:
        with stats.lock:
            stats.errors.append(f"sign in: {name} could not sign in ({error})")
        return
    while time.monotonic() < until:
        step, body = rng.choice(list(steps(user, choices, rng).items()))
        status, seconds = user.post(body)
        error = {200: None, 204: None, 0: "no answer"}.get(status, f"HTTP {status}")
        stats.add(step, seconds, error)
        time.sleep(rng.uniform(0, 2 * think))


# --- setup: choices, users, server -------------------------------------------------------------


def read_choices(url: str) -> Choices:
    from indicators import environment_views, queries
    from indicators.scope import Scope

    everyone = Scope.national()
    catalogue = queries.catalogue(url)
    indicators = catalogue.filter(source="registry")["code"].to_list()  # the cohort pages
    periods = {code: queries.periods(everyone, code, url) for code in indicators}
    indicators = [code for code in indicators if periods[code]]
    units = queries.org_units(everyone, url)
    return Choices(
        indicators=indicators,
        periods=periods,
        cohort=queries.latest_complete_cohort(everyone, indicators[0], url) or "",
        governorates=units.filter(level=1)["code"].to_list(),
        districts=units.filter(level=2)["code"].to_list(),
        months=environment_views.periods(everyone, url)[environment_views.MONTHLY],
    )


def ensure_users(url: str, count: int, governorates: list[str]) -> list[str]:
    """`count` sign-in names: three in four leadership, the rest governorate users. Their
    password is in this file, so this refuses to run with `MIZAN_ENV=production`."""
    from indicators import accounts, config

    if config.production():
        raise SystemExit("the load test creates users with a published password: not in production")

    existing = set(accounts.list_users(url)["username"])
    names = []
    for i in range(count):
        governorate = governorates[i % len(governorates)] if i % 4 == 3 else None
        name = f"load-{governorate.lower()}-{i}" if governorate else f"load-leader-{i}"
        if name not in existing:
            role = "governorate" if governorate else "leadership"
            accounts.add_user(url, name, PASSWORD, role, governorate, actor="load test")
        names.append(name)
    return names


def serve(url: str, workers: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "MIZAN_DB_URL": url, "MIZAN_PORT": str(port),
           "MIZAN_WORKERS": str(workers), "MIZAN_LOG_LEVEL": "warning"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--access-logfile",
         "/dev/null", "app:server"], cwd=PROJECT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/login", timeout=1).read()
            return server, base
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(stats: Stats, seconds: float) -> str:
    everything = [s for values in stats.latencies.values() for s in values]
    lines = [
        "| step | requests | p50 | p95 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for step, values in sorted(stats.latencies.items()) + [("all callbacks", everything)]:
        ms = [1000 * v for v in values]
        lines.append(
            f"| {step} | {len(ms)} | {statistics.median(ms):.0f} ms | "
            f"{percentile(ms, 0.95):.0f} ms | {percentile(ms, 0.99):.0f} ms | {max(ms):.0f} ms |"
        )
    lines.append(f"\n{len(everything) / seconds:.1f} requests/s, {len(stats.errors)} errors")
    lines += [f"- {error}" for error in stats.errors[:10]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.callback_load")
    parser.add_argument("--db", required=True, help="the warehouse the server reads")
    parser.add_argument("--url", help="a running server (default: start one with --serve)")
    parser.add_argument("--serve", action="store_true", help="start gunicorn on --db")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (--serve)")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between steps")
    args = parser.parse_args(argv)
    if not (args.url or args.serve):
        parser.error("give --url or --serve")
    choices = read_choices(args.db)
    names = ensure_users(args.db, args.users, choices.governorates)
    # Steady state, as after the server's own warm-up (indicators.warmup): this process
    # shares the cache store with a server it starts. A --url server warms itself.
    from indicators import environment_views, queries

    started = time.perf_counter()
    count, months = queries.warm(args.db), environment_views.warm(args.db)
    took = time.perf_counter() - started
    print(f"warmed {count} indicators and {months:,} facility months in {took:.1f} s")
    server, base = serve(args.db, args.workers) if args.serve else (None, args.url)
    try:
        stats = Stats()
        until = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=simulate, args=(base, name, choices, until, args.think,
                                                    stats, i))  # fmt: skip
            for i, name in enumerate(names)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    print(f"{args.users} users, {args.seconds:.0f} s, think {args.think} s, {base}")
    print(report(stats, args.seconds))
    return 1 if stats.errors else 0


if __name__ == "__main__":
    sys.exit(main())
