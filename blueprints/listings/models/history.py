"""Append-only history of listings: status transitions, versions of edits, and the price history.

Each row says who (actor type and id), when and what; the admin shows them as the listing's audit
trail, pricing reads the price history, and "price dropped" alerts come from it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, UUIDPk, utcnow
from blueprints.listings.models.catalog import SCHEMA, Listing


class ListingStatusChange(UUIDPk, Model):
    """One row per status transition (append-only): who, when, from, to and why."""

    __tablename__ = "listing_status_changes"
    __table_args__ = (
        Index("ix_listing_status_changes_listing", "listing_id", "occurred_at"),
        Index(
            "ix_listing_status_changes_reservation",
            "listing_id",
            "reservation_ref",
            postgresql_where=text("reservation_ref IS NOT NULL"),
        ),
        {"schema": SCHEMA},
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.listings.id", ondelete="CASCADE"), nullable=False
    )
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    transition: Mapped[str] = mapped_column(String(40), nullable=False)
    from_status: Mapped[str] = mapped_column(String(20), nullable=False)
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_type: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # reserve / release / mark_sold: the caller's reservation, which makes those calls idempotent.
    reservation_ref: Mapped[str | None] = mapped_column(String(100))

    listing: Mapped[Listing] = relationship()

    def __str__(self) -> str:
        return f"{self.from_status} -> {self.to_status}"


class ListingVersion(UUIDPk, Model):
    """One edit of a listing buyers had seen: the fields it changed, ``{field: [before, after]}``."""

    __tablename__ = "listing_versions"
    __table_args__ = (UniqueConstraint("listing_id", "version"), {"schema": SCHEMA})

    listing_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.listings.id", ondelete="CASCADE"), nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    actor_type: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)

    listing: Mapped[Listing] = relationship()

    def __str__(self) -> str:
        return f"v{self.version}"


class ListingPriceChange(UUIDPk, Model):
    """The price history: every change of a listing's price once it was published."""

    __tablename__ = "listing_price_changes"
    __table_args__ = (Index("ix_listing_price_changes_listing", "listing_id", "occurred_at"), {"schema": SCHEMA})

    listing_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.listings.id", ondelete="CASCADE"), nullable=False
    )
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    old_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    new_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    listing: Mapped[Listing] = relationship()
