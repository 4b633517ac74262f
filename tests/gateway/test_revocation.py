"""The revocation mirror: other processes learn revocations in milliseconds, and never trust a stale mirror."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest

from app.security import TokenError, decode_access_token, encode_access_token
from app.security.identity import REVOKED_SESSION_KEY, revoke_session_tokens
from app.security.revocation import CLIENT_NAME, RevocationMirror


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture
def other_process(redis_server):  # type: ignore[no-untyped-def]
    """A second mirror with its own connection and thread: what another web process holds."""
    mirror = RevocationMirror(redis_server)
    mirror.start()
    assert wait_for(lambda: mirror.live), "mirror never went live"
    yield mirror
    mirror.stop()


def test_another_process_learns_a_revocation_within_milliseconds(app, other_process):
    sid = str(uuid.uuid4())
    assert other_process.is_revoked(sid) is False
    with app.app_context():
        revoke_session_tokens(sid)
    started = time.monotonic()
    assert wait_for(lambda: other_process.is_revoked(sid) is True, timeout=2)
    assert time.monotonic() - started < 0.5


def test_a_mirror_starting_late_loads_earlier_revocations(app, redis_server):
    sid = str(uuid.uuid4())
    with app.app_context():
        revoke_session_tokens(sid)
    late = RevocationMirror(redis_server)
    late.start()
    try:
        assert wait_for(lambda: late.live)
        assert late.is_revoked(sid) is True
        assert late.is_revoked(str(uuid.uuid4())) is False
    finally:
        late.stop()


def test_a_mirror_that_is_not_live_defers_to_redis(app, client, token_for):
    user_id, sid = uuid.uuid4(), uuid.uuid4()
    token = token_for(user_id, session_id=sid)
    offline = RevocationMirror("redis://127.0.0.1:1/0")  # can never connect
    real = app.extensions["bazaar_revocations"]
    app.extensions["bazaar_revocations"] = offline
    try:
        assert offline.is_revoked(str(sid)) is None
        # A revocation this process's mirror never heard of (written straight to Redis)...
        app.extensions["redis"].set(REVOKED_SESSION_KEY.format(sid=sid), "1", ex=60)
        # ...is still enforced: the check asks Redis.
        response = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and "revoked" in response.json["detail"]
    finally:
        app.extensions["bazaar_revocations"] = real
        offline.stop()


def test_mirror_resyncs_after_losing_its_connection(app, other_process):
    redis = app.extensions["redis"]
    mirrors = [c["id"] for c in redis.client_list(_type="pubsub") if c.get("name") == CLIENT_NAME]
    assert mirrors  # only the mirrors' links are cut, not Socket.IO's
    for client_id in mirrors:
        redis.client_kill_filter(_id=client_id)
    assert wait_for(lambda: not other_process.live, timeout=3)
    # Revoked while the mirror was offline: reloaded from Redis when it comes back.
    sid = str(uuid.uuid4())
    with app.app_context():
        revoke_session_tokens(sid)
    assert wait_for(lambda: other_process.live, timeout=10)
    assert other_process.is_revoked(sid) is True


def test_cached_token_claims_still_expire_on_time(app):
    with app.test_request_context():
        # exp is 4 s ago: still inside the 5 s leeway, for about one more second.
        token = encode_access_token(user_id=uuid.uuid4(), session_id=uuid.uuid4(), ttl=timedelta(seconds=-4))
        assert decode_access_token(token)["sub"]
        time.sleep(1.5)
        with pytest.raises(TokenError, match="expired"):
            decode_access_token(token)


def test_cached_token_is_still_checked_for_its_type(app):
    with app.test_request_context():
        token = encode_access_token(user_id=uuid.uuid4(), session_id=uuid.uuid4(), token_type="mfa_pending")
        assert decode_access_token(token, token_type="mfa_pending")["typ"] == "mfa_pending"
        with pytest.raises(TokenError, match="cannot be used here"):
            decode_access_token(token)
