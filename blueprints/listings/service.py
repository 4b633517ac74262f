"""The listings domain's public functions: status transitions of a listing.

Status is never written by clients: each change is one named transition of the table below, checked
against the current status, kept in ``listing_status_changes`` (who, when, from, to, why), published
as a domain event in the same transaction, and called alike from the API, the admin, jobs and other
domains.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.db import db, utcnow
from app.events import publish as publish_event
from app.generator import Actor, ServiceError
from blueprints.listings.events import EVENT_OF_TRANSITION
from blueprints.listings.models import Listing, ListingStatus, ListingStatusChange

S = ListingStatus

# transition name -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[ListingStatus], ListingStatus]] = {
    "publish": (frozenset({S.DRAFT, S.PAUSED}), S.PUBLISHED),
    "pause": (frozenset({S.PUBLISHED}), S.PAUSED),
    "remove": (frozenset({S.DRAFT, S.PUBLISHED, S.PAUSED}), S.REMOVED),
    "reinstate": (frozenset({S.REMOVED}), S.PAUSED),
    "mark_sold": (frozenset({S.PUBLISHED}), S.SOLD),
}


def _locked(listing_id: uuid.UUID) -> Listing:
    listing = db.session.execute(
        select(Listing).where(Listing.id == listing_id, Listing.deleted_at.is_(None)).with_for_update()
    ).scalar_one_or_none()
    if listing is None:
        raise ServiceError("No such listing.", status=404)
    return listing


def transition(*, listing_id: uuid.UUID, name: str, actor: Actor, reason: str = "") -> Listing:
    """Apply transition ``name`` or raise a 409 ServiceError naming the current status."""
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
    if target is S.PUBLISHED and listing.published_at is None:
        listing.published_at = utcnow()
    db.session.add(
        ListingStatusChange(
            listing_id=listing.id,
            transition=name,
            from_status=current.value,
            to_status=target.value,
            actor_type=actor.type,
            actor_id=actor.id,
            reason=reason,
        )
    )
    publish_event(
        EVENT_OF_TRANSITION[name](
            aggregate_id=listing.id,
            actor=f"{actor.type}:{actor.id}" if actor.type != "system" else "system",
            listing_id=listing.id,
            seller_id=listing.seller_id,
            from_status=current.value,
            to_status=target.value,
            reason=reason,
        )
    )
    return listing


def publish(*, listing_id: uuid.UUID, actor: Actor) -> Listing:
    """Publish the listing: buyers can find it (from draft or paused)."""
    listing = _locked(listing_id)
    if listing.quantity < 1:
        raise ServiceError(
            "A listing needs a quantity of at least 1 to be published.",
            status=422,
            errors={"quantity": ["Must be at least 1 to publish."]},
        )
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
    return list(
        db.session.execute(
            select(ListingStatusChange)
            .where(ListingStatusChange.listing_id == listing_id)
            .order_by(ListingStatusChange.occurred_at)
        ).scalars()
    )
