"""Fixtures of generator tests: an app with the demo domain, users with tokens, staff in the admin.

``gen_app`` is a second app on the run's database with ``tests/generator/demo.py`` registered through
the same ``register_resource`` hook real domains use; its tables live in their own schema, created
here and emptied after each test.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.generator import demo
from tests.generator.factories import make_shelf


@dataclass
class User:
    id: uuid.UUID
    headers: dict[str, str]


@pytest.fixture(scope="session")
def gen_app(app, make_app):  # type: ignore[no-untyped-def]
    from admin.accounts import sync_permissions
    from app.generator import register_resource

    application = make_app()
    with application.app_context():
        with db.engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {demo.SCHEMA}"))
            demo.DemoBase.metadata.create_all(connection)
        api = application.extensions["bazaar_api"]
        for resource in demo.domain.resources:
            register_resource(application, api, application.appbuilder, demo.domain, resource)
        sync_permissions()
    return application


@pytest.fixture(autouse=True)
def _empty_demo_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "gen_app" not in request.fixturenames:
        return
    application = request.getfixturevalue("gen_app")
    with application.app_context():
        db.session.remove()
        tables = ", ".join(f"{demo.SCHEMA}.{t.name}" for t in demo.DemoBase.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} CASCADE"))
        db.session.commit()


@pytest.fixture
def gen_client(gen_app):  # type: ignore[no-untyped-def]
    return gen_app.test_client()


@pytest.fixture
def seller(auth_headers) -> User:  # type: ignore[no-untyped-def]
    user_id = uuid.uuid4()
    return User(user_id, auth_headers(user_id, roles=("seller",)))


@pytest.fixture
def other_user(auth_headers) -> User:  # type: ignore[no-untyped-def]
    user_id = uuid.uuid4()
    return User(user_id, auth_headers(user_id, roles=("buyer",)))


@pytest.fixture
def staff_client_user(auth_headers) -> User:  # type: ignore[no-untyped-def]
    """A marketplace user whose token carries the ``staff`` role (STAFF rule on the API)."""
    user_id = uuid.uuid4()
    return User(user_id, auth_headers(user_id, roles=("staff",)))


@pytest.fixture
def shelf(gen_app) -> uuid.UUID:  # type: ignore[no-untyped-def]
    return make_shelf(gen_app, name="Bikes", slug="bikes")


def admin_login(app, client, *, role: str = "Admin") -> str:  # type: ignore[no-untyped-def]
    """Log a staff member in through FAB's own login form; returns the email."""
    from admin.accounts import ensure_staff

    email = f"{role.lower()}-{uuid.uuid4().hex[:6]}@bazaar.test"
    with app.app_context():
        ensure_staff(email=email, password="correct horse battery", role=role)
    page = client.get("/admin/login/")
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    data = {"username": email, "password": "correct horse battery"}
    if match:
        data["csrf_token"] = match.group(1)
    response = client.post("/admin/login/", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return email


@pytest.fixture
def admin_client(gen_app, gen_client):  # type: ignore[no-untyped-def]
    admin_login(gen_app, gen_client, role="Admin")
    return gen_client


@pytest.fixture
def trust_safety_client(gen_app, gen_client):  # type: ignore[no-untyped-def]
    admin_login(gen_app, gen_client, role="TrustSafety")
    return gen_client
