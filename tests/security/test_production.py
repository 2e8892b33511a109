"""Production mode refuses an unsafe configuration, in the factory and at process start,
and is served by gunicorn with the project's gunicorn.conf.py."""

from __future__ import annotations

import os
import runpy
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

import app as mizan_app
from dashboard import production
from indicators import accounts, config
from tests.dashboard import sample_warehouse

ROOT = Path(__file__).resolve().parent.parent.parent
STRONG = "a-long-random-production-secret-0123456789abcdef"


@pytest.fixture
def prod(monkeypatch):  # noqa: ANN001, ANN201
    """Production with a strong secret, debug off and cookies over HTTPS."""
    monkeypatch.setenv("MIZAN_ENV", "production")
    monkeypatch.setenv("MIZAN_SECRET_KEY", STRONG)
    monkeypatch.delenv("MIZAN_DEBUG", raising=False)
    return monkeypatch


@pytest.fixture
def real_users(sqlite_url: str) -> str:
    """A loaded warehouse whose users are real (no demo names)."""
    sample_warehouse.build(sqlite_url, sample_warehouse.tiny_values())
    accounts.add_user(sqlite_url, "moh-admin", "a-strong-password", "admin")
    return sqlite_url


def test_a_safe_production_configuration_starts(prod, real_users):
    app = mizan_app.create_app(real_users)
    assert app.server.secret_key == STRONG
    assert app.server.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("secret", [None, config.DEFAULT_SECRET, "short-secret"])
def test_a_missing_default_or_short_secret_is_refused(prod, real_users, secret):
    if secret is None:
        prod.delenv("MIZAN_SECRET_KEY")
    else:
        prod.setenv("MIZAN_SECRET_KEY", secret)
    with pytest.raises(production.ProductionConfigError, match="MIZAN_SECRET_KEY is missing"):
        mizan_app.create_app(real_users)


def test_debug_is_refused(prod, real_users):
    prod.setenv("MIZAN_DEBUG", "1")
    with pytest.raises(production.ProductionConfigError, match="MIZAN_DEBUG is on"):
        mizan_app.create_app(real_users)


def test_active_demo_users_are_refused_until_disabled(prod, real_users):
    accounts.ensure_demo_users(real_users, config.demo_password())
    with pytest.raises(production.ProductionConfigError) as refused:
        mizan_app.create_app(real_users)
    message = str(refused.value)
    assert "demo users are active (admin, basra, focal, leader)" in message
    assert "\n" not in message
    for name, _, _ in config.DEMO_USERS:
        accounts.set_disabled(real_users, name, True)
    mizan_app.create_app(real_users)


def test_every_problem_is_named_in_one_line(prod, real_users):
    prod.setenv("MIZAN_SECRET_KEY", config.DEFAULT_SECRET)
    prod.setenv("MIZAN_DEBUG", "true")
    accounts.ensure_demo_users(real_users, config.demo_password())
    with pytest.raises(production.ProductionConfigError) as refused:
        mizan_app.create_app(real_users)
    message = str(refused.value)
    assert message.startswith("refusing to start in production: ")
    assert message.count(";") >= 2 and "\n" not in message


def test_an_unusable_warehouse_is_one_clear_line(prod, tmp_path):
    (tmp_path / "missing").write_text("a file where a folder should be")
    old = tmp_path / "old.db"
    with sa.create_engine(f"sqlite:///{old}").begin() as connection:  # another schema
        connection.exec_driver_sql("CREATE TABLE users (username TEXT)")
    for url in (f"sqlite:///{tmp_path / 'missing' / 'x.db'}", f"sqlite:///{old}"):
        with pytest.raises(production.ProductionConfigError) as refused:
            mizan_app.create_app(url)
        message = str(refused.value)
        assert message.startswith("cannot check the users in the warehouse: ")
        assert "\n" not in message


def test_demo_mode_does_not_check(monkeypatch, real_users):
    monkeypatch.delenv("MIZAN_ENV", raising=False)
    monkeypatch.setenv("MIZAN_DEBUG", "1")
    accounts.ensure_demo_users(real_users, config.demo_password())
    mizan_app.create_app(real_users)


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_process_stops_with_one_line(real_users):
    env = {**os.environ, "MIZAN_ENV": "production", "MIZAN_DB_URL": real_users}
    env.pop("MIZAN_SECRET_KEY", None)
    result = run_python("import app", env)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("mizan: refusing to start in production: MIZAN_SECRET_KEY")


def test_the_dev_server_is_refused_in_production(real_users):
    env = {
        **os.environ,
        "MIZAN_ENV": "production",
        "MIZAN_DB_URL": real_users,
        "MIZAN_SECRET_KEY": STRONG,
    }
    env.pop("MIZAN_DEBUG", None)
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "gunicorn -c gunicorn.conf.py app:server" in result.stderr


def test_gunicorn_settings(monkeypatch):
    monkeypatch.setenv("MIZAN_HOST", "0.0.0.0")
    monkeypatch.setenv("MIZAN_PORT", "9001")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["bind"] == "0.0.0.0:9001"
    assert settings["workers"] == 2 * os.cpu_count()
    assert 2 <= settings["threads"] <= 4 and settings["worker_class"] == "gthread"
    assert settings["preload_app"] is False  # polars' thread pool does not survive fork
    assert settings["timeout"] > 0
    assert settings["max_requests"] > 0 and settings["max_requests_jitter"] > 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_serves_the_app_in_production(real_users):
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    if gunicorn is None:
        pytest.skip("gunicorn is not installed (pip install gunicorn)")
    port = free_port()
    env = {
        **os.environ,
        "MIZAN_ENV": "production",
        "MIZAN_DB_URL": real_users,
        "MIZAN_SECRET_KEY": STRONG,
        "MIZAN_PORT": str(port),
        "MIZAN_WORKERS": "1",
    }
    env.pop("MIZAN_DEBUG", None)
    server = subprocess.Popen(
        [gunicorn, "-c", "gunicorn.conf.py", "app:server"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while True:
            try:
                login = urllib.request.urlopen(f"{base}/login", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stderr.read()
                assert time.time() < deadline, "gunicorn did not answer"
                time.sleep(0.3)
        assert login.status == 200
        assert login.headers["X-Frame-Options"] == "DENY"
        assert "Secure" in login.headers["Set-Cookie"]  # production: HTTPS-only cookies
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/_dash-layout", timeout=5)
        assert refused.value.code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_gunicorn_refuses_an_unsafe_production_start(real_users):
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    if gunicorn is None:
        pytest.skip("gunicorn is not installed (pip install gunicorn)")
    env = {**os.environ, "MIZAN_ENV": "production", "MIZAN_DB_URL": real_users}
    env["MIZAN_SECRET_KEY"] = config.DEFAULT_SECRET
    env["MIZAN_PORT"] = str(free_port())
    result = subprocess.run(
        [gunicorn, "-c", "gunicorn.conf.py", "app:server"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "mizan: refusing to start in production: MIZAN_SECRET_KEY" in result.stderr


def test_a_real_user_named_admin_is_not_a_demo_user(prod, real_users):
    accounts.add_user(real_users, "admin", "a-real-admin-password", "admin")
    assert accounts.demo_users_present(real_users) == []
    mizan_app.create_app(real_users)
