"""Payments, their refunds, holds, seller payouts, connected accounts and transition records.

Amounts are integer minor units in the payment's ISO 4217 currency. CHECK constraints restate the
money rules the service enforces under row locks (never refund more than captured), so a bug cannot
commit what the rules forbid. The ledger tables live in :mod:`blueprints.payments.ledger.models`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, Timestamps, UUIDPk, utcnow
from blueprints.payments.ledger.models import JournalEntry, JournalLine, LedgerAccount
from blueprints.payments.states import PaymentState, PayoutState, RefundState

__all__ = [
    "Hold",
    "JournalEntry",
    "JournalLine",
    "LedgerAccount",
    "Payment",
    "Payout",
    "ProviderEventRecord",
    "Refund",
    "SellerAccount",
    "Transition",
]

Money = BigInteger


def _state_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


class Payment(UUIDPk, Timestamps, Model):
    """The buyer's payment for one order (an accepted offer or a buy-now), escrowed until release."""

    __tablename__ = "payments"
    __table_args__ = (
        # One live payment per order: a failed, expired or canceled one can be tried again.
        Index(
            "uq_payments_live_order",
            "order_type",
            "order_id",
            unique=True,
            postgresql_where=text("state NOT IN ('failed', 'expired', 'canceled')"),
        ),
        Index("ix_payments_buyer", "buyer_id", "created_at"),
        Index("ix_payments_seller", "seller_id", "created_at"),
        Index("ix_payments_state_expires", "state", "expires_at"),
        Index("ix_payments_release_due", "release_due_at", postgresql_where=text("released_at IS NULL")),
        CheckConstraint("amount > 0 AND buyer_fee >= 0", name="positive_amounts"),
        CheckConstraint("amount_total = amount + buyer_fee", name="total_is_amount_plus_fee"),
        CheckConstraint("amount_captured IN (0, amount_total)", name="captured_all_or_nothing"),
        CheckConstraint("amount_refunded >= 0 AND amount_refund_pending >= 0", name="refunds_not_negative"),
        CheckConstraint("amount_refunded + amount_refund_pending <= amount_captured", name="refunds_within_captured"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="iso_currency"),
        CheckConstraint("buyer_id <> seller_id", name="buyer_is_not_seller"),
        {"schema": "payments"},
    )

    order_type: Mapped[str] = mapped_column(String(20), nullable=False)  # offer | listing (buy-now)
    order_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    listing_id: Mapped[uuid.UUID | None] = mapped_column()
    buyer_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    seller_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount: Mapped[int] = mapped_column(Money, nullable=False)  # the item price agreed
    buyer_fee: Mapped[int] = mapped_column(Money, nullable=False)  # buyer protection, on top
    amount_total: Mapped[int] = mapped_column(Money, nullable=False)  # what the buyer is charged
    platform_fee_bps: Mapped[int] = mapped_column(Integer, nullable=False)  # commission rate, fixed at creation
    amount_captured: Mapped[int] = mapped_column(Money, nullable=False, default=0, server_default="0")
    amount_refunded: Mapped[int] = mapped_column(Money, nullable=False, default=0, server_default="0")
    amount_refund_pending: Mapped[int] = mapped_column(Money, nullable=False, default=0, server_default="0")
    seller_amount: Mapped[int | None] = mapped_column(Money)  # credited to the seller at release
    platform_fee: Mapped[int | None] = mapped_column(Money)  # commission + buyer fee kept at release
    state: Mapped[str] = mapped_column(String(24), nullable=False, default=PaymentState.REQUIRES_PAYMENT)
    state_changed_at: Mapped[datetime] = _state_at()
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    provider_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    client_secret: Mapped[str | None] = mapped_column(String(255))
    declines: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    last_attempt_ref: Mapped[str | None] = mapped_column(String(255))  # counts each declined attempt once
    last_error: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    release_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the auto-release
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A dispute split: release what is left once this payment's pending refund has gone through.
    release_after_refund: Mapped[str | None] = mapped_column(String(500))

    @property
    def in_escrow(self) -> bool:
        return self.held_at is not None and self.released_at is None and self.state != PaymentState.REFUNDED

    @property
    def refundable(self) -> int:
        return self.amount_captured - self.amount_refunded - self.amount_refund_pending

    def __repr__(self) -> str:
        return f"<Payment {self.id} {self.state} {self.amount_total} {self.currency}>"


class Transition(UUIDPk, Model):
    """Append-only history of every state change of a payment, refund or payout."""

    __tablename__ = "transitions"
    __table_args__ = (
        Index("ix_transitions_subject", "subject_type", "subject_id", "occurred_at"),
        {"schema": "payments"},
    )

    subject_type: Mapped[str] = mapped_column(String(16), nullable=False)  # payment | refund | payout
    subject_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24), nullable=False)
    actor_type: Mapped[str] = mapped_column(String(16), nullable=False)  # user | staff | system
    actor_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


def _append_only(mapper, connection, target) -> None:  # type: ignore[no-untyped-def]
    raise RuntimeError("transitions are append-only")


event.listen(Transition, "before_update", _append_only)
event.listen(Transition, "before_delete", _append_only)


class Refund(UUIDPk, Timestamps, Model):
    """Money going back to the buyer; reserved on the payment before the provider is called."""

    __tablename__ = "refunds"
    __table_args__ = (
        Index("ix_refunds_payment", "payment_id", "created_at"),
        Index("ix_refunds_pending", "state", postgresql_where=text("state = 'pending'")),
        CheckConstraint("amount > 0", name="positive_amount"),
        CheckConstraint(
            "from_escrow + from_seller + from_fees = amount"
            " AND from_escrow >= 0 AND from_seller >= 0 AND from_fees >= 0",
            name="parts_sum_to_amount",
        ),
        CheckConstraint("reversed_amount BETWEEN 0 AND from_seller", name="reversal_within_seller_part"),
        {"schema": "payments"},
    )

    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.payments.id"), nullable=False)
    amount: Mapped[int] = mapped_column(Money, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # Where the money comes from: escrow (before release), or the seller's proceeds and the platform's fees.
    from_escrow: Mapped[int] = mapped_column(Money, nullable=False, default=0)
    from_seller: Mapped[int] = mapped_column(Money, nullable=False, default=0)
    from_fees: Mapped[int] = mapped_column(Money, nullable=False, default=0)
    reversed_amount: Mapped[int] = mapped_column(Money, nullable=False, default=0)  # pulled back from paid transfers
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    requested_by: Mapped[str] = mapped_column(String(80), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=RefundState.PENDING)
    state_changed_at: Mapped[datetime] = _state_at()
    provider_refund_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)


class Hold(UUIDPk, Model):
    """A freeze placed by fraud, disputes or staff on one payment or on all of a seller's payouts."""

    __tablename__ = "holds"
    __table_args__ = (
        Index("ix_holds_active_payment", "payment_id", postgresql_where=text("lifted_at IS NULL")),
        Index("ix_holds_active_seller", "seller_id", postgresql_where=text("lifted_at IS NULL")),
        CheckConstraint(
            "(scope = 'payment' AND payment_id IS NOT NULL AND seller_id IS NULL)"
            " OR (scope = 'seller' AND seller_id IS NOT NULL AND payment_id IS NULL)",
            name="scope_target",
        ),
        {"schema": "payments"},
    )

    scope: Mapped[str] = mapped_column(String(16), nullable=False)  # payment | seller
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payments.payments.id"))
    seller_id: Mapped[uuid.UUID | None] = mapped_column()
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # fraud | dispute | staff
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    placed_by: Mapped[str] = mapped_column(String(80), nullable=False)
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lifted_by: Mapped[str | None] = mapped_column(String(80))
    lift_reason: Mapped[str | None] = mapped_column(String(500))


class SellerAccount(Timestamps, Model):
    """A seller's connected account at the provider: where payouts are transferred."""

    __tablename__ = "seller_accounts"
    __table_args__ = {"schema": "payments"}

    seller_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    provider_account_id: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    payouts_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    onboarding_url: Mapped[str | None] = mapped_column(Text)


class Payout(UUIDPk, Timestamps, Model):
    """One transfer of a seller's payable balance. The row exists before the provider is called."""

    __tablename__ = "payouts"
    __table_args__ = (
        Index("ix_payouts_seller", "seller_id", "created_at"),
        Index("ix_payouts_pending", "next_attempt_at", postgresql_where=text("state = 'pending'")),
        CheckConstraint("amount > 0", name="positive_amount"),
        CheckConstraint("reversed_amount BETWEEN 0 AND amount", name="reversal_within_amount"),
        {"schema": "payments"},
    )

    seller_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount: Mapped[int] = mapped_column(Money, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=PayoutState.PENDING)
    state_changed_at: Mapped[datetime] = _state_at()
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    destination: Mapped[str] = mapped_column(String(255), nullable=False)
    generation: Mapped[int] = mapped_column(Integer, nullable=False, default=1)  # +1 per staff retry after a failure
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_transfer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    reversed_amount: Mapped[int] = mapped_column(Money, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def transfer_key(self) -> str:
        """The provider idempotency key: the same for every retry of one generation."""
        return f"payout-{self.id}-{self.generation}"


class ProviderEventRecord(Model):
    """Each provider event processed once: its id is the primary key (webhook deduplication)."""

    __tablename__ = "provider_events"
    __table_args__ = (Index("ix_provider_events_received", "received_at"), {"schema": "payments"})

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    created: Mapped[int] = mapped_column(BigInteger, nullable=False)  # the provider's timestamp
    object_id: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(200), nullable=False)  # what it did: applied, stale, unknown...
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
