"""The cross-domain contract: summaries, reserve / release / mark_sold (idempotent per reservation)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.events import OutboxEvent
from app.extensions import db
from app.generator import Actor, ServiceError
from blueprints.listings import service
from blueprints.listings.models import Category, Listing, ListingCondition, ListingStatus, ListingStatusChange

OFFERS = Actor.system("offers")


@pytest.fixture
def listing(app_ctx) -> Listing:  # type: ignore[no-untyped-def]
    category = Category(name="Lamps", slug=f"lamps-{uuid.uuid4().hex[:6]}")
    db.session.add(category)
    db.session.flush()
    row = Listing(
        seller_id=uuid.uuid4(),
        category_id=category.id,
        title="Brass lamp",
        price_amount=4500,
        currency="EUR",
        condition=ListingCondition.GOOD,
        status=ListingStatus.PUBLISHED,
    )
    db.session.add(row)
    db.session.commit()
    return row


def events() -> list[str]:
    return [e.type for e in db.session.execute(select(OutboxEvent).order_by(OutboxEvent.position)).scalars()]


def test_summary_and_summaries(listing: Listing) -> None:
    summary = service.get_listing_summary(listing_id=listing.id)
    assert summary == service.ListingSummary(
        id=listing.id,
        seller_id=listing.seller_id,
        title="Brass lamp",
        status="published",
        price_amount=4500,
        currency="EUR",
        category_id=listing.category_id,
        quantity=1,
    )
    assert service.get_listing_summary(listing_id=uuid.uuid4()) is None
    missing = uuid.uuid4()
    assert service.get_listing_summaries(listing_ids=[listing.id, missing]) == {listing.id: summary}
    assert service.get_listing_summaries(listing_ids=[]) == {}


def test_reserve_is_idempotent_per_reference_and_exclusive(listing: Listing) -> None:
    first = service.reserve(listing_id=listing.id, reservation_ref="offer-1", actor=OFFERS)
    db.session.commit()
    assert first.status == "reserved"
    again = service.reserve(listing_id=listing.id, reservation_ref="offer-1", actor=OFFERS)
    db.session.commit()
    assert again == first
    with pytest.raises(ServiceError) as refused:
        service.reserve(listing_id=listing.id, reservation_ref="offer-2", actor=OFFERS)
    assert refused.value.status == 409
    db.session.rollback()
    assert events() == ["listings.ListingReserved"]
    change = db.session.execute(select(ListingStatusChange)).scalar_one()
    assert (change.from_status, change.to_status, change.reservation_ref, change.actor_id) == (
        "published",
        "reserved",
        "offer-1",
        "offers",
    )


def test_release_then_release_again_is_a_no_op(listing: Listing) -> None:
    service.reserve(listing_id=listing.id, reservation_ref="offer-1", actor=OFFERS)
    released = service.release_reservation(
        listing_id=listing.id, reservation_ref="offer-1", actor=OFFERS, reason="offer expired"
    )
    db.session.commit()
    assert released.status == "published"
    assert db.session.get(Listing, listing.id).reservation_ref is None
    service.release_reservation(listing_id=listing.id, reservation_ref="offer-1", actor=OFFERS, reason="again")
    db.session.commit()
    assert events() == ["listings.ListingReserved", "listings.ListingReleased"]
    with pytest.raises(ServiceError) as never_held:
        service.release_reservation(listing_id=listing.id, reservation_ref="offer-9", actor=OFFERS, reason="x")
    assert never_held.value.status == 409


def test_mark_sold_needs_the_holding_reservation_and_is_idempotent(listing: Listing) -> None:
    with pytest.raises(ServiceError) as not_reserved:
        service.mark_sold(listing_id=listing.id, reservation_ref="offer-1", actor=OFFERS)
    assert not_reserved.value.status == 409
    service.reserve(listing_id=listing.id, reservation_ref="offer-1", actor=OFFERS)
    with pytest.raises(ServiceError):
        service.mark_sold(listing_id=listing.id, reservation_ref="offer-2", actor=OFFERS)
    sold = service.mark_sold(listing_id=listing.id, reservation_ref="offer-1", actor=OFFERS)
    assert (sold.status, sold.quantity) == ("sold", 0)
    assert service.mark_sold(listing_id=listing.id, reservation_ref="offer-1", actor=OFFERS) == sold
    db.session.commit()
    assert events() == ["listings.ListingReserved", "listings.ListingSold"]
    payload = db.session.execute(select(OutboxEvent.payload).where(OutboxEvent.type == "listings.ListingSold")).scalar()
    assert payload["reservation_ref"] == "offer-1" and payload["quantity_left"] == 0


def test_selling_one_of_several_units_puts_the_listing_back_on_offer(listing: Listing) -> None:
    listing.quantity = 2
    db.session.commit()
    service.reserve(listing_id=listing.id, reservation_ref="offer-1", actor=OFFERS)
    summary = service.mark_sold(listing_id=listing.id, reservation_ref="offer-1", actor=OFFERS)
    assert (summary.status, summary.quantity) == ("published", 1)
    service.reserve(listing_id=listing.id, reservation_ref="offer-2", actor=OFFERS)
    assert service.mark_sold(listing_id=listing.id, reservation_ref="offer-2", actor=OFFERS).status == "sold"


def test_unknown_listing_is_404(app_ctx) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as missing:
        service.reserve(listing_id=uuid.uuid4(), reservation_ref="offer-1", actor=OFFERS)
    assert missing.value.status == 404
