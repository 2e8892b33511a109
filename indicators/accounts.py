"""Users, roles, password checks with lockout, and the append-only audit trail.

They live in the warehouse (tables `users` and `audit`) so that every app server behind a
load balancer sees the same accounts, lockouts and history. Passwords are hashed with
scrypt (stdlib), each with its own salt; a login never reveals whether a user exists.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl
import sqlalchemy as sa

from indicators import config, geography
from indicators import warehouse as wh
from indicators.scope import ROLES, Scope

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MAX_FAILURES = 5  # consecutive failed logins before the account is locked
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 8
CLIENT_FAILURES = 20  # failed logins from one client address before it must wait
CLIENT_WINDOW = timedelta(minutes=15)
SESSION_IDLE = timedelta(minutes=30)
# The idle timer is refreshed at most this often: a write on every request would queue every
# callback of every worker behind the warehouse's one write lock.
SESSION_TOUCH = timedelta(minutes=1)
SESSION_MAX = timedelta(hours=12)


class AccountError(ValueError):
    """A user-management request that cannot be done (its message says why)."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    governorate: str | None

    @property
    def scope(self) -> Scope:
        return Scope(self.role, self.governorate)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    encode = base64.b64encode
    return (
        f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt).decode()}${encode(digest).decode()}"
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A hash to check against when the user does not exist, so timing does not tell.
_DUMMY_HASH = hash_password(secrets.token_hex(8))


def _check_role(role: str, governorate: str | None) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if role == "governorate" and governorate not in geography.governorate_codes():
        raise AccountError("a governorate user needs --governorate with a code such as IQG02")
    if role != "governorate" and governorate:
        raise AccountError(f"role {role} sees all regions; --governorate is only for 'governorate'")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")


def add_user(
    url: str | None,
    username: str,
    password: str,
    role: str,
    governorate: str | None = None,
    actor: str = "cli",
    demo: bool = False,
) -> None:
    _check_role(role, governorate)
    _check_password(password)
    users = wh.users
    with wh.engine(url).begin() as connection:
        exists = connection.execute(
            sa.select(users.c.username).where(users.c.username == username)
        ).first()
        if exists:
            raise AccountError(f"user {username!r} already exists")
        connection.execute(
            users.insert().values(
                username=username,
                password_hash=hash_password(password),
                role=role,
                governorate=governorate,
                disabled=False,
                demo=demo,
                failed_logins=0,
                created_at=wh.now(),
            )
        )
        _audit(
            connection,
            actor,
            "user_added",
            {"user": username, "role": role, "governorate": governorate},
        )


def set_password(url: str | None, username: str, password: str, actor: str = "cli") -> None:
    _check_password(password)
    _update(
        url,
        username,
        actor,
        "password_changed",
        password_hash=hash_password(password),
        failed_logins=0,
        locked_until=None,
    )


def set_disabled(url: str | None, username: str, disabled: bool, actor: str = "cli") -> None:
    event = "user_disabled" if disabled else "user_enabled"
    _update(url, username, actor, event, disabled=disabled)


def _update(url: str | None, username: str, actor: str, event: str, **values: object) -> None:
    users = wh.users
    with wh.engine(url).begin() as connection:
        changed = connection.execute(
            users.update().where(users.c.username == username).values(**values)
        ).rowcount
        if not changed:
            raise AccountError(f"no user {username!r}")
        _audit(connection, actor, event, {"user": username})


def list_users(url: str | None = None) -> pl.DataFrame:
    users = wh.users
    columns = [
        users.c.username,
        users.c.role,
        users.c.governorate,
        users.c.disabled,
        users.c.locked_until,
        users.c.created_at,
    ]
    with wh.engine(url).connect() as connection:
        rows = connection.execute(sa.select(*columns).order_by(users.c.username)).all()
    schema = {
        "username": pl.String,
        "role": pl.String,
        "governorate": pl.String,
        "disabled": pl.Boolean,
        "locked_until": pl.Datetime("us"),
        "created_at": pl.Datetime("us"),
    }
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def authenticate(url: str | None, username: str, password: str, client: str = "") -> User | None:
    """The user if the password is right and the account active and not locked; audited."""
    users = wh.users
    now = wh.now()
    with wh.engine(url).begin() as connection:
        row = connection.execute(sa.select(users).where(users.c.username == username)).first()
        ok = verify_password(password, row.password_hash if row else _DUMMY_HASH)
        reason = None
        if client and _client_failures(connection, client, now) >= CLIENT_FAILURES:
            reason = "too many failed logins from this client"
        elif row is None:
            reason = "unknown user"
        elif row.disabled:
            reason = "disabled"
        elif row.locked_until and row.locked_until > now:
            reason = "locked"
        elif not ok:
            failures = row.failed_logins + 1
            locked = now + LOCKOUT if failures >= MAX_FAILURES else None
            connection.execute(
                users.update()
                .where(users.c.username == username)
                .values(failed_logins=0 if locked else failures, locked_until=locked)
            )
            reason = "wrong password" + (" (account locked)" if locked else "")
        if reason:
            _audit(connection, username, "login_failed", {"reason": reason}, client)
            return None
        connection.execute(
            users.update()
            .where(users.c.username == username)
            .values(failed_logins=0, locked_until=None)
        )
        _audit(connection, username, "login", {}, client)
        return User(row.username, row.role, row.governorate)


def active_user(url: str | None, username: str) -> User | None:
    """Re-read a session's user on each request, so disabling takes effect at once."""
    users = wh.users
    with wh.engine(url).connect() as connection:
        row = connection.execute(sa.select(users).where(users.c.username == username)).first()
    if row is None or row.disabled:
        return None
    return User(row.username, row.role, row.governorate)


def _client_failures(connection: sa.Connection, client: str, now: datetime) -> int:
    """Failed logins from one address lately: slows guessing across many user names."""
    a = wh.audit
    query = sa.select(sa.func.count()).where(
        a.c.client == client, a.c.event == "login_failed", a.c.at > now - CLIENT_WINDOW
    )
    return int(connection.execute(query).scalar() or 0)


def _audit(
    connection: sa.Connection, actor: str, event: str, detail: dict, client: str = ""
) -> None:
    connection.execute(
        wh.audit.insert().values(
            at=wh.now(),
            actor=actor,
            event=event,
            client=client[:64],
            detail=json.dumps(detail, sort_keys=True),
        )
    )


def audit(url: str | None, actor: str, event: str, detail: dict, client: str = "") -> None:
    """Append one event (e.g. an export: who, which selection, how many rows)."""
    with wh.engine(url).begin() as connection:
        _audit(connection, actor, event, detail, client)


# ---- server-side sessions -------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(url: str | None, user: User) -> tuple[str, str]:
    """A new session: (cookie token, CSRF token). Only the token's hash is stored, so the
    warehouse never holds a usable session cookie."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = wh.now()
    with wh.engine(url).begin() as connection:
        connection.execute(
            wh.sessions.insert().values(
                token_hash=_token_hash(token),
                username=user.username,
                csrf_token=csrf,
                created_at=now,
                last_seen=now,
            )
        )
    return token, csrf


def session_user(url: str | None, token: str | None) -> tuple[User, str] | None:
    """The user and CSRF token of a live session (idle and absolute limits), refreshing its
    idle timer (once a minute at most); None for an unknown, expired or disabled user's
    session."""
    if not token:
        return None
    s, now = wh.sessions, wh.now()
    key = _token_hash(token)
    with wh.engine(url).begin() as connection:
        row = connection.execute(sa.select(s).where(s.c.token_hash == key)).first()
        if row is None:
            return None
        if now - row.last_seen > SESSION_IDLE or now - row.created_at > SESSION_MAX:
            connection.execute(s.delete().where(s.c.token_hash == key))
            return None
        if now - row.last_seen > SESSION_TOUCH:
            connection.execute(s.update().where(s.c.token_hash == key).values(last_seen=now))
    user = active_user(url, row.username)
    return (user, row.csrf_token) if user else None


def end_session(url: str | None, token: str | None, client: str = "") -> None:
    """Log out: the session row goes, so the cookie is worthless even if kept."""
    if not token:
        return
    s = wh.sessions
    with wh.engine(url).begin() as connection:
        row = connection.execute(
            sa.select(s.c.username).where(s.c.token_hash == _token_hash(token))
        ).first()
        connection.execute(s.delete().where(s.c.token_hash == _token_hash(token)))
        if row:
            _audit(connection, row.username, "logout", {}, client)


def audit_log(url: str | None = None, limit: int = 1000) -> pl.DataFrame:
    a = wh.audit
    with wh.engine(url).connect() as connection:
        rows = connection.execute(
            sa.select(a.c.id, a.c.at, a.c.actor, a.c.event, a.c.client, a.c.detail)
            .order_by(a.c.id.desc())
            .limit(limit)
        ).all()
    schema = {
        "id": pl.Int64,
        "at": pl.Datetime("us"),
        "actor": pl.String,
        "event": pl.String,
        "client": pl.String,
        "detail": pl.String,
    }
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def ensure_demo_users(url: str | None, password: str) -> list[str]:
    """Create the demo users (config.DEMO_USERS) that do not exist yet; their names."""
    existing = set(list_users(url)["username"])
    created = []
    for name, role, governorate in config.DEMO_USERS:
        if name not in existing:
            add_user(url, name, password, role, governorate, actor="demo", demo=True)
            created.append(name)
    return created


def demo_users_present(url: str | None) -> list[str]:
    """Active accounts made by `etl demo` (by that mark, not by name, so a real user may be
    called `admin`): production refuses to start while any remain."""
    users = wh.users
    query = sa.select(users.c.username).where(users.c.demo, ~users.c.disabled)
    with wh.engine(url).connect() as connection:
        return sorted(connection.execute(query).scalars())
