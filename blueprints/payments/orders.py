"""Order sources: how payments learns what an order costs without importing the domain that owns it.

The offers domain registers ``"offer"`` (an accepted offer) and listings ``"listing"`` (buy-now) at
start, through :func:`blueprints.payments.service.register_order_source`. A client then pays an order
by reference only: the amount, currency and parties always come from the owner, never from the client.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from blueprints.payments.errors import InvalidOrder


@dataclass(frozen=True)
class OrderTerms:
    """What the owner of an order says is to be paid, by whom, to whom."""

    buyer_id: uuid.UUID
    seller_id: uuid.UUID
    amount: int  # item price, minor units
    currency: str
    listing_id: uuid.UUID | None = None


# resolver(order_id, buyer_id) -> terms, or raise blueprints.payments.errors.InvalidOrder (or return None)
OrderResolver = Callable[[uuid.UUID, uuid.UUID], OrderTerms | None]
_SOURCES: dict[str, OrderResolver] = {}


def register_order_source(order_type: str, resolver: OrderResolver) -> None:
    if not order_type.isidentifier() or len(order_type) > 20:
        raise ValueError(f"bad order type {order_type!r}")
    _SOURCES[order_type] = resolver


def order_types() -> list[str]:
    return sorted(_SOURCES)


def resolve_order(order_type: str, order_id: uuid.UUID, buyer_id: uuid.UUID) -> OrderTerms:
    """The payable terms of an order for this buyer; :class:`InvalidOrder` when it cannot be paid."""
    resolver = _SOURCES.get(order_type)
    if resolver is None:
        raise InvalidOrder(f"unknown order type {order_type!r}", field="order_type")
    terms = resolver(order_id, buyer_id)
    if terms is None or terms.buyer_id != buyer_id:
        raise InvalidOrder("no payable order with this id for you")
    return terms
