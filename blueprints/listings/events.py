"""Events the listings domain publishes (payload version 1 each).

Status events share one payload: which listing, whose, from which status to which, and why (the
reason a moderator, seller or calling domain gave; empty otherwise). Reservation events add the
caller's ``reservation_ref``. ``ListingPriceChanged`` carries the old and new price (minor units)
so pricing and "price dropped" alerts need no read-back.

Consumers: offers (ListingRemoved/ListingSold close open offers), messaging, notifications
(SavedSearchMatched), pricing (ListingPriceChanged, ListingSold), fraud.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.events import DomainEvent, subscribe


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
    """Buyers can now find the listing (first publication or a resume after a pause)."""

    type = "listings.ListingPublished"
    version = 1
    title: str = ""
    price_amount: int = 0
    currency: str = ""
    category_id: uuid.UUID | None = None


@dataclass(frozen=True, kw_only=True)
class ListingPaused(ListingTransitioned):
    """The seller hid a published listing for a while."""

    type = "listings.ListingPaused"
    version = 1


@dataclass(frozen=True, kw_only=True)
class ListingReserved(ListingTransitioned):
    """Another domain (offers) holds the listing for a buyer; nobody else can reserve it meanwhile."""

    type = "listings.ListingReserved"
    version = 1
    reservation_ref: str


@dataclass(frozen=True, kw_only=True)
class ListingReleased(ListingTransitioned):
    """A reservation ended without a sale (declined, expired, cancelled): the listing is published again."""

    type = "listings.ListingReleased"
    version = 1
    reservation_ref: str


@dataclass(frozen=True, kw_only=True)
class ListingSold(ListingTransitioned):
    """A reservation became a sale; ``quantity_left`` > 0 means the listing went back to published."""

    type = "listings.ListingSold"
    version = 1
    reservation_ref: str = ""
    quantity_left: int = 0


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
class ListingPriceChanged(DomainEvent):
    """The price of a published (or paused/reserved) listing changed; ``dropped`` when it went down."""

    type = "listings.ListingPriceChanged"
    version = 1
    listing_id: uuid.UUID
    seller_id: uuid.UUID
    old_amount: int
    new_amount: int
    currency: str
    dropped: bool
    listing_version: int


@dataclass(frozen=True, kw_only=True)
class SavedSearchMatched(DomainEvent):
    """A listing newly matches a user's saved search (``reason``: ``new_listing`` or ``price_drop``)."""

    type = "listings.SavedSearchMatched"
    version = 1
    personal = frozenset({"search_name"})
    saved_search_id: uuid.UUID
    user_id: uuid.UUID
    listing_id: uuid.UUID
    search_name: str
    reason: str
    title: str
    price_amount: int
    currency: str


EVENT_OF_TRANSITION: dict[str, type[ListingTransitioned]] = {
    "publish": ListingPublished,
    "pause": ListingPaused,
    "reserve": ListingReserved,
    "release": ListingReleased,
    "mark_sold": ListingSold,
    "remove": ListingRemoved,
    "reinstate": ListingReinstated,
}


# Subscribers: saved-search matching reacts to this domain's own events, after their commit.
@subscribe("listings.ListingPublished", name="listings.saved_searches.new_listing")
def match_new_listing(event: ListingPublished) -> None:
    """A first publication (from draft) is news to saved searches; a resume after a pause is not."""
    if event.from_status == "draft":
        from blueprints.listings.saved_searches import notify_matches

        notify_matches(listing_id=event.listing_id, reason="new_listing")


@subscribe("listings.ListingPriceChanged", name="listings.saved_searches.price_drop")
def match_price_drop(event: ListingPriceChanged) -> None:
    if event.dropped:
        from blueprints.listings.saved_searches import notify_matches

        notify_matches(listing_id=event.listing_id, reason="price_drop")


from blueprints.listings.bulk import jobs as _import_jobs  # noqa: E402, F401 - registers the import watchdog timer
