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
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Model, UUIDPk, db, utcnow
from app.events.guard import backoff, error_text, handler_scope
from app.events.outbox import OutboxEvent
from app.events.subscribers import Subscriber, get_subscriber, subscribers_for
from app.events.timers import FiredTimer, on_timer, schedule

__all__ = ["EventDelivery", "deliver_events", "retry_dead_letter"]

log = logging.getLogger(__name__)

DONE, RETRYING, DEAD = "done", "retrying", "dead"
REDELIVER_TIMER = "events.redeliver"

SETTLE = text(
    "UPDATE platform.outbox_events SET settled_at = now() WHERE position = ANY(:positions) AND settled_at IS NULL"
).bindparams(bindparam("positions", type_=ARRAY(BigInteger)))


class EventDelivery(UUIDPk, Model):
    """One subscriber's handling of one event: the idempotency record and, when it fails, the dead letter."""

    __tablename__ = "event_deliveries"
    __table_args__ = (
        UniqueConstraint("subscriber", "event_id"),
        Index("ix_event_deliveries_open", "status", "updated_at", postgresql_where=text("status <> 'done'")),
        Index("ix_event_deliveries_created", "created_at"),
        {"schema": "platform"},
    )

    subscriber: Mapped[str] = mapped_column(String(200), nullable=False)
    event_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    event_position: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # done | retrying | dead
    attempts: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<EventDelivery {self.subscriber} {self.event_type} {self.event_id} {self.status}>"


Item = tuple[int, Any]  # (outbox position, typed event)


def deliver_events(positions: Sequence[int]) -> dict[str, int]:
    """RQ job: hand a batch of outbox events to every subscriber of each, then settle the rows."""
    session = db.session
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
        status = DEAD if _max_attempts(subscriber) <= 1 else RETRYING
        if status == RETRYING:
            next_at = now + backoff(1, config["EVENTS_RETRY_BASE_MS"], config["EVENTS_RETRY_MAX_MS"])
        error = error_text(failure)
    values = [
        {
            "id": uuid.uuid4(),
            "subscriber": subscriber.name,
            "event_id": event.id,
            "event_type": event.type,
            "event_position": position,
            "status": status,
            "attempts": 1,
            "last_error": error,
            "next_attempt_at": next_at,
            "created_at": now,
            "updated_at": now,
            "delivered_at": now if failure is None else None,
        }
        for position, event in batch
    ]
    statement = (
        insert(EventDelivery)
        .values(values)
        .on_conflict_do_nothing(index_elements=["subscriber", "event_id"])
        .returning(EventDelivery.event_id)
    )
    claimed = set(session.execute(statement).scalars())
    if next_at is not None:
        for event_id in claimed:
            _arm_retry(session, subscriber.name, event_id, 1, next_at)
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


def _max_attempts(subscriber: Subscriber | None) -> int:
    configured = current_app.config["EVENTS_RETRY_MAX_ATTEMPTS"]
    return subscriber.max_attempts if subscriber and subscriber.max_attempts else configured


def _record_failure(
    session: Session, subscriber: Subscriber | None, event_id: uuid.UUID, *, attempts: int, exc: BaseException | str
) -> str:
    """Turn a delivery into ``retrying`` (and arm its retry timer) or, out of attempts, ``dead``."""
    config = current_app.config
    name = subscriber.name if subscriber else None
    now = utcnow()
    dead = subscriber is None or attempts >= _max_attempts(subscriber)
    next_at = None if dead else now + backoff(attempts, config["EVENTS_RETRY_BASE_MS"], config["EVENTS_RETRY_MAX_MS"])
    message = exc if isinstance(exc, str) else error_text(exc)
    where = [EventDelivery.event_id == event_id]
    if name is not None:
        where.append(EventDelivery.subscriber == name)
    session.execute(
        update(EventDelivery)
        .where(*where)
        .values(
            status=DEAD if dead else RETRYING,
            attempts=attempts,
            last_error=message,
            next_attempt_at=next_at,
            delivered_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if dead:
        log.error("subscriber %s gave up on event %s after %d attempts", name, event_id, attempts)
        return DEAD
    assert name is not None and next_at is not None
    _arm_retry(session, name, event_id, attempts, next_at)
    log.warning("subscriber %s failed on event %s (attempt %d), retrying at %s", name, event_id, attempts, next_at)
    return RETRYING


def _arm_retry(session: Session, subscriber: str, event_id: uuid.UUID, attempts: int, when: datetime) -> None:
    key = f"{subscriber}:{event_id}:{attempts}"
    schedule(REDELIVER_TIMER, when, {"subscriber": subscriber, "event_id": str(event_id)}, key=key, session=session)


def _locked_delivery(session: Session, timer: FiredTimer) -> EventDelivery | None:
    return session.execute(
        select(EventDelivery)
        .where(
            EventDelivery.subscriber == timer.payload["subscriber"],
            EventDelivery.event_id == uuid.UUID(timer.payload["event_id"]),
        )
        .with_for_update()
    ).scalar_one_or_none()


def _redelivery_failed(timer: FiredTimer, exc: BaseException) -> bool:
    """The retry's handler raised (its transaction is rolled back): count the attempt, re-arm or bury."""
    session = db.session
    delivery = _locked_delivery(session, timer)
    if delivery is not None and delivery.status == RETRYING:
        subscriber = get_subscriber(delivery.subscriber)
        _record_failure(session, subscriber, delivery.event_id, attempts=delivery.attempts + 1, exc=exc)
    return True  # handled here: the timer itself is done


@on_timer(REDELIVER_TIMER, on_failure=_redelivery_failed)
def redeliver(timer: FiredTimer) -> None:
    """Timer handler: one more attempt of a retrying delivery (in the timer's transaction)."""
    session = db.session
    delivery = _locked_delivery(session, timer)
    if delivery is None or delivery.status != RETRYING:
        return
    attempts = delivery.attempts + 1
    subscriber = get_subscriber(delivery.subscriber)
    row = session.get(OutboxEvent, delivery.event_id)
    if subscriber is None or row is None:
        reason = "subscriber no longer declared" if subscriber is None else "event pruned from the outbox"
        session.execute(
            update(EventDelivery)
            .where(EventDelivery.id == delivery.id)
            .values(status=DEAD, attempts=attempts, last_error=reason, next_attempt_at=None, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return
    with handler_scope(session, f"subscriber {subscriber.name}"):
        subscriber.handler(row.to_event())
    now = utcnow()
    session.execute(
        update(EventDelivery)
        .where(EventDelivery.id == delivery.id)
        .values(status=DONE, attempts=attempts, delivered_at=now, next_attempt_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def retry_dead_letter(delivery_id: uuid.UUID, *, session: Session | None = None) -> bool:
    """Staff action: one more attempt of a dead delivery, now (False when it is not dead)."""
    session = session if session is not None else db.session
    delivery = session.execute(
        select(EventDelivery).where(EventDelivery.id == delivery_id, EventDelivery.status == DEAD).with_for_update()
    ).scalar_one_or_none()
    if delivery is None:
        return False
    now = utcnow()
    delivery.status, delivery.next_attempt_at, delivery.updated_at = RETRYING, now, now
    schedule(
        REDELIVER_TIMER,
        now,
        {"subscriber": delivery.subscriber, "event_id": str(delivery.event_id)},
        key=f"{delivery.subscriber}:{delivery.event_id}:manual:{uuid.uuid4().hex[:8]}",
        session=session,
    )
    return True


def delivery_counts() -> dict[str, int]:
    """Open deliveries per status (the admin's and the metrics' figures)."""
    rows = db.session.execute(
        select(EventDelivery.status, func.count()).where(EventDelivery.status != DONE).group_by(EventDelivery.status)
    ).all()
    return {status: int(count) for status, count in rows}
