"""Fixtures of the events tests: fast retry settings, a drain helper that runs relay + burst worker."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator

import pytest
from flask import has_app_context
from sqlalchemy import text

from app.events.relay import Relay
from app.extensions import db
from tests.events import handlers
from workers.runner import AppWorker, parse_queues

FAST = {
    "EVENTS_RETRY_BASE_MS": 40,
    "EVENTS_RETRY_MAX_MS": 200,
    "EVENTS_RETRY_MAX_ATTEMPTS": 4,
    "EVENTS_POLL_MS": 50,
    "EVENTS_REDISPATCH_AFTER_SECONDS": 1,
    "EVENTS_JOB_SIZE": 50,
    "WEBHOOKS_RETRY_BASE_MS": 50,
    "WEBHOOKS_RETRY_MAX_MS": 200,
    "WEBHOOKS_TIMEOUT_SECONDS": 2,
}


@pytest.fixture(autouse=True)
def _release_test_request_session(request: pytest.FixtureRequest) -> Iterator[None]:
    """pytest-flask keeps one app context for a whole test, so requests share its session: end it
    before the suite's cleanup truncates tables (an open read would block the TRUNCATE)."""
    yield
    if "app" in request.fixturenames and has_app_context():
        db.session.remove()


@pytest.fixture
def events_app(app, monkeypatch):  # type: ignore[no-untyped-def]
    """The session app with short backoffs (restored after the test) and fresh handler records."""
    for key, value in FAST.items():
        monkeypatch.setitem(app.config, key, value)
    handlers.reset()
    with app.app_context():
        yield app
    handlers.reset()


class BurstWorker(AppWorker):
    """The production worker minus RQ's command channel, whose thread takes a second to join."""

    def subscribe(self) -> None:
        pass

    def unsubscribe(self) -> None:
        pass


def run_worker_burst(app, queues=("events", "default")) -> bool:  # type: ignore[no-untyped-def]
    """Run an in-process RQ burst worker; restores the test process's signal handlers afterwards."""
    from rq import Queue

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    connection = app.extensions["redis"]
    worker = BurstWorker(
        [Queue(q, connection=connection) for q in parse_queues(list(queues))], connection=connection, app=app
    )
    try:
        return worker.work(burst=True, logging_level="WARNING")
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def outstanding(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Work the bus still has: undispatched/unsettled outbox rows, pending timers, queued jobs."""
    with app.app_context():
        row = db.session.execute(
            text(
                """
                SELECT
                  (SELECT count(*) FROM platform.outbox_events WHERE settled_at IS NULL) AS unsettled,
                  (SELECT count(*) FROM platform.timers WHERE state IN ('scheduled', 'enqueued')) AS timers
                """
            )
        ).one()
        db.session.rollback()
    return {"unsettled": row.unsettled, "timers": row.timers}


@pytest.fixture
def drain(events_app) -> Callable[..., dict[str, int]]:  # type: ignore[no-untyped-def]
    """Relay + burst worker until the bus is idle (or ``until()`` holds); bounded by ``timeout``."""

    def run(until: Callable[[], bool] | None = None, timeout: float = 15.0, app=None) -> dict[str, int]:  # type: ignore[no-untyped-def]
        target = app or events_app
        relay = Relay(target)
        deadline = time.monotonic() + timeout
        while True:
            relay.dispatch_outbox()
            relay.dispatch_timers()
            run_worker_burst(target)
            left = outstanding(target)
            done = until() if until is not None else not any(left.values())
            if done:
                return left
            if time.monotonic() > deadline:
                raise AssertionError(f"bus did not drain in {timeout}s: {left}")
            time.sleep(0.03)

    return run


@pytest.fixture
def publish_committed(events_app) -> Iterator[Callable[..., list]]:  # type: ignore[no-untyped-def]
    from app.events import publish

    def go(*events):  # type: ignore[no-untyped-def]
        for event in events:
            publish(event)
        db.session.commit()
        return list(events)

    yield go
