"""Test harness: a fresh PostgreSQL database and a private Redis per run, real servers only.

PostgreSQL: the machine's server on 127.0.0.1:5432 when reachable (``TEST_DATABASE_ADMIN_URL``
overrides), else an embedded one. Each run creates ``bazaar_test_<random>``, migrates it to head and
drops it at the end, so runs never collide. Redis: a private ``redis-server`` on a free port.
Tables are truncated after each test that touched the app, so tests may commit like production does.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from flask import has_app_context
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app
from app.embedded import database_url, local_postgres_admin_url, start_postgres, start_redis
from app.extensions import db
from app.security import encode_access_token
from config import DOMAINS, Config

CLEAN_SCHEMAS = (*DOMAINS, "platform")


def _psycopg_dsn(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    url = local_postgres_admin_url()
    if url:
        yield url
        return
    server = start_postgres(Path(tempfile.mkdtemp(prefix="bazaar-pg-")))
    try:
        yield server.url("postgres")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def database_url_for_run(postgres_admin_url: str) -> Iterator[str]:
    name = f"bazaar_test_{uuid.uuid4().hex[:10]}"
    admin_dsn = _psycopg_dsn(postgres_admin_url)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(postgres_admin_url, name)
    from app.migrate import upgrade

    upgrade(url)
    try:
        yield url
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    server = start_redis()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def test_environ(database_url_for_run: str, redis_server: str) -> dict[str, str]:
    environ = {
        "BAZAAR_ENV": "test",
        "DATABASE_URL": database_url_for_run,
        "REDIS_URL": redis_server,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "LOG_JSON": "false",
        "LOG_LEVEL": "WARNING",
        "RATELIMIT_DEFAULT": "100000/minute",
        # Brute-force limits too (tests sign in often); tests of those limits build apps with low ones.
        "RATELIMIT_AUTH_LOGIN": "100000/minute",
        "RATELIMIT_AUTH_LOGIN_ACCOUNT": "100000/minute",
        "RATELIMIT_AUTH_SIGNUP": "100000/minute",
        "RATELIMIT_AUTH_PASSWORD": "100000/minute",
        "RATELIMIT_AUTH_MFA": "100000/minute",
        "WEBHOOKS_ALLOW_PRIVATE": "true",
    }
    os.environ.update(environ)  # subprocesses started by tests (relay, workers, servers) inherit it
    return environ


@pytest.fixture(scope="session")
def make_app(test_environ: dict[str, str]) -> Callable[..., object]:
    """Build another app on the run's database and Redis (several apps in one process must work)."""

    def factory(**overrides: object):
        return create_app(Config(test_environ, **overrides))

    return factory


@pytest.fixture(scope="session")
def app(make_app):  # type: ignore[no-untyped-def]
    application = make_app()
    with application.app_context():
        from admin.accounts import sync_permissions

        sync_permissions()
    return application


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    if has_app_context():
        # pytest-flask keeps a request context pushed for the whole test and client requests reuse its
        # app context, so their session (and any open transaction) lives here: end it, or TRUNCATE waits.
        db.session.remove()
    with application.app_context():
        db.session.remove()
        tables = (
            db.session.execute(
                text(
                    "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
                    "WHERE schemaname = ANY(:schemas) AND tablename <> 'alembic_version'"
                ),
                {"schemas": list(CLEAN_SCHEMAS)},
            )
            .scalars()
            .all()
        )
        if tables:
            db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            db.session.commit()
        application.extensions["redis"].flushdb()


@pytest.fixture
def app_ctx(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        yield app


@pytest.fixture
def token_for(app) -> Callable[..., str]:  # type: ignore[no-untyped-def]
    """Mint an access token for a user id (the auth domain issues real ones; the gateway only verifies)."""

    def mint(user_id: uuid.UUID | str | None = None, roles: tuple[str, ...] = ("buyer",), **kwargs: object) -> str:
        with app.app_context():
            session_id = kwargs.pop("session_id", uuid.uuid4())
            return encode_access_token(user_id=user_id or uuid.uuid4(), session_id=session_id, roles=roles, **kwargs)

    return mint


@pytest.fixture
def auth_headers(token_for) -> Callable[..., dict[str, str]]:  # type: ignore[no-untyped-def]
    def headers(user_id: uuid.UUID | str | None = None, **kwargs: object) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(user_id, **kwargs)}"}

    return headers
