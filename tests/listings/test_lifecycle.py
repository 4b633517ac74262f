"""The listing state machine, table-driven: every (status, transition) pair is allowed or refused."""

from __future__ import annotations

import itertools
import uuid

import pytest
from sqlalchemy import select

from app.events import OutboxEvent
from app.extensions import db
from app.generator import Actor, ServiceError
from blueprints.listings import service
from blueprints.listings.models import Listing, ListingStatus, ListingStatusChange
from tests.listings.factories import make_listing

S = ListingStatus
SELLER = Actor("user", str(uuid.uuid4()))
OFFERS = Actor.system("offers")

# (transition, from status) -> status after; every pair missing here must be refused with a 409.
ALLOWED = {
    ("publish", S.DRAFT): S.PUBLISHED,
    ("publish", S.PAUSED): S.PUBLISHED,
    ("pause", S.PUBLISHED): S.PAUSED,
    ("reserve", S.PUBLISHED): S.RESERVED,
    ("release", S.RESERVED): S.PUBLISHED,
    ("mark_sold", S.RESERVED): S.SOLD,
    ("remove", S.DRAFT): S.REMOVED,
    ("remove", S.PUBLISHED): S.REMOVED,
    ("remove", S.PAUSED): S.REMOVED,
    ("remove", S.RESERVED): S.REMOVED,
    ("reinstate", S.REMOVED): S.PAUSED,
}
EVENTS = {
    "publish": "listings.ListingPublished",
    "pause": "listings.ListingPaused",
    "reserve": "listings.ListingReserved",
    "release": "listings.ListingReleased",
    "mark_sold": "listings.ListingSold",
    "remove": "listings.ListingRemoved",
    "reinstate": "listings.ListingReinstated",
}


def run(name: str, listing_id: uuid.UUID) -> None:
    ref = "offer-1"
    calls = {
        "publish": lambda: service.publish(listing_id=listing_id, actor=SELLER),
        "pause": lambda: service.pause(listing_id=listing_id, actor=SELLER),
        # another buyer's reservation: refused while "offer-1" holds the listing (same-ref replays are no-ops)
        "reserve": lambda: service.reserve(listing_id=listing_id, reservation_ref="offer-2", actor=OFFERS),
        "release": lambda: service.release_reservation(
            listing_id=listing_id, reservation_ref=ref, actor=OFFERS, reason="offer expired"
        ),
        "mark_sold": lambda: service.mark_sold(listing_id=listing_id, reservation_ref=ref, actor=OFFERS),
        "remove": lambda: service.remove(listing_id=listing_id, actor=SELLER, reason="No longer for sale"),
        "reinstate": lambda: service.reinstate(listing_id=listing_id, actor=Actor.staff(1)),
    }
    calls[name]()


def test_the_table_under_test_is_the_service_table() -> None:
    table = {
        (name, source): target
        for name, (sources, target) in service.TRANSITIONS.items()
        if name != "sell_unit"
        for source in sources
    }
    assert table == ALLOWED


@pytest.mark.parametrize(("name", "source"), list(itertools.product(EVENTS, list(S))))
def test_transition(app_ctx, cameras, name: str, source: ListingStatus) -> None:  # type: ignore[no-untyped-def]
    fields = {"reservation_ref": "offer-1"} if source is S.RESERVED else {}
    listing_id = make_listing(category_id=cameras, status=source, **fields)
    expected = ALLOWED.get((name, source))
    if expected is None:
        with pytest.raises(ServiceError) as refused:
            run(name, listing_id)
        db.session.rollback()
        assert refused.value.status == 409
        assert db.session.get(Listing, listing_id).status is source
        assert db.session.execute(select(ListingStatusChange)).first() is None
        assert db.session.execute(select(OutboxEvent)).first() is None
        return
    run(name, listing_id)
    db.session.commit()
    assert db.session.get(Listing, listing_id).status is expected
    change = db.session.execute(select(ListingStatusChange)).scalar_one()
    assert (change.transition, change.from_status, change.to_status) == (name, source.value, expected.value)
    assert change.actor_type in ("user", "system", "staff") and change.occurred_at is not None
    assert [e.type for e in db.session.execute(select(OutboxEvent)).scalars()] == [EVENTS[name]]


def test_removal_keeps_the_reason(app_ctx, cameras) -> None:  # type: ignore[no-untyped-def]
    listing_id = make_listing(category_id=cameras, status=S.PUBLISHED)
    service.remove(listing_id=listing_id, actor=Actor.staff(7), reason="Counterfeit")
    db.session.commit()
    change = db.session.execute(select(ListingStatusChange)).scalar_one()
    assert (change.reason, change.actor_type, change.actor_id) == ("Counterfeit", "staff", "7")
    payload = db.session.execute(select(OutboxEvent.payload)).scalar_one()
    assert payload["reason"] == "Counterfeit" and payload["to_status"] == "removed"
