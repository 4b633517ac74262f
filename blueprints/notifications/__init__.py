"""Push, email, SMS and in-app notifications with preferences and delivery logs.

The main consumer of the event bus: ``events.py`` routes other domains' events to notification
kinds (``catalog.py``); in-app rows are written with the event, provider channels are sent in
batches by RQ jobs (``sender.py``) through adapters chosen by settings (``providers/``).

Generated here (one declaration each): the user's notifications (``GET /notifications``, only
their own), push devices (``/notifications/devices``), and for staff the deliveries with a resend
action, the delivery log and stored preferences. Hand-written: ``api.py`` (bell, preferences,
settings, unsubscribe) and ``admin.py`` (delivery chart, template previews).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.domain import Domain
from app.generator import OWNER, STAFF, Action, AdminOptions, Policy, Resource
from blueprints.notifications import service
from blueprints.notifications.models import Delivery, DeliveryAttempt, Notification, Preference, PushDevice

if TYPE_CHECKING:
    from flask import Flask
    from flask_appbuilder import AppBuilder

RECIPIENT = OWNER("user_id")

notifications = Resource(
    Notification,
    path="",
    description="Your in-app notifications, newest first (filter read_at[is_null]=true for unread ones).",
    policy=Policy(read=RECIPIENT.where(in_app=True), hidden=("data", "in_app", "event_id")),
    filters={"kind": ("eq", "in"), "read_at": ("is_null", "gte"), "created_at": ("gte", "lt")},
    sort=("created_at",),
    default_sort="-created_at",
    max_limit=100,
    admin=AdminOptions(
        list_columns=("created_at", "kind", "user_id", "title", "read_at"),
        search_columns=("kind", "user_id", "event_type"),
        label="Notifications",
    ),
)

devices = Resource(
    PushDevice,
    path="/devices",
    description="Devices your push notifications go to (a token moves to the last user who registers it).",
    policy=Policy(read=RECIPIENT, create=RECIPIENT, delete=RECIPIENT, write_once=("token", "platform")),
    on_create=service.register_device,
    sort=("created_at",),
    default_sort="-created_at",
    admin=AdminOptions(list_columns=("created_at", "user_id", "platform", "label"), search_columns=("user_id",)),
)

deliveries = Resource(
    Delivery,
    path="/deliveries",
    description="Staff: every notification on every provider channel, its status and last error.",
    policy=Policy(read=STAFF, hidden=("claim_token",)),
    filters={
        "status": ("eq", "in"),
        "channel": ("eq", "in"),
        "kind": ("eq", "in"),
        "user_id": ("eq",),
        "created_at": ("gte", "lt"),
    },
    sort=("created_at", "updated_at"),
    default_sort="-created_at",
    actions=[Action(service.resend, allow=STAFF, confirm="Send the selected notifications again now?")],
    admin=AdminOptions(
        list_columns=("created_at", "kind", "channel", "status", "attempts", "user_id", "address", "last_error"),
        search_columns=("status", "channel", "kind", "user_id", "address", "provider_message_id", "event_id"),
        show_columns=(
            "id", "created_at", "updated_at", "kind", "channel", "status", "attempts", "user_id", "event_id",
            "notification_id", "batch_id", "not_before", "lease_until", "digest_key", "digest_of", "address",
            "provider", "provider_message_id", "resends", "last_error", "sent_at",
        ),
        related=(DeliveryAttempt,),
        label="Deliveries",
    ),
)  # fmt: skip

delivery_log = Resource(
    DeliveryAttempt,
    path="/delivery-attempts",
    description="Staff: the delivery log, one row per provider call or staff resend.",
    policy=Policy(read=STAFF),
    filters={
        "status": ("eq", "in"),
        "channel": ("eq", "in"),
        "kind": ("eq", "in"),
        "user_id": ("eq",),
        "provider_message_id": ("eq",),
        "delivery_id": ("eq",),
        "created_at": ("gte", "lt"),
    },
    sort=("created_at",),
    default_sort="-created_at",
    admin=AdminOptions(
        list_columns=(
            "created_at",
            "channel",
            "kind",
            "status",
            "provider",
            "provider_message_id",
            "latency_ms",
            "error",
        ),
        search_columns=("channel", "status", "kind", "provider", "provider_message_id", "user_id", "actor"),
        label="Delivery log",
    ),
)

stored_preferences = Resource(
    Preference,
    path="/stored-preferences",
    description="Staff: preferences users changed (the rest are the catalog's defaults).",
    policy=Policy(read=STAFF),
    filters={"user_id": ("eq",), "kind": ("eq",), "channel": ("eq",), "source": ("eq",)},
    sort=("updated_at",),
    default_sort="-updated_at",
    admin=AdminOptions(
        list_columns=("updated_at", "user_id", "kind", "channel", "enabled", "source"),
        search_columns=("user_id", "kind", "channel", "source"),
        label="Preferences",
    ),
)


def _admin(appbuilder: AppBuilder) -> None:
    from blueprints.notifications.admin import register_admin

    register_admin(appbuilder)


def _setup(app: Flask) -> None:
    """Socket presence (``presence.ping``) decides whether chatty kinds are emailed."""
    from blueprints.notifications.presence import register_socket_handlers

    register_socket_handlers(app)


def _blueprints() -> list:  # type: ignore[type-arg]
    from blueprints.notifications import api

    return [api.blp]


domain = Domain(
    name="notifications",
    prefix="/notifications",
    description="Push, email, SMS and in-app notifications with preferences and delivery logs.",
    resources=[notifications, devices, deliveries, delivery_log, stored_preferences],
    blueprints=_blueprints(),
    admin=_admin,
    setup=_setup,
)
