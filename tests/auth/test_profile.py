"""Profiles: my private view and edits, everyone's public view, and the fields nobody may write."""

from __future__ import annotations

import uuid

from tests.auth.conftest import assert_problem, published

AVATAR = {"url": "https://cdn.example.test/a.png", "content_type": "image/png", "width": 256, "height": 256}


def test_update_my_profile(app, client, signup):
    account = signup()
    response = client.patch(
        "/auth/me",
        json={
            "display_name": "Ada L.",
            "bio": "Sells bikes",
            "location": "Lyon",
            "country": "FR",
            "avatar": AVATAR,
            "roles": ["seller", "buyer"],
        },
        headers=account.headers,
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert body["display_name"] == "Ada L." and body["country"] == "FR"
    assert body["avatar"] == AVATAR
    assert body["roles"] == ["buyer", "seller"]
    assert client.get("/auth/me", headers=account.headers).json == body
    changed = published(app, "auth.ProfileUpdated")
    assert set(changed[0]["changed"]) == {"display_name", "bio", "location", "country", "avatar", "roles"}


def test_read_only_and_unknown_fields_are_refused(client, signup):
    account = signup()
    for field, value in (
        ("email", "other@example.test"),
        ("status", "active"),
        ("email_verified", True),
        ("mfa_enabled", False),
        ("id", str(uuid.uuid4())),
        ("password_hash", "x"),
    ):
        response = client.patch("/auth/me", json={field: value, "bio": "x"}, headers=account.headers)
        assert assert_problem(response, 422)["errors"] == {field: ["Unknown field."]}
    me = client.get("/auth/me", headers=account.headers).json
    assert me["email"] == account.email and me["bio"] is None  # nothing partially applied


def test_profile_validation_errors_name_the_fields(client, signup):
    account = signup()
    response = client.patch(
        "/auth/me",
        json={"display_name": "", "country": "France", "roles": ["admin"], "avatar": {"url": "javascript:alert(1)"}},
        headers=account.headers,
    )
    errors = assert_problem(response, 422)["errors"]
    assert {"display_name", "country", "roles.0", "avatar.url", "avatar.content_type"} <= set(errors)


def test_public_profile_hides_private_fields(client, signup):
    alice, bob = signup(display_name="Alice"), signup(display_name="Bob")
    response = client.get(f"/auth/users/{bob.user_id}", headers=alice.headers)
    assert response.status_code == 200
    assert set(response.json) == {"id", "display_name", "bio", "location", "country", "avatar", "roles", "member_since"}
    assert response.json["display_name"] == "Bob"
    anonymous = client.get(f"/auth/users/{bob.user_id}")
    assert anonymous.json == response.json
    assert_problem(client.get(f"/auth/users/{uuid.uuid4()}"), 404)


def test_user_a_cannot_change_user_b(client, signup):
    alice, bob = signup(display_name="Alice"), signup(display_name="Bob")
    # There is no write route on someone else's profile...
    for method in ("patch", "put", "delete", "post"):
        response = getattr(client, method)(
            f"/auth/users/{bob.user_id}", json={"display_name": "pwned"}, headers=alice.headers
        )
        assert_problem(response, 405)
    # ...and /auth/me always means the caller: an id in the body is refused, not followed.
    attempt = client.patch("/auth/me", json={"id": str(bob.user_id), "display_name": "pwned"}, headers=alice.headers)
    assert_problem(attempt, 422)
    assert client.get("/auth/me", headers=bob.headers).json["display_name"] == "Bob"
    assert client.get("/auth/me", headers=alice.headers).json["display_name"] == "Alice"


def test_profile_needs_a_token(client):
    assert_problem(client.get("/auth/me"), 401)
    assert_problem(client.patch("/auth/me", json={"bio": "x"}), 401)
