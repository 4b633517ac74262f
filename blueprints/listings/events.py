"""Events the listings domain publishes: one per status transition (payload version 1 each).

Every transition event carries the same payload: which listing, whose, from which status to which,
and why (the reason a moderator or seller gave, empty otherwise).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ListingTransitioned(DomainEvent):
    """Shared payload of the status events (abstract: declares no ``type``)."""

    listing_id: uuid.UUID
    seller_id: uuid.UUID
    from_status: str
    to_status: str
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ListingPublished(ListingTransitioned):
    """Buyers can now find the listing."""

    type = "listings.ListingPublished"
    version = 1


@dataclass(frozen=True, kw_only=True)
class ListingPaused(ListingTransitioned):
    """The seller hid a published listing for a while."""

    type = "listings.ListingPaused"
    version = 1


@dataclass(frozen=True, kw_only=True)
class ListingRemoved(ListingTransitioned):
    """The listing was taken down (by its seller or by trust and safety); ``reason`` says why."""

    type = "listings.ListingRemoved"
    version = 1


@dataclass(frozen=True, kw_only=True)
class ListingReinstated(ListingTransitioned):
    """Trust and safety undid a removal; the listing is paused until its seller publishes it."""

    type = "listings.ListingReinstated"
    version = 1


@dataclass(frozen=True, kw_only=True)
class ListingSold(ListingTransitioned):
    """The listing's last unit was sold."""

    type = "listings.ListingSold"
    version = 1


EVENT_OF_TRANSITION: dict[str, type[ListingTransitioned]] = {
    "publish": ListingPublished,
    "pause": ListingPaused,
    "remove": ListingRemoved,
    "reinstate": ListingReinstated,
    "mark_sold": ListingSold,
}
