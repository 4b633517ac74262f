"""Subscribers: exactly-once effects per (subscriber, event), retries with backoff, dead letters."""

from __future__ import annotations

import threading
import time
import uuid

from sqlalchemy import func, select

from app.events import publish
from app.events.dead_letters import retry_dead_letter
from app.events.delivery import deliver_events
from app.events.outbox import OutboxEvent
from app.events.records import DEAD, DONE, RETRYING, EventDelivery
from app.events.timers import Timer
from app.extensions import db
from tests.events import handlers
from tests.events.handlers import CommitAttempted, DoomedHappened, FlakyHappened, Pinged


def _ping(n: int = 1, aggregate: uuid.UUID | None = None) -> Pinged:
    return Pinged(aggregate_id=aggregate or uuid.uuid4(), n=n)


def _deliveries(subscriber: str) -> list[EventDelivery]:
    rows = db.session.execute(select(EventDelivery).where(EventDelivery.subscriber == subscriber)).scalars().all()
    db.session.rollback()
    return list(rows)


def test_rolled_back_publish_is_never_delivered(events_app, drain):
    event = _ping()
    publish(event)
    db.session.flush()
    db.session.rollback()
    drain()
    assert handlers.CALLS == {}
    assert db.session.execute(select(func.count()).select_from(EventDelivery)).scalar_one() == 0


def test_committed_events_reach_each_subscriber_once_and_settle(events_app, drain, publish_committed):
    events = publish_committed(*(_ping(n) for n in range(120)))
    drain()
    for event in events:
        assert handlers.CALLS["a", event.id] == 1
        assert handlers.CALLS["b", event.id] == 1
    assert {d.status for d in _deliveries("tests.recorder_a")} == {DONE}
    assert len(_deliveries("tests.recorder_b")) == 120
    rows = db.session.execute(select(OutboxEvent)).scalars().all()
    assert all(r.dispatched_at is not None and r.settled_at is not None for r in rows)
    # on_commit callbacks ran after the delivery committed, once per event.
    assert sorted(handlers.AFTER_COMMIT) == sorted(e.id for e in events)


def test_a_redelivered_batch_is_a_no_op(events_app, drain, publish_committed):
    events = publish_committed(_ping(1), _ping(2))
    drain()
    positions = db.session.execute(select(OutboxEvent.position)).scalars().all()
    stats = deliver_events(positions)
    assert stats["delivered"] == 0
    assert stats["duplicates"] >= 4  # two events x two recording subscribers
    assert all(handlers.CALLS["a", e.id] == 1 and handlers.CALLS["b", e.id] == 1 for e in events)


def test_events_of_one_aggregate_arrive_in_commit_order(events_app, drain):
    aggregate = uuid.uuid4()
    for n in range(1, 8):
        publish(_ping(n, aggregate))
        db.session.commit()
    drain()
    assert [n for agg, n in handlers.ORDER if agg == str(aggregate)] == list(range(1, 8))


def test_a_failing_event_fails_alone_and_others_in_its_batch_are_delivered(events_app, drain, publish_committed):
    good = [_ping(n) for n in range(1, 6)]
    bad = _ping(-1)
    publish_committed(good[0], good[1], bad, *good[2:])
    drain(until=lambda: _status("tests.recorder_b", bad.id) == DEAD)
    for event in good:
        assert _status("tests.recorder_b", event.id) == DONE
    # The batch ran again event by event after the failure; effects committed once per good event.
    assert sorted(handlers.AFTER_COMMIT_B) == sorted(e.id for e in good)
    # recorder_a is a separate subscriber: the bad event is fine for it.
    assert _status("tests.recorder_a", bad.id) == DONE
    assert handlers.AFTER_COMMIT.count(bad.id) == 1


def _status(subscriber: str, event_id: uuid.UUID) -> str | None:
    status = db.session.execute(
        select(EventDelivery.status).where(EventDelivery.subscriber == subscriber, EventDelivery.event_id == event_id)
    ).scalar_one_or_none()
    db.session.rollback()
    return status


def test_a_subscriber_failing_twice_is_delivered_after_retries(events_app, drain, publish_committed):
    (event,) = publish_committed(FlakyHappened(aggregate_id=uuid.uuid4()))
    drain(until=lambda: _status("tests.flaky", event.id) == DONE)
    (delivery,) = _deliveries("tests.flaky")
    assert delivery.attempts == 3 and delivery.delivered_at is not None and delivery.next_attempt_at is None
    assert handlers.CALLS["flaky", event.id] == 3
    retries = db.session.execute(select(Timer).where(Timer.name == "events.redeliver")).scalars().all()
    assert sorted(t.key.rsplit(":", 1)[1] for t in retries) == ["1", "2"]
    assert {t.state for t in retries} == {"fired"}


def test_a_subscriber_that_always_fails_ends_in_the_dead_letters_with_its_error(events_app, drain, publish_committed):
    (event,) = publish_committed(DoomedHappened(aggregate_id=uuid.uuid4()))
    seen_retrying = []
    drain(until=lambda: seen_retrying.append(_status("tests.doomed", event.id)) or seen_retrying[-1] == DEAD)
    assert RETRYING in seen_retrying
    (delivery,) = _deliveries("tests.doomed")
    assert delivery.status == DEAD
    assert delivery.attempts == events_app.config["EVENTS_RETRY_MAX_ATTEMPTS"]
    assert "RuntimeError: doomed subscriber always fails" in delivery.last_error
    assert handlers.CALLS["doomed", event.id] == delivery.attempts
    assert handlers.AFTER_COMMIT == []  # callbacks of failed attempts never ran

    # Staff retry after a fix: one more attempt, which now succeeds.
    handlers.HEALED.add(event.id)
    assert retry_dead_letter(delivery.id) is True
    db.session.commit()
    assert retry_dead_letter(delivery.id) is False  # no longer dead
    db.session.rollback()
    drain(until=lambda: _status("tests.doomed", event.id) == DONE)
    assert [event.id] == handlers.AFTER_COMMIT


def test_a_dead_letter_retried_without_a_fix_is_parked_again(events_app, drain, publish_committed):
    (event,) = publish_committed(DoomedHappened(aggregate_id=uuid.uuid4()))
    drain(until=lambda: _status("tests.doomed", event.id) == DEAD)
    (delivery,) = _deliveries("tests.doomed")
    calls, attempts = handlers.CALLS["doomed", event.id], delivery.attempts
    retry_dead_letter(delivery.id)
    db.session.commit()
    drain(until=lambda: handlers.CALLS["doomed", event.id] == calls + 1 and _status("tests.doomed", event.id) == DEAD)
    (again,) = _deliveries("tests.doomed")
    assert again.attempts == attempts + 1


def test_a_handler_that_commits_is_refused_and_retried(events_app, drain, publish_committed):
    (event,) = publish_committed(CommitAttempted(aggregate_id=uuid.uuid4()))
    drain(until=lambda: _status("tests.committer", event.id) == DEAD)
    (delivery,) = _deliveries("tests.committer")
    assert "handlers must not commit" in delivery.last_error


def test_a_job_waits_for_an_earlier_job_of_the_same_aggregate(events_app):
    """Two workers, one aggregate's events in two jobs: the later job lets the earlier one go first."""
    aggregate = uuid.uuid4()
    for n in (1, 2):
        publish(_ping(n, aggregate))
        db.session.commit()
    first, second = db.session.execute(select(OutboxEvent.position).order_by(OutboxEvent.position)).scalars().all()
    db.session.rollback()

    def other_worker() -> None:
        with events_app.app_context():
            deliver_events([second])

    thread = threading.Thread(target=other_worker)
    thread.start()
    time.sleep(0.3)
    assert handlers.ORDER == []  # the later job is waiting for its predecessor
    deliver_events([first])
    thread.join(10)
    assert not thread.is_alive()
    assert [n for agg, n in handlers.ORDER if agg == str(aggregate)] == [1, 2]
