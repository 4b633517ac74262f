"""app.idempotency: replay, conflicts, expiry, failures and concurrent duplicates, on a real endpoint."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from flask import Blueprint, jsonify, request
from flask_smorest import abort
from sqlalchemy import func, select, text

from app.audit import AuditRecord, record
from app.db import db, utcnow
from app.idempotency import idempotent, purge_expired
from app.security import current_principal, login_required


@pytest.fixture(scope="module")
def idem_app(make_app):  # type: ignore[no-untyped-def]
    application = make_app()
    bp = Blueprint("idempotency_test", __name__)

    @bp.post("/idem-test/things")
    @login_required
    @idempotent("tests.things")
    def create_thing():  # type: ignore[no-untyped-def]
        body = request.get_json()
        if body.get("invalid"):
            abort(422, message="invalid", errors={"invalid": ["no"]})
        record(
            action="tests.thing",
            target_type="tests.Thing",
            target_id=None,
            actor_type="user",
            actor_id=current_principal().user_id,
            inputs=body,
        )
        db.session.flush()
        response = jsonify(id=str(uuid.uuid4()), name=body.get("name"))
        response.status_code = 201
        response.headers["Location"] = "/idem-test/things/x"
        return response

    application.register_blueprint(bp)
    return application


@pytest.fixture
def client(idem_app, app):  # type: ignore[no-untyped-def]  # `app` makes the harness clean the tables
    return idem_app.test_client()


def effects(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.execute(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "tests.thing")
        ).scalar_one()


def post(client, headers, body, key="k-1"):  # type: ignore[no-untyped-def]
    return client.post("/idem-test/things", json=body, headers={**headers, "Idempotency-Key": key} if key else headers)


def test_the_header_is_required_and_checked(client, auth_headers):
    headers = auth_headers()
    missing = post(client, headers, {"name": "a"}, key=None)
    assert missing.status_code == 400
    assert missing.mimetype == "application/problem+json"
    assert "Idempotency-Key" in missing.get_json()["errors"]
    too_long = post(client, headers, {"name": "a"}, key="x" * 256)
    assert too_long.status_code == 400


def test_same_key_same_body_replays_the_first_response(client, auth_headers, app):
    headers = auth_headers()
    first = post(client, headers, {"name": "lamp", "n": 1})
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    # the same JSON by value: other key order and spacing
    again = client.post(
        "/idem-test/things",
        data='{ "n": 1,  "name": "lamp" }',
        headers={**headers, "Idempotency-Key": "k-1", "Content-Type": "application/json"},
    )
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert effects(app) == 1


def test_same_key_other_body_is_a_conflict(client, auth_headers, app):
    headers = auth_headers()
    assert post(client, headers, {"name": "lamp"}).status_code == 201
    conflict = post(client, headers, {"name": "chair"})
    assert conflict.status_code == 409
    assert conflict.get_json()["type"].endswith("idempotency-key-reused")
    assert effects(app) == 1


def test_keys_belong_to_one_user(client, auth_headers, app):
    assert post(client, auth_headers(), {"name": "lamp"}).status_code == 201
    other = post(client, auth_headers(), {"name": "lamp"})
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other.headers
    assert effects(app) == 2


def test_a_failed_request_keeps_no_key_and_can_be_retried(client, auth_headers, app):
    headers = auth_headers()
    assert post(client, headers, {"invalid": True}).status_code == 422
    retried = post(client, headers, {"name": "fixed"})
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers
    assert effects(app) == 1


def test_an_expired_key_is_a_new_key_and_is_purged(client, auth_headers, app):
    headers = auth_headers()
    assert post(client, headers, {"name": "lamp"}).status_code == 201
    with app.app_context():
        db.session.execute(text("UPDATE platform.idempotency_keys SET expires_at = now() - interval '1 second'"))
        db.session.commit()
    again = post(client, headers, {"name": "other body is fine now"})
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert effects(app) == 2
    with app.app_context():
        db.session.execute(text("UPDATE platform.idempotency_keys SET expires_at = now() - interval '1 second'"))
        assert purge_expired(utcnow() + timedelta(seconds=1)) == 1
        db.session.commit()


def test_concurrent_duplicates_run_once(idem_app, app, token_for):
    token = token_for()
    results: list[tuple[int, bool, dict]] = []
    barrier = threading.Barrier(8)

    def submit() -> None:
        client = idem_app.test_client()
        barrier.wait(timeout=10)
        response = client.post(
            "/idem-test/things",
            json={"name": "race"},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "race-key"},
        )
        results.append((response.status_code, "Idempotent-Replayed" in response.headers, response.get_json()))

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 8
    assert {status for status, _, _ in results} == {201}
    assert sum(1 for _, replayed, _ in results if not replayed) == 1
    assert len({body["id"] for _, _, body in results}) == 1
    assert effects(app) == 1
