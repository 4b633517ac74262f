"""Database connections are checked before use only after they sat idle, not on every checkout.

SQLAlchemy's ``pool_pre_ping`` costs a round trip per checkout: per request, and per Socket.IO event
(measured: a tenth of a chat send's CPU). A connection that served a moment ago is alive; one that
sat in the pool for ``IDLE_PING_SECONDS`` may have been closed by a database restart, a failover or
a firewall's idle timeout, so it is pinged first and replaced if dead. A connection that dies while
in steady use fails that one unit of work, and SQLAlchemy then renews the whole pool.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.pool import Pool

IDLE_PING_SECONDS = 5.0
IDLE_SINCE = "bazaar_idle_since"


def install() -> None:
    """Register the idle ping on every SQLAlchemy pool of the process (once; ``create_app`` calls it)."""
    for name, listener in (("checkin", _note_idle_since), ("checkout", _ping_if_idle)):
        if not event.contains(Pool, name, listener):
            event.listen(Pool, name, listener)


def _note_idle_since(dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[IDLE_SINCE] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    idle_since = record.info.get(IDLE_SINCE)
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
        return  # fresh from connect(), or used a moment ago
    try:
        proxy._pool._dialect.do_ping(dbapi_connection)
    except Exception as error:
        # The pool invalidates this connection and checks out another (a new one if need be).
        raise exc.DisconnectionError(f"idle connection failed its ping: {error}") from error
