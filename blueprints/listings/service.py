"""The listings domain's public functions: what other domains, the API, the admin and jobs call.

Status is never written by clients nor by other domains: each change is one named transition of
:data:`TRANSITIONS`, checked against the current status under a row lock, kept in
``listing_status_changes`` (who, when, from, to, why, reservation), and published as a domain event
in the same transaction.

Cross-domain contract (keyword-only, stable):

- :func:`get_listing_summary` / :func:`get_listing_summaries`: read a listing's essentials;
- :func:`reserve` / :func:`release_reservation` / :func:`mark_sold`: the offers domain holds a
  listing for a buyer, lets it go, or turns the hold into a sale. Each is idempotent for the same
  ``reservation_ref`` (a retried job or a redelivered event changes nothing twice).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.db import db
from app.generator import Actor, ServiceError
from blueprints.listings.lifecycle import (
    TRANSITIONS,
    S,
    _locked,
    pause,
    publish,
    reinstate,
    remove,
    status_history,
    transition,
)
from blueprints.listings.models import Listing, ListingStatus, ListingStatusChange


@dataclass(frozen=True)
class ListingSummary:
    """What other domains may know of a listing (a copy: never a live row)."""

    id: uuid.UUID
    seller_id: uuid.UUID
    title: str
    status: str
    price_amount: int
    currency: str
    category_id: uuid.UUID
    quantity: int

    @classmethod
    def of(cls, listing: Any) -> ListingSummary:
        return cls(
            id=listing.id,
            seller_id=listing.seller_id,
            title=listing.title,
            status=ListingStatus(listing.status).value,
            price_amount=listing.price_amount,
            currency=listing.currency,
            category_id=listing.category_id,
            quantity=listing.quantity,
        )


_SUMMARY_COLUMNS = (
    Listing.id,
    Listing.seller_id,
    Listing.title,
    Listing.status,
    Listing.price_amount,
    Listing.currency,
    Listing.category_id,
    Listing.quantity,
)


def get_listing_summary(*, listing_id: uuid.UUID) -> ListingSummary | None:
    """The listing's essentials whatever its status, or None if it does not exist (or was deleted)."""
    row = db.session.execute(
        select(*_SUMMARY_COLUMNS).where(Listing.id == listing_id, Listing.deleted_at.is_(None))
    ).first()
    return ListingSummary.of(row) if row is not None else None


def get_listing_summaries(*, listing_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ListingSummary]:
    """Summaries of the listings that exist among ``listing_ids``, by id (one query)."""
    ids = set(listing_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(*_SUMMARY_COLUMNS).where(Listing.id.in_(ids), Listing.deleted_at.is_(None)))
    return {row.id: ListingSummary.of(row) for row in rows}


def _check_ref(reservation_ref: str) -> str:
    ref = (reservation_ref or "").strip()
    if not ref or len(ref) > 100:
        raise ServiceError(
            "A reservation needs a reference.",
            status=422,
            errors={"reservation_ref": ["Must be 1 to 100 characters."]},
        )
    return ref


def _had(listing_id: uuid.UUID, ref: str, transitions: tuple[str, ...]) -> bool:
    """Whether this reservation already went through one of ``transitions`` (idempotent replays)."""
    return (
        db.session.execute(
            select(ListingStatusChange.id).where(
                ListingStatusChange.listing_id == listing_id,
                ListingStatusChange.reservation_ref == ref,
                ListingStatusChange.transition.in_(transitions),
            )
        ).first()
        is not None
    )


def reserve(*, listing_id: uuid.UUID, reservation_ref: str, actor: Actor) -> ListingSummary:
    """Hold a published listing for one buyer (published -> reserved).

    Idempotent: reserving again with the same ``reservation_ref`` returns the summary unchanged.
    Raises ``ServiceError`` 409 if the listing is not published or is held by another reservation,
    404 if it does not exist.
    """
    ref = _check_ref(reservation_ref)
    listing = _locked(listing_id)
    if listing.status == S.RESERVED and listing.reservation_ref == ref:
        return ListingSummary.of(listing)
    if listing.status == S.RESERVED:
        raise ServiceError(
            "The listing is reserved for someone else.",
            status=409,
            errors={"status": ["Is reserved by another reservation."]},
        )
    return ListingSummary.of(transition(listing_id=listing_id, name="reserve", actor=actor, reservation_ref=ref))


def release_reservation(*, listing_id: uuid.UUID, reservation_ref: str, actor: Actor, reason: str) -> ListingSummary:
    """End a reservation without a sale (reserved -> published), e.g. an offer declined or lapsed.

    A no-op when this reservation was already released (or sold): redelivered calls are harmless.
    Raises ``ServiceError`` 409 when the listing is held by another reservation or was never
    reserved under this reference.
    """
    ref = _check_ref(reservation_ref)
    listing = _locked(listing_id)
    if listing.status == S.RESERVED and listing.reservation_ref == ref:
        return ListingSummary.of(
            transition(listing_id=listing_id, name="release", actor=actor, reason=reason, reservation_ref=ref)
        )
    if _had(listing.id, ref, ("release", "mark_sold", "sell_unit")) or (
        listing.status == S.REMOVED and _had(listing.id, ref, ("reserve",))
    ):
        return ListingSummary.of(listing)
    raise ServiceError(
        "This reservation does not hold the listing.",
        status=409,
        errors={"reservation_ref": [f"Does not hold this listing (it is {ListingStatus(listing.status).value})."]},
    )


def mark_sold(*, listing_id: uuid.UUID, reservation_ref: str, actor: Actor) -> ListingSummary:
    """Turn a reservation into a sale (reserved -> sold; back to published while units remain).

    Idempotent for the same ``reservation_ref``; 409 when another reservation holds the listing or
    this one no longer does (released, removed).
    """
    ref = _check_ref(reservation_ref)
    listing = _locked(listing_id)
    if listing.status == S.RESERVED and listing.reservation_ref == ref:
        listing.quantity = max(listing.quantity - 1, 0)
        name = "mark_sold" if listing.quantity == 0 else "sell_unit"
        return ListingSummary.of(transition(listing_id=listing_id, name=name, actor=actor, reservation_ref=ref))
    if _had(listing.id, ref, ("mark_sold", "sell_unit")):
        return ListingSummary.of(listing)
    raise ServiceError(
        "This reservation does not hold the listing.",
        status=409,
        errors={"reservation_ref": [f"Does not hold this listing (it is {ListingStatus(listing.status).value})."]},
    )


def price_history(*, listing_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every price change of the listing since it was published, oldest first (pricing, alerts)."""
    from blueprints.listings.models import ListingPriceChange

    rows = db.session.execute(
        select(ListingPriceChange)
        .where(ListingPriceChange.listing_id == listing_id)
        .order_by(ListingPriceChange.occurred_at)
    ).scalars()
    return [
        {
            "occurred_at": r.occurred_at,
            "old_amount": r.old_amount,
            "new_amount": r.new_amount,
            "currency": r.currency,
            "version": r.version,
        }
        for r in rows
    ]


def check_category_parent(*, category_id: uuid.UUID | None, parent_id: uuid.UUID | None) -> None:
    """A category cannot be its own ancestor (the tree stays a tree)."""
    from blueprints.listings.models import Category

    seen = set()
    current = parent_id
    while current is not None:
        if current == category_id or current in seen:
            raise ServiceError(
                "A category cannot be placed under itself.", status=422, errors={"parent_id": ["Would make a cycle."]}
            )
        seen.add(current)
        current = db.session.execute(select(Category.parent_id).where(Category.id == current)).scalar()


# Catalog set-up (seeds, tools): idempotent helpers kept in their own module.
from blueprints.listings.catalog_setup import (  # noqa: E402
    ensure_category,
    ensure_rubrics,
    import_rows,
    listing_for_sku,
    seller_for_sku,
)

__all__ = [
    "TRANSITIONS",
    "ListingSummary",
    "check_category_parent",
    "ensure_category",
    "ensure_rubrics",
    "get_listing_summaries",
    "get_listing_summary",
    "import_rows",
    "listing_for_sku",
    "mark_sold",
    "pause",
    "price_history",
    "publish",
    "reinstate",
    "release_reservation",
    "remove",
    "reserve",
    "seller_for_sku",
    "status_history",
    "transition",
]
