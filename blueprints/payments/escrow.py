"""A payment up to escrow: the intent, its confirmation, and the capture of the funds into escrow.

What follows (shipping, release, expiry) is in :mod:`blueprints.payments.release`.

Every function works in the caller's transaction (it never commits) and locks the payment row first,
so two requests, a webhook and a timer acting on one payment are serialised by PostgreSQL. Provider
answers (a confirmation's response, a webhook, a sandbox event) all go through :func:`apply_intent`,
which moves only forward along the transition table: a late or repeated answer is a no-op.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.db import db, utcnow
from app.events import publish
from blueprints.payments import ledger
from blueprints.payments.errors import InvalidAmount, PaymentNotFound, WrongState
from blueprints.payments.events import PaymentFailed, PaymentHeld, payment_fields
from blueprints.payments.fees import fee
from blueprints.payments.models import Payment
from blueprints.payments.orders import OrderTerms
from blueprints.payments.providers import get_provider
from blueprints.payments.providers.base import (
    CANCELED,
    PROCESSING,
    REQUIRES_ACTION,
    REQUIRES_PAYMENT_METHOD,
    SUCCEEDED,
    Intent,
)
from blueprints.payments.states import UNPAID, PaymentState, move, record_creation
from blueprints.payments.timers import (
    arm_expiry,
    disarm_expiry,
)

P = PaymentState
MAX_DECLINES = 5  # declined attempts before a payment fails for good (card testing looks like this)


def lock_payment(payment_id: uuid.UUID) -> Payment:
    payment = db.session.get(Payment, payment_id, with_for_update=True, populate_existing=True)
    if payment is None:
        raise PaymentNotFound("no such payment")
    return payment


def _provider_key(buyer_id: uuid.UUID, client_key: str | None, payment_id: uuid.UUID) -> str:
    """A client's retry after a crash reuses the same provider intent; otherwise one per payment."""
    if client_key:
        return "pi-" + hashlib.sha256(f"{buyer_id}:{client_key}".encode()).hexdigest()[:40]
    return f"pi-{payment_id}"


def create_intent(
    *,
    order_type: str,
    order_id: uuid.UUID,
    terms: OrderTerms,
    actor: str,
    idempotency_key: str | None = None,
) -> Payment:
    """Open the payment of an order: amount + buyer fee, a provider intent, the checkout window.

    An unpaid payment already open for the order by the same buyer is returned as is (one order,
    one live payment: a partial unique index backs this against concurrent requests).
    """
    if not isinstance(terms.amount, int) or isinstance(terms.amount, bool) or terms.amount <= 0:
        raise InvalidAmount("the order amount must be a positive integer of minor units")
    if len(terms.currency) != 3 or not terms.currency.isupper():
        raise InvalidAmount("currency must be an ISO 4217 code", field="currency")
    if terms.buyer_id == terms.seller_id:
        raise WrongState("a seller cannot pay their own order", field="order_id")
    live = db.session.execute(
        select(Payment)
        .where(
            Payment.order_type == order_type,
            Payment.order_id == order_id,
            Payment.state.not_in([P.FAILED, P.EXPIRED, P.CANCELED]),
        )
        .with_for_update()
    ).scalar_one_or_none()
    if live is not None:
        if live.buyer_id == terms.buyer_id and live.state in UNPAID:
            return live
        raise WrongState("this order already has a payment", field="order_id")
    config = current_app.config
    buyer_fee = fee(terms.amount, config["PAYMENTS_BUYER_FEE_BPS"])
    provider = get_provider()
    now = utcnow()
    payment = Payment(
        id=uuid.uuid4(),
        order_type=order_type,
        order_id=order_id,
        listing_id=terms.listing_id,
        buyer_id=terms.buyer_id,
        seller_id=terms.seller_id,
        currency=terms.currency,
        amount=terms.amount,
        buyer_fee=buyer_fee,
        amount_total=terms.amount + buyer_fee,
        platform_fee_bps=config["PAYMENTS_PLATFORM_FEE_BPS"],
        state=P.REQUIRES_PAYMENT,
        state_changed_at=now,
        provider=provider.name,
        expires_at=now + timedelta(minutes=config["PAYMENTS_CHECKOUT_MINUTES"]),
    )
    db.session.add(payment)
    db.session.flush()  # the unique index speaks before the provider is called
    # The buyer's funding account, created now in this transaction rather than at capture.
    ledger.posting.ensure_accounts([ledger.buyer_funding(terms.buyer_id, terms.currency)])
    intent = provider.create_intent(
        amount=payment.amount_total,
        currency=payment.currency,
        idempotency_key=_provider_key(terms.buyer_id, idempotency_key, payment.id),
        metadata={"payment_id": str(payment.id), "order_type": order_type, "order_id": str(order_id)},
    )
    payment.provider_intent_id = intent.id
    payment.client_secret = intent.client_secret
    record_creation(payment, "payment", actor=actor, reason=f"checkout of {order_type} {order_id}")
    arm_expiry(payment.id, payment.expires_at)
    return payment


def confirm(*, payment_id: uuid.UUID, payment_method: str, actor: str) -> Payment:
    """Charge the buyer's payment method (server-side confirmation) and apply the provider's answer."""
    payment = lock_payment(payment_id)
    if payment.state not in (P.REQUIRES_PAYMENT, P.REQUIRES_ACTION):
        raise WrongState(f"a {payment.state} payment cannot be confirmed")
    if utcnow() >= payment.expires_at:
        raise WrongState("the checkout window has closed")
    move(payment, "payment", P.PROCESSING, actor=actor, reason="confirmed by the buyer")
    attempt = f"confirm-{payment.id}-{uuid.uuid4().hex}"  # each confirmation is a new charge attempt
    intent = get_provider().confirm_intent(
        payment.provider_intent_id or "",
        payment_method=payment_method,
        amount=payment.amount_total,
        currency=payment.currency,
        idempotency_key=attempt,
    )
    apply_intent(payment, intent, actor="system")
    return payment


def apply_intent(payment: Payment, intent: Intent, *, actor: str) -> str:
    """Move a (locked) payment forward to what the provider says; returns what was done."""
    state = payment.state
    if intent.status == SUCCEEDED:
        if state not in UNPAID:
            return f"stale: already {state}"
        if intent.amount_received != payment.amount_total:
            current_app.logger.error(
                "payment %s: provider received %s of %s", payment.id, intent.amount_received, payment.amount_total
            )
            return "amount_mismatch: left for staff"
        hold_funds(payment, actor=actor)
        return "held"
    if intent.status == REQUIRES_ACTION and state in (P.REQUIRES_PAYMENT, P.PROCESSING):
        move(payment, "payment", P.REQUIRES_ACTION, actor=actor, reason="the buyer must authenticate")
        return "requires_action"
    if intent.status == PROCESSING and state in (P.REQUIRES_PAYMENT, P.REQUIRES_ACTION):
        move(payment, "payment", P.PROCESSING, actor=actor, reason="the provider is processing")
        return "processing"
    if intent.status == REQUIRES_PAYMENT_METHOD and intent.error_code and state in UNPAID:
        return _declined(payment, intent, actor=actor)
    if intent.status == CANCELED and state in UNPAID:
        move(payment, "payment", P.CANCELED, actor=actor, reason="canceled at the provider")
        disarm_expiry(payment.id)
        return "canceled"
    return f"stale: {intent.status} while {state}"


def _declined(payment: Payment, intent: Intent, *, actor: str) -> str:
    if intent.attempt_ref and intent.attempt_ref == payment.last_attempt_ref:
        if payment.state == P.PROCESSING:  # the decline is known; only the state lagged
            move(payment, "payment", P.REQUIRES_PAYMENT, actor=actor, reason=f"declined: {intent.error_code}")
        return "duplicate decline"
    payment.declines += 1
    payment.last_attempt_ref = intent.attempt_ref
    payment.last_error = f"{intent.error_code}: {intent.error_message or ''}".strip()
    final = payment.declines >= MAX_DECLINES
    target = P.FAILED if final else P.REQUIRES_PAYMENT
    if payment.state != target:
        move(payment, "payment", target, actor=actor, reason=f"declined: {payment.last_error}")
    if final:
        disarm_expiry(payment.id)
    publish(
        PaymentFailed(
            **payment_fields(payment),
            actor=actor,
            code=intent.error_code or "declined",
            message=intent.error_message or "",
            final=final,
        )
    )
    return "failed" if final else "declined"


def hold_funds(payment: Payment, *, actor: str) -> None:
    """Captured: the whole charge goes from the buyer's funding into platform escrow."""
    ledger.post(
        kind="hold",
        reference=f"hold:{payment.id}",
        payment_id=payment.id,
        lines=[
            (ledger.buyer_funding(payment.buyer_id, payment.currency), -payment.amount_total),
            (ledger.escrow(payment.currency), payment.amount_total),
        ],
    )
    payment.amount_captured = payment.amount_total
    payment.held_at = utcnow()
    move(payment, "payment", P.HELD, actor=actor, reason="funds captured into escrow")
    disarm_expiry(payment.id)
    publish(
        PaymentHeld(
            **payment_fields(payment),
            actor=actor,
            amount=payment.amount,
            buyer_fee=payment.buyer_fee,
            amount_total=payment.amount_total,
        )
    )
