"""Users, passwords, lockout and the append-only audit, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from indicators import accounts
from indicators import warehouse as wh


def test_password_hash_is_salted_scrypt_and_verifies() -> None:
    first, second = accounts.hash_password("s3cret-pw"), accounts.hash_password("s3cret-pw")
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert accounts.verify_password("s3cret-pw", first)
    assert not accounts.verify_password("s3cret-pW", first)
    assert not accounts.verify_password("s3cret-pw", "not-a-hash")


def test_login_roles_and_audit(warehouse_url: str) -> None:
    accounts.add_user(warehouse_url, "basra", "pass-basra", "governorate", "IQG02")
    user = accounts.authenticate(warehouse_url, "basra", "pass-basra", client="1.2.3.4")
    assert user == accounts.User("basra", "governorate", "IQG02")
    assert user.scope.governorate == "IQG02" and user.scope.restricted
    assert accounts.authenticate(warehouse_url, "nobody", "pass-basra") is None
    events = accounts.audit_log(warehouse_url)
    assert events.get_column("event").to_list() == ["login_failed", "login", "user_added"]
    assert json.loads(events.get_column("detail")[0]) == {"reason": "unknown user"}
    assert events.get_column("client").to_list()[1] == "1.2.3.4"


def test_lockout_after_five_failures_even_with_the_right_password(warehouse_url: str) -> None:
    accounts.add_user(warehouse_url, "leader", "pass-leader", "leadership")
    for _ in range(accounts.MAX_FAILURES):
        assert accounts.authenticate(warehouse_url, "leader", "wrong-guess") is None
    assert accounts.authenticate(warehouse_url, "leader", "pass-leader") is None
    reasons = [json.loads(d)["reason"] for d in accounts.audit_log(warehouse_url)["detail"][:2]]
    assert reasons == ["locked", "wrong password (account locked)"]
    # once the lock has expired the right password works again
    with wh.engine(warehouse_url).begin() as connection:
        connection.execute(wh.users.update().values(locked_until=wh.now() - timedelta(seconds=1)))
    assert accounts.authenticate(warehouse_url, "leader", "pass-leader") is not None


def test_disable_passwd_and_rules(warehouse_url: str) -> None:
    accounts.add_user(warehouse_url, "focal", "pass-focal", "focal_point")
    accounts.set_disabled(warehouse_url, "focal", True)
    assert accounts.authenticate(warehouse_url, "focal", "pass-focal") is None
    assert accounts.active_user(warehouse_url, "focal") is None
    accounts.set_disabled(warehouse_url, "focal", False)
    accounts.set_password(warehouse_url, "focal", "new-pass-focal")
    assert accounts.authenticate(warehouse_url, "focal", "pass-focal") is None
    assert accounts.authenticate(warehouse_url, "focal", "new-pass-focal") is not None
    with pytest.raises(accounts.AccountError, match="already exists"):
        accounts.add_user(warehouse_url, "focal", "pass-focal", "focal_point")
    with pytest.raises(accounts.AccountError, match="needs --governorate"):
        accounts.add_user(warehouse_url, "x", "pass-xxxxx", "governorate", "IQG99")
    with pytest.raises(accounts.AccountError, match="at least 8"):
        accounts.add_user(warehouse_url, "y", "short", "admin")
    with pytest.raises(accounts.AccountError, match="no user"):
        accounts.set_disabled(warehouse_url, "ghost", True)
    listed = accounts.list_users(warehouse_url)
    assert listed.select("username", "role", "disabled").rows() == [("focal", "focal_point", False)]


def test_audit_table_refuses_update_and_delete(warehouse_url: str) -> None:
    accounts.audit(warehouse_url, "admin", "export", {"rows": 3})
    engine = wh.engine(warehouse_url)
    for statement in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as c:
            c.exec_driver_sql(statement)
    assert accounts.audit_log(warehouse_url).height == 1


def test_one_client_is_throttled_across_user_names(warehouse_url: str) -> None:
    accounts.add_user(warehouse_url, "admin", "pass-admin", "admin")
    for i in range(accounts.CLIENT_FAILURES):
        assert accounts.authenticate(warehouse_url, f"guess{i}", "x", client="10.9.9.9") is None
    # the right password from that client now waits; another client is unaffected
    assert accounts.authenticate(warehouse_url, "admin", "pass-admin", client="10.9.9.9") is None
    assert accounts.authenticate(warehouse_url, "admin", "pass-admin", client="10.1.1.1")


def test_the_idle_timer_is_refreshed_at_most_once_a_minute(warehouse_url: str) -> None:
    accounts.add_user(warehouse_url, "focal", "pass-focal", "focal_point")
    user = accounts.authenticate(warehouse_url, "focal", "pass-focal")
    token, _ = accounts.start_session(warehouse_url, user)

    def last_seen():  # noqa: ANN202
        with wh.engine(warehouse_url).connect() as connection:
            return connection.execute(sa.select(wh.sessions.c.last_seen)).scalar()

    def set_last_seen(value) -> None:  # noqa: ANN001
        with wh.engine(warehouse_url).begin() as connection:
            connection.execute(wh.sessions.update().values(last_seen=value))

    recent = wh.now() - accounts.SESSION_TOUCH / 2
    set_last_seen(recent)
    assert accounts.session_user(warehouse_url, token) is not None
    assert last_seen() == recent  # not written again within the minute
    before = wh.now()
    set_last_seen(before - accounts.SESSION_TOUCH * 2)
    assert accounts.session_user(warehouse_url, token) is not None
    assert last_seen() >= before  # refreshed


def test_sessions_expire_end_and_follow_the_account(warehouse_url: str) -> None:
    accounts.add_user(warehouse_url, "focal", "pass-focal", "focal_point")
    user = accounts.authenticate(warehouse_url, "focal", "pass-focal")
    token, csrf = accounts.start_session(warehouse_url, user)
    assert accounts.session_user(warehouse_url, token) == (user, csrf)
    assert accounts.session_user(warehouse_url, token + "x") is None
    with wh.engine(warehouse_url).connect() as connection:  # only the hash is stored
        stored = connection.execute(sa.select(wh.sessions.c.token_hash)).scalar()
    assert stored != token and len(stored) == 64
    accounts.set_disabled(warehouse_url, "focal", True)
    assert accounts.session_user(warehouse_url, token) is None
    accounts.set_disabled(warehouse_url, "focal", False)
    with wh.engine(warehouse_url).begin() as connection:  # idle too long
        connection.execute(
            wh.sessions.update().values(last_seen=wh.now() - accounts.SESSION_IDLE * 2)
        )
    assert accounts.session_user(warehouse_url, token) is None
    token, _ = accounts.start_session(warehouse_url, user)
    accounts.end_session(warehouse_url, token)
    assert accounts.session_user(warehouse_url, token) is None
    assert accounts.audit_log(warehouse_url)["event"][0] == "logout"
