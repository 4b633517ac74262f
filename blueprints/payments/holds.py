"""Holds: fraud, disputes or staff freeze one payment (no release) or a seller (no payouts).

Held money never pays out: a payment on hold cannot be released; a seller on hold gets no payout;
and a payout leaves out what a seller earned from released payments that are on hold (the reserve).
"""

from __future__ import annotations

import uuid

from sqlalchemy import exists, func, select

from app.audit import record
from app.db import db, utcnow
from blueprints.payments.errors import PaymentNotFound, WrongState
from blueprints.payments.models import Hold, Payment, Refund
from blueprints.payments.states import RefundState, parse_actor
from blueprints.payments.timers import arm_auto_release, arm_payout_batch

SOURCES = frozenset({"fraud", "dispute", "staff"})


def place_hold(
    *,
    source: str,
    reason: str,
    actor: str,
    payment_id: uuid.UUID | None = None,
    seller_id: uuid.UUID | None = None,
) -> Hold:
    """Freeze a payment or a seller's payouts until :func:`lift_hold`. Several holds may stack."""
    if source not in SOURCES:
        raise WrongState(f"hold source must be one of {sorted(SOURCES)}", field="source")
    if (payment_id is None) == (seller_id is None):
        raise WrongState("a hold targets a payment or a seller", field="payment_id")
    if not reason.strip():
        raise WrongState("a hold needs a reason", field="reason")
    parse_actor(actor)
    if payment_id is not None and db.session.get(Payment, payment_id) is None:
        raise PaymentNotFound("no such payment")
    hold = Hold(
        id=uuid.uuid4(),
        scope="payment" if payment_id else "seller",
        payment_id=payment_id,
        seller_id=seller_id,
        source=source,
        reason=reason.strip()[:500],
        placed_by=actor,
        placed_at=utcnow(),
    )
    db.session.add(hold)
    _audit("payments.place_hold", hold, actor, {"source": source, "reason": hold.reason})
    return hold


def lift_hold(*, hold_id: uuid.UUID, actor: str, reason: str) -> Hold:
    hold = db.session.get(Hold, hold_id, with_for_update=True)
    if hold is None:
        raise PaymentNotFound("no such hold")
    if hold.lifted_at is not None:
        raise WrongState("this hold is already lifted")
    parse_actor(actor)
    hold.lifted_at, hold.lifted_by, hold.lift_reason = utcnow(), actor, reason.strip()[:500]
    _rearm_after_lift(hold)
    _audit("payments.lift_hold", hold, actor, {"reason": hold.lift_reason})
    return hold


def _rearm_after_lift(hold: Hold) -> None:
    """What a hold blocked may be due already: give the timers another go."""
    if hold.payment_id is not None:
        payment = db.session.get(Payment, hold.payment_id)
        if payment is not None and payment.release_due_at is not None and payment.in_escrow:
            arm_auto_release(payment.id, max(payment.release_due_at, utcnow()))
    else:
        arm_payout_batch()


def _audit(action: str, hold: Hold, actor: str, inputs: dict) -> None:  # type: ignore[type-arg]
    actor_type, actor_id = parse_actor(actor)
    target = hold.payment_id or hold.seller_id
    record(
        action=action,
        target_type="payments.Hold",
        target_id=hold.id,
        actor_type=actor_type,
        actor_id=actor_id,
        inputs={**inputs, "scope": hold.scope, "target": str(target)},
    )


def payment_on_hold(payment_id: uuid.UUID) -> bool:
    query = select(exists().where(Hold.payment_id == payment_id, Hold.lifted_at.is_(None)))
    return bool(db.session.execute(query).scalar())


def seller_on_hold(seller_id: uuid.UUID) -> bool:
    query = select(exists().where(Hold.seller_id == seller_id, Hold.lifted_at.is_(None)))
    return bool(db.session.execute(query).scalar())


def payout_reserve(seller_id: uuid.UUID, currency: str) -> int:
    """What a payout must leave in a seller's payable: earnings of released payments now on hold (net
    of refunds already taken from them), plus seller-funded refunds still pending."""
    pending = select(func.coalesce(func.sum(Refund.from_seller), 0)).where(
        Refund.state == RefundState.PENDING,
        Refund.currency == currency,
        Refund.payment_id.in_(select(Payment.id).where(Payment.seller_id == seller_id)),
    )
    return held_reserve(seller_id, currency) + int(db.session.execute(pending).scalar_one())


def held_reserve(seller_id: uuid.UUID, currency: str) -> int:
    """What a seller earned from released payments now on hold, net of refunds taken from it."""
    on_hold = select(Hold.payment_id).where(Hold.lifted_at.is_(None), Hold.payment_id.is_not(None))
    refunded = (
        select(func.coalesce(func.sum(Refund.from_seller), 0))
        .where(Refund.payment_id == Payment.id, Refund.state == RefundState.SUCCEEDED)
        .scalar_subquery()
    )
    query = select(func.coalesce(func.sum(Payment.seller_amount - refunded), 0)).where(
        Payment.seller_id == seller_id,
        Payment.currency == currency,
        Payment.released_at.is_not(None),
        Payment.id.in_(on_hold),
    )
    return max(int(db.session.execute(query).scalar_one()), 0)
