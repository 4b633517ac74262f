"""Notifications, their per-channel deliveries, the delivery log, preferences and push devices.

A :class:`Notification` is what one event means to one person (one per event and user); each channel
it goes out on is a :class:`Delivery`, unique per (event, user, channel) so a redelivered event can
never notify twice. Every provider call is a :class:`DeliveryAttempt` (the searchable delivery log).
Preferences store only what a user changed: the catalog's defaults fill the rest.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, Timestamps, UUIDPk, utcnow

SCHEMA = "notifications"


class Notification(UUIDPk, Model):
    """What one event means to one user; listed in the app when ``in_app`` (the bell)."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_notifications_event_user"),
        Index("ix_notifications_user_created", "user_id", "created_at", postgresql_where=text("in_app")),
        Index("ix_notifications_unread", "user_id", postgresql_where=text("in_app AND read_at IS NULL")),
        {"schema": SCHEMA},
    )

    user_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    event_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    link: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    in_app: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # The template context (event payload + names); secret fields are scrubbed once delivered.
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)

    def __repr__(self) -> str:
        return f"<Notification {self.kind} to {self.user_id}>"


class Delivery(UUIDPk, Timestamps, Model):
    """One notification on one provider channel (email, push, SMS); its state machine is in ``states.py``."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", "channel", name="uq_deliveries_dedup"),
        Index(
            "ix_deliveries_batch_open",
            "batch_id",
            postgresql_where=text("status IN ('pending','retrying','claimed','sending')"),
        ),
        Index(
            "ix_deliveries_digest_open",
            "user_id",
            "digest_key",
            postgresql_where=text("status = 'pending' AND digest_key IS NOT NULL"),
        ),
        Index("ix_deliveries_status_updated", "status", "updated_at"),
        Index("ix_deliveries_notification", "notification_id"),
        {"schema": SCHEMA},
    )

    notification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.notifications.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    event_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Sends are grouped in batches (one job, one provider connection); a batch has a recovery timer.
    batch_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claim_token: Mapped[uuid.UUID | None] = mapped_column()
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    digest_key: Mapped[str | None] = mapped_column(String(120))
    digest_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(f"{SCHEMA}.deliveries.id", ondelete="SET NULL"))
    # Where it went: an email address (auth mail names it in the event), a phone number, device tokens.
    address: Mapped[str | None] = mapped_column(String(320))
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    resends: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<Delivery {self.kind}/{self.channel} to {self.user_id}: {self.status}>"

    def __str__(self) -> str:
        return f"{self.kind} by {self.channel} ({self.status})"


class DeliveryAttempt(UUIDPk, Model):
    """One provider call (or a staff resend): the delivery log, searchable in the admin."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (
        Index("ix_delivery_attempts_created", "created_at"),
        Index("ix_delivery_attempts_delivery", "delivery_id"),
        Index("ix_delivery_attempts_provider_id", "provider_message_id"),
        Index("ix_delivery_attempts_user", "user_id", "created_at"),
        {"schema": SCHEMA},
    )

    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.deliveries.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    # sent | failed (will retry) | dead (gave up) | rejected (provider refused for good) | resend (staff)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(80), nullable=False, default="worker")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    # For the admin: a delivery's show page lists its attempts through this relationship.
    delivery: Mapped[Delivery] = relationship(Delivery, lazy="select")

    def __repr__(self) -> str:
        return f"<DeliveryAttempt {self.channel} #{self.attempt} {self.status}>"


class Preference(UUIDPk, Model):
    """A user's choice for one (kind, channel); absent = the catalog's default."""

    __tablename__ = "preferences"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "channel", name="uq_preferences_user_kind_channel"),
        {"schema": SCHEMA},
    )

    user_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # Who changed it last: "user", "unsubscribe" (one-click link) or "staff:<id>".
    source: Mapped[str] = mapped_column(String(40), nullable=False, default="user")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False
    )


class NotificationSettings(Timestamps, Model):
    """Per-user delivery settings: language, time zone, quiet hours for push/SMS, SMS number."""

    __tablename__ = "settings"
    __table_args__ = {"schema": SCHEMA}

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    locale: Mapped[str] = mapped_column(String(20), nullable=False, default="en")
    time_zone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    sms_number: Mapped[str | None] = mapped_column(String(20))


class PushDevice(UUIDPk, Timestamps, Model):
    """A device token push notifications go to; a token belongs to the last user who registered it."""

    __tablename__ = "push_devices"
    __table_args__ = (
        UniqueConstraint("token", name="uq_push_devices_token"),
        Index("ix_push_devices_user", "user_id"),
        {"schema": SCHEMA},
    )

    user_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    token: Mapped[str] = mapped_column(String(512), nullable=False)
    platform: Mapped[str] = mapped_column(String(10), nullable=False)
    label: Mapped[str] = mapped_column(String(100), nullable=False, default="")

    def __str__(self) -> str:
        return f"{self.platform} {self.label or self.token[:12]}"
