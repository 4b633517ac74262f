"""Timer handlers of payments (see :mod:`blueprints.payments.timers`). They work in the timer's
transaction and never commit; provider calls made here carry idempotency keys, so a rerun after a
crash repeats nothing at the provider.
"""

from __future__ import annotations

import uuid

from app.db import utcnow
from app.events import on_commit
from app.events.timers import FiredTimer, on_timer
from blueprints.payments import escrow, payouts, refunds, release, timers
from blueprints.payments.holds import payment_on_hold
from blueprints.payments.states import RefundState
from blueprints.payments.webhooks import deliver_local_events


@on_timer(timers.EXPIRE)
def expire_payment(timer: FiredTimer) -> None:
    release.expire(payment_id=uuid.UUID(timer.payload["payment_id"]), actor="system")
    deliver_local_events()


@on_timer(timers.AUTO_RELEASE)
def auto_release(timer: FiredTimer) -> None:
    """The inspection window elapsed with no complaint: pay the seller (unless a hold says wait)."""
    payment = escrow.lock_payment(uuid.UUID(timer.payload["payment_id"]))
    due = payment.release_due_at
    if not payment.in_escrow or due is None or due > utcnow() or payment_on_hold(payment.id):
        return  # released, refunded, rescheduled, or on hold (lifting the hold re-arms this timer)
    if payment.amount_refund_pending:
        timers.arm_auto_release(payment.id, utcnow() + refunds.RETRY_AFTER)
        return
    release.release(payment_id=payment.id, actor="system", reason="the inspection window elapsed")


@on_timer(timers.REFUND_RETRY)
def retry_refund(timer: FiredTimer) -> None:
    refund = refunds.execute_refund(refund_id=uuid.UUID(timer.payload["refund_id"]))
    deliver_local_events()
    if refund.state == RefundState.PENDING and refund.error is None:
        timers.arm_refund_retry(refund.id, refunds.RETRY_AFTER)


@on_timer(timers.PAYOUT_RETRY)
def retry_payout(timer: FiredTimer) -> None:
    payouts.send_payout(payout_id=uuid.UUID(timer.payload["payout_id"]))
    deliver_local_events()


@on_timer(timers.PAYOUT_BATCH)
def payout_batch(timer: FiredTimer) -> None:
    """The batch commits once per seller, so it runs as its own job on the ``payouts`` queue."""
    from app.queues import enqueue
    from blueprints.payments import tasks

    on_commit(lambda: enqueue("payouts", tasks.run_payouts))
