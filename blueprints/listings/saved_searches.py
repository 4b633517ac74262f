"""Saved searches: checks of what a user saves, and matching listings against every saved search.

When a listing is first published, or its price drops, one SQL statement evaluates all saved
searches against that listing (full text in the search's language, category subtree, price,
grades, attributes, seller, radius) and each match publishes ``listings.SavedSearchMatched`` for
notifications to deliver. A user's own listings never match their own searches.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from app.db import db, utcnow
from app.events import publish as publish_event
from app.generator import Actor, ServiceError
from blueprints.listings.events import SavedSearchMatched
from blueprints.listings.models import Category, Listing, ListingCondition, ListingStatus, SavedSearch
from blueprints.listings.search import haversine_km

L, S = Listing.__table__, SavedSearch.__table__


def check_saved_search(*, obj: SavedSearch, actor: Actor, changes: dict[str, Any] | None = None) -> None:
    """422 naming the field for criteria that could never match (unknown category, grade, place...)."""
    errors: dict[str, list[str]] = {}
    if obj.category_id is not None and db.session.get(Category, obj.category_id) is None:
        errors["category_id"] = ["No such Category."]
    grades = {g.value for g in ListingCondition}
    if obj.conditions and any(c not in grades for c in obj.conditions):
        errors["conditions"] = [f"Grades are: {', '.join(sorted(grades))}."]
    if obj.attributes is None:
        obj.attributes = {}
    if not isinstance(obj.attributes, dict) or any(isinstance(v, dict | list) for v in obj.attributes.values()):
        errors["attributes"] = ["Must map attribute names to plain values."]
    place = (obj.latitude, obj.longitude, obj.radius_km)
    if any(v is not None for v in place) and any(v is None for v in place):
        errors["radius_km"] = ["Give latitude, longitude and radius_km together."]
    if obj.price_min is not None and obj.price_max is not None and obj.price_max < obj.price_min:
        errors["price_max"] = ["Must not be less than price_min."]
    if errors:
        raise ServiceError("The saved search cannot match anything as written.", status=422, errors=errors)


def _ancestors(category_id: uuid.UUID) -> list[uuid.UUID]:
    up = sa.select(Category.id, Category.parent_id).where(Category.id == category_id).cte("up", recursive=True)
    up = up.union_all(sa.select(Category.id, Category.parent_id).where(Category.id == up.c.parent_id))
    return list(db.session.execute(sa.select(up.c.id)).scalars())


def matching_searches(*, listing_id: uuid.UUID) -> list[Any]:
    """Saved searches (rows) that the published listing ``listing_id`` matches."""
    category_id = db.session.execute(sa.select(L.c.category_id).where(L.c.id == listing_id)).scalar()
    if category_id is None:
        return []
    query = sa.func.websearch_to_tsquery(sa.cast(S.c.language, sa.dialects.postgresql.REGCONFIG), S.c.q)
    stmt = sa.select(S.c.id, S.c.user_id, S.c.name).where(
        L.c.id == listing_id,
        L.c.status == ListingStatus.PUBLISHED.value,
        L.c.deleted_at.is_(None),
        S.c.user_id != L.c.seller_id,
        sa.or_(S.c.q.is_(None), L.c.search_vector.op("@@")(query)),
        sa.or_(S.c.category_id.is_(None), S.c.category_id.in_(_ancestors(category_id))),
        sa.or_(S.c.price_min.is_(None), L.c.price_amount >= S.c.price_min),
        sa.or_(S.c.price_max.is_(None), L.c.price_amount <= S.c.price_max),
        sa.or_(S.c.currency.is_(None), S.c.currency == L.c.currency),
        sa.or_(S.c.conditions.is_(None), L.c.condition == sa.func.any(S.c.conditions)),
        L.c.attributes.contains(S.c.attributes),
        sa.or_(S.c.seller_id.is_(None), S.c.seller_id == L.c.seller_id),
        sa.or_(
            S.c.latitude.is_(None),
            sa.and_(
                L.c.latitude.is_not(None),
                haversine_km(S.c.latitude, S.c.longitude, L.c.latitude, L.c.longitude) <= S.c.radius_km,
            ),
        ),
    )
    return list(db.session.execute(stmt))


def notify_matches(*, listing_id: uuid.UUID, reason: str) -> int:
    """Publish SavedSearchMatched for every saved search the listing matches; returns how many."""
    listing = db.session.get(Listing, listing_id)
    if listing is None:
        return 0
    matches = matching_searches(listing_id=listing_id)
    now = utcnow()
    for match in matches:
        publish_event(
            SavedSearchMatched(
                aggregate_id=match.id,
                actor="system",
                saved_search_id=match.id,
                user_id=match.user_id,
                listing_id=listing.id,
                search_name=match.name,
                reason=reason,
                title=listing.title,
                price_amount=listing.price_amount,
                currency=listing.currency,
            )
        )
    if matches:
        db.session.execute(sa.update(S).where(S.c.id.in_([m.id for m in matches])).values(last_matched_at=now))
    return len(matches)
