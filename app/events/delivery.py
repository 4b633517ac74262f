"""Running subscribers: batched, idempotent per (subscriber, event id), retried, then dead-lettered.

A worker job receives a batch of outbox positions. Fast path: every subscriber's handlers run in ONE
transaction that also inserts their delivery records and settles the outbox rows (one commit per
batch: the throughput of the bus). If anything fails, that transaction is rolled back and the batch
runs again one (subscriber, event) per transaction, so one bad event fails alone: its delivery
record is written ``retrying`` and a durable timer (``events.redeliver``) retries it with
exponential backoff until ``EVENTS_RETRY_MAX_ATTEMPTS``, then ``dead`` (the admin's dead letters).
Handlers may therefore run more than once (a rolled-back attempt); their committed effects happen once.

Idempotency: a delivery record is inserted with ON CONFLICT DO NOTHING before the handler runs, in
the handler's transaction, so a duplicate job (redispatch after a crash, a lost ack) finds the record
and skips the handler; two copies running at once serialise on the record's unique index.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

from flask import current_app
from sqlalchemy import BigInteger, DateTime, String, Uuid, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from app.db import db, utcnow
from app.events.guard import backoff, error_text, handler_scope
from app.events.outbox import OutboxEvent
from app.events.records import DEAD, DONE, RETRYING, EventDelivery, arm_retry, max_attempts
from app.events.subscribers import Subscriber, subscribers_for

__all__ = ["EventDelivery", "deliver_events"]  # the model lives in records

log = logging.getLogger(__name__)

SETTLE = text(
    "UPDATE platform.outbox_events SET settled_at = now() WHERE position = ANY(:positions) AND settled_at IS NULL"
).bindparams(bindparam("positions", type_=ARRAY(BigInteger)))


EARLIER_UNSETTLED = text(
    """
    WITH mine AS (
      SELECT aggregate_id, min(position) AS first FROM platform.outbox_events
      WHERE position = ANY(:positions) GROUP BY aggregate_id
    )
    SELECT 1 FROM mine
    JOIN platform.outbox_events o
      ON o.aggregate_id = mine.aggregate_id AND o.position < mine.first AND o.settled_at IS NULL
    LIMIT 1
    """
).bindparams(bindparam("positions", type_=ARRAY(BigInteger)))
PREDECESSOR_WAIT_SECONDS = 2.0

# One statement per (batch, subscriber) whatever the batch size: arrays, not N rows of VALUES (which
# SQLAlchemy would compile afresh every time). ON CONFLICT: another copy of the job got there first.
CLAIM = text(
    """
    INSERT INTO platform.event_deliveries
      (id, subscriber, event_id, event_type, event_position, status, attempts, last_error,
       next_attempt_at, created_at, updated_at, delivered_at)
    SELECT gen_random_uuid(), :subscriber, e.id, e.type, e.position, :status, 1, :error,
           :next_at, :now, :now, :delivered
    FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS text[]), CAST(:positions AS bigint[])) AS e(id, type, position)
    ON CONFLICT (subscriber, event_id) DO NOTHING
    RETURNING event_id
    """
).bindparams(
    bindparam("ids", type_=ARRAY(Uuid)),
    bindparam("types", type_=ARRAY(String)),
    bindparam("positions", type_=ARRAY(BigInteger)),
    bindparam("next_at", type_=DateTime(timezone=True)),
    bindparam("now", type_=DateTime(timezone=True)),
    bindparam("delivered", type_=DateTime(timezone=True)),
)

Item = tuple[int, Any]  # (outbox position, typed event)


def _wait_for_predecessors(session: Session, positions: list[int]) -> None:
    """Let an earlier job finish the same aggregates first (several workers, one aggregate's events
    in two jobs): poll until no earlier event of them is unsettled, for at most PREDECESSOR_WAIT_SECONDS.

    Bounded because an earlier job may be lost (the sweeper re-sends it later): order is then best effort.
    """
    deadline = time.monotonic() + PREDECESSOR_WAIT_SECONDS
    while session.execute(EARLIER_UNSETTLED, {"positions": positions}).first() is not None:
        if time.monotonic() >= deadline:
            log.info("events from %s: earlier events of their aggregates are still unsettled", min(positions))
            return
        time.sleep(0.01)  # READ COMMITTED: the next check sees what committed meanwhile


def deliver_events(positions: Sequence[int]) -> dict[str, int]:
    """RQ job: hand a batch of outbox events to every subscriber of each, then settle the rows."""
    session = db.session
    _wait_for_predecessors(session, list(positions))
    rows = session.execute(
        select(OutboxEvent).where(OutboxEvent.position.in_(list(positions))).order_by(OutboxEvent.position)
    ).scalars()
    items = [(row.position, row.to_event()) for row in rows]
    found = [position for position, _ in items]
    plan: dict[str, tuple[Subscriber, list[Item]]] = {}
    for item in items:
        for subscriber in subscribers_for(item[1].type):
            plan.setdefault(subscriber.name, (subscriber, []))[1].append(item)
    session.expunge_all()
    failed: _HandlerFailed | None = None
    try:
        stats = _deliver_together(session, plan)
        session.execute(SETTLE, {"positions": found})
        session.commit()
        return stats
    except _HandlerFailed as exc:
        session.rollback()
        failed = exc
    except Exception:
        session.rollback()
        log.info("event batch %s..%s failed together, isolating events", found[:1], found[-1:], exc_info=True)
    stats = {"delivered": 0, "duplicates": 0, "failed": 0}
    for subscriber, batch in plan.values():
        for item in batch:
            if failed is not None and failed.subscriber is subscriber and failed.item is item:
                # Its first attempt already happened (and failed) in the batch: record it, don't rerun.
                _claim(session, subscriber, [item], failure=failed.error)
                session.commit()
                stats["failed"] += 1
                continue
            stats[_deliver_one(session, subscriber, item)] += 1
    session.execute(SETTLE, {"positions": found})
    session.commit()
    return stats


def _claim(
    session: Session, subscriber: Subscriber, batch: list[Item], *, failure: BaseException | None = None
) -> set[uuid.UUID]:
    """Insert the delivery records; returns the event ids that had none (the ones this call owns).

    Without ``failure`` the records say ``done`` (the handler runs in the same transaction); with it,
    the first failed attempt is recorded (``retrying`` with its retry time, or ``dead``).
    """
    if not batch:
        return set()
    now = utcnow()
    status, next_at, error = DONE, None, None
    if failure is not None:
        config = current_app.config
        status = DEAD if max_attempts(subscriber) <= 1 else RETRYING
        if status == RETRYING:
            next_at = now + backoff(1, config["EVENTS_RETRY_BASE_MS"], config["EVENTS_RETRY_MAX_MS"])
        error = error_text(failure)
    params = {
        "subscriber": subscriber.name,
        "ids": [event.id for _, event in batch],
        "types": [event.type for _, event in batch],
        "positions": [position for position, _ in batch],
        "status": status,
        "error": error,
        "next_at": next_at,
        "now": now,
        "delivered": now if failure is None else None,
    }
    claimed = set(session.execute(CLAIM, params).scalars())
    if next_at is not None:
        for event_id in claimed:
            arm_retry(session, subscriber.name, event_id, 1, next_at)
    return claimed


class _HandlerFailed(Exception):
    def __init__(self, subscriber: Subscriber, item: Item, error: Exception) -> None:
        super().__init__(f"{subscriber.name} failed on {item[1].id}: {error!r}")
        self.subscriber, self.item, self.error = subscriber, item, error


def _deliver_together(session: Session, plan: dict[str, tuple[Subscriber, list[Item]]]) -> dict[str, int]:
    delivered = duplicates = 0
    for subscriber, batch in plan.values():
        claimed = _claim(session, subscriber, batch)
        duplicates += len(batch) - len(claimed)
        for item in batch:
            if item[1].id in claimed:
                try:
                    with handler_scope(session, f"subscriber {subscriber.name}"):
                        subscriber.handler(item[1])
                except Exception as exc:
                    raise _HandlerFailed(subscriber, item, exc) from exc
                delivered += 1
    return {"delivered": delivered, "duplicates": duplicates, "failed": 0}


def _deliver_one(session: Session, subscriber: Subscriber, item: Item) -> str:
    """One (subscriber, event) in its own transaction; a failure is recorded in the next one."""
    event = item[1]
    try:
        if not _claim(session, subscriber, [item]):
            session.rollback()
            return "duplicates"
        with handler_scope(session, f"subscriber {subscriber.name}"):
            subscriber.handler(event)
        session.commit()
        return "delivered"
    except Exception as exc:  # noqa: BLE001 - whatever a handler raises is retried, then dead-lettered
        session.rollback()
        failure = exc
    _claim(session, subscriber, [item], failure=failure)
    session.commit()
    log.warning("subscriber %s failed on event %s (attempt 1): %r", subscriber.name, event.id, failure)
    return "failed"
