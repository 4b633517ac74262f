"""The transactional outbox: ``publish(event)`` writes a row in the caller's transaction.

The row commits or rolls back with the domain change that caused it, so an event exists if and only
if its change does. The relay (``app.events.relay``) later moves committed rows to the workers.
A ``pg_notify`` sent once per transaction (delivered by PostgreSQL at commit) wakes the relay at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import has_request_context
from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, SmallInteger, String, event, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Model, db
from app.events.catalog import DomainEvent, load_event

__all__ = ["NOTIFY_CHANNEL", "OUTBOX_COLUMNS", "OutboxEvent", "outbox_values", "publish"]

NOTIFY_CHANNEL = "bazaar_outbox"
_PENDING_NOTIFY = "bazaar_outbox_notify"


class OutboxEvent(Model):
    """One published event. ``position`` orders events; ``dispatched_at``/``settled_at`` track delivery."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_undispatched", "position", postgresql_where=text("dispatched_at IS NULL")),
        Index(
            "ix_outbox_events_unsettled",
            "dispatched_at",
            postgresql_where=text("dispatched_at IS NOT NULL AND settled_at IS NULL"),
        ),
        Index("ix_outbox_events_occurred", "occurred_at", "type"),  # the admin chart: per type over time
        # Only events in flight: the relay's per-aggregate order check and the workers' predecessor wait.
        Index("ix_outbox_events_aggregate", "aggregate_id", "position", postgresql_where=text("settled_at IS NULL")),
        {"schema": "platform"},
    )

    # Client-side id as primary key: a batch of publishes is one multi-row INSERT with no RETURNING.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True, nullable=False)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    version: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    aggregate_id: Mapped[str] = mapped_column(String(64), nullable=False)
    actor: Mapped[str | None] = mapped_column(String(80))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # now() is the transaction's start: close to, never after, the commit that made the row visible.
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispatch_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    job_id: Mapped[str | None] = mapped_column(String(64))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def to_event(self):  # type: ignore[no-untyped-def]
        return load_event(
            type=self.type,
            version=self.version,
            id=self.id,
            occurred_at=self.occurred_at,
            actor=self.actor,
            aggregate_id=self.aggregate_id,
            payload=self.payload,
        )

    def __repr__(self) -> str:
        return f"<OutboxEvent {self.position} {self.type} v{self.version} {self.aggregate_id}>"


def _default_actor() -> str | None:
    if not has_request_context():
        return None
    from app.security import current_principal

    principal = current_principal()
    return f"user:{principal.user_id}" if principal.is_authenticated else None


# What a publisher writes; the rest (position, recorded_at, delivery state) is the database's or the relay's.
OUTBOX_COLUMNS = ("id", "type", "version", "aggregate_id", "actor", "occurred_at", "payload")


def outbox_values(event: DomainEvent) -> dict[str, Any]:
    """The outbox row :func:`publish` writes for ``event``, as column values (``OUTBOX_COLUMNS``).

    For a hot path that writes its change and its events in one SQL statement of its own (one round
    trip): it inserts these values into ``platform.outbox_events`` and, in the same transaction,
    calls ``pg_notify(NOTIFY_CHANNEL, '')`` itself, since no session hook sees that insert.
    """
    if not isinstance(event, DomainEvent) or not event.type:
        raise TypeError("outbox_values() takes a DomainEvent subclass instance that declares `type`")
    actor = event.actor if event.actor is not None else (_default_actor() or "system")
    return {
        "id": event.id,
        "type": event.type,
        "version": event.version,
        "aggregate_id": str(event.aggregate_id),
        "actor": actor,
        "occurred_at": event.occurred_at,
        "payload": event.payload(),
    }


def publish(event: DomainEvent, *, session: Session | None = None) -> OutboxEvent:
    """Record ``event`` in the outbox inside the caller's transaction (``db.session`` by default).

    Nothing is sent now: the row becomes visible to the relay only when the caller commits, and
    disappears if it rolls back. Returns the (pending) outbox row.
    """
    if not isinstance(event, DomainEvent) or not event.type:
        raise TypeError("publish() takes a DomainEvent subclass instance that declares `type`")
    session = session if session is not None else db.session
    row = OutboxEvent(**outbox_values(event))
    session.add(row)
    session.info[_PENDING_NOTIFY] = True
    return row


@event.listens_for(Session, "before_commit")
def _notify_relay(session: Session) -> None:
    """One NOTIFY per committing transaction that published: PostgreSQL delivers it only on commit."""
    if session.info.pop(_PENDING_NOTIFY, False):
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})


@event.listens_for(Session, "after_rollback")
def _forget_notify(session: Session) -> None:
    session.info.pop(_PENDING_NOTIFY, None)
