"""The notifications domain's public functions (API, admin, jobs and other domains call these).

Writes work in the caller's ``db.session`` and never commit (one request, one transaction); refusals
raise :class:`~app.generator.ServiceError` with per-field errors. Other domains do not call in here
to notify someone: they publish their own events, which ``events.py`` routes to notification kinds.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from app.db import db, utcnow
from app.events import on_commit, publish
from app.generator import Actor, ServiceError
from blueprints.notifications import preferences
from blueprints.notifications.catalog import EMAIL, KINDS
from blueprints.notifications.dispatch import arm, enqueue_quietly
from blueprints.notifications.events import EmailUnsubscribed
from blueprints.notifications.messages import unsubscribable
from blueprints.notifications.models import Delivery, DeliveryAttempt, Notification, PushDevice
from blueprints.notifications.states import DEAD, PENDING, SENT, allowed
from blueprints.notifications.unsubscribe import ALL, BadUnsubscribeToken, read_token

__all__ = [
    "change_preferences",
    "change_settings",
    "delivery_chart",
    "get_preferences",
    "get_settings",
    "mark_all_read",
    "mark_read",
    "register_device",
    "resend",
    "unread_count",
    "unsubscribe",
]

PLATFORMS = ("android", "ios", "web")

# --- the bell -----------------------------------------------------------------------------------


def unread_count(*, user_id: uuid.UUID) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.in_app.is_(True), Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(*, notification_id: uuid.UUID, user_id: uuid.UUID) -> Notification:
    """Mark one of the user's in-app notifications read (idempotent); another user's is a 404."""
    note = db.session.execute(
        select(Notification)
        .where(Notification.id == notification_id, Notification.user_id == user_id, Notification.in_app.is_(True))
        .with_for_update()
    ).scalar_one_or_none()
    if note is None:
        raise ServiceError("No such notification.", status=404)
    if note.read_at is None:
        note.read_at = utcnow()
    return note


def mark_all_read(*, user_id: uuid.UUID, up_to: datetime | None = None) -> int:
    """Mark every unread in-app notification of the user read (those created up to ``up_to`` if given)."""
    conditions = [Notification.user_id == user_id, Notification.in_app.is_(True), Notification.read_at.is_(None)]
    if up_to is not None:
        conditions.append(Notification.created_at <= up_to)
    result = db.session.execute(
        update(Notification).where(*conditions).values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


# --- preferences and settings -------------------------------------------------------------------


def get_preferences(*, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return preferences.describe(user_id)


def change_preferences(
    *, user_id: uuid.UUID, changes: Mapping[str, Mapping[str, bool]], source: str = "user"
) -> list[dict[str, Any]]:
    """Switch (kind, channel) pairs on or off; switching a mandatory one off is a 422 naming it."""
    preferences.set_preferences(user_id=user_id, changes=changes, source=source)
    return preferences.describe(user_id)


def get_settings(*, user_id: uuid.UUID) -> Any:
    return preferences.get_settings(user_id)


def change_settings(*, user_id: uuid.UUID, changes: Mapping[str, Any]) -> Any:
    return preferences.update_settings(user_id=user_id, changes=changes)


def unsubscribe(*, token: str) -> dict[str, Any]:
    """One-click unsubscribe (RFC 8058): stop the kind of email the signed token names (idempotent)."""
    try:
        user_id, kind_name = read_token(token)
    except BadUnsubscribeToken as exc:
        raise ServiceError(str(exc), status=400, errors={"token": ["Invalid or tampered token."]}) from None
    if kind_name == ALL:
        kinds = [k for k in KINDS.values() if EMAIL in k.channels and unsubscribable(k)]
    elif kind_name in KINDS and unsubscribable(KINDS[kind_name]):
        kinds = [KINDS[kind_name]]
    else:
        raise ServiceError("These emails cannot be switched off.", status=422, errors={"token": ["Mandatory email."]})
    preferences.set_preferences(user_id=user_id, changes={k.name: {EMAIL: False} for k in kinds}, source="unsubscribe")
    publish(EmailUnsubscribed(aggregate_id=user_id, user_id=user_id, kind=kind_name, actor=f"user:{user_id}"))
    return {"kind": kind_name, "kinds": [k.name for k in kinds], "unsubscribed": True}


# --- push devices -------------------------------------------------------------------------------


def register_device(*, obj: PushDevice, actor: Actor) -> None:
    """Generator create hook: a token moves to the user who registers it last (shared phones, re-logins)."""
    errors: dict[str, list[str]] = {}
    if obj.platform not in PLATFORMS:
        errors["platform"] = [f"Must be one of: {', '.join(PLATFORMS)}."]
    if not obj.token or len(obj.token) < 16:
        errors["token"] = ["Not a device token."]
    if errors:
        raise ServiceError("Invalid push device.", status=422, errors=errors)
    db.session.execute(
        PushDevice.__table__.delete().where(PushDevice.token == obj.token)
    )  # the previous owner no longer gets this device's pushes


# --- staff --------------------------------------------------------------------------------------


def resend(*, delivery_id: uuid.UUID, actor: Actor) -> Delivery:
    """Send a delivery again now (staff): a new Message-ID, a new attempt, logged with who asked."""
    delivery = db.session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise ServiceError("No such delivery.", status=404)
    if not allowed(delivery.status, PENDING):
        raise ServiceError(
            f"A {delivery.status} delivery is still on its way; wait for its outcome.",
            status=409,
            errors={"status": [f"Resend needs sent, dead, skipped or retrying; it is {delivery.status}."]},
        )
    kind = KINDS.get(delivery.kind)
    note = db.session.get(Notification, delivery.notification_id)
    if kind is not None and note is not None and any(f not in note.data for f in kind.secret_fields):
        raise ServiceError(
            "This email carried a single-use link that is gone; the user must ask for a new one.",
            status=409,
            errors={"kind": [f"{kind.name} cannot be resent."]},
        )
    actor_text = f"{actor.type}:{actor.id}" if actor.id else actor.type
    db.session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            user_id=delivery.user_id,
            kind=delivery.kind,
            channel=delivery.channel,
            attempt=delivery.attempts,
            status="resend",
            error=f"resend requested (was {delivery.status})",
            actor=actor_text[:80],
        )
    )
    batch_id = uuid.uuid4()
    now = utcnow()
    delivery.status, delivery.batch_id, delivery.not_before = PENDING, batch_id, None
    delivery.resends += 1
    delivery.claim_token = delivery.lease_until = None
    delivery.updated_at = now
    arm(batch_id, now + timedelta(seconds=current_app.config["NOTIFICATIONS_LEASE_SECONDS"]), "created")
    on_commit(lambda: enqueue_quietly(batch_id))
    return delivery


def delivery_chart(*, days: int = 14) -> dict[str, list[tuple[str, int, int]]]:
    """Per channel, per UTC day of the last ``days``: (day, sent, failed) from the delivery log."""
    since = (utcnow() - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    day = func.date_trunc("day", func.timezone("UTC", DeliveryAttempt.created_at))
    rows = db.session.execute(
        select(
            DeliveryAttempt.channel,
            day.label("day"),
            func.count().filter(DeliveryAttempt.status == SENT).label("sent"),
            func.count().filter(DeliveryAttempt.status.in_(("failed", "rejected", DEAD))).label("failed"),
        )
        .where(DeliveryAttempt.created_at >= since)
        .group_by(DeliveryAttempt.channel, day)
        .order_by(DeliveryAttempt.channel, day)
    ).all()
    chart: dict[str, list[tuple[str, int, int]]] = {}
    for row in rows:
        chart.setdefault(row.channel, []).append((f"{row.day:%Y-%m-%d}", int(row.sent), int(row.failed)))
    return chart


def delivery_counts() -> dict[str, int]:
    """Deliveries per status (the admin header): what is waiting, retrying, dead."""
    rows = db.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
    return {status: int(count) for status, count in rows}
