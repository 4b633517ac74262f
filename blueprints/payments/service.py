"""The payments domain's public functions: the only module other domains call (with ``events``).

Functions are keyword-only verbs working in the caller's transaction (the caller commits), except
where documented: money that leaves through a provider is written down and committed first, then
moved (refund execution, payouts). ``actor`` is ``"user:<id>"``, ``"staff:<id>"`` or ``"system"``.

Contract for other domains:
- offers / listings: ``register_order_source("offer" | "listing", resolver)`` at start; a client then
  pays with ``POST /payments/intents {order_type, order_id}``; or call :func:`create_intent` directly.
- shipping: :func:`record_delivery` when a parcel is delivered (starts the inspection window).
- disputes: :func:`place_hold` / :func:`lift_hold`, then :func:`resolve_dispute`.
- fraud: :func:`place_hold` on a payment or a seller.
- everyone: :func:`get_payment` (a read model), events in :mod:`blueprints.payments.events`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from app.db import db
from app.events import on_commit
from blueprints.payments import escrow, holds, payouts, refunds, release
from blueprints.payments.errors import (
    InvalidAmount,
    InvalidOrder,
    OnHold,
    PaymentError,
    PaymentNotFound,
    ProviderRefused,
    ProviderUnavailable,
    WrongState,
)
from blueprints.payments.models import Hold, Payment, Payout, Refund, SellerAccount
from blueprints.payments.orders import OrderTerms, order_types, register_order_source, resolve_order
from blueprints.payments.providers import get_provider
from blueprints.payments.providers.base import InvalidWebhook, ProviderError
from blueprints.payments.providers.sandbox import SandboxProvider
from blueprints.payments.states import PaymentState
from blueprints.payments.webhooks import RetryLater, deliver_local_events, handle_event

__all__ = [
    "InvalidAmount",
    "InvalidOrder",
    "InvalidWebhook",
    "OnHold",
    "OrderTerms",
    "PaymentError",
    "PaymentNotFound",
    "PaymentState",
    "PaymentView",
    "ProviderRefused",
    "ProviderUnavailable",
    "RetryLater",
    "WrongState",
    "authenticate_payment",
    "confirm_payment",
    "confirm_received",
    "create_intent",
    "ensure_seller_account",
    "execute_refund",
    "get_payment",
    "lift_hold",
    "mark_shipped",
    "order_types",
    "pay_out_seller",
    "place_hold",
    "receive_webhook",
    "record_delivery",
    "refund_payment",
    "register_order_source",
    "release_payment",
    "resolve_dispute",
    "retry_payout",
    "seller_on_hold",
]


@dataclass(frozen=True)
class PaymentView:
    """What other domains may know of a payment."""

    id: uuid.UUID
    state: str
    order_type: str
    order_id: uuid.UUID
    listing_id: uuid.UUID | None
    buyer_id: uuid.UUID
    seller_id: uuid.UUID
    currency: str
    amount: int
    buyer_fee: int
    amount_total: int
    amount_refunded: int
    held_at: datetime | None
    released_at: datetime | None


def _view(payment: Payment) -> PaymentView:
    return PaymentView(
        id=payment.id,
        state=payment.state,
        order_type=payment.order_type,
        order_id=payment.order_id,
        listing_id=payment.listing_id,
        buyer_id=payment.buyer_id,
        seller_id=payment.seller_id,
        currency=payment.currency,
        amount=payment.amount,
        buyer_fee=payment.buyer_fee,
        amount_total=payment.amount_total,
        amount_refunded=payment.amount_refunded,
        held_at=payment.held_at,
        released_at=payment.released_at,
    )


def _provider_call(func, **kwargs):  # type: ignore[no-untyped-def]
    """Run a provider-calling step, feed the sandbox's events through, map provider failures."""
    try:
        result = func(**kwargs)
    except ProviderError as exc:
        if exc.retriable:
            raise ProviderUnavailable(f"the payment provider is unavailable: {exc}") from exc
        raise ProviderRefused(str(exc)) from exc
    deliver_local_events()
    return result


def get_payment(*, payment_id: uuid.UUID) -> PaymentView:
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise PaymentNotFound("no such payment")
    return _view(payment)


def create_intent(
    *,
    order_type: str,
    order_id: uuid.UUID,
    buyer_id: uuid.UUID,
    actor: str,
    idempotency_key: str | None = None,
    terms: OrderTerms | None = None,
) -> Payment:
    """Open (or return the open) payment of an order. ``terms`` come from the order's owner: passed by
    a domain that owns them, else asked of the registered order source."""
    terms = terms or resolve_order(order_type, order_id, buyer_id)
    return _provider_call(
        escrow.create_intent,
        order_type=order_type,
        order_id=order_id,
        terms=terms,
        actor=actor,
        idempotency_key=idempotency_key,
    )


def confirm_payment(*, payment_id: uuid.UUID, payment_method: str, actor: str) -> Payment:
    return _provider_call(escrow.confirm, payment_id=payment_id, payment_method=payment_method, actor=actor)


def authenticate_payment(*, payment_id: uuid.UUID, success: bool, actor: str) -> Payment:
    """Sandbox only: the buyer's answer to a 3-D Secure challenge (Stripe.js does this with Stripe)."""
    provider = get_provider()
    if not isinstance(provider, SandboxProvider):
        raise PaymentNotFound("authentication happens with the provider's own client")
    payment = escrow.lock_payment(payment_id)
    if payment.state != PaymentState.REQUIRES_ACTION:
        raise WrongState(f"a {payment.state} payment has no pending authentication")
    intent = provider.authenticate(
        payment.provider_intent_id or "",
        success=success,
        amount=payment.amount_total,
        currency=payment.currency,
        attempt_key=f"auth-{payment.id}-{uuid.uuid4().hex}",
    )
    escrow.apply_intent(payment, intent, actor=actor)
    deliver_local_events()
    return payment


def mark_shipped(*, payment_id: uuid.UUID, actor: str) -> Payment:
    return release.mark_shipped(payment_id=payment_id, actor=actor)


def record_delivery(*, payment_id: uuid.UUID, delivered_at: datetime | None = None) -> PaymentView:
    return _view(release.record_delivery(payment_id=payment_id, delivered_at=delivered_at))


def confirm_received(*, payment_id: uuid.UUID, actor: str) -> Payment:
    """The buyer got the item and is satisfied: escrow is released now."""
    return release.release(payment_id=payment_id, actor=actor, reason="the buyer confirmed receipt")


def release_payment(*, payment_id: uuid.UUID, actor: str, reason: str) -> PaymentView:
    """Staff or a dispute resolution release escrow to the seller."""
    return _view(release.release(payment_id=payment_id, actor=actor, reason=reason))


def refund_payment(*, payment_id: uuid.UUID, amount: int | None, reason: str, actor: str) -> Refund:
    """Refund ``amount`` (None: all that is left). Recorded now; carried out right after the commit."""
    refund = refunds.request_refund(payment_id=payment_id, amount=amount, reason=reason, actor=actor)
    _execute_after_commit(refund.id)
    return refund


def _execute_after_commit(refund_id: uuid.UUID) -> None:
    from app.queues import enqueue
    from blueprints.payments import tasks

    on_commit(lambda: enqueue("default", tasks.execute_refund, str(refund_id)))


def execute_refund(*, refund_id: uuid.UUID) -> Refund:
    """Carry out a pending refund now (call in a transaction of its own, after the request committed)."""
    refund = refunds.execute_refund(refund_id=refund_id)
    deliver_local_events()
    return refund


def resolve_dispute(*, payment_id: uuid.UUID, refund_amount: int, actor: str, reason: str) -> Refund | None:
    """Refund ``refund_amount`` to the buyer (0: none) and release the rest of the escrow to the seller."""
    payment = escrow.lock_payment(payment_id)
    if refund_amount == 0:
        if payment.in_escrow:
            release.release(payment_id=payment_id, actor=actor, reason=reason)
        return None
    refund = refunds.request_refund(payment_id=payment_id, amount=refund_amount, reason=reason, actor=actor)
    if payment.in_escrow and refund_amount < payment.amount_captured - payment.amount_refunded:
        payment.release_after_refund = reason
    _execute_after_commit(refund.id)
    return refund


def place_hold(
    *,
    source: str,
    reason: str,
    actor: str,
    payment_id: uuid.UUID | None = None,
    seller_id: uuid.UUID | None = None,
) -> Hold:
    return holds.place_hold(source=source, reason=reason, actor=actor, payment_id=payment_id, seller_id=seller_id)


def lift_hold(*, hold_id: uuid.UUID, actor: str, reason: str) -> Hold:
    return holds.lift_hold(hold_id=hold_id, actor=actor, reason=reason)


def seller_on_hold(*, seller_id: uuid.UUID) -> bool:
    return holds.seller_on_hold(seller_id)


def ensure_seller_account(
    *, seller_id: uuid.UUID, actor: str, email: str | None = None, country: str = "US"
) -> SellerAccount:
    return _provider_call(payouts.ensure_seller_account, seller_id=seller_id, actor=actor, email=email, country=country)


def pay_out_seller(*, seller_id: uuid.UUID, currency: str, actor: str) -> Payout | None:
    """Pay a seller's payable balance out now, as the daily batch would (demo data, operators).

    Opens the payout and commits it before the provider transfer (money that leaves is written down
    first), then sends it and commits; None when nothing is payable.
    """
    payout = _provider_call(payouts.open_payout, seller_id=seller_id, currency=currency, actor=actor)
    if payout is None:
        return None
    db.session.commit()
    payout = _provider_call(payouts.send_payout, payout_id=payout.id)
    db.session.commit()
    return payout


def retry_payout(*, payout_id: uuid.UUID, actor: str, reason: str) -> Payout:
    return payouts.retry_payout(payout_id=payout_id, actor=actor, reason=reason)


def receive_webhook(*, payload: bytes, signature: str | None) -> str:
    """Verify a provider webhook and apply it once (:class:`InvalidWebhook` when it does not verify)."""
    provider = get_provider()
    event = provider.parse_webhook(payload, signature)
    return handle_event(event, provider=provider.name)
