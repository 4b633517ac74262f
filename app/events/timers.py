"""Durable domain timers: due times live in PostgreSQL, so a restart never loses or repeats one.

    from app.events import schedule, cancel, on_timer

    schedule("offers.expire", offer.expires_at, {"offer_id": str(offer.id)}, key=str(offer.id))
    cancel("offers.expire", key=str(offer.id))          # e.g. the offer was accepted first

    @on_timer("offers.expire")                          # in blueprints/offers/events.py
    def expire_offer(timer: FiredTimer) -> None:
        service.expire(offer_id=timer.payload["offer_id"], actor="system")

``schedule`` writes in the caller's transaction. One timer exists per (name, key): scheduling an
existing key replaces its due time and payload (rescheduling a fired one arms it again). The relay
process hands due timers to the workers; a worker fires a timer by running its handler and marking
it fired **in one transaction**, so its effects happen exactly once. A handler that raises is retried
with exponential backoff, then left ``dead`` (visible in the admin, with its error).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import (
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Model, Timestamps, UUIDPk, db, utcnow
from app.events.guard import backoff, error_text, handler_scope
from app.events.outbox import _PENDING_NOTIFY

__all__ = ["FiredTimer", "Timer", "cancel", "on_timer", "run_timers", "schedule"]

log = logging.getLogger(__name__)

SCHEDULED, ENQUEUED, FIRED, CANCELLED, DEAD = "scheduled", "enqueued", "fired", "cancelled", "dead"


class Timer(UUIDPk, Timestamps, Model):
    __tablename__ = "timers"
    __table_args__ = (
        UniqueConstraint("name", "key"),
        Index("ix_timers_due", "due_at", postgresql_where=text("state = 'scheduled'")),
        Index("ix_timers_enqueued", "enqueued_at", postgresql_where=text("state = 'enqueued'")),
        Index("ix_timers_state_name", "state", "name"),
        {"schema": "platform"},
    )

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, nullable=False)
    state: Mapped[str] = mapped_column(String(16), default=SCHEDULED, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(64))
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<Timer {self.name}:{self.key} {self.state} due {self.due_at:%Y-%m-%d %H:%M:%S}>"


@dataclass(frozen=True)
class FiredTimer:
    """What a timer handler receives."""

    id: uuid.UUID
    name: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    attempt: int  # 1 on the first run


TimerHandler = Callable[[FiredTimer], None]
FailureHook = Callable[[FiredTimer, BaseException], bool]
_HANDLERS: dict[str, TimerHandler] = {}
_FAILURE_HOOKS: dict[str, FailureHook] = {}


def on_timer(name: str, *, on_failure: FailureHook | None = None) -> Callable[[TimerHandler], TimerHandler]:
    """Declare the handler of timers called ``name`` (one handler per name; it must not commit).

    ``on_failure(timer, exc)`` runs in a fresh transaction after a failed run was rolled back; when it
    returns True the failure is handled there and the timer counts as fired (no timer-level retry).
    """

    def register(handler: TimerHandler) -> TimerHandler:
        existing = _HANDLERS.get(name)
        if existing is not None and existing.__code__ is not handler.__code__:
            raise ValueError(f"timer {name!r} already has a handler ({existing.__module__}.{existing.__qualname__})")
        _HANDLERS[name] = handler
        if on_failure is not None:
            _FAILURE_HOOKS[name] = on_failure
        return handler

    return register


def timer_handler(name: str) -> TimerHandler | None:
    return _HANDLERS.get(name)


def schedule(
    name: str,
    due_at: datetime | timedelta,
    payload: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    session: Session | None = None,
) -> str:
    """Arm timer (name, key) for ``due_at`` (a UTC datetime or a delay from now), in the caller's transaction.

    Returns the key (a new random one when ``key`` is None).
    """
    if not name or len(name) > 100:
        raise ValueError("timer name must be 1-100 characters")
    session = session if session is not None else db.session
    now = utcnow()
    when = now + due_at if isinstance(due_at, timedelta) else due_at
    if when.tzinfo is None:
        raise ValueError("due_at must be timezone-aware (UTC)")
    key = key or uuid.uuid4().hex
    session.execute(
        _ARM,
        {"id": uuid.uuid4(), "name": name, "key": key, "due_at": when, "payload": payload or {}, "now": now},
    )
    if when <= now + timedelta(seconds=1):
        session.info[_PENDING_NOTIFY] = True  # wake the relay at commit rather than at its next poll
    return key


# Arm or re-arm (name, key): plain SQL built once, because SQLAlchemy 2.0 never caches a PostgreSQL
# INSERT ... ON CONFLICT (sqlalchemy#10445) and compiled this on every schedule() call.
_ARM = text(
    "INSERT INTO platform.timers (id, name, key, due_at, payload, state, attempts, created_at, updated_at)"
    " VALUES (:id, :name, :key, :due_at, :payload, :scheduled, 0, :now, :now)"
    " ON CONFLICT (name, key) DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload,"
    " state = :scheduled, attempts = 0, last_error = NULL, fired_at = NULL, updated_at = :now"
).bindparams(
    bindparam("id", type_=Uuid()),
    bindparam("name", type_=String()),
    bindparam("key", type_=String()),
    bindparam("due_at", type_=DateTime(timezone=True)),
    bindparam("payload", type_=JSONB()),
    bindparam("scheduled", value=SCHEDULED, type_=String()),
    bindparam("now", type_=DateTime(timezone=True)),
)


def cancel(name: str, key: str, *, session: Session | None = None) -> bool:
    """Disarm a pending timer in the caller's transaction; False when none was pending."""
    session = session if session is not None else db.session
    result = session.execute(
        update(Timer)
        .where(Timer.name == name, Timer.key == key, Timer.state.in_((SCHEDULED, ENQUEUED)))
        .values(state=CANCELLED, updated_at=utcnow())
    )
    return bool(result.rowcount)


def run_timers(timer_ids: list[str]) -> dict[str, int]:
    """RQ job: fire each due timer in its own transaction (already fired or rescheduled ones are skipped)."""
    counts = {"fired": 0, "skipped": 0, "failed": 0}
    for timer_id in timer_ids:
        counts[_fire(uuid.UUID(str(timer_id)))] += 1
    return counts


def _lock_due(session: Session, timer_id: uuid.UUID) -> tuple[Timer | None, datetime]:
    timer = session.execute(select(Timer).where(Timer.id == timer_id).with_for_update()).scalar_one_or_none()
    now = session.execute(select(func.now())).scalar_one()
    if timer is None or timer.state not in (SCHEDULED, ENQUEUED) or timer.due_at > now:
        return None, now
    return timer, now


def _fire(timer_id: uuid.UUID) -> str:
    """Run one timer: handler + "fired" in one transaction; a failure is recorded in the next one."""
    session = db.session
    fired: FiredTimer | None = None
    try:
        timer, now = _lock_due(session, timer_id)
        if timer is None:
            session.rollback()
            return "skipped"
        fired = FiredTimer(timer.id, timer.name, timer.key, timer.due_at, dict(timer.payload), timer.attempts + 1)
        handler = _HANDLERS.get(timer.name)
        if handler is None:
            raise LookupError(f"no @on_timer handler for {timer.name!r} in this process")
        with handler_scope(session, f"timer {timer.name}"):
            handler(fired)
        timer.state, timer.fired_at, timer.attempts, timer.updated_at = FIRED, now, fired.attempt, now
        timer.last_error = None
        session.commit()
        return "fired"
    except Exception as exc:
        session.rollback()
        if fired is None:
            raise  # the database failed before the handler ran: the job fails, the relay re-sends it
        failure = exc
    timer, now = _lock_due(session, timer_id)
    if timer is None or timer.attempts + 1 != fired.attempt:
        session.rollback()  # fired or rescheduled by another run meanwhile
        return "skipped"
    hook = _FAILURE_HOOKS.get(timer.name)
    if hook is not None and hook(fired, failure):
        timer.state, timer.fired_at, timer.attempts, timer.updated_at = FIRED, now, fired.attempt, now
        timer.last_error = error_text(failure)
    else:
        _record_failure(timer, failure, now)
    session.commit()
    return "failed"


def _record_failure(timer: Timer, exc: Exception, now: datetime) -> None:
    config = current_app.config
    timer.attempts += 1
    timer.last_error = error_text(exc)
    timer.updated_at = now
    if timer.attempts >= config["EVENTS_RETRY_MAX_ATTEMPTS"]:
        timer.state = DEAD
        log.error("timer %s:%s gave up after %d attempts", timer.name, timer.key, timer.attempts)
    else:
        timer.state = SCHEDULED
        timer.due_at = now + backoff(timer.attempts, config["EVENTS_RETRY_BASE_MS"], config["EVENTS_RETRY_MAX_MS"])
        log.warning("timer %s:%s failed (attempt %d), retrying", timer.name, timer.key, timer.attempts)


def rearm(timer_id: uuid.UUID, *, session: Session | None = None) -> bool:
    """Staff action: run a dead (or cancelled) timer again now, with one more attempt."""
    session = session if session is not None else db.session
    result = session.execute(
        update(Timer)
        .where(Timer.id == timer_id, Timer.state.in_((DEAD, CANCELLED)))
        .values(state=SCHEDULED, due_at=utcnow(), updated_at=utcnow())
    )
    session.info[_PENDING_NOTIFY] = True
    return bool(result.rowcount)
