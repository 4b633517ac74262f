"""Retries and dead letters: the ``events.redeliver`` timer, and the staff "retry" of a dead delivery."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db import db, utcnow
from app.events.guard import handler_scope
from app.events.outbox import OutboxEvent
from app.events.records import DEAD, DONE, REDELIVER_TIMER, RETRYING, EventDelivery, record_failure
from app.events.subscribers import get_subscriber
from app.events.timers import FiredTimer, on_timer, schedule

__all__ = ["delivery_counts", "redeliver", "retry_dead_letter"]


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
        record_failure(session, subscriber, delivery.event_id, attempts=delivery.attempts + 1, exc=exc)
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
