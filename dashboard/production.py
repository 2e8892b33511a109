"""Production mode (`MIZAN_ENV=production`) refuses to start on an unsafe configuration.

Checked by `create_app`, so gunicorn (in each worker as it boots: a failing worker stops
gunicorn) and `python app.py` both stop with one line saying everything that is wrong.
"""

from __future__ import annotations

import sqlalchemy as sa

from indicators import accounts, config
from indicators import warehouse as wh

MIN_SECRET = 32


class ProductionConfigError(RuntimeError):
    """The configuration is not safe for production; the message says what to change."""


def problems(url: str) -> list[str]:
    """What is unsafe for production (empty when all is well). Reads the users table."""
    found = []
    secret = config.secret_key()
    if secret == config.DEFAULT_SECRET or len(secret) < MIN_SECRET:
        found.append(
            f"MIZAN_SECRET_KEY is missing, the demo default or shorter than {MIN_SECRET} "
            "characters (make one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if config.debug():
        found.append("MIZAN_DEBUG is on (it shows tracebacks and runs the dev tools); unset it")
    demo = accounts.demo_users_present(url)
    if demo:
        found.append(
            f"demo users are active ({', '.join(demo)}); disable each with "
            "`python -m etl users disable NAME`"
        )
    return found


def check(url: str) -> None:
    """Raise `ProductionConfigError` when `MIZAN_ENV=production` and anything is unsafe."""
    if not config.production():
        return
    try:
        found = problems(url)
    except (sa.exc.SQLAlchemyError, wh.SchemaError, OSError) as error:
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise ProductionConfigError(f"cannot check the users in the warehouse: {cause}") from error
    # Close the pooled connections of the check, so that no process forked later (a
    # preloading server) could share one; each opens its own on first use.
    wh.engine(url).dispose()
    if found:
        raise ProductionConfigError("refusing to start in production: " + "; ".join(found))
