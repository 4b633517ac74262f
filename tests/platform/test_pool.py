"""Pooled connections are pinged only after sitting idle, and a dead idle one is replaced unseen."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app import pool
from app.extensions import db


@pytest.fixture
def engine(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        yield db.engine


def backend_pid(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_used_a_moment_ago_is_not_pinged(engine, monkeypatch):
    pings: list[object] = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(connection) or True)
    monkeypatch.setattr(pool, "IDLE_PING_SECONDS", 60.0)
    for _ in range(3):
        backend_pid(engine)
    assert pings == []
    monkeypatch.setattr(pool, "IDLE_PING_SECONDS", 0.0)
    backend_pid(engine)
    assert len(pings) == 1


def test_an_idle_connection_killed_by_the_server_is_replaced(engine, monkeypatch, test_environ):
    engine.dispose()
    first = backend_pid(engine)
    admin = test_environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone()[0]  # type: ignore[index]
    monkeypatch.setattr(pool, "IDLE_PING_SECONDS", 0.0)
    assert backend_pid(engine) != first  # no error: the ping found it dead and the pool connected anew
    monkeypatch.setattr(pool, "IDLE_PING_SECONDS", 60.0)
    second = backend_pid(engine)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (second,))
    with pytest.raises(OperationalError):  # the control: used again at once, it is not pinged
        backend_pid(engine)


def test_autocommit_connections_commit_each_statement_and_a_dead_idle_one_is_replaced(app, monkeypatch, test_environ):
    admin = test_environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
    with app.app_context():
        with pool.autocommit() as conn:
            assert conn.autocommit
            first = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
            conn.execute("CREATE TEMP TABLE seen (n int)")
            conn.execute("INSERT INTO seen VALUES (1)")
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE  # committed already
        with psycopg.connect(admin, autocommit=True) as other:
            assert other.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone()[0]  # type: ignore[index]
        monkeypatch.setattr(pool, "IDLE_PING_SECONDS", 0.0)
        with pool.autocommit() as conn:  # no error: the ping found it dead and the pool handed another
            assert conn.execute("SELECT pg_backend_pid()").fetchone()[0] != first  # type: ignore[index]
