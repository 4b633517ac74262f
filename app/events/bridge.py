"""Realtime bridge: a subscriber that pushes domain events to Socket.IO rooms, after they commit.

    # blueprints/offers/events.py
    realtime_bridge(
        "offers.OfferAccepted", "offers.OfferCountered",
        event="offer.updated",
        rooms=lambda e: [f"user:{e.buyer_id}", f"user:{e.seller_id}"],
        payload=lambda e: {"offer_id": str(e.aggregate_id), "state": e.state},
    )

The emit goes through the Redis message queue (``app.realtime.emit_to_room``), so it reaches the
clients of every web process, and only once the delivery has committed (``on_commit``). Realtime
pushes are at-most-once: a client that was offline catches up through REST (DESIGN.md section 5).
Every payload carries ``event_id`` so a client can ignore one it already applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from app.events.subscribers import Handler, on_commit, subscribe
from app.realtime import emit_to_room

__all__ = ["realtime_bridge"]

RoomsOf = Callable[[Any], Iterable[str]]
PayloadOf = Callable[[Any], dict[str, Any]]


def realtime_bridge(
    *types: str,
    event: str,
    rooms: RoomsOf,
    payload: PayloadOf | None = None,
    name: str | None = None,
) -> Handler:
    """Declare a subscriber emitting ``event`` to ``rooms(e)`` with ``payload(e)`` (default: the envelope)."""

    def push(domain_event: Any) -> None:
        targets = [room for room in dict.fromkeys(rooms(domain_event)) if room]
        if not targets:
            return
        body = dict(payload(domain_event)) if payload is not None else domain_event.envelope()
        body.setdefault("event_id", str(domain_event.id))

        def emit() -> None:
            for room in targets:
                emit_to_room(event, body, room)

        on_commit(emit)

    subscriber_name = name or f"realtime.{event}.{'+'.join(types)}"
    subscribe(*types, name=subscriber_name)(push)
    return push
