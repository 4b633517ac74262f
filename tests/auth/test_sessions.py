"""Refresh rotation with reuse detection, session listing and revocation, and isolation between users."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.extensions import db
from blueprints.auth.models import AuthSession, RefreshToken
from tests.auth.conftest import assert_problem, bearer, published


def refresh(client, token: str):  # type: ignore[no-untyped-def]
    return client.post("/auth/token/refresh", json={"refresh_token": token})


def test_refresh_rotates_the_refresh_token_and_keeps_the_session(app, client, signup):
    account = signup()
    first = refresh(client, account.refresh)
    assert first.status_code == 200, first.json
    assert first.json["refresh_token"] != account.refresh
    assert first.json["session_id"] == str(account.session_id)
    second = refresh(client, first.json["refresh_token"])
    assert second.status_code == 200
    assert client.get("/auth/me", headers=bearer(second.json["access_token"])).status_code == 200
    with app.app_context():
        stored = db.session.scalars(select(RefreshToken.token_hash)).all()
        assert len(stored) == 3
        assert account.refresh not in stored  # only digests are kept


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(app, client, signup):
    account = signup()
    rotated = refresh(client, account.refresh).json
    # An attacker replays the old token: refused, and the session (the family) is revoked...
    body = assert_problem(refresh(client, account.refresh), 401, kind="invalid-refresh-token")
    assert "already used" in body["detail"]
    # ...so the legitimate holder's newest refresh token and its access tokens die too.
    assert_problem(refresh(client, rotated["refresh_token"]), 401, kind="invalid-refresh-token")
    assert_problem(client.get("/auth/me", headers=bearer(rotated["access_token"])), 401)
    assert_problem(client.get("/auth/me", headers=account.headers), 401)
    with app.app_context():
        session = db.session.get(AuthSession, account.session_id)
        assert session.revoked_at is not None and session.revoke_reason == "refresh_reuse"
    reuse = published(app, "auth.RefreshTokenReuseDetected")
    assert [e["session_id"] for e in reuse] == [str(account.session_id)]


def test_reuse_revokes_only_that_family(client, signup, login):
    account = signup()
    other_device = login(account.email).json
    refresh(client, account.refresh)
    refresh(client, account.refresh)  # reuse on device 1
    assert client.get("/auth/me", headers=bearer(other_device["access_token"])).status_code == 200
    assert refresh(client, other_device["refresh_token"]).status_code == 200


def test_unknown_or_expired_refresh_token_is_401(app, client, signup):
    account = signup()
    assert_problem(refresh(client, "not-a-token"), 401, kind="invalid-refresh-token")
    with app.app_context():
        db.session.execute(RefreshToken.__table__.update().values(expires_at=RefreshToken.created_at))
        db.session.commit()
    assert_problem(refresh(client, account.refresh), 401, kind="invalid-refresh-token")


def test_list_my_sessions_shows_device_ip_and_last_seen(client, signup, login):
    account = signup(device_name="Ada's laptop")
    phone = login(
        account.email, headers={"User-Agent": "BazaarApp/2.1 (iPhone)"}, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    response = client.get("/auth/sessions", headers=account.headers)
    assert response.status_code == 200
    sessions = {s["id"]: s for s in response.json}
    assert set(sessions) == {str(account.session_id), phone.json["session_id"]}
    mine = sessions[str(account.session_id)]
    assert mine["current"] is True and mine["device_name"] == "Ada's laptop"
    other = sessions[phone.json["session_id"]]
    assert other["current"] is False
    assert other["user_agent"] == "BazaarApp/2.1 (iPhone)"
    assert other["ip"] == "10.1.2.3"
    assert other["last_seen_at"] and other["created_at"]


def test_revoke_one_session_and_all_others(client, signup, login):
    account = signup()
    second = login(account.email).json
    third = login(account.email).json
    assert client.delete(f"/auth/sessions/{second['session_id']}", headers=account.headers).status_code == 204
    assert_problem(client.get("/auth/me", headers=bearer(second["access_token"])), 401)
    assert client.get("/auth/me", headers=bearer(third["access_token"])).status_code == 200

    response = client.post("/auth/sessions/revoke-others", headers=account.headers)
    assert response.json == {"revoked": 1}
    assert_problem(client.get("/auth/me", headers=bearer(third["access_token"])), 401)
    assert_problem(refresh(client, third["refresh_token"]), 401)
    assert client.get("/auth/me", headers=account.headers).status_code == 200
    assert [s["id"] for s in client.get("/auth/sessions", headers=account.headers).json] == [str(account.session_id)]


def test_user_cannot_see_or_revoke_another_users_sessions(app, client, signup):
    alice, bob = signup(), signup()
    listed = client.get("/auth/sessions", headers=alice.headers).json
    assert [s["id"] for s in listed] == [str(alice.session_id)]
    response = client.delete(f"/auth/sessions/{bob.session_id}", headers=alice.headers)
    assert_problem(response, 404)
    assert client.get("/auth/me", headers=bob.headers).status_code == 200
    with app.app_context():
        assert db.session.get(AuthSession, bob.session_id).revoked_at is None


def test_session_endpoints_require_a_token(client):
    assert_problem(client.get("/auth/sessions"), 401)
    assert_problem(client.delete(f"/auth/sessions/{uuid.uuid4()}"), 401)
    assert_problem(client.post("/auth/sessions/revoke-others"), 401)
    assert_problem(client.post("/auth/logout"), 401)


def test_new_device_login_is_announced_but_known_device_is_not(app, client, signup, login):
    account = signup()
    login(account.email)  # same client (user agent + IP) as the sign-up
    assert published(app, "auth.NewLoginDetected") == []
    login(account.email, headers={"User-Agent": "Mozilla/5.0 (X11; Linux)"}, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    events = published(app, "auth.NewLoginDetected")
    assert len(events) == 1
    assert events[0]["ip"] == "192.0.2.7" and events[0]["email"] == account.email
