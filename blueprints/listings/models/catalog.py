"""Catalog tables (schema ``listings``): a staff-managed category tree and the listings sellers own.

Sellers are users of the auth domain: ``seller_id`` is a plain UUID, never a foreign key across schemas.
Status changes go through ``service.py`` (an explicit transition table). ``search_vector`` is kept by
a trigger (migration ``listings_0004``): weighted title (A), brand (B) and description (C) in the
listing's own text search language. Search indexes are partial on published rows, the only rows
public search reads.
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
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, Timestamps, UUIDPk

SCHEMA = "listings"
PUBLISHED_ONLY = text("status = 'published' AND deleted_at IS NULL")
# Listings per search_chunk (see Listing.search_chunk; the migration listings_0006 uses the same number).
CHUNK_ROWS = 8192
# The next number of the chunk sequence as a chunk: the column's default at insert (as listings_0006
# wrote it), and what a listing's first publication sets again (lifecycle.transition).
NEXT_SEARCH_CHUNK = text(f"((nextval('{SCHEMA}.listings_search_chunk_seq') - 1) / {CHUNK_ROWS})::integer")
# PostgreSQL text search configurations a listing may be written in ('simple' = no stemming).
LANGUAGES = ("english", "french", "german", "spanish", "italian", "dutch", "portuguese", "simple")


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
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_together"),
        CheckConstraint("jsonb_typeof(photos) = 'array' AND jsonb_array_length(photos) <= 12", name="photos_array"),
        CheckConstraint(f"language IN ({', '.join(repr(lang) for lang in LANGUAGES)})", name="language_known"),
        # Bulk imports are idempotent per seller through the external id.
        UniqueConstraint("seller_id", "sku"),
        # Keyset pagination of the default sort (newest first) reads this index backwards.
        Index("ix_listings_created_at_id", "created_at", "id"),
        Index("ix_listings_seller_created_at", "seller_id", "created_at"),
        # Public search: partial indexes on published rows only.
        Index("ix_listings_search_vector", "search_vector", postgresql_using="gin", postgresql_where=PUBLISHED_ONLY),
        Index("ix_listings_pub_created", "created_at", "id", postgresql_where=PUBLISHED_ONLY),
        Index("ix_listings_pub_price", "price_amount", "id", postgresql_where=PUBLISHED_ONLY),
        Index("ix_listings_pub_category_created", "category_id", "created_at", "id", postgresql_where=PUBLISHED_ONLY),
        Index(
            "ix_listings_pub_attributes",
            "attributes",
            postgresql_using="gin",
            postgresql_ops={"attributes": "jsonb_path_ops"},
            postgresql_where=PUBLISHED_ONLY,
        ),
        # sort=relevance takes its title candidates here (search.relevance_window).
        Index(
            "ix_listings_pub_title_vector",
            text("ts_filter(search_vector, '{a}'::\"char\"[])"),
            postgresql_using="gin",
            postgresql_where=PUBLISHED_ONLY,
        ),
        # ... and, newest chunks first, here: title lexemes prefixed with the row's search_chunk.
        Index(
            "ix_listings_pub_title_chunks",
            text("listings.title_chunk_vector(search_vector, search_chunk)"),
            postgresql_using="gin",
            postgresql_where=PUBLISHED_ONLY,
        ),
        # Radius search: a bounding box on this GiST index, then the exact great-circle distance.
        Index(
            "ix_listings_pub_geo",
            text("point(longitude, latitude)"),
            postgresql_using="gist",
            postgresql_where=text("status = 'published' AND deleted_at IS NULL AND latitude IS NOT NULL"),
        ),
        # Nearest first: a KNN walk over unit-sphere points (search.unit_vector; extension cube).
        Index(
            "ix_listings_pub_earth",
            text(
                "listings.cube(ARRAY[cos(radians(latitude)) * cos(radians(longitude)), "
                "cos(radians(latitude)) * sin(radians(longitude)), sin(radians(latitude))])"
            ),
            postgresql_using="gist",
            postgresql_where=text("status = 'published' AND deleted_at IS NULL AND latitude IS NOT NULL"),
        ),
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
    # The seller's answers to the grade's rubric (disclosures) and the score derived from them (0-100).
    condition_answers: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}", nullable=False)
    condition_score: Mapped[int | None] = mapped_column(SmallInteger)
    # Per-category attributes (size, brand...), validated against the category's attributes_schema.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}", nullable=False)
    # Photo metadata, in display order: [{key, content_type, size_bytes, width, height}] (1-12 to publish).
    photos: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]", nullable=False)
    # [{method, price_amount, days_min, days_max}]; price in the listing's currency.
    shipping_options: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default="[]", nullable=False
    )
    location_label: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(2))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    language: Mapped[str] = mapped_column(String(20), default="english", server_default="english", nullable=False)
    # The seller's external id (bulk import idempotency); unique per seller.
    sku: Mapped[str | None] = mapped_column(String(100))
    # Bumped by every recorded edit of a listing that buyers have seen (see listing_versions).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1", nullable=False)
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
    search_vector: Mapped[Any | None] = mapped_column(TSVECTOR, deferred=True)
    # Publication order // CHUNK_ROWS, from a sequence (listings_0006): numbered at insert, numbered
    # again on first publication, so a draft published today counts as new. sort=relevance reads the
    # newest chunks' titles first. The database's own; no client or form ever sets it.
    search_chunk: Mapped[int] = mapped_column(
        Integer,
        server_default=NEXT_SEARCH_CHUNK,
        nullable=False,
        deferred=True,
        info={"machine_only": True},
    )

    category: Mapped[Category] = relationship()

    def __str__(self) -> str:
        return self.title
