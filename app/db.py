"""Model base and column helpers shared by every domain.

Domains subclass :class:`Model` and always set ``__table_args__ = {"schema": "<domain>"}``.
Ids are UUIDs and timestamps are timezone-aware UTC, as DESIGN.md §4 requires.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, func
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model, db

__all__ = ["Model", "Timestamps", "UUIDPk", "db", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UUIDPk:
    """A UUID primary key generated client-side, so ids exist before the INSERT (events, Location)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4, sort_order=-100)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), nullable=False, sort_order=90
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        default=utcnow,
        onupdate=utcnow,
        server_default=func.now(),
        nullable=False,
        sort_order=91,
    )
