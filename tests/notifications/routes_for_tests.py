"""Test-only events routed to real kinds, for producers that do not exist yet (messaging, offers).

It also shows what adding a notification takes: an event, a ``Route`` and the shared fan-out.
Importable by worker subprocesses through ``EVENTS_SUBSCRIBER_MODULES``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from app.events import DomainEvent, subscribe
from blueprints.notifications import fanout
from blueprints.notifications.routing import Route, declare, others


@dataclass(frozen=True, kw_only=True)
class MessagePosted(DomainEvent):
    type = "notif_tests.MessagePosted"
    version = 1
    thread_id: uuid.UUID
    sender_id: uuid.UUID
    recipient_ids: list[uuid.UUID]
    preview: str


@dataclass(frozen=True, kw_only=True)
class OfferMade(DomainEvent):
    type = "notif_tests.OfferMade"
    version = 1
    offer_id: uuid.UUID
    buyer_id: uuid.UUID
    seller_id: uuid.UUID
    amount: int
    currency: str


@dataclass(frozen=True, kw_only=True)
class PaymentSecured(DomainEvent):
    """Like payments.PaymentHeld (a mandatory kind), without depending on the payments domain."""

    type = "notif_tests.PaymentSecured"
    version = 1
    order_id: uuid.UUID
    buyer_id: uuid.UUID
    seller_id: uuid.UUID
    amount: int
    currency: str


ROUTES = declare(
    Route("notif_tests.MessagePosted", "new_message", to=others("recipient_ids"), digest_by="thread_id"),
    Route("notif_tests.OfferMade", "offer_received", to="seller_id"),
    Route("notif_tests.PaymentSecured", "payment_held", to="seller_id", extra={"role": "seller"}),
)


@subscribe(*sorted(ROUTES), name="tests.notifications.fanout")
def notify_for_tests(event: Any) -> None:
    fanout.handle(event, ROUTES[event.type])
