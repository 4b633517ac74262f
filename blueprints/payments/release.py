"""After capture: shipping and delivery set the auto-release; release pays the seller's payable minus
the commission; an unpaid payment expires when its checkout window closes. Same rules as
:mod:`blueprints.payments.escrow`: the caller's transaction, the payment row locked first.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.db import db, utcnow
from app.events import publish
from blueprints.payments import ledger
from blueprints.payments.errors import OnHold, WrongState
from blueprints.payments.escrow import lock_payment
from blueprints.payments.events import PaymentExpired, PaymentReleased, payment_fields
from blueprints.payments.fees import release_split
from blueprints.payments.holds import payment_on_hold
from blueprints.payments.models import Payment
from blueprints.payments.providers import get_provider
from blueprints.payments.providers.base import CANCELED, ProviderError
from blueprints.payments.states import PaymentState, move
from blueprints.payments.timers import arm_auto_release, arm_payout_batch, disarm_auto_release

P = PaymentState


def _inspection() -> timedelta:
    return timedelta(seconds=current_app.config["PAYMENTS_INSPECTION_SECONDS"])


def mark_shipped(*, payment_id: uuid.UUID, actor: str) -> Payment:
    """The seller shipped: the auto-release is due an inspection window later (until delivery is known)."""
    payment = lock_payment(payment_id)
    if not payment.in_escrow:
        raise WrongState(f"a {payment.state} payment has nothing in escrow to ship for")
    if payment.shipped_at is None:
        payment.shipped_at = utcnow()
        if payment.delivered_at is None:
            payment.release_due_at = payment.shipped_at + _inspection()
            arm_auto_release(payment.id, payment.release_due_at)
    return payment


def record_delivery(*, payment_id: uuid.UUID, delivered_at: datetime | None = None) -> Payment:
    """Delivery known (shipping domain): the auto-release is due an inspection window after it."""
    payment = lock_payment(payment_id)
    if payment.in_escrow:
        payment.delivered_at = delivered_at or utcnow()
        payment.release_due_at = payment.delivered_at + _inspection()
        arm_auto_release(payment.id, payment.release_due_at)
    return payment


def release(*, payment_id: uuid.UUID, actor: str, reason: str) -> Payment:
    """Escrow -> the seller's payable (minus the commission) and the platform's fees."""
    payment = lock_payment(payment_id)
    if not payment.in_escrow or payment.state not in (P.HELD, P.PARTIALLY_REFUNDED):
        raise WrongState(f"a {payment.state} payment has nothing in escrow to release")
    if payment_on_hold(payment.id):
        raise OnHold("this payment is on hold")
    if payment.amount_refund_pending:
        raise WrongState("a refund of this payment is in progress")
    split = release_split(
        amount=payment.amount,
        buyer_fee=payment.buyer_fee,
        refunded=payment.amount_refunded,
        platform_fee_bps=payment.platform_fee_bps,
    )
    ledger.post(
        kind="release",
        reference=f"release:{payment.id}",
        payment_id=payment.id,
        lines=[
            (ledger.escrow(payment.currency), -split.total),
            (ledger.payable(payment.seller_id, payment.currency), split.seller),
            (ledger.fees(payment.currency), split.platform),
        ],
    )
    payment.seller_amount, payment.platform_fee = split.seller, split.platform
    payment.released_at = utcnow()
    move(payment, "payment", P.RELEASED, actor=actor, reason=reason)
    disarm_auto_release(payment.id)
    arm_payout_batch()
    publish(
        PaymentReleased(
            **payment_fields(payment),
            actor=actor,
            seller_amount=split.seller,
            platform_fee=split.platform,
            reason=reason,
        )
    )
    return payment


def expire(*, payment_id: uuid.UUID, actor: str = "system") -> bool:
    """Close an unpaid payment whose checkout window passed; False when it was paid after all."""
    payment = lock_payment(payment_id)
    if payment.state not in (P.REQUIRES_PAYMENT, P.REQUIRES_ACTION) or utcnow() < payment.expires_at:
        return False
    try:
        intent = get_provider().cancel_intent(
            payment.provider_intent_id or "", amount=payment.amount_total, currency=payment.currency
        )
    except ProviderError as exc:
        current_app.logger.warning("payment %s: cancel refused (%s); leaving it to the webhook", payment.id, exc)
        return False
    if intent.status != CANCELED:
        return False
    move(payment, "payment", P.EXPIRED, actor=actor, reason="not paid within the checkout window")
    publish(PaymentExpired(**payment_fields(payment), actor=actor))
    return True


def due_for_release(now: datetime | None = None, limit: int = 500) -> list[uuid.UUID]:
    query = (
        select(Payment.id)
        .where(
            Payment.release_due_at <= (now or utcnow()),
            Payment.released_at.is_(None),
            Payment.state.in_([P.HELD, P.PARTIALLY_REFUNDED]),
        )
        .order_by(Payment.release_due_at)
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


def due_for_expiry(now: datetime | None = None, limit: int = 500) -> list[uuid.UUID]:
    query = (
        select(Payment.id)
        .where(Payment.state.in_([P.REQUIRES_PAYMENT, P.REQUIRES_ACTION]), Payment.expires_at <= (now or utcnow()))
        .order_by(Payment.expires_at)
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())
