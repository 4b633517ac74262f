"""Database connections are checked before use only after they sat idle, not on every checkout.

Also here: :func:`autocommit`, a small pool of psycopg connections in autocommit mode for hot paths
that do their whole unit of work in one SQL statement (one round trip: no BEGIN, no COMMIT, no ORM).

SQLAlchemy's ``pool_pre_ping`` costs a round trip per checkout: per request, and per Socket.IO event
(measured: a tenth of a chat send's CPU). A connection that served a moment ago is alive; one that
sat in the pool for ``IDLE_PING_SECONDS`` may have been closed by a database restart, a failover or
a firewall's idle timeout, so it is pinged first and replaced if dead. A connection that dies while
in steady use fails that one unit of work, and SQLAlchemy then renews the whole pool.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from flask import Flask, current_app
from psycopg_pool import ConnectionPool
from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import Pool

IDLE_PING_SECONDS = 5.0
IDLE_SINCE = "bazaar_idle_since"
AUTOCOMMIT_POOL = "bazaar_autocommit_pool"
_CREATING = threading.Lock()


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


# ---- autocommit connections for one-statement hot paths ----------------------------------------
@contextmanager
def autocommit(app: Flask | None = None) -> Iterator[psycopg.Connection[Any]]:
    """A pooled psycopg connection in autocommit mode: each statement is its own transaction.

    For a hot path whose whole unit of work is one statement (chat's send): no BEGIN/COMMIT round
    trips and no SQLAlchemy per-execution work. Its pool is separate from SQLAlchemy's, so the
    prepared statements of these connections are never dropped by a session's ROLLBACK. Never use it
    for work that must commit or roll back with ``db.session``.
    """
    with _autocommit_pool(app or current_app).connection() as conn:
        yield conn


def _autocommit_pool(app: Flask) -> ConnectionPool:
    found = app.extensions.get(AUTOCOMMIT_POOL)
    if found is not None and found[0] == os.getpid():
        return found[1]
    with _CREATING:  # made on first use in the serving process (after gunicorn's fork), once
        found = app.extensions.get(AUTOCOMMIT_POOL)
        if found is None or found[0] != os.getpid():
            found = app.extensions[AUTOCOMMIT_POOL] = (os.getpid(), _new_pool(app))
    return found[1]


def _new_pool(app: Flask) -> ConnectionPool:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    connect_args = app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).get("connect_args", {})
    return ConnectionPool(
        url.render_as_string(hide_password=False),
        kwargs={**connect_args, "autocommit": True},
        min_size=1,
        max_size=max(1, int(app.config.get("DATABASE_AUTOCOMMIT_POOL_SIZE", 10))),
        check=_ping_autocommit_if_idle,
        reset=_note_autocommit_idle_since,
        name="bazaar-autocommit",
        open=True,
    )


_AUTOCOMMIT_IDLE_SINCE: weakref.WeakKeyDictionary[psycopg.Connection[Any], float] = weakref.WeakKeyDictionary()


def _note_autocommit_idle_since(conn: psycopg.Connection[Any]) -> None:
    _AUTOCOMMIT_IDLE_SINCE[conn] = time.monotonic()


def _ping_autocommit_if_idle(conn: psycopg.Connection[Any]) -> None:
    """As ``_ping_if_idle``: a connection used a moment ago is alive; a dead one is replaced unseen."""
    idle_since = _AUTOCOMMIT_IDLE_SINCE.get(conn)
    if idle_since is not None and time.monotonic() - idle_since >= IDLE_PING_SECONDS:
        ConnectionPool.check_connection(conn)  # raises when dead: the pool discards it and hands another
