"""Events the payments domain publishes (payload v1, documented by the fields) and its subscribers.

Consumers: listings mark a listing sold on PaymentHeld; offers let an acceptance lapse on
PaymentExpired or a final PaymentFailed; notifications tell buyers and sellers; disputes and fraud
watch refunds and payouts. Amounts are integer minor units of ``currency`` (ISO 4217).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class PaymentEvent(DomainEvent):
    """Fields every payment event carries: what is paid for, and by whom to whom."""

    payment_id: uuid.UUID
    order_type: str  # "offer" | "listing" (buy-now)
    order_id: uuid.UUID
    listing_id: uuid.UUID | None
    buyer_id: uuid.UUID
    seller_id: uuid.UUID
    currency: str


@dataclass(frozen=True, kw_only=True)
class PaymentHeld(PaymentEvent):
    """The buyer paid: ``amount_total`` (item ``amount`` + ``buyer_fee``) is held in platform escrow."""

    type = "payments.PaymentHeld"
    version = 1
    amount: int
    buyer_fee: int
    amount_total: int


@dataclass(frozen=True, kw_only=True)
class PaymentReleased(PaymentEvent):
    """Escrow released: ``seller_amount`` credited to the seller, ``platform_fee`` kept by the platform."""

    type = "payments.PaymentReleased"
    version = 1
    seller_amount: int
    platform_fee: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class PaymentRefunded(PaymentEvent):
    """Money went back to the buyer: ``amount`` now, ``amount_refunded`` in all; ``full`` when nothing is left."""

    type = "payments.PaymentRefunded"
    version = 1
    refund_id: uuid.UUID
    amount: int
    amount_refunded: int
    full: bool
    reason: str


@dataclass(frozen=True, kw_only=True)
class PaymentFailed(PaymentEvent):
    """A payment attempt was declined. ``final``: no more attempts are accepted (the payment failed)."""

    type = "payments.PaymentFailed"
    version = 1
    code: str
    message: str
    final: bool


@dataclass(frozen=True, kw_only=True)
class PaymentExpired(PaymentEvent):
    """The buyer did not pay within the checkout window: the order's acceptance lapses."""

    type = "payments.PaymentExpired"
    version = 1


@dataclass(frozen=True, kw_only=True)
class PayoutSent(DomainEvent):
    """A seller's payable balance left the platform as a provider transfer."""

    type = "payments.PayoutSent"
    version = 1
    payout_id: uuid.UUID
    seller_id: uuid.UUID
    amount: int
    currency: str
    provider_transfer_id: str


@dataclass(frozen=True, kw_only=True)
class PayoutFailed(DomainEvent):
    """The provider refused a payout for good; the money is back in the seller's payable balance."""

    type = "payments.PayoutFailed"
    version = 1
    payout_id: uuid.UUID
    seller_id: uuid.UUID
    amount: int
    currency: str
    error: str


def payment_fields(payment) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """The common fields of a payment event, read from a Payment row."""
    return {
        "aggregate_id": payment.id,
        "payment_id": payment.id,
        "order_type": payment.order_type,
        "order_id": payment.order_id,
        "listing_id": payment.listing_id,
        "buyer_id": payment.buyer_id,
        "seller_id": payment.seller_id,
        "currency": payment.currency,
    }
