"""Integrator webhooks: delivery with retries and logged attempts, fan-out, give-up and replay, the REST API."""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app.events import publish
from app.events.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.events.webhook_service import create_endpoint, replay
from app.events.webhooks import verify_signature
from app.extensions import db
from tests.events.handlers import ContactShared, FlakyHappened, Pinged, SecretIssued

# --- a receiver -----------------------------------------------------------------------------------


class Receiver:
    """A local HTTP endpoint that records requests and answers with scripted status codes."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((self.path, dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"nope")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/bazaar"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def _delivery(event_id: uuid.UUID) -> WebhookDelivery | None:
    delivery = db.session.execute(
        select(WebhookDelivery).where(WebhookDelivery.event_id == event_id)
    ).scalar_one_or_none()
    db.session.rollback()
    return delivery


def _attempts(delivery_id: uuid.UUID) -> list[WebhookAttempt]:
    rows = db.session.execute(
        select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.number)
    ).scalars()
    result = list(rows)
    db.session.rollback()
    return result


def test_deliveries_are_signed_retried_with_backoff_and_every_attempt_logged(events_app, drain, receiver):
    endpoint = create_endpoint(owner_id=None, url=receiver.url, event_types=["tests.Pinged"])
    secret = endpoint.secret
    db.session.commit()
    receiver.statuses = [500, 503]
    event = Pinged(aggregate_id=uuid.uuid4(), n=7, actor="user:1")
    publish(event)
    db.session.commit()
    drain(until=lambda: (d := _delivery(event.id)) is not None and d.status == "delivered")

    assert len(receiver.requests) == 3
    bodies = {body for _, _, body in receiver.requests}
    assert len(bodies) == 1  # the same bytes on every attempt
    path, headers, body = receiver.requests[-1]
    assert path == "/hooks/bazaar"
    verify_signature(body, headers["Bazaar-Signature"], secret)
    assert json.loads(body) == {
        "id": str(event.id),
        "type": "tests.Pinged",
        "version": 1,
        "occurred_at": event.occurred_at.isoformat(),
        "actor": "user:1",
        "aggregate_id": str(event.aggregate_id),
        "data": {"n": 7},
    }
    assert headers["Bazaar-Event-Id"] == str(event.id)
    delivery = _delivery(event.id)
    attempts = _attempts(delivery.id)
    assert [(a.number, a.outcome, a.status_code) for a in attempts] == [
        (1, "http_error", 500),
        (2, "http_error", 503),
        (3, "delivered", 200),
    ]
    assert all(a.latency_ms is not None and a.latency_ms >= 0 for a in attempts)
    assert attempts[0].response_excerpt == "nope"
    gaps = [(b.attempted_at - a.attempted_at).total_seconds() for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1  # exponential backoff: base 50 ms, then 100 ms
    assert delivery.attempts == 3 and delivery.last_status_code == 200


def test_only_interested_active_endpoints_receive_an_event(events_app, drain, receiver):
    wanted = create_endpoint(owner_id=None, url=receiver.url + "/all-tests", event_types=["tests.*"])
    create_endpoint(owner_id=None, url=receiver.url + "/flaky-only", event_types=["tests.FlakyHappened"])
    paused = create_endpoint(owner_id=None, url=receiver.url + "/paused", event_types=["*"])
    paused.active = False
    db.session.commit()
    event = Pinged(aggregate_id=uuid.uuid4(), n=1)
    publish(event)
    db.session.commit()
    drain(until=lambda: len(receiver.requests) >= 1)
    drain()
    assert [path for path, _, _ in receiver.requests] == ["/hooks/bazaar/all-tests"]
    deliveries = db.session.execute(select(WebhookDelivery)).scalars().all()
    assert [d.endpoint_id for d in deliveries] == [wanted.id]


def test_endpoint_changes_made_by_another_process_apply_to_the_next_event(events_app, drain, receiver):
    first = create_endpoint(owner_id=None, url=receiver.url + "/first", event_types=["tests.*"])
    db.session.commit()
    publish(Pinged(aggregate_id=uuid.uuid4(), n=1))
    db.session.commit()
    drain(until=lambda: len(receiver.requests) >= 1)
    # Another web process registers an endpoint and pauses the first one: nothing tells this one.
    with db.engine.begin() as other_process:
        other_process.execute(
            WebhookEndpoint.__table__.insert().values(
                id=uuid.uuid4(),
                owner_id=None,
                url=receiver.url + "/second",
                description="",
                event_types=["tests.*"],
                secret="whsec_other",
                active=True,
                created_at=datetime.now(UTC),
                updated_at=datetime.now(UTC),
            )
        )
        other_process.execute(
            WebhookEndpoint.__table__.update().where(WebhookEndpoint.id == first.id).values(active=False)
        )
    publish(Pinged(aggregate_id=uuid.uuid4(), n=2))
    db.session.commit()
    drain(until=lambda: len(receiver.requests) >= 2)
    drain()
    assert [(path, json.loads(body)["data"]["n"]) for path, _, body in receiver.requests] == [
        ("/hooks/bazaar/first", 1),
        ("/hooks/bazaar/second", 2),
    ]


def test_internal_events_never_leave_for_webhooks(events_app, drain, receiver):
    create_endpoint(owner_id=None, url=receiver.url, event_types=["*"])
    db.session.commit()
    publish(SecretIssued(aggregate_id=uuid.uuid4(), token="one-time-token"))
    publish(Pinged(aggregate_id=uuid.uuid4(), n=2))
    db.session.commit()
    drain(until=lambda: len(receiver.requests) >= 1)
    drain()
    assert [json.loads(body)["type"] for _, _, body in receiver.requests] == ["tests.Pinged"]
    assert b"one-time-token" not in b"".join(body for _, _, body in receiver.requests)
    assert [d.event_type for d in db.session.execute(select(WebhookDelivery)).scalars()] == ["tests.Pinged"]


def test_webhook_bodies_leave_out_personal_fields(events_app, drain, receiver):
    create_endpoint(owner_id=None, url=receiver.url, event_types=["tests.ContactShared"])
    db.session.commit()
    user_id = uuid.uuid4()
    publish(ContactShared(aggregate_id=user_id, user_id=user_id, email="ana@example.com", ip="203.0.113.9"))
    db.session.commit()
    drain(until=lambda: len(receiver.requests) >= 1)
    body = receiver.requests[0][2]
    assert json.loads(body)["data"] == {"user_id": str(user_id)}
    assert b"ana@example.com" not in body and b"203.0.113.9" not in body


def test_a_delivery_gives_up_after_its_window_and_a_replay_sends_it_again(events_app, drain, receiver, monkeypatch):
    monkeypatch.setitem(events_app.config, "WEBHOOKS_GIVE_UP_HOURS", 1.5 / 3600)  # 1.5 s window in this test
    create_endpoint(owner_id=None, url=receiver.url, event_types=["tests.FlakyHappened"])
    db.session.commit()
    receiver.statuses = [500] * 1000
    event = FlakyHappened(aggregate_id=uuid.uuid4())
    publish(event)
    db.session.commit()
    drain(until=lambda: (d := _delivery(event.id)) is not None and d.status == "failed", timeout=20)
    delivery = _delivery(event.id)
    attempts = _attempts(delivery.id)
    assert len(attempts) >= 2 and {a.outcome for a in attempts} == {"http_error"}  # retried, then gave up
    assert delivery.next_attempt_at is None

    receiver.statuses = []
    replay(db.session.get(WebhookDelivery, delivery.id))
    db.session.commit()
    drain(until=lambda: _delivery(event.id).status == "delivered")
    last = _attempts(delivery.id)[-1]
    assert (last.outcome, last.replay) == ("delivered", True)


def test_a_target_that_turned_private_is_blocked_at_send_time(events_app, drain, receiver, monkeypatch):
    create_endpoint(owner_id=None, url=receiver.url, event_types=["tests.Pinged"])
    db.session.commit()
    monkeypatch.setitem(events_app.config, "WEBHOOKS_ALLOW_PRIVATE", False)
    monkeypatch.setitem(events_app.config, "WEBHOOKS_GIVE_UP_HOURS", 0)
    event = Pinged(aggregate_id=uuid.uuid4(), n=1)
    publish(event)
    db.session.commit()
    drain(until=lambda: (d := _delivery(event.id)) is not None and d.status == "failed")
    (attempt,) = _attempts(_delivery(event.id).id)
    assert attempt.outcome == "blocked" and "loopback" in attempt.error
    assert receiver.requests == []


# --- REST -----------------------------------------------------------------------------------------


def _integrator(auth_headers, user_id=None):  # type: ignore[no-untyped-def]
    return auth_headers(user_id or uuid.uuid4(), roles=("integrator",))


def test_registering_needs_a_signed_in_integrator(client, auth_headers):
    body = {"url": "http://127.0.0.1:9/x", "event_types": ["tests.Pinged"]}
    assert client.post("/webhooks/endpoints", json=body).status_code == 401
    response = client.post("/webhooks/endpoints", json=body, headers=auth_headers(uuid.uuid4(), roles=("buyer",)))
    assert response.status_code == 403
    assert response.content_type == "application/problem+json"


def test_an_integrator_manages_only_its_own_endpoints(client, auth_headers, app):
    me, other = _integrator(auth_headers), _integrator(auth_headers)
    created = client.post(
        "/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/in", "event_types": ["tests.Pinged", "tests.*"], "description": "crm"},
        headers=me,
    )
    assert created.status_code == 201, created.json
    endpoint = created.json
    assert endpoint["secret"].startswith("whsec_") and endpoint["active"] is True
    path = f"/webhooks/endpoints/{endpoint['id']}"

    shown = client.get(path, headers=me).json
    assert "secret" not in shown and shown["secret_hint"].startswith("whsec_")
    assert [e["id"] for e in client.get("/webhooks/endpoints", headers=me).json] == [endpoint["id"]]
    assert client.get("/webhooks/endpoints", headers=other).json == []
    for method, url in (
        ("get", path),
        ("patch", path),
        ("delete", path),
        ("post", path + "/rotate-secret"),
        ("get", path + "/deliveries"),
    ):
        kwargs = {"json": {"description": "mine now"}} if method == "patch" else {}
        assert getattr(client, method)(url, headers=other, **kwargs).status_code == 404, (method, url)

    patched = client.patch(path, json={"active": False, "event_types": ["*"]}, headers=me)
    assert patched.status_code == 200 and patched.json["active"] is False and patched.json["event_types"] == ["*"]
    rotated = client.post(path + "/rotate-secret", headers=me).json["secret"]
    assert rotated != endpoint["secret"]
    with app.app_context():
        assert db.session.get(WebhookEndpoint, uuid.UUID(endpoint["id"])).secret == rotated
    assert client.delete(path, headers=me).status_code == 204
    assert client.get(path, headers=me).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1:9/x", "event_types": ["nope.Unknown"]}, "event_types"),
        ({"url": "http://127.0.0.1:9/x", "event_types": ["auth.PasswordResetRequested"]}, "event_types"),
        ({"url": "http://127.0.0.1:9/x", "event_types": ["tests.SecretIssued"]}, "event_types"),
        ({"url": "http://127.0.0.1:9/x", "event_types": []}, "event_types"),
        ({"url": "gopher://127.0.0.1/x", "event_types": ["*"]}, "url"),
        ({"url": "http://127.0.0.1:9/x", "event_types": ["*"], "secret": "mine"}, "secret"),
        ({"url": "http://127.0.0.1:9/x", "event_types": ["*"], "owner_id": str(uuid.uuid4())}, "owner_id"),
        ({"event_types": ["*"]}, "url"),
    ],
)
def test_bad_input_is_a_422_with_field_errors_and_writes_nothing(client, auth_headers, app, body, field):
    response = client.post("/webhooks/endpoints", json=body, headers=_integrator(auth_headers))
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    with app.app_context():
        assert db.session.execute(select(WebhookEndpoint)).first() is None


def test_private_targets_are_refused_at_registration_unless_allowed(client, auth_headers, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE", False)
    response = client.post(
        "/webhooks/endpoints",
        json={"url": "http://169.254.169.254/latest", "event_types": ["*"]},
        headers=_integrator(auth_headers),
    )
    assert response.status_code == 422
    assert "link-local" in response.json["errors"]["url"][0]


def test_an_integrator_replays_only_its_own_deliveries(client, auth_headers, events_app, receiver):
    owner_id = uuid.uuid4()
    endpoint = create_endpoint(owner_id=owner_id, url=receiver.url, event_types=["tests.Pinged"])
    delivery = WebhookDelivery(endpoint_id=endpoint.id, event_id=uuid.uuid4(), event_type="tests.Pinged", body="{}")
    delivery.status = "failed"
    db.session.add(delivery)
    db.session.commit()
    url = f"/webhooks/deliveries/{delivery.id}/replay"
    assert client.post(url, headers=_integrator(auth_headers)).status_code == 404
    response = client.post(url, headers=_integrator(auth_headers, owner_id))
    assert response.status_code == 202 and response.json["status"] == "pending"
    listed = client.get(
        f"/webhooks/endpoints/{endpoint.id}/deliveries?status=pending", headers=_integrator(auth_headers, owner_id)
    )
    assert [d["id"] for d in listed.json] == [str(delivery.id)]
    assert (
        client.get(
            f"/webhooks/endpoints/{endpoint.id}/deliveries?status=bogus", headers=_integrator(auth_headers, owner_id)
        ).status_code
        == 422
    )


def test_the_default_schedule_retries_for_three_days_then_gives_up(app_ctx):
    """30 s doubling up to 6 h between attempts, for 72 h after the event: the production defaults."""
    from app.events.webhook_service import next_attempt_at

    created = now = datetime(2026, 1, 1, tzinfo=UTC)
    schedule = []
    while (when := next_attempt_at(created, len(schedule) + 1, now)) is not None:
        schedule.append(when)
        now = when  # each attempt runs on time and fails
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise([created, *schedule])]
    assert gaps[:4] == [30, 60, 120, 240] and max(gaps) == 6 * 3600
    assert schedule[-1] <= created + timedelta(hours=72) < schedule[-1] + timedelta(hours=6)
    assert len(schedule) == 20  # retries after the first attempt: 21 POSTs in all
