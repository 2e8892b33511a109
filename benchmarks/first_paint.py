"""First meaningful paint of the Overview in headless Chromium, against gunicorn (issue 4).

    .venv/bin/python -m benchmarks.first_paint --db sqlite:///var/bench/warehouse-5500000.db

Starts gunicorn on the warehouse (as `benchmarks.callback_load` does), signs in once, then
opens the Overview `--runs` times. For each visit the page itself reports, through the
browser's own clock (`performance.now()`, 0 = the navigation started), when the headline
cards first show their numbers ("meaningful": what leadership opens the page for) and when
the map has drawn its boundaries. The first visit has a cold browser cache (scripts
fetched), later ones a warm one, as for a returning user. Needs Debian's chromium and
chromium-driver and selenium (the test extra).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from benchmarks.callback_load import ensure_users, read_choices, serve

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# Returns [cards, map] times in ms since navigation start, null until each has happened.
PROBE = """
const cards = document.querySelector('#ov-cards');
const map = document.querySelector('#ov-map .maplibregl-canvas, #ov-map .scattermap');
window.__mizan = window.__mizan || {};
const now = performance.now();
if (!window.__mizan.cards && cards && /[0-9]/.test(cards.innerText)) window.__mizan.cards = now;
if (!window.__mizan.map && map) window.__mizan.map = now;
return [window.__mizan.cards || null, window.__mizan.map || null];
"""


def browser() -> webdriver.Chrome:
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000",
                     "--disable-background-networking", "--no-first-run"):  # fmt: skip
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='mizan-chromium-')}")
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)  # a page that never loads fails the run, not hangs it
    driver.set_script_timeout(10)
    return driver


def sign_in(driver: webdriver.Chrome, base: str, name: str, password: str) -> None:
    driver.get(base + "/login")
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-button").click()
    deadline = time.monotonic() + 30
    while "/login" in driver.current_url and time.monotonic() < deadline:
        time.sleep(0.05)


def visit(driver: webdriver.Chrome, base: str, timeout: float = 30) -> tuple[float, float]:
    """Open the Overview and poll until both moments are known (ms since navigation)."""
    driver.get(base + "/")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cards, drawn = driver.execute_script(PROBE)
        if cards and drawn:
            return cards, drawn
        time.sleep(0.01)
    raise SystemExit("the Overview did not finish drawing in time")


def main(argv: list[str] | None = None) -> int:
    from benchmarks.callback_load import PASSWORD

    parser = argparse.ArgumentParser(prog="python -m benchmarks.first_paint")
    parser.add_argument("--db", required=True, help="the warehouse the server reads")
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    name = ensure_users(args.db, 1, read_choices(args.db).governorates)[0]
    server, base = serve(args.db, args.workers)
    driver = browser()
    try:
        sign_in(driver, base, name, PASSWORD)
        visits = [visit(driver, base) for _ in range(args.runs)]
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=30)
    cards = [c for c, _ in visits]
    drawn = [d for _, d in visits]
    print(json.dumps({"cards_ms": cards, "map_ms": drawn}))
    print(f"first visit (cold browser cache): cards {cards[0]:.0f} ms, map {drawn[0]:.0f} ms")
    if len(visits) > 1:
        cards_later, map_later = statistics.median(cards[1:]), statistics.median(drawn[1:])
        later = f"cards {cards_later:.0f} ms, map {map_later:.0f} ms"
        print(f"later visits, median: {later}; worst cards {max(cards):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
