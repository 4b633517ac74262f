"""Fixtures of generator tests: users with tokens, a category, staff logged in to the admin."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest

from tests.generator.factories import make_category


@dataclass
class User:
    id: uuid.UUID
    headers: dict[str, str]


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
def category(app) -> uuid.UUID:  # type: ignore[no-untyped-def]
    return make_category(app, name="Bikes", slug="bikes")


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
def admin_client(app, client):  # type: ignore[no-untyped-def]
    admin_login(app, client, role="Admin")
    return client


@pytest.fixture
def trust_safety_client(app, client):  # type: ignore[no-untyped-def]
    admin_login(app, client, role="TrustSafety")
    return client
