"""Durable timers of payments (``app.events.timers``): checkout expiry, escrow auto-release, refund
and payout retries, and the daily payout batch. Armed in the transaction of the change that needs
them, fired exactly once by the workers; handlers live in :mod:`blueprints.payments.events`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from app.db import utcnow
from app.events import on_commit
from app.events.timers import cancel, schedule

EXPIRE = "payments.expire"
AUTO_RELEASE = "payments.auto_release"
REFUND_RETRY = "payments.refund_retry"
PAYOUT_RETRY = "payments.payout_retry"
PAYOUT_BATCH = "payments.payout_batch"
PAYOUT_BATCH_AT = time(2, 0, tzinfo=UTC)  # the daily batch runs at 02:00 UTC


def arm_expiry(payment_id: uuid.UUID, due: datetime) -> None:
    schedule(EXPIRE, due, {"payment_id": str(payment_id)}, key=str(payment_id))


def disarm_expiry(payment_id: uuid.UUID) -> None:
    cancel(EXPIRE, str(payment_id))


def arm_auto_release(payment_id: uuid.UUID, due: datetime) -> None:
    schedule(AUTO_RELEASE, due, {"payment_id": str(payment_id)}, key=str(payment_id))


def disarm_auto_release(payment_id: uuid.UUID) -> None:
    cancel(AUTO_RELEASE, str(payment_id))


def arm_refund_retry(refund_id: uuid.UUID, delay: timedelta) -> None:
    schedule(REFUND_RETRY, delay, {"refund_id": str(refund_id)}, key=str(refund_id))


def arm_payout_retry(payout_id: uuid.UUID, due: datetime) -> None:
    schedule(PAYOUT_RETRY, due, {"payout_id": str(payout_id)}, key=str(payout_id))


_ARMED_BATCHES: set[str] = set()  # days this process has armed (and committed): no rewrite of a hot row


def arm_payout_batch(now: datetime | None = None) -> None:
    """Money became payable: make sure the next daily batch is armed (one timer per day, idempotent).

    Every release would otherwise rewrite that day's timer row, serialising concurrent releases on it.
    """
    now = now or utcnow()
    day = now.date() if now.timetz() < PAYOUT_BATCH_AT else now.date() + timedelta(days=1)
    key = f"batch-{day.isoformat()}"
    if key in _ARMED_BATCHES:
        return
    schedule(PAYOUT_BATCH, datetime.combine(day, PAYOUT_BATCH_AT), {}, key=key)
    on_commit(lambda: _ARMED_BATCHES.add(key))
