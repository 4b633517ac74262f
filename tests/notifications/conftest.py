"""Fixtures of the notifications tests: fast settings, a real SMTP server, provider fixtures, the bus drain."""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rq import Queue
from sqlalchemy import func, select, text

from app.events import publish
from app.events.relay import Relay
from app.extensions import db
from blueprints.notifications.models import Delivery, DeliveryAttempt, Notification
from tests.notifications import routes_for_tests  # noqa: F401 - registers the test routes' subscriber
from tests.notifications.fakes import ProviderServer, SMTPServer
from workers.runner import AppWorker

FAST = {
    "NOTIFICATIONS_RETRY_BASE_MS": 50,
    "NOTIFICATIONS_RETRY_MAX_MS": 200,
    "NOTIFICATIONS_MAX_ATTEMPTS": 3,
    "EVENTS_RETRY_BASE_MS": 50,
    "EVENTS_RETRY_MAX_MS": 200,
    "EVENTS_POLL_MS": 50,
    "SMTP_TIMEOUT_SECONDS": 5,
    "PROVIDER_TIMEOUT_SECONDS": 5,
    "PUBLIC_BASE_URL": "https://bazaar.test",
    "MAIL_FROM": "Bazaar <no-reply@bazaar.test>",
}
QUEUES = ("events", "notifications", "default")


@pytest.fixture
def notif_app(app, monkeypatch):  # type: ignore[no-untyped-def]
    """The session app with fast retries and test links; an app context for the test body."""
    for key, value in FAST.items():
        monkeypatch.setitem(app.config, key, value)
    with app.app_context():
        yield app


@pytest.fixture(scope="session")
def live_app(make_app):  # type: ignore[no-untyped-def]
    """A second app whose Socket.IO has no message queue (Flask-SocketIO's test client needs that)."""
    application = make_app(SOCKETIO_MESSAGE_QUEUE="off")
    yield application
    with application.app_context():
        db.engine.dispose()  # its own connection pool: give the connections back


@pytest.fixture
def smtp(notif_app, monkeypatch) -> Iterator[SMTPServer]:  # type: ignore[no-untyped-def]
    with SMTPServer() as server:
        monkeypatch.setitem(notif_app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(notif_app.config, "SMTP_PORT", server.port)
        yield server


@pytest.fixture
def providers(notif_app, monkeypatch) -> Iterator[ProviderServer]:  # type: ignore[no-untyped-def]
    """Twilio- and FCM-shaped HTTP server; SMS and push go through the real adapters to it."""
    with ProviderServer() as server:
        for key, value in {
            "SMS_PROVIDER": "twilio",
            "PUSH_PROVIDER": "fcm",
            "TWILIO_API_BASE": server.url,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": "twilio-secret",
            "TWILIO_FROM": "+15005550006",
            "FCM_API_BASE": server.url,
            "FCM_PROJECT_ID": "bazaar-test",
            "FCM_ACCESS_TOKEN": "fcm-token",
        }.items():
            monkeypatch.setitem(notif_app.config, key, value)
        yield server


class BurstWorker(AppWorker):
    """The production worker minus RQ's command channel (its thread takes a second to join)."""

    def subscribe(self) -> None:
        pass

    def unsubscribe(self) -> None:
        pass


def run_worker_burst(app: Any, queues: tuple[str, ...] = QUEUES) -> None:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    connection = app.extensions["redis"]
    worker = BurstWorker([Queue(q, connection=connection) for q in queues], connection=connection, app=app)
    try:
        worker.work(burst=True, logging_level="WARNING")
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def work_left(app: Any) -> dict[str, int]:
    row = db.session.execute(
        text(
            """
            SELECT
              (SELECT count(*) FROM platform.outbox_events WHERE settled_at IS NULL) AS events,
              (SELECT count(*) FROM platform.timers
                 WHERE state = 'enqueued' OR (state = 'scheduled' AND due_at <= now())) AS timers,
              (SELECT count(*) FROM notifications.deliveries
                 WHERE status IN ('pending', 'retrying') AND (not_before IS NULL OR not_before <= now())) AS due
            """
        )
    ).one()
    db.session.rollback()
    queued = sum(app.extensions["redis"].llen(f"rq:queue:{q}") for q in QUEUES)
    return {"events": row.events, "timers": row.timers, "due": row.due, "queued": queued}


@pytest.fixture
def drain(notif_app) -> Callable[..., dict[str, int]]:  # type: ignore[no-untyped-def]
    """Run relay + burst worker until nothing is due (or ``until()`` holds), bounded by ``timeout``."""

    def run(until: Callable[[], bool] | None = None, timeout: float = 15.0, app: Any = None) -> dict[str, int]:
        target = app or notif_app
        relay = Relay(target)
        deadline = time.monotonic() + timeout
        while True:
            relay.dispatch_outbox()
            relay.dispatch_timers()
            run_worker_burst(target)
            left = work_left(target)
            if until() if until is not None else not any(left.values()):
                return left
            if time.monotonic() > deadline:
                raise AssertionError(f"notifications did not drain in {timeout}s: {left}")
            time.sleep(0.02)

    return run


@pytest.fixture
def emit(notif_app) -> Callable[..., list[Any]]:  # type: ignore[no-untyped-def]
    """Publish events and commit (what a domain's request does)."""

    def go(*events: Any) -> list[Any]:
        for event in events:
            publish(event)
        db.session.commit()
        return list(events)

    return go


@pytest.fixture
def make_user(notif_app) -> Callable[..., uuid.UUID]:  # type: ignore[no-untyped-def]
    """A real account through the auth domain's service (verified email by default)."""
    from blueprints.auth import service as auth

    def create(name: str = "Alice", *, verified: bool = True, email: str | None = None) -> uuid.UUID:
        address = email or f"{name.lower()}-{uuid.uuid4().hex[:6]}@example.test"
        user_id = auth.register_user(
            email=address, password="correct horse battery", display_name=name, verified=verified
        )
        db.session.commit()
        return user_id

    return create


def deliveries(**where: Any) -> list[Delivery]:
    statement = select(Delivery).order_by(Delivery.created_at, Delivery.id)
    for name, value in where.items():
        statement = statement.where(getattr(Delivery, name) == value)
    found = list(db.session.execute(statement).scalars())
    db.session.rollback()
    return found


def attempts(**where: Any) -> list[DeliveryAttempt]:
    statement = select(DeliveryAttempt).order_by(DeliveryAttempt.created_at)
    for name, value in where.items():
        statement = statement.where(getattr(DeliveryAttempt, name) == value)
    found = list(db.session.execute(statement).scalars())
    db.session.rollback()
    return found


def notifications_of(user_id: uuid.UUID) -> list[Notification]:
    found = list(
        db.session.execute(
            select(Notification).where(Notification.user_id == user_id).order_by(Notification.created_at)
        ).scalars()
    )
    db.session.rollback()
    return found


def count(model: Any, **where: Any) -> int:
    statement = select(func.count()).select_from(model)
    for name, value in where.items():
        statement = statement.where(getattr(model, name) == value)
    value = db.session.scalar(statement)
    db.session.rollback()
    return int(value or 0)
