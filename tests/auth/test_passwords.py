"""Password change and reset: single-use expiring tokens, no enumeration, sessions revoked."""

from __future__ import annotations

from sqlalchemy import func, text, update

from app.extensions import db
from blueprints.auth.models import OneTimeToken
from tests.auth.conftest import PASSWORD, assert_problem, bearer, last_token, published

NEW_PASSWORD = "a brand new passphrase"


def test_reset_request_does_not_reveal_whether_the_account_exists(app, client, signup):
    account = signup()
    known = client.post("/auth/password/reset-request", json={"email": account.email})
    unknown = client.post("/auth/password/reset-request", json={"email": "nobody@example.test"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_data() == unknown.get_data() == b""
    assert [e["email"] for e in published(app, "auth.PasswordResetRequested")] == [account.email]


def test_reset_sets_password_revokes_all_sessions_and_is_single_use(app, client, signup, login):
    account = signup()
    other = login(account.email).json
    client.post("/auth/password/reset-request", json={"email": account.email})
    token = last_token(app, "auth.PasswordResetRequested", account.email)

    assert client.post("/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD}).status_code == 204
    for access in (account.access, other["access_token"]):
        assert_problem(client.get("/auth/me", headers=bearer(access)), 401)
    for refresh_token in (account.refresh, other["refresh_token"]):
        assert_problem(client.post("/auth/token/refresh", json={"refresh_token": refresh_token}), 401)
    assert_problem(login(account.email, PASSWORD), 401)
    assert login(account.email, NEW_PASSWORD).status_code == 200

    again = client.post("/auth/password/reset", json={"token": token, "new_password": "yet another passphrase"})
    assert "token" in assert_problem(again, 400, kind="invalid-token")["errors"]
    changed = published(app, "auth.PasswordChanged")
    assert [(e["via"], e["sessions_revoked"]) for e in changed] == [("reset", 2)]


def test_expired_reset_token_fails_and_changes_nothing(app, client, signup, login):
    account = signup()
    client.post("/auth/password/reset-request", json={"email": account.email})
    token = last_token(app, "auth.PasswordResetRequested", account.email)
    with app.app_context():
        db.session.execute(update(OneTimeToken).values(expires_at=func.now() - text("interval '1 second'")))
        db.session.commit()
    response = client.post("/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD})
    assert_problem(response, 400, kind="invalid-token")
    assert login(account.email, PASSWORD).status_code == 200
    assert client.get("/auth/me", headers=account.headers).status_code == 200


def test_a_new_reset_request_retires_the_previous_token(app, client, signup):
    account = signup()
    client.post("/auth/password/reset-request", json={"email": account.email})
    first = last_token(app, "auth.PasswordResetRequested", account.email)
    client.post("/auth/password/reset-request", json={"email": account.email})
    second = last_token(app, "auth.PasswordResetRequested", account.email)
    assert_problem(client.post("/auth/password/reset", json={"token": first, "new_password": NEW_PASSWORD}), 400)
    assert client.post("/auth/password/reset", json={"token": second, "new_password": NEW_PASSWORD}).status_code == 204


def test_reset_with_weak_password_keeps_the_token_usable(app, client, signup):
    account = signup()
    client.post("/auth/password/reset-request", json={"email": account.email})
    token = last_token(app, "auth.PasswordResetRequested", account.email)
    weak = client.post("/auth/password/reset", json={"token": token, "new_password": "short"})
    assert "new_password" in assert_problem(weak, 422)["errors"]
    assert client.post("/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD}).status_code == 204


def test_change_password_keeps_this_session_and_revokes_the_others(app, client, signup, login):
    account = signup()
    other = login(account.email).json
    response = client.post(
        "/auth/password/change",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=account.headers,
    )
    assert response.status_code == 200, response.json
    assert response.json == {"revoked": 1}
    assert client.get("/auth/me", headers=account.headers).status_code == 200
    assert_problem(client.get("/auth/me", headers=bearer(other["access_token"])), 401)
    assert login(account.email, NEW_PASSWORD).status_code == 200
    assert [e["via"] for e in published(app, "auth.PasswordChanged")] == ["change"]


def test_change_password_with_wrong_current_password_is_a_field_error(client, signup, login):
    account = signup()
    response = client.post(
        "/auth/password/change",
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        headers=account.headers,
    )
    assert "current_password" in assert_problem(response, 422)["errors"]
    assert login(account.email, PASSWORD).status_code == 200


def test_change_password_needs_a_token(client):
    response = client.post("/auth/password/change", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert_problem(response, 401)
