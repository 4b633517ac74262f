"""Sign-up, email verification, validation errors and the events other domains rely on."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, text, update

from app.extensions import db
from blueprints.auth.models import OneTimeToken, UserAccount
from tests.auth.conftest import PASSWORD, assert_problem, last_token, published


def test_signup_creates_account_profile_session_and_events(app, client):
    response = client.post(
        "/auth/signup",
        json={"email": "Ada@Example.TEST", "password": PASSWORD, "display_name": "Ada", "roles": ["seller", "buyer"]},
    )
    assert response.status_code == 201, response.json
    body = response.json
    user = body["user"]
    assert user["email"] == "ada@example.test"
    assert user["roles"] == ["buyer", "seller"]
    assert user["email_verified"] is False
    assert user["mfa_enabled"] is False
    assert "password" not in user and "password_hash" not in user
    tokens = body["tokens"]
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 900
    assert response.headers["Cache-Control"] == "no-store"

    me = client.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json["id"] == user["id"]

    registered = published(app, "auth.UserRegistered")
    assert [(e["user_id"], e["email"], e["roles"]) for e in registered] == [
        (user["id"], "ada@example.test", ["buyer", "seller"])
    ]
    verification = published(app, "auth.EmailVerificationRequested")
    assert len(verification) == 1 and verification[0]["token"]
    # The raw token is in the event only: neither the response nor the database holds it.
    raw = verification[0]["token"]
    assert raw not in response.get_data(as_text=True)
    with app.app_context():
        stored = db.session.scalars(select(OneTimeToken.token_hash)).all()
        assert raw not in stored and len(stored) == 1


def test_password_is_stored_as_argon2id(app, signup):
    account = signup()
    with app.app_context():
        user = db.session.get(UserAccount, account.user_id)
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert PASSWORD not in user.password_hash


def test_duplicate_email_is_409_with_field_error(client, signup):
    signup(email="dup@example.test")
    response = client.post(
        "/auth/signup", json={"email": "DUP@example.test", "password": PASSWORD, "display_name": "Other"}
    )
    body = assert_problem(response, 409, kind="email-taken")
    assert "email" in body["errors"]


def test_validation_errors_are_problem_json_with_field_errors(app, client):
    response = client.post(
        "/auth/signup", json={"email": "not-an-email", "password": "x", "roles": ["admin"], "status": "active"}
    )
    body = assert_problem(response, 422)
    assert body["type"].endswith("/validation")
    errors = body["errors"]
    assert "email" in errors
    assert "display_name" in errors
    assert "roles.0" in errors
    assert errors["status"] == ["Unknown field."]
    with app.app_context():
        assert db.session.scalar(select(UserAccount.id)) is None


def test_weak_password_is_refused_by_policy(app, client):
    response = client.post("/auth/signup", json={"email": "a@example.test", "password": "short", "display_name": "A"})
    body = assert_problem(response, 422)
    assert body["errors"]["password"] == ["Use at least 10 characters."]
    same_as_email = client.post(
        "/auth/signup",
        json={"email": "longname1@example.test", "password": "longname1@example.test", "display_name": "A"},
    )
    assert assert_problem(same_as_email, 422)["errors"]["password"]
    with app.app_context():
        assert db.session.scalar(select(UserAccount.id)) is None  # nothing half-written


def test_email_verification_token_is_single_use(app, client, signup):
    account = signup()
    token = last_token(app, "auth.EmailVerificationRequested", account.email)
    assert client.post("/auth/email/verify", json={"token": token}).json == {"email_verified": True}
    assert client.get("/auth/me", headers=account.headers).json["email_verified"] is True
    again = client.post("/auth/email/verify", json={"token": token})
    assert "token" in assert_problem(again, 400, kind="invalid-token")["errors"]
    assert [e["user_id"] for e in published(app, "auth.EmailVerified")] == [str(account.user_id)]


def test_expired_verification_token_fails(app, client, signup):
    account = signup()
    token = last_token(app, "auth.EmailVerificationRequested", account.email)
    with app.app_context():
        db.session.execute(update(OneTimeToken).values(expires_at=func.now() - text("interval '1 second'")))
        db.session.commit()
    assert_problem(client.post("/auth/email/verify", json={"token": token}), 400, kind="invalid-token")
    assert client.get("/auth/me", headers=account.headers).json["email_verified"] is False


def test_resend_verification_retires_the_previous_token(app, client, signup):
    account = signup()
    first = last_token(app, "auth.EmailVerificationRequested", account.email)
    assert client.post("/auth/email/verification", headers=account.headers).status_code == 202
    second = last_token(app, "auth.EmailVerificationRequested", account.email)
    assert first != second
    assert_problem(client.post("/auth/email/verify", json={"token": first}), 400)
    assert client.post("/auth/email/verify", json={"token": second}).status_code == 200
    assert_problem(client.post("/auth/email/verification", headers=account.headers), 409, kind="already-verified")


def test_unknown_verification_token_fails(client, app):
    assert_problem(client.post("/auth/email/verify", json={"token": uuid.uuid4().hex}), 400, kind="invalid-token")


def test_text_that_postgresql_or_utf8_cannot_take_is_a_422_not_a_500(app, client, signup):
    base = {"email": "nul@example.test", "password": PASSWORD, "display_name": "Ada"}
    for field, value in (
        ("display_name", "Ad\u0000a"),
        ("display_name", "\ud9c0"),  # a lone surrogate
        ("display_name", "   "),
        ("device_name", "phone\u0007"),
        ("email", "a\u0000b@example.test"),
    ):
        response = client.post("/auth/signup", json={**base, field: value})
        assert field in assert_problem(response, 422)["errors"], (field, value)
    for path, body in (
        ("/auth/login", {"email": "x@example.test", "password": "\ud800"}),
        ("/auth/token/refresh", {"refresh_token": "tok\u0000en"}),
        ("/auth/email/verify", {"token": "\udfff"}),
        ("/auth/password/reset-request", {"email": "\ud800@example.test"}),
    ):
        assert_problem(client.post(path, json=body), 422)
    with app.app_context():
        assert db.session.scalar(select(UserAccount.id)) is None
    account = signup()
    bio = client.patch("/auth/me", json={"bio": "line one\nline two"}, headers=account.headers)
    assert bio.status_code == 200 and bio.json["bio"] == "line one\nline two"
    assert_problem(client.patch("/auth/me", json={"location": "Lyon\u0000"}, headers=account.headers), 422)
