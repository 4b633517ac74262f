"""Real concurrency against PostgreSQL: two sellers' clicks (threads, each with its own app context and
connection) accepting different offers on one listing at once. Exactly one wins, every time."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import func, select

from app.extensions import db
from app.generator import ServiceError
from blueprints.offers import service
from blueprints.offers.models import Offer
from tests.offers.conftest import listing_status

ROUNDS = 8


def _race(app, calls):  # type: ignore[no-untyped-def]
    """Run each call in its own thread at the same instant; returns 'ok' or the refusal status per call."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                calls[index]()
                db.session.commit()
                results[index] = "ok"
            except ServiceError as error:
                db.session.rollback()
                results[index] = error.status
            except Exception as error:  # noqa: BLE001 - anything else is a bug the assertion shows
                db.session.rollback()
                results[index] = repr(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a racer hung"
    return results


def test_two_concurrent_accepts_of_different_offers_one_winner(api, app, make_user, seller, make_listing):
    for _ in range(ROUNDS):
        listing = make_listing()
        offers = [api.offer(make_user(), listing, amount).get_json()["id"] for amount in (7_000, 7_500)]
        calls = [
            lambda offer_id=offer_id: service.accept(offer_id=uuid.UUID(offer_id), actor=seller.actor)
            for offer_id in offers
        ]
        results = _race(app, calls)
        assert sorted(map(str, results)) == ["409", "ok"], results
        winner = offers[results.index("ok")]
        with app.app_context():
            states = dict(db.session.execute(select(Offer.id, Offer.state).where(Offer.listing_id == listing)).all())
            db.session.rollback()
        assert states[uuid.UUID(winner)] == "accepted"
        assert sorted(states.values()) == ["accepted", "cancelled"], states
        assert listing_status(app, listing) == "reserved"


def test_concurrent_accept_and_new_offers_never_leave_an_open_offer_on_a_reserved_listing(
    api, app, make_user, seller, listing
):
    target = api.offer(make_user(), listing, 8_000).get_json()["id"]
    newcomers = [make_user() for _ in range(5)]
    calls = [lambda: service.accept(offer_id=uuid.UUID(target), actor=seller.actor)] + [
        lambda user=user: service.create_offer(listing_id=listing, amount=6_000, currency="EUR", actor=user.actor)
        for user in newcomers
    ]
    results = _race(app, calls)
    assert results[0] == "ok", results
    assert all(r in ("ok", 409) for r in results[1:]), results
    with app.app_context():
        still_open = db.session.scalar(
            select(func.count())
            .select_from(Offer)
            .where(Offer.listing_id == listing, Offer.state.in_(("pending", "countered")))
        )
        db.session.rollback()
    assert still_open == 0


def test_two_http_apps_accepting_at_once(make_app, api, app, make_user, seller, listing):
    """The same race through the API of two app instances (two web processes)."""
    offers = [api.offer(make_user(), listing, amount).get_json()["id"] for amount in (6_000, 6_500)]
    clients = [make_app().test_client(), make_app().test_client()]
    barrier = threading.Barrier(2)
    statuses: list[int] = [0, 0]

    def click(index: int) -> None:
        barrier.wait(timeout=10)
        response = clients[index].post(f"/offers/{offers[index]}/accept", json={}, headers=seller.headers)
        statuses[index] = response.status_code

    threads = [threading.Thread(target=click, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 409], statuses
    assert listing_status(app, listing) == "reserved"
