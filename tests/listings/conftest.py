"""Fixtures of listings tests: users with tokens and a camera category with an attributes schema."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from tests.listings.factories import CAMERA_SCHEMA, make_category


@dataclass
class User:
    id: uuid.UUID
    headers: dict[str, str]


@pytest.fixture
def seller(auth_headers) -> User:  # type: ignore[no-untyped-def]
    user_id = uuid.uuid4()
    return User(user_id, auth_headers(user_id, roles=("seller",)))


@pytest.fixture
def other_seller(auth_headers) -> User:  # type: ignore[no-untyped-def]
    user_id = uuid.uuid4()
    return User(user_id, auth_headers(user_id, roles=("seller",)))


@pytest.fixture
def staff(auth_headers) -> User:  # type: ignore[no-untyped-def]
    user_id = uuid.uuid4()
    return User(user_id, auth_headers(user_id, roles=("staff",)))


@pytest.fixture
def cameras(app_ctx) -> uuid.UUID:  # type: ignore[no-untyped-def]
    return make_category(name="Cameras", schema=CAMERA_SCHEMA)
