"""Helpers for auth tests: sign up through the API, read published events (no mail yet), TOTP codes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from app.events import OutboxEvent
from app.extensions import db

PASSWORD = "correct horse battery"


@dataclass
class Account:
    user_id: uuid.UUID
    email: str
    password: str
    access: str
    refresh: str
    session_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def account_from(body: dict[str, Any], email: str, password: str, user_id: uuid.UUID) -> Account:
    return Account(
        user_id=user_id,
        email=email,
        password=password,
        access=body["access_token"],
        refresh=body["refresh_token"],
        session_id=uuid.UUID(body["session_id"]),
    )


@pytest.fixture
def signup(client) -> Callable[..., Account]:  # type: ignore[no-untyped-def]
    def make(email: str | None = None, password: str = PASSWORD, **extra: Any) -> Account:
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.test"
        body = {"email": email, "password": password, "display_name": extra.pop("display_name", "Ada"), **extra}
        response = client.post("/auth/signup", json=body)
        assert response.status_code == 201, response.json
        data = response.json
        return account_from(data["tokens"], email.lower(), password, uuid.UUID(data["user"]["id"]))

    return make


@pytest.fixture
def login(client) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    def do(email: str, password: str = PASSWORD, **kwargs: Any):  # type: ignore[no-untyped-def]
        return client.post("/auth/login", json={"email": email, "password": password}, **kwargs)

    return do


def published(app, event_type: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Payloads of committed events of a type, oldest first (tests read mail tokens from here)."""
    with app.app_context():
        rows = db.session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == event_type).order_by(OutboxEvent.position)
        ).all()
        payloads = [dict(row.payload, _actor=row.actor) for row in rows]
        db.session.remove()
        return payloads


def last_token(app, event_type: str, email: str) -> str:  # type: ignore[no-untyped-def]
    matching = [p for p in published(app, event_type) if p["email"] == email]
    assert matching, f"no {event_type} for {email}"
    return matching[-1]["token"]


def assert_problem(response, status: int, *, kind: str | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == status
    if kind is not None:
        assert body["type"].endswith("/" + kind), body
    return body


def totp_code(secret: str, offset_seconds: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + offset_seconds)


def wrong_totp_code(secret: str) -> str:
    """A 6-digit code that is valid for none of the accepted steps around now."""
    valid = {totp_code(secret, delta) for delta in (-60, -30, 0, 30, 60)}
    candidate = 0
    while f"{candidate:06d}" in valid:
        candidate += 1
    return f"{candidate:06d}"


@pytest.fixture
def mfa_account(client, signup) -> Callable[[], tuple[Account, str, list[str]]]:  # type: ignore[no-untyped-def]
    """An account with TOTP confirmed: (account, secret, recovery codes). The confirm code used step 0."""

    def make() -> tuple[Account, str, list[str]]:
        account = signup()
        enrol = client.post("/auth/mfa/totp", headers=account.headers)
        assert enrol.status_code == 201, enrol.json
        secret = enrol.json["secret"]
        confirm = client.post("/auth/mfa/totp/confirm", json={"code": totp_code(secret)}, headers=account.headers)
        assert confirm.status_code == 200, confirm.json
        account.access = confirm.json["access_token"]
        return account, secret, confirm.json["recovery_codes"]

    return make
