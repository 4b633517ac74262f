"""RQ jobs of payments. They run inside an app context (``workers.runner.AppWorker``), take ids, and
are idempotent: rerunning one after a crash or a SIGKILL repeats no money movement.
"""

from __future__ import annotations

import logging
import uuid

from app.db import db
from app.idempotency import purge_expired
from blueprints.payments import escrow, payouts, refunds, release
from blueprints.payments.webhooks import deliver_local_events

log = logging.getLogger(__name__)


def run_payouts(limit: int = 1000) -> dict[str, int]:
    """The payout batch (``payouts`` queue): open a payout per payable seller, then send them."""
    return payouts.run_payout_batch(limit=limit)


def execute_refund(refund_id: str) -> str:
    """Carry out a pending refund right after the request that recorded it committed."""
    refund = refunds.execute_refund(refund_id=uuid.UUID(refund_id))
    deliver_local_events()
    db.session.commit()
    return str(refund.state)


def sweep(limit: int = 500) -> dict[str, int]:
    """Belt and braces beside the timers: expire, release, refund and purge whatever is overdue.

    Each item runs in its own transaction; one failing item is logged and the sweep goes on.
    """
    counts = {"expired": 0, "released": 0, "refunds": 0, "keys_purged": 0, "errors": 0}

    def each(ids: list[uuid.UUID], step, counter: str) -> None:  # type: ignore[no-untyped-def]
        for item_id in ids:
            try:
                if step(item_id) is not False:
                    counts[counter] += 1
                deliver_local_events()
                db.session.commit()
            except Exception:
                db.session.rollback()
                counts["errors"] += 1
                log.exception("payments sweep: %s %s failed", counter, item_id)

    each(release.due_for_expiry(limit=limit), lambda i: release.expire(payment_id=i), "expired")
    each(release.due_for_release(limit=limit), _release_if_free, "released")
    each(refunds.pending_refunds(limit=limit), lambda i: refunds.execute_refund(refund_id=i), "refunds")
    counts["keys_purged"] = purge_expired()
    db.session.commit()
    return counts


def _release_if_free(payment_id: uuid.UUID) -> bool:
    from blueprints.payments.holds import payment_on_hold

    payment = escrow.lock_payment(payment_id)
    if payment_on_hold(payment_id) or payment.amount_refund_pending:
        return False
    release.release(payment_id=payment_id, actor="system", reason="the inspection window elapsed")
    return True
