"""Delivery records: one row per (subscriber, event), the idempotency key and, when it fails, the dead letter.

``done`` rows are written in the handler's own transaction; a failure is recorded as ``retrying``
with a durable retry timer (``events.redeliver``, exponential backoff), or ``dead`` once
``EVENTS_RETRY_MAX_ATTEMPTS`` (or the subscriber's own ``max_attempts``) is spent.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from flask import current_app
from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, UniqueConstraint, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Model, UUIDPk, utcnow
from app.events.guard import backoff, error_text
from app.events.subscribers import Subscriber
from app.events.timers import schedule

__all__ = [
    "DEAD",
    "DONE",
    "REDELIVER_TIMER",
    "RETRYING",
    "EventDelivery",
    "arm_retry",
    "max_attempts",
    "record_failure",
]

log = logging.getLogger(__name__)

DONE, RETRYING, DEAD = "done", "retrying", "dead"
REDELIVER_TIMER = "events.redeliver"


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


def max_attempts(subscriber: Subscriber | None) -> int:
    configured = current_app.config["EVENTS_RETRY_MAX_ATTEMPTS"]
    return subscriber.max_attempts if subscriber and subscriber.max_attempts else configured


def record_failure(
    session: Session, subscriber: Subscriber | None, event_id: uuid.UUID, *, attempts: int, exc: BaseException | str
) -> str:
    """Turn a delivery into ``retrying`` (and arm its retry timer) or, out of attempts, ``dead``."""
    config = current_app.config
    name = subscriber.name if subscriber else None
    now = utcnow()
    dead = subscriber is None or attempts >= max_attempts(subscriber)
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
    arm_retry(session, name, event_id, attempts, next_at)
    log.warning("subscriber %s failed on event %s (attempt %d), retrying at %s", name, event_id, attempts, next_at)
    return RETRYING


def arm_retry(session: Session, subscriber: str, event_id: uuid.UUID, attempts: int, when: datetime) -> None:
    key = f"{subscriber}:{event_id}:{attempts}"
    schedule(REDELIVER_TIMER, when, {"subscriber": subscriber, "event_id": str(event_id)}, key=key, session=session)
