"""The event bench/notifications.py publishes, routed to a real kind (imported by its worker via
EVENTS_SUBSCRIBER_MODULES). Same fan-out code as every production route: a declaration, no plumbing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from app.events import DomainEvent, subscribe
from blueprints.notifications import fanout
from blueprints.notifications.routing import Route, declare


@dataclass(frozen=True, kw_only=True)
class BenchOfferMade(DomainEvent):
    """Shaped like offers.OfferCreated."""

    type = "bench.OfferMade"
    version = 1
    offer_id: uuid.UUID
    buyer_id: uuid.UUID
    seller_id: uuid.UUID
    amount: int
    currency: str


ROUTES = declare(Route("bench.OfferMade", "offer_received", to="seller_id"))


@subscribe("bench.OfferMade", name="bench.notifications")
def notify(event: Any) -> None:
    fanout.handle(event, ROUTES[event.type])
