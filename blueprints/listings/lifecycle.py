"""The listing state machine: the transition table, and applying one transition with its record and event.

``transition`` is the only writer of ``Listing.status``: it checks the current status under a row
lock, records who, when, from, to and why in ``listing_status_changes`` and publishes the matching
event in the same transaction. The seller/staff transitions (publish, pause, remove, reinstate) are
the generated API's and admin's actions; reservations live in :mod:`blueprints.listings.service`.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from app.db import db, utcnow
from app.events import publish as publish_event
from app.generator import Actor, ServiceError
from blueprints.listings.editing import refresh_derived
from blueprints.listings.events import EVENT_OF_TRANSITION, ListingPublished, ListingSold
from blueprints.listings.models import Listing, ListingStatus, ListingStatusChange
from blueprints.listings.models.catalog import NEXT_SEARCH_CHUNK

S = ListingStatus

# transition name -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[ListingStatus], ListingStatus]] = {
    "publish": (frozenset({S.DRAFT, S.PAUSED}), S.PUBLISHED),
    "pause": (frozenset({S.PUBLISHED}), S.PAUSED),
    "reserve": (frozenset({S.PUBLISHED}), S.RESERVED),
    "release": (frozenset({S.RESERVED}), S.PUBLISHED),
    "mark_sold": (frozenset({S.RESERVED}), S.SOLD),
    # a sale of one unit out of several: the listing stays on offer
    "sell_unit": (frozenset({S.RESERVED}), S.PUBLISHED),
    "remove": (frozenset({S.DRAFT, S.PUBLISHED, S.PAUSED, S.RESERVED}), S.REMOVED),
    "reinstate": (frozenset({S.REMOVED}), S.PAUSED),
}
EVENT_OF_TRANSITION = {**EVENT_OF_TRANSITION, "sell_unit": ListingSold}


def _locked(listing_id: uuid.UUID) -> Listing:
    listing = db.session.execute(
        select(Listing).where(Listing.id == listing_id, Listing.deleted_at.is_(None)).with_for_update()
    ).scalar_one_or_none()
    if listing is None:
        raise ServiceError("No such listing.", status=404, errors={"listing_id": ["No such listing."]})
    return listing


def _actor_label(actor: Actor) -> str:
    return f"{actor.type}:{actor.id}" if actor.type != "system" else "system"


def transition(
    *,
    listing_id: uuid.UUID,
    name: str,
    actor: Actor,
    reason: str = "",
    reservation_ref: str | None = None,
) -> Listing:
    """Apply transition ``name`` (row-locked) or raise a 409 ServiceError naming the current status."""
    sources, target = TRANSITIONS[name]
    listing = _locked(listing_id)
    current = ListingStatus(listing.status)
    if current not in sources:
        allowed = ", ".join(sorted(s.value for s in sources))
        raise ServiceError(
            f"Cannot {name.replace('_', ' ')} a listing that is {current.value}.",
            status=409,
            errors={"status": [f"Is {current.value}; {name} needs one of: {allowed}."]},
        )
    listing.status = target
    now = utcnow()
    if target is S.PUBLISHED and listing.published_at is None:
        # first publication only: a chunk from now, so an old draft counts as new in sort=relevance
        # (pausing and publishing again must not lift a listing to the top)
        listing.published_at, listing.search_chunk = now, NEXT_SEARCH_CHUNK
    if target is S.RESERVED:
        listing.reservation_ref, listing.reserved_at = reservation_ref, now
    elif current is S.RESERVED:
        listing.reservation_ref, listing.reserved_at = None, None
    db.session.add(
        ListingStatusChange(
            listing_id=listing.id,
            occurred_at=now,
            transition=name,
            from_status=current.value,
            to_status=target.value,
            actor_type=actor.type,
            actor_id=actor.id,
            reason=reason,
            reservation_ref=reservation_ref,
        )
    )
    event_cls = EVENT_OF_TRANSITION[name]
    extra: dict[str, Any] = {}
    if reservation_ref is not None and "reservation_ref" in event_cls.__dataclass_fields__:
        extra["reservation_ref"] = reservation_ref
    if event_cls is ListingSold:
        extra["quantity_left"] = listing.quantity
    if event_cls is ListingPublished:
        extra.update(
            title=listing.title,
            price_amount=listing.price_amount,
            currency=listing.currency,
            category_id=listing.category_id,
        )
    publish_event(
        event_cls(
            aggregate_id=listing.id,
            actor=_actor_label(actor),
            listing_id=listing.id,
            seller_id=listing.seller_id,
            from_status=current.value,
            to_status=target.value,
            reason=reason,
            **extra,
        )
    )
    return listing


def publish(*, listing_id: uuid.UUID, actor: Actor) -> Listing:
    """Publish the listing (from draft or paused) once it is complete: photos, price, category
    attributes, condition rubric answers, description and shipping. A 422 lists everything missing.
    """
    listing = _locked(listing_id)
    if ListingStatus(listing.status) in TRANSITIONS["publish"][0]:
        refresh_derived(listing, complete=True)
    return transition(listing_id=listing_id, name="publish", actor=actor)


def pause(*, listing_id: uuid.UUID, actor: Actor) -> Listing:
    """Hide a published listing from buyers for a while (publish again to resume)."""
    return transition(listing_id=listing_id, name="pause", actor=actor)


def remove(*, listing_id: uuid.UUID, actor: Actor, reason: str) -> Listing:
    """Take the listing down (moderation or withdrawal), with the reason kept in its history."""
    return transition(listing_id=listing_id, name="remove", actor=actor, reason=reason)


def reinstate(*, listing_id: uuid.UUID, actor: Actor) -> Listing:
    """Undo a removal: the listing comes back paused, for its seller to publish again."""
    return transition(listing_id=listing_id, name="reinstate", actor=actor)


def status_history(*, listing_id: uuid.UUID) -> list[ListingStatusChange]:
    """Every recorded transition of the listing, oldest first."""
    return list(
        db.session.execute(
            select(ListingStatusChange)
            .where(ListingStatusChange.listing_id == listing_id)
            .order_by(ListingStatusChange.occurred_at)
        ).scalars()
    )
