"""Negotiation policies: the listing's own rules, else its category's, else the platform settings.

``effective_policy(listing)`` merges the three field by field, so a seller may set only a minimum and
inherit everything else. Sellers edit their listings' rows (``/offers/policies``), staff edit any row
and own the category defaults; ``validate_policy`` is the domain check both paths run before a write.
``check_buyer_limits`` applies the anti-spam rules when a buyer opens a negotiation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select

from app.db import db, utcnow
from app.generator import Actor, ServiceError
from app.generator.rules import STAFF_ROLE
from blueprints.listings import service as listings
from blueprints.offers import locks
from blueprints.offers.models import Negotiation, NegotiationStatus, OfferPolicy

FIELDS = (
    "accepts_offers",
    "min_offer_amount",
    "min_offer_bps",
    "auto_accept_amount",
    "auto_accept_bps",
    "max_counter_rounds",
    "max_open_per_buyer",
    "max_daily_per_buyer",
    "expiry_hours",
)


@dataclass(frozen=True)
class EffectivePolicy:
    """The rules that apply to one listing, thresholds already turned into minor units."""

    accepts_offers: bool
    min_amount: int | None  # offers below are declined at once, politely
    auto_accept_amount: int | None  # buyer offers at or above are accepted at once
    max_counter_rounds: int
    max_open_per_buyer: int
    max_daily_per_buyer: int
    expiry_seconds: int  # a policy row sets whole hours; the platform setting is in seconds


def _share(price: int, bps: int | None) -> int | None:
    """``bps`` basis points of ``price``, rounded up (a 50% minimum of 999 is 500, never 499)."""
    return None if bps is None else max(1, -(-price * bps // 10_000))


def effective_policy(*, listing_id: uuid.UUID, category_id: uuid.UUID | None, price_amount: int) -> EffectivePolicy:
    rows = db.session.execute(
        select(OfferPolicy).where(
            or_(OfferPolicy.listing_id == listing_id, OfferPolicy.category_id == category_id)
            if category_id is not None
            else OfferPolicy.listing_id == listing_id
        )
    ).scalars()
    by_scope = {"listing" if row.listing_id else "category": row for row in rows}
    merged: dict[str, Any] = {}
    for name in FIELDS:
        for scope in ("listing", "category"):
            row = by_scope.get(scope)
            value = getattr(row, name) if row is not None else None
            if value is not None:
                merged[name] = value
                break
    config = current_app.config
    # An absolute threshold wins over a share of the price at the same level; the listing wins over the category.
    minimum = _threshold(by_scope, "min_offer", price_amount)
    auto_accept = _threshold(by_scope, "auto_accept", price_amount)
    return EffectivePolicy(
        accepts_offers=merged.get("accepts_offers", True),
        min_amount=minimum,
        auto_accept_amount=auto_accept,
        max_counter_rounds=merged.get("max_counter_rounds", config["OFFERS_MAX_COUNTER_ROUNDS"]),
        max_open_per_buyer=merged.get("max_open_per_buyer", config["OFFERS_MAX_OPEN_PER_BUYER"]),
        max_daily_per_buyer=merged.get("max_daily_per_buyer", config["OFFERS_MAX_DAILY_PER_BUYER"]),
        expiry_seconds=merged["expiry_hours"] * 3600 if "expiry_hours" in merged else config["OFFERS_EXPIRY_SECONDS"],
    )


def _threshold(by_scope: dict[str, OfferPolicy], prefix: str, price: int) -> int | None:
    for scope in ("listing", "category"):
        row = by_scope.get(scope)
        if row is None:
            continue
        amount, bps = getattr(row, f"{prefix}_amount"), getattr(row, f"{prefix}_bps")
        if amount is not None:
            return amount
        if bps is not None:
            return _share(price, bps)
    return None


def _is_staff(actor: Actor) -> bool:
    return actor.type == "staff" or STAFF_ROLE in actor.roles


def validate_policy(*, obj: OfferPolicy, actor: Actor, changes: dict[str, Any] | None = None) -> None:
    """Domain checks of a policy write (API and admin): scope, ownership and coherent thresholds."""
    errors: dict[str, list[str]] = {}
    if (obj.listing_id is None) == (obj.category_id is None):
        errors["listing_id"] = ["Give either listing_id (one listing) or category_id (a category default)."]
    elif obj.category_id is not None and not _is_staff(actor):
        errors["category_id"] = ["Only staff set category defaults."]
    elif obj.category_id is not None:
        obj.seller_id = None  # a category default belongs to no seller
    elif obj.listing_id is not None:
        listing = listings.get_listing_summary(listing_id=obj.listing_id)
        if listing is None or (not _is_staff(actor) and listing.seller_id != actor.user_id):
            errors["listing_id"] = ["No such listing of yours."]
        else:
            obj.seller_id = listing.seller_id
            if obj.min_offer_amount is not None and obj.min_offer_amount > listing.price_amount:
                errors["min_offer_amount"] = ["Cannot exceed the asking price."]
    if obj.category_id is not None and (obj.min_offer_amount is not None or obj.auto_accept_amount is not None):
        errors["min_offer_amount" if obj.min_offer_amount is not None else "auto_accept_amount"] = [
            "Category defaults use shares of the asking price (the *_bps fields)."
        ]
    low = obj.min_offer_amount or 0
    if obj.auto_accept_amount is not None and obj.auto_accept_amount < low:
        errors["auto_accept_amount"] = ["Must be at least the minimum offer."]
    if obj.auto_accept_bps is not None and obj.min_offer_bps is not None and obj.auto_accept_bps < obj.min_offer_bps:
        errors["auto_accept_bps"] = ["Must be at least the minimum offer share."]
    if errors:
        raise ServiceError("This offer policy is not valid.", status=422, errors=errors)


class TooManyOffers(ServiceError):
    """The buyer started too many negotiations in 24 hours: a 429 with ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, status=429, errors={"listing_id": [message]})
        self.retry_after = retry_after


def check_buyer_limits(buyer_id: uuid.UUID, listing_id: uuid.UUID, policy: EffectivePolicy) -> None:
    """Anti-spam: open negotiations per buyer on this listing (422), negotiations started per day (429)."""
    locks.lock_buyer(buyer_id)
    open_here = db.session.scalar(
        select(func.count())
        .select_from(Negotiation)
        .where(
            Negotiation.listing_id == listing_id,
            Negotiation.buyer_id == buyer_id,
            Negotiation.status == NegotiationStatus.OPEN,
        )
    )
    if open_here >= policy.max_open_per_buyer:
        raise ServiceError(
            "You already have an open offer on this listing.",
            status=422,
            errors={"listing_id": [f"At most {policy.max_open_per_buyer} open; counter or withdraw yours."]},
        )
    since = utcnow() - timedelta(days=1)
    started = db.session.execute(
        select(func.count(), func.min(Negotiation.created_at)).where(
            Negotiation.buyer_id == buyer_id, Negotiation.created_at > since
        )
    ).one()
    if started[0] >= policy.max_daily_per_buyer:
        retry = max(1, int((started[1] + timedelta(days=1) - utcnow()).total_seconds()) + 1)
        raise TooManyOffers(
            f"You can start at most {policy.max_daily_per_buyer} negotiations a day.", retry_after=retry
        )
