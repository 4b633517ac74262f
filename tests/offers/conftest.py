"""Fixtures of the offers tests: parties with tokens, a published listing, and helpers to act.

Listings are written straight to the database (the listings domain is not under test here); every
offer change goes through the offers API or service, as in production.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from app.events.timers import Timer, run_timers
from app.extensions import db
from app.generator import Actor
from blueprints.listings.models import Category, Listing, ListingCondition, ListingStatus
from blueprints.offers.models import Offer, OfferPolicy


@dataclass
class User:
    id: uuid.UUID
    headers: dict[str, str]

    @property
    def actor(self) -> Actor:
        return Actor("user", str(self.id))


@pytest.fixture
def make_user(auth_headers) -> Callable[..., User]:  # type: ignore[no-untyped-def]
    def make(*roles: str) -> User:
        user_id = uuid.uuid4()
        return User(user_id, auth_headers(user_id, roles=roles or ("buyer",)))

    return make


@pytest.fixture
def seller(make_user) -> User:  # type: ignore[no-untyped-def]
    return make_user("seller")


@pytest.fixture
def buyer(make_user) -> User:  # type: ignore[no-untyped-def]
    return make_user("buyer")


@pytest.fixture
def stranger(make_user) -> User:  # type: ignore[no-untyped-def]
    return make_user("buyer")


@pytest.fixture
def staff(make_user) -> User:  # type: ignore[no-untyped-def]
    return make_user("staff")


@pytest.fixture
def category(app) -> uuid.UUID:  # type: ignore[no-untyped-def]
    with app.app_context():
        row = Category(name="Bikes", slug=f"bikes-{uuid.uuid4().hex[:6]}")
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.fixture
def make_listing(app, category, seller) -> Callable[..., uuid.UUID]:  # type: ignore[no-untyped-def]
    def make(*, seller_id: uuid.UUID | None = None, **fields: Any) -> uuid.UUID:
        values: dict[str, Any] = {
            "title": "Road bike",
            "price_amount": 10_000,
            "currency": "EUR",
            "condition": ListingCondition.GOOD,
            "status": ListingStatus.PUBLISHED,
            "category_id": category,
            "seller_id": seller_id or seller.id,
        }
        values.update(fields)
        with app.app_context():
            listing = Listing(**values)
            db.session.add(listing)
            db.session.commit()
            return listing.id

    return make


@pytest.fixture
def listing(make_listing) -> uuid.UUID:  # type: ignore[no-untyped-def]
    return make_listing()


def listing_status(app, listing_id: uuid.UUID) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        status = db.session.scalar(select(Listing.status).where(Listing.id == listing_id))
        db.session.rollback()
        return ListingStatus(status).value


def offer_row(app, offer_id: uuid.UUID | str) -> Offer:  # type: ignore[no-untyped-def]
    with app.app_context():
        offer = db.session.get(Offer, uuid.UUID(str(offer_id)))
        db.session.expunge(offer)
        db.session.rollback()
        return offer


def set_policy(app, **fields: Any) -> None:  # type: ignore[no-untyped-def]
    """Write a policy row directly (the policies API has tests of its own)."""
    with app.app_context():
        db.session.add(OfferPolicy(**fields))
        db.session.commit()


def outbox_types(app, aggregate_id: Any = None) -> list[str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        sql = "SELECT type FROM platform.outbox_events"
        params: dict[str, Any] = {}
        if aggregate_id is not None:
            sql += " WHERE aggregate_id = :aggregate"
            params["aggregate"] = str(aggregate_id)
        types = list(db.session.execute(text(sql + " ORDER BY position"), params).scalars())
        db.session.rollback()
        return types


def make_due(app, name: str, key: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Pretend the timer's time came (and the offer clocks it reads): returns the due timer ids."""
    with app.app_context():
        db.session.execute(
            update(Timer)
            .where(Timer.name == name, Timer.key == key, Timer.state == "scheduled")
            .values(due_at=func.now() - text("interval '1 second'"))
        )
        db.session.execute(
            text(
                "UPDATE offers.offers SET expires_at = now() - interval '1 second', "
                "checkout_due_at = CASE WHEN checkout_due_at IS NULL THEN NULL ELSE now() - interval '1 second' END "
                "WHERE negotiation_id::text = :key OR id::text = :key"
            ),
            {"key": key},
        )
        ids = [str(i) for i in db.session.scalars(select(Timer.id).where(Timer.name == name, Timer.key == key))]
        db.session.commit()
        return ids


def fire(app, timer_ids: list[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """What a worker does with a batch of due timers (each fired in its own transaction)."""
    with app.app_context():
        return run_timers(timer_ids)


class Api:
    """Thin helpers over the test client for the offers endpoints."""

    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        self.client = client

    def offer(self, user: User, listing_id: uuid.UUID, amount: int, currency: str = "EUR", **extra: Any):  # type: ignore[no-untyped-def]
        body = {"listing_id": str(listing_id), "price": {"amount": amount, "currency": currency}, **extra}
        key = extra.pop("key", None) or uuid.uuid4().hex
        body.pop("key", None)
        return self.client.post("/offers", json=body, headers={**user.headers, "Idempotency-Key": key})

    def act(self, user: User, offer_id: Any, action: str, **body: Any):  # type: ignore[no-untyped-def]
        return self.client.post(f"/offers/{offer_id}/{action}", json=body, headers=user.headers)

    def counter(self, user: User, offer_id: Any, amount: int, currency: str = "EUR"):  # type: ignore[no-untyped-def]
        return self.act(user, offer_id, "counter", price={"amount": amount, "currency": currency})

    def get(self, user: User, path: str = ""):  # type: ignore[no-untyped-def]
        return self.client.get(f"/offers{path}", headers=user.headers)


@pytest.fixture
def api(client) -> Api:  # type: ignore[no-untyped-def]
    return Api(client)
