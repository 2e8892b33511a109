"""Mizan's configuration: every setting, read from the environment, with its default.

One module so that an operator finds every knob in one place (the README lists them).
Values are read when a function asks, not at import, so tests can set variables.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Small-cell and reliability thresholds (spec/indicators.md, "Confidence, reliability
# and disclosure").
SUPPRESS_MAX = 4  # counts 1..SUPPRESS_MAX are suppressed; zero is shown
LOW_DENOMINATOR = 25  # denominator below this: value not shown, flag low_denominator
CAUTION_DENOMINATOR = 50  # 25..49: flag caution
WILSON_Z = 1.959963984540054  # two-sided 95 %


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def var_dir() -> Path:
    """Where the embedded warehouse, staging files and demo data live (git-ignored)."""
    return Path(_env("MIZAN_VAR_DIR", str(PROJECT_DIR / "var")))


def db_url() -> str:
    """Warehouse URL: `MIZAN_DB_URL`, default an SQLite file under `var/`."""
    return _env("MIZAN_DB_URL", f"sqlite:///{var_dir() / 'mizan.db'}")


def geo_dir() -> Path:
    """The boundary pack (OCHA COD-AB for Iraq): `MIZAN_GEO_DIR`, default `../shared/data`."""
    return Path(_env("MIZAN_GEO_DIR", str(PROJECT_DIR.parent / "shared" / "data")))


def demo_dir() -> Path:
    """Where `make run` writes the synthetic registry export it loads on first start."""
    return Path(_env("MIZAN_DEMO_DIR", str(var_dir() / "demo")))


def demo_children() -> int:
    """Size of the synthetic registry `make run` generates when the warehouse is empty."""
    return int(_env("MIZAN_DEMO_CHILDREN", "60000"))


def cache_dir() -> Path | None:
    """Shared query cache: a folder, so that the gunicorn workers of a machine share it;
    `off` keeps only each process's own cache."""
    value = _env("MIZAN_CACHE_DIR", str(var_dir() / "cache"))
    return None if value.lower() == "off" else Path(value)


def warm_interval() -> float:
    """Seconds between the cache warmer's checks for new data (`indicators.warmup`); 0 = off."""
    return _number("MIZAN_WARM_INTERVAL", "30", 0.0, 86_400.0)


def host() -> str:
    return _env("MIZAN_HOST", "127.0.0.1")


def port() -> int:
    return int(_env("MIZAN_PORT", "8050"))


def debug() -> bool:
    return _env("MIZAN_DEBUG", "0").lower() in {"1", "true", "yes"}


def language() -> str:
    """Default interface language (only `en` has a catalogue so far)."""
    return _env("MIZAN_LANG", "en")


def environment() -> str:
    """`demo` (default: demo users allowed, dev server) or `production` (strict checks)."""
    return _env("MIZAN_ENV", "demo").lower()


def production() -> bool:
    return environment() == "production"


DEFAULT_SECRET = "mizan-demo-secret-change-me"


def secret_key() -> str:
    """Signs what Flask and Dash sign; production refuses to start with the default."""
    return _env("MIZAN_SECRET_KEY", DEFAULT_SECRET)


DEMO_USERS = (("admin", "admin", None), ("leader", "leadership", None),
              ("focal", "focal_point", None), ("basra", "governorate", "IQG02"))  # fmt: skip


def demo_password() -> str:
    """Password of the demo users `make run` creates (printed at start with a warning)."""
    return _env("MIZAN_DEMO_PASSWORD", "mizan-demo")


def secure_cookies() -> bool:
    """Cookies only over HTTPS: on by default in production (behind TLS), off in demo."""
    return _env("MIZAN_SECURE_COOKIES", "1" if production() else "0") in {"1", "true", "yes"}


def trusted_proxies() -> int:
    """How many reverse proxies in front of the app may set X-Forwarded-For/-Proto/-Host
    (default 0: the client address is the TCP peer). 1 behind one nginx; a wrong value lets
    clients choose the address that lockouts and the audit record."""
    return int(_env("MIZAN_TRUSTED_PROXIES", "0"))


# Administrative (DHIS2) analytics (spec/indicators.md, administrative section; WHO
# Immunization Analysis app and data-quality tool defaults, reference/dhis2.md §6).


def _percent(name: str, default: str) -> float:
    """A percentage setting; a value that is not a number in 0..1000 stops with its name."""
    text = _env(name, default)
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number") from None
    if not 0 <= value <= 1000:
        raise ValueError(f"{name}={text!r} is outside 0..1000")
    return value


def red_coverage_threshold() -> float:
    """RED/REC access threshold: Penta1 coverage at or above it is good access (WHO app: 90;
    older WHO material uses 80)."""
    return _percent("MIZAN_RED_COVERAGE", "90")


def red_dropout_threshold() -> float:
    """RED/REC utilisation threshold: a Penta1->Penta3 dropout at or below it is good use."""
    return _percent("MIZAN_RED_DROPOUT", "10")


def outlier_threshold() -> float:
    """|modified z-score| above which a facility's monthly value is an outlier
    (Iglewicz-Hoaglin 3.5, as the WHO data-quality tool)."""
    return _percent("MIZAN_OUTLIER_Z", "3.5")


def completeness_target() -> float:
    """Reporting completeness below this (%) flags `missing_reports` (WHO DQ tool: 90)."""
    return _percent("MIZAN_COMPLETENESS_TARGET", "90")


# Facility environment module (issue 7, reference/climate.md). The emission factors' values
# and sources live in indicators/emissions.py; these settings only override them.


def _number(name: str, default: str, low: float, high: float) -> float:
    """A numeric setting in low..high; anything else stops with the variable's name."""
    text = _env(name, default)
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number") from None
    if not low <= value <= high:  # also refuses nan
        raise ValueError(f"{name}={text!r} is outside {low:g}..{high:g}")
    return value


def _override(name: str, low: float, high: float) -> float | None:
    """An optional numeric override: None when the variable is unset or empty."""
    return _number(name, "0", low, high) if _env(name, "") else None


def ef_diesel() -> float | None:
    """`MIZAN_EF_DIESEL`, kg CO2e per litre of diesel; unset: indicators.emissions.EF_DIESEL
    (2.68, IPCC 2006). DEFRA's 2.66 or 2.755 are the usual alternatives."""
    return _override("MIZAN_EF_DIESEL", 0.0, 10.0)


def ef_grid() -> float | None:
    """`MIZAN_EF_GRID`, kg CO2e per grid kWh; unset: indicators.emissions.EF_GRID (0.52,
    Ember 2013-2020). 0.37 for a direct-only basis; 0.50-0.53 for a sensitivity check."""
    return _override("MIZAN_EF_GRID", 0.0, 5.0)


def _whole(name: str, default: str, low: int, high: int) -> int:
    """A whole-number setting in low..high."""
    value = _number(name, default, low, high)
    if value != int(value):
        raise ValueError(f"{name}={_env(name, default)!r} is not a whole number")
    return int(value)


def heat_alert_days() -> int:
    """`MIZAN_HEAT_ALERT_DAYS` (default 3): heatwave days in a month from which a district is
    under heat alert; its facilities without reliable electricity are under heat stress."""
    return _whole("MIZAN_HEAT_ALERT_DAYS", "3", 1, 31)


def alert_baseline_ratio() -> float:
    """`MIZAN_ALERT_BASELINE_RATIO` (default 1.5): heat-illness cases above this multiple of
    the district's seasonal baseline raise an alert."""
    return _number("MIZAN_ALERT_BASELINE_RATIO", "1.5", 1.0, 100.0)


def alert_min_cases() -> int:
    """`MIZAN_ALERT_MIN_CASES` (default 10; at least SUPPRESS_MAX + 1, so an alert never
    shows a small count): fewest heat-illness cases in a month that raise an alert."""
    return _whole("MIZAN_ALERT_MIN_CASES", "10", SUPPRESS_MAX + 1, 10_000_000)
