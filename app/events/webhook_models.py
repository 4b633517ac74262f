"""Tables of integrator webhooks (schema ``platform``): endpoints, deliveries, and every attempt."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, Timestamps, UUIDPk, utcnow

__all__ = ["WebhookAttempt", "WebhookDelivery", "WebhookEndpoint"]

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


class WebhookEndpoint(UUIDPk, Timestamps, Model):
    """An integrator's URL and the event types it wants ("*", "offers.*" or exact types)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_owner", "owner_id", "created_at"), {"schema": "platform"})

    owner_id: Mapped[uuid.UUID | None] = mapped_column()  # the integrator (auth user id); None = staff-made
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    description: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(100)), nullable=False)
    secret: Mapped[str] = mapped_column(String(100), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    def wants(self, event_type: str) -> bool:
        return wants(self.event_types, event_type)

    @property
    def secret_hint(self) -> str:
        return f"{self.secret[:6]}...{self.secret[-4:]}"

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.url}>"

    def __str__(self) -> str:
        return self.url


def wants(event_types: list[str], event_type: str) -> bool:
    domain = event_type.split(".", 1)[0]
    return any(t in ("*", event_type, f"{domain}.*") for t in event_types)


class WebhookDelivery(UUIDPk, Model):
    """One event for one endpoint: the exact body sent on every attempt, its status and schedule."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"),
        Index("ix_webhook_deliveries_status", "status", "created_at"),
        {"schema": "platform"},
    )

    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("platform.webhook_endpoints.id", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, nullable=False)  # pending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    endpoint: Mapped[WebhookEndpoint] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<WebhookDelivery {self.event_type} {self.status}>"


class WebhookAttempt(UUIDPk, Model):
    """One POST (or a refusal to send it): outcome, HTTP status, latency and a response excerpt."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_webhook_attempts_delivery", "delivery_id", "attempted_at"),
        Index("ix_webhook_attempts_failed", "attempted_at", postgresql_where=text("outcome <> 'delivered'")),
        {"schema": "platform"},
    )

    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("platform.webhook_deliveries.id", ondelete="CASCADE"), nullable=False
    )
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)  # delivered|http_error|network_error|blocked
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    replay: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    delivery: Mapped[WebhookDelivery] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<WebhookAttempt {self.number} {self.outcome} {self.status_code}>"
