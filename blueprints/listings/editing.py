"""Writes of listing content (API, admin, import): validation, derived fields, versions, price history.

Hooks of the generated Listing resource. Drafts are edited freely; an edit of a listing buyers have
seen (published or paused) bumps ``version`` and keeps a ``listing_versions`` row with what changed,
and a price change adds to the price history and publishes ``ListingPriceChanged``. Reserved, sold and
removed listings are frozen: their content is what the buyer or the moderator saw.
"""

from __future__ import annotations

import copy
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from app.db import db
from app.events import publish as publish_event
from app.generator import Actor, ServiceError
from blueprints.listings.conditions import load_rubrics
from blueprints.listings.events import ListingPriceChanged
from blueprints.listings.models import Category, Listing, ListingPriceChange, ListingStatus, ListingVersion
from blueprints.listings.validation import check_content, grade_of, values_of

S = ListingStatus
FROZEN = frozenset({S.RESERVED, S.SOLD, S.REMOVED})
VERSIONED = frozenset({S.PUBLISHED, S.PAUSED})
# Columns whose edits are part of the listing as buyers see it (a version records them).
CONTENT = (
    "title", "description", "category_id", "price_amount", "currency", "quantity", "condition",
    "condition_answers", "attributes", "photos", "shipping_options", "location_label", "country",
    "latitude", "longitude", "language",
)  # fmt: skip
_LOADED = "_bazaar_loaded_content"


def category_schema(category_id: Any) -> dict[str, Any] | None:
    if category_id is None:
        return None
    return db.session.execute(sa.select(Category.attributes_schema).where(Category.id == category_id)).scalar()


def refresh_derived(listing: Listing, *, complete: bool) -> None:
    """Check the content (raise 422 with every field error) and derive the condition score."""
    if listing.photos:
        listing.photos = sorted(listing.photos, key=lambda p: p.get("order", 0))
    grade = grade_of(listing.condition)
    rubric = load_rubrics().get(grade) if grade is not None else None
    errors, score = check_content(
        values_of(listing), category_schema=category_schema(listing.category_id), rubric=rubric, complete=complete
    )
    if errors:
        message = "The listing is not complete enough to publish." if complete else "The listing has invalid fields."
        raise ServiceError(message, status=422, errors=errors)
    listing.condition_score = score


def on_create(*, obj: Listing, actor: Actor) -> None:
    """A new listing is a draft: only the shape of what it carries is checked."""
    obj.status = S.DRAFT
    refresh_derived(obj, complete=False)


@event.listens_for(Listing, "load")
@event.listens_for(Listing, "refresh")
def _remember_content(target: Listing, *args: Any) -> None:
    """Keep the content as loaded: versions diff against it even after an autoflush."""
    target.__dict__[_LOADED] = {attr: copy.deepcopy(target.__dict__.get(attr)) for attr in CONTENT}


def _before(listing: Listing, attr: str) -> Any:
    loaded = listing.__dict__.get(_LOADED)
    if loaded is not None and attr in loaded:
        return loaded[attr]
    history = sa.inspect(listing).attrs[attr].history
    return history.deleted[0] if history.deleted else getattr(listing, attr)


def on_update(*, obj: Listing, actor: Actor, changes: dict[str, Any]) -> None:
    """Validate, then version edits of a listing buyers have seen (with the price history)."""
    status = S(obj.status)
    if status in FROZEN:
        raise ServiceError(
            f"A {status.value} listing cannot be edited.",
            status=409,
            errors={"status": [f"Is {status.value}; only drafts, published and paused listings are editable."]},
        )
    refresh_derived(obj, complete=status in VERSIONED)
    if status in VERSIONED:
        record_version(obj, actor)


def record_version(listing: Listing, actor: Actor) -> None:
    """Bump the version with the changed content fields; a price change joins the price history."""
    diff = {}
    for attr in CONTENT:
        before, after = _before(listing, attr), getattr(listing, attr)
        if before != after:
            diff[attr] = [_plain(before), _plain(after)]
    if not diff:
        return
    listing.version = (listing.version or 1) + 1
    db.session.add(
        ListingVersion(
            listing_id=listing.id, version=listing.version, actor_type=actor.type, actor_id=actor.id, changes=diff
        )
    )
    if "price_amount" in diff or "currency" in diff:
        old_amount = _before(listing, "price_amount")
        db.session.add(
            ListingPriceChange(
                listing_id=listing.id,
                old_amount=old_amount,
                new_amount=listing.price_amount,
                currency=listing.currency,
                version=listing.version,
            )
        )
        publish_event(
            ListingPriceChanged(
                aggregate_id=listing.id,
                actor=f"{actor.type}:{actor.id}" if actor.type != "system" else "system",
                listing_id=listing.id,
                seller_id=listing.seller_id,
                old_amount=old_amount,
                new_amount=listing.price_amount,
                currency=listing.currency,
                dropped=listing.price_amount < old_amount and "currency" not in diff,
                listing_version=listing.version,
            )
        )
    listing.__dict__[_LOADED] = {attr: copy.deepcopy(getattr(listing, attr)) for attr in CONTENT}


def _plain(value: Any) -> Any:
    if hasattr(value, "value"):
        return value.value
    if hasattr(value, "hex") and not isinstance(value, bytes | str | int | float):
        return str(value)
    return value
