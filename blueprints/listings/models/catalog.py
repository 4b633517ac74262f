"""Catalog tables (schema ``listings``): a staff-managed category tree and the listings sellers own.

Sellers are users of the auth domain: ``seller_id`` is a plain UUID, never a foreign key across schemas.
Status changes go through ``service.py`` (an explicit transition table), each one kept in
``listing_status_changes`` with who, when, from, to and why.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, Timestamps, UUIDPk, utcnow

SCHEMA = "listings"


class ListingStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RESERVED = "reserved"
    PAUSED = "paused"
    SOLD = "sold"
    REMOVED = "removed"


class ListingCondition(enum.StrEnum):
    """Condition grades, best first; each has a staff-edited rubric (``condition_rubrics``)."""

    NEW_WITH_TAGS = "new_with_tags"
    NEW_WITHOUT_TAGS = "new_without_tags"
    LIKE_NEW = "like_new"
    GOOD = "good"
    FAIR = "fair"
    FOR_PARTS = "for_parts"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """A VARCHAR + CHECK enum storing the values (not the names), so SQL and JSON read the same."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class Category(UUIDPk, Timestamps, Model):
    """A node of the category tree; ``attributes_schema`` is the JSON Schema of its listings' attributes."""

    __tablename__ = "categories"
    __table_args__ = (
        UniqueConstraint("slug"),
        CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name="slug_format"),
        {"schema": SCHEMA},
    )

    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey(f"{SCHEMA}.categories.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    slug: Mapped[str] = mapped_column(String(120), nullable=False)
    attributes_schema: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}", nullable=False)

    parent: Mapped[Category | None] = relationship(remote_side="Category.id")

    def __str__(self) -> str:
        return self.name


class Listing(UUIDPk, Timestamps, Model):
    """Something a seller offers; clients edit the content, the service owns ``status``."""

    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("price_amount >= 0", name="price_amount_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso_4217"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        # Keyset pagination of the default sort (newest first) reads this index backwards.
        Index("ix_listings_created_at_id", "created_at", "id"),
        Index("ix_listings_seller_created_at", "seller_id", "created_at"),
        {"schema": SCHEMA},
    )

    seller_id: Mapped[uuid.UUID] = mapped_column(nullable=False)  # auth user id: no cross-schema FK
    category_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.categories.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    title: Mapped[str] = mapped_column(String(140), nullable=False)
    description: Mapped[str] = mapped_column(String(5000), default="", server_default="", nullable=False)
    price_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)  # minor units
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, default=1, server_default="1", nullable=False)
    condition: Mapped[ListingCondition] = mapped_column(_enum(ListingCondition, "listing_condition"), nullable=False)
    status: Mapped[ListingStatus] = mapped_column(
        _enum(ListingStatus, "listing_status"),
        default=ListingStatus.DRAFT,
        server_default=ListingStatus.DRAFT.value,
        nullable=False,
        index=True,
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The hold another domain (offers) placed with ``service.reserve``; cleared on release.
    reservation_ref: Mapped[str | None] = mapped_column(String(100))
    reserved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    category: Mapped[Category] = relationship()

    def __str__(self) -> str:
        return self.title


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
