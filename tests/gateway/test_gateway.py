"""Gateway concerns: routing 404s, request ids, body size limit, CORS, security headers."""

from __future__ import annotations

import io
import json
import uuid

from sqlalchemy import select

from app.extensions import db
from blueprints.auth.models import UserAccount

PROBLEM = "application/problem+json"


def test_unknown_prefixes_and_routes_are_404_problem_json(client):
    for path in ("/nope", "/listingsx/1", "/auth/nope", "/v2/auth/login"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == PROBLEM
        assert response.json["status"] == 404 and response.json["instance"] == path


def test_wrong_method_is_405_problem_json(client):
    response = client.get("/auth/login")
    assert response.status_code == 405 and response.mimetype == PROBLEM
    assert "POST" in response.headers["Allow"]


def test_request_id_is_accepted_or_generated(client):
    given = client.get("/nope", headers={"X-Request-ID": "req-abc-123"})
    assert given.headers["X-Request-ID"] == "req-abc-123"
    assert given.json["request_id"] == "req-abc-123"
    generated = client.get("/nope").headers["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/nope", headers={"X-Request-ID": "x" * 500}).headers["X-Request-ID"] != "x" * 500


def test_oversized_body_is_413_problem_json_and_nothing_is_written(app, make_app):
    small = make_app(MAX_CONTENT_LENGTH=1024).test_client()
    body = {"email": "big@example.test", "password": "correct horse battery", "display_name": "x" * 2000}
    response = small.post("/auth/signup", json=body)
    assert response.status_code == 413
    assert response.mimetype == PROBLEM
    assert response.json["type"].endswith("/payload-too-large")
    assert "1024" in response.json["detail"]
    with app.app_context():
        assert db.session.scalar(select(UserAccount.id)) is None
    # The limit is checked before authentication or routing: an unknown route says 413 too.
    assert small.post("/nope", data=b"x" * 2048, headers={"Authorization": "Bearer junk"}).status_code == 413
    assert small.post("/auth/signup", json={**body, "display_name": "ok"}).status_code == 201


def test_oversized_chunked_body_is_413_too(app, make_app):
    small = make_app(MAX_CONTENT_LENGTH=1024).test_client()
    body = json.dumps({"email": "big@example.test", "password": "correct horse battery", "display_name": "x" * 2000})
    response = small.post(
        "/auth/signup",
        input_stream=io.BytesIO(body.encode()),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_base={"wsgi.input_terminated": True},  # what gunicorn sets for a chunked request
    )
    assert response.status_code == 413 and response.mimetype == PROBLEM
    ok = json.dumps({"email": "small@example.test", "password": "correct horse battery", "display_name": "ok"})
    accepted = small.post(
        "/auth/signup",
        input_stream=io.BytesIO(ok.encode()),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_base={"wsgi.input_terminated": True},
    )
    assert accepted.status_code == 201, accepted.json


def test_security_headers_on_api_and_admin_pages(client):
    api = client.get("/nope")
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert api.headers["X-Frame-Options"] == "DENY"
    assert api.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert api.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in api.headers  # plain HTTP: HSTS would be ignored anyway
    docs = client.get("/docs")
    assert docs.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Content-Security-Policy" not in docs.headers  # Swagger UI runs its own scripts
    admin = client.get("/admin/login/")
    assert admin.headers["X-Frame-Options"] == "SAMEORIGIN"
    secure = client.get("/nope", base_url="https://api.example.test")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_authenticated_answers_are_not_cached(client, auth_headers):
    response = client.get(f"/auth/users/{uuid.uuid4()}", headers=auth_headers())
    assert response.headers["Cache-Control"] == "no-store"


def test_cors_allows_configured_origins_only(app, make_app):
    client = make_app(CORS_ORIGINS="https://app.example.test, https://m.example.test").test_client()
    preflight = client.options(
        "/auth/login",
        headers={
            "Origin": "https://app.example.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.test"
    allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= {h.strip() for h in allowed.split(",")}
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers

    actual = client.get(f"/auth/users/{uuid.uuid4()}", headers={"Origin": "https://m.example.test"})
    assert actual.headers["Access-Control-Allow-Origin"] == "https://m.example.test"
    assert "RateLimit-Remaining" in actual.headers["Access-Control-Expose-Headers"]

    stranger = client.get(f"/auth/users/{uuid.uuid4()}", headers={"Origin": "https://evil.example.test"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    admin = client.get("/admin/login/", headers={"Origin": "https://app.example.test"})
    assert "Access-Control-Allow-Origin" not in admin.headers


def test_no_cors_without_configured_origins(client):
    response = client.get("/nope", headers={"Origin": "https://app.example.test"})
    assert "Access-Control-Allow-Origin" not in response.headers
