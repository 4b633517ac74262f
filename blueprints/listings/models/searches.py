"""Saved searches: a user's stored query, matched against newly published listings and price drops.

The criteria are columns (not an opaque blob) so that one SQL statement evaluates every saved search
against a listing (``blueprints.listings.saved_searches``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, CheckConstraint, DateTime, Float, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, Timestamps, UUIDPk
from blueprints.listings.models.catalog import LANGUAGES, SCHEMA


class SavedSearch(UUIDPk, Timestamps, Model):
    """A query a user wants to hear about: full text, category subtree, price, grades, attributes, place."""

    __tablename__ = "saved_searches"
    __table_args__ = (
        CheckConstraint("price_min IS NULL OR price_min >= 0", name="price_min_not_negative"),
        CheckConstraint("price_max IS NULL OR price_min IS NULL OR price_max >= price_min", name="price_range"),
        CheckConstraint(
            "(latitude IS NULL AND longitude IS NULL AND radius_km IS NULL) OR "
            "(latitude IS NOT NULL AND longitude IS NOT NULL AND radius_km > 0)",
            name="place_complete",
        ),
        CheckConstraint(f"language IN ({', '.join(repr(lang) for lang in LANGUAGES)})", name="language_known"),
        Index("ix_saved_searches_user", "user_id", "created_at"),
        {"schema": SCHEMA},
    )

    user_id: Mapped[uuid.UUID] = mapped_column(nullable=False)  # auth user id
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    q: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(20), default="english", server_default="english", nullable=False)
    category_id: Mapped[uuid.UUID | None] = mapped_column()  # the subtree under this category
    price_min: Mapped[int | None] = mapped_column(BigInteger)
    price_max: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    conditions: Mapped[list[str] | None] = mapped_column(ARRAY(String(20)))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}", nullable=False)
    seller_id: Mapped[uuid.UUID | None] = mapped_column()
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    radius_km: Mapped[float | None] = mapped_column(Float)
    last_matched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __str__(self) -> str:
        return self.name
