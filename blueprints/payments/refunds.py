"""Refunds, full or partial, before release (from escrow) or after (from the seller's proceeds, pulling
paid-out money back with transfer reversals, then from the platform's fees).

Two steps so the provider is never called for a refund the database does not know about:
:func:`request_refund` reserves the amount on the payment (``amount_refund_pending``; a CHECK keeps
refunded + pending <= captured) and writes the pending refund in the caller's transaction;
:func:`execute_refund`, run after that commit (in the request, a job, or the sweeper), calls the
provider with idempotency keys derived from the refund id, then posts the ledger entry.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from app.audit import record
from app.db import db, utcnow
from app.events import publish
from blueprints.payments import ledger
from blueprints.payments.errors import InvalidAmount, PaymentNotFound, WrongState
from blueprints.payments.escrow import lock_payment
from blueprints.payments.events import PaymentRefunded, payment_fields
from blueprints.payments.models import Payment, Payout, Refund
from blueprints.payments.providers import get_provider
from blueprints.payments.providers.base import ProviderError
from blueprints.payments.release import release
from blueprints.payments.states import PaymentState, PayoutState, RefundState, move, parse_actor, record_creation
from blueprints.payments.timers import arm_refund_retry, disarm_auto_release

RETRY_AFTER = timedelta(minutes=5)  # a pending refund is retried this often until it settles

P = PaymentState
REFUNDABLE = frozenset({P.HELD, P.PARTIALLY_REFUNDED, P.RELEASED})


def request_refund(*, payment_id: uuid.UUID, amount: int | None, reason: str, actor: str) -> Refund:
    """Reserve and record a refund (``amount`` None = everything left). Never more than captured."""
    payment = lock_payment(payment_id)
    if payment.state not in REFUNDABLE:
        raise WrongState(f"a {payment.state} payment cannot be refunded")
    if not reason.strip():
        raise WrongState("a refund needs a reason", field="reason")
    amount = payment.refundable if amount is None else amount
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidAmount("a refund is a positive integer of minor units")
    if amount > payment.refundable:
        raise InvalidAmount(f"at most {payment.refundable} can still be refunded")
    from_escrow = from_seller = from_fees = 0
    if payment.released_at is None:
        from_escrow = amount
    else:
        taken = db.session.execute(
            select(func.coalesce(func.sum(Refund.from_seller), 0)).where(
                Refund.payment_id == payment.id, Refund.state != RefundState.FAILED
            )
        ).scalar_one()
        from_seller = min(amount, (payment.seller_amount or 0) - int(taken))
        from_fees = amount - from_seller
    refund = Refund(
        id=uuid.uuid4(),
        payment_id=payment.id,
        amount=amount,
        currency=payment.currency,
        from_escrow=from_escrow,
        from_seller=from_seller,
        from_fees=from_fees,
        reversed_amount=0,
        reason=reason.strip()[:500],
        requested_by=actor,
        state=RefundState.PENDING,
        state_changed_at=utcnow(),
    )
    payment.amount_refund_pending += amount
    db.session.add(refund)
    record_creation(refund, "refund", actor=actor, reason=refund.reason)
    arm_refund_retry(refund.id, RETRY_AFTER)  # the safety net if the execution right after commit is lost
    actor_type, actor_id = parse_actor(actor)
    record(
        action="payments.refund",
        target_type="payments.Payment",
        target_id=payment.id,
        actor_type=actor_type,
        actor_id=actor_id,
        inputs={"amount": amount, "reason": refund.reason},
        result={"refund_id": str(refund.id)},
    )
    return refund


def execute_refund(*, refund_id: uuid.UUID) -> Refund:
    """Carry out a pending refund with the provider and post it. Safe to run again after any crash."""
    refund = db.session.get(Refund, refund_id, with_for_update=True, populate_existing=True)
    if refund is None:
        raise PaymentNotFound("no such refund")
    if refund.state != RefundState.PENDING:
        return refund
    payment = lock_payment(refund.payment_id)
    provider = get_provider()
    try:
        if refund.from_seller:
            _reverse_what_payable_lacks(refund, payment)
        done = provider.refund(
            intent_id=payment.provider_intent_id or "",
            amount=refund.amount,
            currency=payment.currency,
            idempotency_key=f"refund-{refund.id}",
            metadata={"payment_id": str(payment.id), "refund_id": str(refund.id)},
        )
    except ProviderError as exc:
        refund.error = f"{exc.code}: {exc}"
        if exc.retriable:
            arm_refund_retry(refund.id, RETRY_AFTER)
        else:
            payment.amount_refund_pending -= refund.amount
            payment.release_after_refund = None  # staff decide what happens to a payment whose refund failed
            move(refund, "refund", RefundState.FAILED, actor="system", reason=refund.error)
        return refund
    except _SellerFundsInTransit as exc:
        refund.error = str(exc)  # stays pending; retried once the payout settles
        arm_refund_retry(refund.id, RETRY_AFTER)
        return refund
    lines = [
        (ledger.escrow(payment.currency), -refund.from_escrow),
        (ledger.payable(payment.seller_id, payment.currency), -refund.from_seller),
        (ledger.fees(payment.currency), -refund.from_fees),
        (ledger.refunds(payment.buyer_id, payment.currency), refund.amount),
    ]
    ledger.post(kind="refund", reference=f"refund:{refund.id}", payment_id=payment.id, lines=lines)
    payment.amount_refund_pending -= refund.amount
    payment.amount_refunded += refund.amount
    refund.provider_refund_id, refund.error = done.id, None
    move(refund, "refund", RefundState.SUCCEEDED, actor="system", reason=f"provider refund {done.id}")
    full = payment.amount_refunded == payment.amount_captured
    target = P.REFUNDED if full else P.PARTIALLY_REFUNDED
    if full:
        disarm_auto_release(payment.id)
    move(payment, "payment", target, actor=refund.requested_by, reason=f"refund {refund.amount}: {refund.reason}")
    publish(
        PaymentRefunded(
            **payment_fields(payment),
            actor=refund.requested_by,
            refund_id=refund.id,
            amount=refund.amount,
            amount_refunded=payment.amount_refunded,
            full=full,
            reason=refund.reason,
        )
    )
    if payment.release_after_refund and payment.in_escrow:
        reason, payment.release_after_refund = payment.release_after_refund, None
        release(payment_id=payment.id, actor=refund.requested_by, reason=reason)
    return refund


class _SellerFundsInTransit(Exception):
    pass


def _reverse_what_payable_lacks(refund: Refund, payment: Payment) -> None:
    """Pull paid-out money back (newest transfers first) until the seller's payable covers the refund."""
    account = ledger.payable(payment.seller_id, payment.currency)
    available = ledger.posting.lock_accounts([account])[account][1]
    shortfall = refund.from_seller - available
    if shortfall <= 0:
        return
    payouts = db.session.execute(
        select(Payout)
        .where(
            Payout.seller_id == payment.seller_id,
            Payout.currency == payment.currency,
            Payout.state == PayoutState.SENT,
            Payout.reversed_amount < Payout.amount,
        )
        .order_by(Payout.sent_at.desc())
        .with_for_update()
    ).scalars()
    for payout in payouts:
        take = min(shortfall, payout.amount - payout.reversed_amount)
        reversal = get_provider().reverse_transfer(
            payout.provider_transfer_id or "", amount=take, idempotency_key=f"reversal-{refund.id}-{payout.id}"
        )
        ledger.post(
            kind="reversal",
            reference=f"reversal:{refund.id}:{payout.id}",
            payment_id=payment.id,
            payout_id=payout.id,
            memo=f"provider reversal {reversal.id} for refund {refund.id}",
            lines=[
                (ledger.paid_out(payment.seller_id, payment.currency), -take),
                (account, take),
            ],
        )
        payout.reversed_amount += take
        refund.reversed_amount += take
        shortfall -= take
        if shortfall == 0:
            return
    raise _SellerFundsInTransit(f"{shortfall} of the seller's proceeds is in transit; retry when the payout settles")


def pending_refunds(limit: int = 200) -> list[uuid.UUID]:
    query = select(Refund.id).where(Refund.state == RefundState.PENDING).order_by(Refund.created_at).limit(limit)
    return list(db.session.execute(query).scalars())
