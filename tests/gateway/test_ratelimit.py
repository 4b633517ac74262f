"""Rate limits: per IP anonymous, per user signed in, draft RateLimit-* headers, per-route settings."""

from __future__ import annotations

import uuid

import pytest

from config import ConfigError

PROFILE = f"/auth/users/{uuid.UUID(int=1)}"  # a public route with only the default limit


def get(client, ip: str = "203.0.113.10", **kwargs):  # type: ignore[no-untyped-def]
    return client.get(PROFILE, environ_base={"REMOTE_ADDR": ip}, **kwargs)


def test_draft_headers_on_every_answer_and_retry_after_only_on_429(app, make_app):
    client = make_app(RATELIMIT_DEFAULT="2/minute").test_client()
    first = get(client)
    assert first.status_code == 404
    assert (first.headers["RateLimit-Limit"], first.headers["RateLimit-Remaining"]) == ("2", "1")
    assert 0 <= int(first.headers["RateLimit-Reset"]) <= 60
    assert "Retry-After" not in first.headers
    assert "X-RateLimit-Limit" not in first.headers
    get(client)
    blocked = get(client)
    assert blocked.status_code == 429
    assert blocked.mimetype == "application/problem+json"
    assert blocked.json["type"].endswith("/rate-limited")
    assert int(blocked.headers["Retry-After"]) > 0


def test_anonymous_clients_are_limited_per_ip_and_users_per_account(app, make_app, token_for):
    one, two = (
        make_app(RATELIMIT_DEFAULT="3/minute").test_client(),
        make_app(RATELIMIT_DEFAULT="3/minute").test_client(),
    )
    assert [get(c).status_code for c in (one, two, one)] == [404, 404, 404]
    assert get(two).status_code == 429  # same IP, other process: one shared budget
    assert get(one, ip="198.51.100.20").status_code == 404  # another IP has its own
    # Signed in from the exhausted IP: the budget is the user's, not the IP's.
    alice = {"Authorization": f"Bearer {token_for(uuid.uuid4())}"}
    assert [get(one, headers=alice).status_code for _ in range(3)] == [404, 404, 404]
    assert get(two, headers=alice).status_code == 429
    bob = {"Authorization": f"Bearer {token_for(uuid.uuid4())}"}
    assert get(one, headers=bob).status_code == 404


def test_any_route_can_be_limited_from_settings(app, make_app):
    client = make_app(RATELIMIT_ROUTES="auth.public_profile=1/minute").test_client()
    assert get(client).status_code == 404
    assert get(client).status_code == 429
    assert client.get(f"/auth/users/{uuid.uuid4()}", environ_base={"REMOTE_ADDR": "198.51.100.30"}).status_code == 404


def test_brute_force_routes_read_their_limit_from_settings(app, make_app):
    client = make_app(RATELIMIT_AUTH_LOGIN="2/minute", RATELIMIT_AUTH_LOGIN_ACCOUNT="2/minute").test_client()
    body = {"email": "x@example.test", "password": "whatever-password"}
    first = client.post("/auth/login", json=body)
    assert (first.headers["RateLimit-Limit"], first.headers["RateLimit-Remaining"]) == ("2", "1")


def test_production_defaults_are_strict_on_brute_force_routes():
    from config import Config

    config = Config({"DATABASE_URL": "postgresql+psycopg://u@h/db", "REDIS_URL": "redis://h:6379/0"})
    assert config.RATELIMIT_AUTH_LOGIN == "10/minute;100/hour"
    assert config.RATELIMIT_AUTH_LOGIN_ACCOUNT == "5/minute;30/hour"
    assert config.RATELIMIT_AUTH_MFA == "5/minute;30/hour"


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"RATELIMIT_ROUTES": "auth.nope=1/minute"}, "RATELIMIT_ROUTES"),
        ({"RATELIMIT_ROUTES": "auth.login"}, "RATELIMIT_ROUTES"),
        ({"RATELIMIT_AUTH_LOGIN": "lots"}, "RATELIMIT_AUTH_LOGIN"),
        ({"RATELIMIT_DEFAULT": "ten per minute"}, "RATELIMIT_DEFAULT"),
    ],
)
def test_bad_limit_settings_fail_fast(make_app, overrides, setting):
    with pytest.raises(ConfigError) as excinfo:
        make_app(**overrides)
    assert str(excinfo.value).startswith(f"{setting}:")
