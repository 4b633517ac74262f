"""Offer tables (schema ``offers``): negotiations, their offers, the append-only timeline, policies.

A negotiation is one buyer bargaining over one listing; each offer or counter-offer is a row of
``offers`` (the newest open one is the negotiation's current offer, the ones it replaced are
``superseded``). Every state change is one row of ``offer_transitions`` (who, when, from, to, amount,
why), never updated. Listings, buyers and sellers belong to other domains: plain UUIDs, no foreign key.
State changes go through ``service.py`` (an explicit transition table).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, Timestamps, UUIDPk, utcnow

SCHEMA = "offers"


class OfferState(enum.StrEnum):
    PENDING = "pending"  # an opening offer awaiting the seller
    COUNTERED = "countered"  # a counter-offer awaiting the other party
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"  # replaced by a counter-offer
    CANCELLED = "cancelled"  # the listing went (sold, removed, another offer accepted) or staff


OPEN_STATES = frozenset({OfferState.PENDING, OfferState.COUNTERED})


class Party(enum.StrEnum):
    BUYER = "buyer"
    SELLER = "seller"

    @property
    def other(self) -> Party:
        return Party.SELLER if self is Party.BUYER else Party.BUYER


class NegotiationStatus(enum.StrEnum):
    OPEN = "open"  # its current offer awaits an answer
    ACCEPTED = "accepted"  # an offer was accepted (checkout window or paid)
    CLOSED = "closed"  # declined, withdrawn, expired or cancelled


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """A VARCHAR + CHECK enum storing the values, so SQL and JSON read the same."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class Negotiation(UUIDPk, Timestamps, Model):
    """One buyer bargaining with one seller over one listing: a chain of offers and counters."""

    __tablename__ = "negotiations"
    __table_args__ = (
        CheckConstraint("buyer_id <> seller_id", name="buyer_is_not_seller"),
        CheckConstraint("counter_rounds >= 0", name="counter_rounds_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso_4217"),
        # The anti-spam counts (open per buyer per listing, started per buyer per day) read these.
        Index("ix_negotiations_listing_buyer_status", "listing_id", "buyer_id", "status"),
        Index("ix_negotiations_buyer_created", "buyer_id", "created_at"),
        Index("ix_negotiations_seller_created", "seller_id", "created_at"),
        {"schema": SCHEMA},
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    buyer_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    seller_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[NegotiationStatus] = mapped_column(
        _enum(NegotiationStatus, "negotiation_status"), default=NegotiationStatus.OPEN, nullable=False
    )
    counter_rounds: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    current_offer_id: Mapped[uuid.UUID | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __str__(self) -> str:
        return f"Negotiation {str(self.id)[:8]} ({self.status})"


class Offer(UUIDPk, Timestamps, Model):
    """One amount proposed by one party; it awaits the other party until answered, replaced or expired."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("amount >= 1", name="amount_positive"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso_4217"),
        CheckConstraint("buyer_id <> seller_id", name="buyer_is_not_seller"),
        Index("ix_offers_negotiation_round", "negotiation_id", "round", unique=True),
        Index("ix_offers_buyer_created", "buyer_id", "created_at", "id"),
        Index("ix_offers_seller_created", "seller_id", "created_at", "id"),
        # Accepting one offer cancels the other open ones on its listing.
        Index("ix_offers_listing_open", "listing_id", postgresql_where=text("state IN ('pending', 'countered')")),
        # At most one acceptance awaiting payment per listing: the database backs the exclusivity rule.
        Index(
            "uq_offers_listing_in_checkout",
            "listing_id",
            unique=True,
            postgresql_where=text("state = 'accepted' AND paid_at IS NULL"),
        ),
        {"schema": SCHEMA},
    )

    negotiation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.negotiations.id", ondelete="CASCADE"), nullable=False
    )
    listing_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    buyer_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    seller_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    author: Mapped[Party] = mapped_column(_enum(Party, "offer_party"), nullable=False)  # who proposed it
    awaiting: Mapped[Party] = mapped_column(_enum(Party, "offer_awaiting"), nullable=False)  # who must answer
    round: Mapped[int] = mapped_column(Integer, nullable=False)  # 0 = opening offer, n = n-th counter
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)  # minor units of currency
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    message: Mapped[str] = mapped_column(String(1000), default="", nullable=False)
    state: Mapped[OfferState] = mapped_column(
        _enum(OfferState, "offer_state"), default=OfferState.PENDING, nullable=False, index=True
    )
    reason: Mapped[str] = mapped_column(Text, default="", nullable=False)  # why it ended (shown to both)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)  # answer due
    previous_offer_id: Mapped[uuid.UUID | None] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checkout_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # accepted: pay by
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # payments held the money
    payment_id: Mapped[uuid.UUID | None] = mapped_column()

    negotiation: Mapped[Negotiation] = relationship()

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.state})"


class OfferTransition(UUIDPk, Model):
    """One state change of one offer (append-only): who, when, from, to, amount and why."""

    __tablename__ = "offer_transitions"
    __table_args__ = (
        Index("ix_offer_transitions_negotiation", "negotiation_id", "occurred_at", "seq"),
        Index("ix_offer_transitions_offer", "offer_id", "occurred_at"),
        {"schema": SCHEMA},
    )

    negotiation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.negotiations.id", ondelete="CASCADE"), nullable=False
    )
    offer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.offers.id", ondelete="CASCADE"), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True, nullable=False)  # total order
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    transition: Mapped[str] = mapped_column(String(40), nullable=False)
    from_state: Mapped[str | None] = mapped_column(String(20))  # None: the offer was created
    to_state: Mapped[str] = mapped_column(String(20), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    actor_type: Mapped[str] = mapped_column(String(16), nullable=False)  # user | staff | system
    actor_id: Mapped[str | None] = mapped_column(String(64))
    party: Mapped[str | None] = mapped_column(String(10))  # buyer | seller when a party acted
    reason: Mapped[str] = mapped_column(Text, default="", nullable=False)

    negotiation: Mapped[Negotiation] = relationship()
    offer: Mapped[Offer] = relationship()

    def __str__(self) -> str:
        return f"{self.transition}: {self.from_state or '-'} -> {self.to_state}"


class OfferPolicy(UUIDPk, Timestamps, Model):
    """Negotiation rules for one listing (its seller's) or one category (staff's defaults).

    Empty fields inherit: listing -> category -> platform settings (``OFFERS_*``). Thresholds are
    absolute (minor units, listing rows only) or a share of the asking price in basis points.
    """

    __tablename__ = "policies"
    __table_args__ = (
        CheckConstraint("(listing_id IS NULL) <> (category_id IS NULL)", name="one_scope"),
        CheckConstraint("min_offer_amount IS NULL OR min_offer_amount >= 1", name="min_offer_amount_positive"),
        CheckConstraint("auto_accept_amount IS NULL OR auto_accept_amount >= 1", name="auto_accept_positive"),
        CheckConstraint("min_offer_bps IS NULL OR min_offer_bps BETWEEN 1 AND 10000", name="min_offer_bps_range"),
        CheckConstraint("auto_accept_bps IS NULL OR auto_accept_bps BETWEEN 1 AND 10000", name="auto_accept_bps_range"),
        CheckConstraint("max_counter_rounds IS NULL OR max_counter_rounds >= 0", name="max_rounds_not_negative"),
        CheckConstraint("max_open_per_buyer IS NULL OR max_open_per_buyer >= 1", name="max_open_positive"),
        CheckConstraint("max_daily_per_buyer IS NULL OR max_daily_per_buyer >= 1", name="max_daily_positive"),
        CheckConstraint("expiry_hours IS NULL OR expiry_hours BETWEEN 1 AND 720", name="expiry_hours_range"),
        Index("uq_policies_listing", "listing_id", unique=True, postgresql_where=text("listing_id IS NOT NULL")),
        Index("uq_policies_category", "category_id", unique=True, postgresql_where=text("category_id IS NOT NULL")),
        {"schema": SCHEMA},
    )

    listing_id: Mapped[uuid.UUID | None] = mapped_column()
    category_id: Mapped[uuid.UUID | None] = mapped_column()
    seller_id: Mapped[uuid.UUID | None] = mapped_column(index=True)  # the listing's seller (owner of the row)
    accepts_offers: Mapped[bool | None] = mapped_column()
    min_offer_amount: Mapped[int | None] = mapped_column(BigInteger)
    min_offer_bps: Mapped[int | None] = mapped_column(Integer)
    auto_accept_amount: Mapped[int | None] = mapped_column(BigInteger)
    auto_accept_bps: Mapped[int | None] = mapped_column(Integer)
    max_counter_rounds: Mapped[int | None] = mapped_column(Integer)
    max_open_per_buyer: Mapped[int | None] = mapped_column(Integer)
    max_daily_per_buyer: Mapped[int | None] = mapped_column(Integer)
    expiry_hours: Mapped[int | None] = mapped_column(Integer)

    def __str__(self) -> str:
        return f"Policy for {'listing' if self.listing_id else 'category'} {self.listing_id or self.category_id}"
