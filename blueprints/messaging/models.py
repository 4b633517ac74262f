"""Conversation tables (schema ``messaging``): threads, their messages, attachments, blocks, staff access.

Users and listings belong to other domains: ``buyer_id``, ``seller_id``, ``listing_id`` are plain UUIDs,
never foreign keys across schemas. A thread numbers its messages 1, 2, 3... (``seq``) under the thread's
row lock, so within a thread the order of ``seq`` is the commit order: a client catching up with
``after=<seq>`` can never miss a message that committed late. Per-participant state (read marker,
archive) lives on the thread row, one column per side: unread = ``last_seq - <side>_read_seq`` because
sending a message also moves the sender's own read marker.
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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, Timestamps, UUIDPk, utcnow

SCHEMA = "messaging"
MAX_BODY_CHARS = 4000


class MessageKind(enum.StrEnum):
    TEXT = "text"  # written by a participant
    SYSTEM = "system"  # written by the platform for another domain ("offer accepted")


class CaseType(enum.StrEnum):
    DISPUTE = "dispute"
    FRAUD_REVIEW = "fraud_review"


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


class Thread(UUIDPk, Timestamps, Model):
    """One conversation per (listing, buyer); its participants are the buyer and the listing's seller."""

    __tablename__ = "threads"
    __table_args__ = (
        UniqueConstraint("listing_id", "buyer_id"),
        CheckConstraint("buyer_id <> seller_id", name="buyer_is_not_seller"),
        CheckConstraint("buyer_read_seq <= last_seq AND seller_read_seq <= last_seq", name="read_within_thread"),
        # Inbox of either side, most recent activity first (keyset pagination reads them backwards).
        Index("ix_threads_buyer_activity", "buyer_id", "last_activity_at", "id"),
        Index("ix_threads_seller_activity", "seller_id", "last_activity_at", "id"),
        {"schema": SCHEMA},
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(nullable=False)  # first column of the unique key
    buyer_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    seller_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", nullable=False)
    last_activity_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    buyer_read_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", nullable=False)
    seller_read_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", nullable=False)
    buyer_archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seller_archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __str__(self) -> str:
        return f"Thread {self.id}"


class Message(UUIDPk, Model):
    """A message of a thread: a participant's text or a system note; never edited, never rendered as HTML."""

    __tablename__ = "messages"
    __table_args__ = (
        # History pages (before/after) and catch-up read this index.
        UniqueConstraint("thread_id", "seq"),
        # A resend with the same client_id never duplicates; system messages (no sender) use a key.
        UniqueConstraint("thread_id", "sender_id", "client_id", postgresql_nulls_not_distinct=True),
        CheckConstraint(f"char_length(body) <= {MAX_BODY_CHARS}", name="body_length"),
        CheckConstraint("(kind = 'system') = (sender_id IS NULL)", name="system_has_no_sender"),
        {"schema": SCHEMA},
    )

    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.threads.id", ondelete="CASCADE"), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    kind: Mapped[MessageKind] = mapped_column(_enum(MessageKind, "message_kind"), nullable=False)
    sender_id: Mapped[uuid.UUID | None] = mapped_column()
    client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    body: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # System messages: what happened, for clients to render in their own words ("offer.accepted").
    system_code: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}", nullable=False)
    # Off-platform contact signals found by the detector (for fraud review; never shown to clients).
    flags: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]", nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


class Attachment(UUIDPk, Model):
    """A file a participant uploads (through a pre-signed URL) and then sends with a message."""

    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("checksum ~ '^[0-9a-f]{64}$'", name="checksum_sha256_hex"),
        Index("ix_attachments_message", "message_id"),
        Index("ix_attachments_thread_uploader", "thread_id", "uploader_id"),
        {"schema": SCHEMA},
    )

    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.threads.id", ondelete="CASCADE"), nullable=False)
    uploader_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(f"{SCHEMA}.messages.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)  # SHA-256, hex
    storage_key: Mapped[str] = mapped_column(String(300), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


class Block(UUIDPk, Model):
    """``blocker_id`` refuses messages from ``blocked_id`` (and stops writing to them)."""

    __tablename__ = "blocks"
    __table_args__ = (
        UniqueConstraint("blocker_id", "blocked_id"),
        CheckConstraint("blocker_id <> blocked_id", name="not_self"),
        Index("ix_blocks_blocked", "blocked_id"),
        {"schema": SCHEMA},
    )

    blocker_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    blocked_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


class StaffAccessGrant(UUIDPk, Model):
    """A dispute or fraud review that references a thread: while open, staff may read its messages.

    Created by the domain owning the case (``service.grant_staff_access``), which vouches that the case
    exists; every read under it is audited with this grant's reference.
    """

    __tablename__ = "staff_access_grants"
    __table_args__ = (
        UniqueConstraint("thread_id", "case_type", "case_id"),
        Index("ix_staff_access_grants_case", "case_type", "case_id"),
        {"schema": SCHEMA},
    )

    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.threads.id", ondelete="CASCADE"), nullable=False)
    case_type: Mapped[CaseType] = mapped_column(_enum(CaseType, "case_type"), nullable=False)
    case_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    granted_by: Mapped[str] = mapped_column(String(80), nullable=False)  # "system", "staff:<id>"...
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
