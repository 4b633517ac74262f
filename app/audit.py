"""Append-only audit log (schema ``platform``): who did what to which object, with which inputs.

Written by generated actions, staff moderation and any service that must leave a trail, in the
caller's transaction, so an action and its record commit or roll back together.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import g, has_request_context
from sqlalchemy import DateTime, Index, String, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, UUIDPk, db, utcnow


class AuditRecord(UUIDPk, Model):
    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_records_target", "target_type", "target_id", "occurred_at"),
        Index("ix_audit_records_actor", "actor_type", "actor_id", "occurred_at"),
        {"schema": "platform"},
    )

    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    actor_type: Mapped[str] = mapped_column(String(16), nullable=False)  # user | staff | system
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(100), nullable=False, index=True)  # e.g. offers.accept
    target_type: Mapped[str] = mapped_column(String(100), nullable=False)  # e.g. offers.Offer
    target_id: Mapped[str | None] = mapped_column(String(64))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, nullable=False)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), default="ok", nullable=False)  # ok | denied | failed
    request_id: Mapped[str | None] = mapped_column(String(128))

    def __repr__(self) -> str:
        return f"<AuditRecord {self.action} {self.target_type}:{self.target_id} by {self.actor_type}:{self.actor_id}>"


@event.listens_for(AuditRecord, "before_update")
def _refuse_update(mapper, connection, target) -> None:  # type: ignore[no-untyped-def]
    raise RuntimeError("audit records are append-only")


@event.listens_for(AuditRecord, "before_delete")
def _refuse_delete(mapper, connection, target) -> None:  # type: ignore[no-untyped-def]
    raise RuntimeError("audit records are append-only")


def record(
    *,
    action: str,
    target_type: str,
    target_id: uuid.UUID | str | None,
    actor_type: str,
    actor_id: uuid.UUID | str | None,
    inputs: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
    outcome: str = "ok",
) -> AuditRecord:
    """Add an audit record to the current session (committed with the caller's transaction)."""
    entry = AuditRecord(
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        actor_type=actor_type,
        actor_id=str(actor_id) if actor_id is not None else None,
        inputs=inputs or {},
        result=result or {},
        outcome=outcome,
        request_id=getattr(g, "request_id", None) if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
