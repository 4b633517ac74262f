"""Rows for listings tests: categories with attribute schemas and complete listings (via the models)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from app.db import utcnow
from app.extensions import db
from blueprints.listings.conditions import condition_score, load_rubrics
from blueprints.listings.models import Category, Listing, ListingCondition, ListingStatus

CAMERA_SCHEMA = {
    "type": "object",
    "properties": {
        "brand": {"type": "string", "minLength": 1},
        "mount": {"type": "string", "enum": ["EF", "F", "E", "M", "X"]},
        "megapixels": {"type": "number", "minimum": 1},
    },
    "required": ["brand"],
    "additionalProperties": False,
}


def photos(count: int = 3) -> list[dict[str, Any]]:
    return [
        {
            "key": f"photos/{n}.jpg",
            "content_type": "image/jpeg",
            "size_bytes": 2000,
            "width": 800,
            "height": 600,
            "order": n,
        }
        for n in range(count)
    ]


COMPLETE: dict[str, Any] = {
    "description": "Well kept, works as it should, collection in town.",
    "photos": photos(3),
    "shipping_options": [{"method": "pickup", "price_amount": 0, "days_min": 0, "days_max": 0}],
    "condition": ListingCondition.GOOD,
    "condition_answers": {"flaws": "none", "stains": False, "missing_parts": False},
    "attributes": {"brand": "Canon"},
}


def make_category(*, name: str, parent_id: uuid.UUID | None = None, schema: dict | None = None) -> uuid.UUID:
    slug = name.lower().replace(" ", "-") + "-" + uuid.uuid4().hex[:4]
    category = Category(name=name, slug=slug, parent_id=parent_id, attributes_schema=schema or {})
    db.session.add(category)
    db.session.commit()
    return category.id


def make_listing(*, category_id: uuid.UUID, seller_id: uuid.UUID | None = None, **fields: Any) -> uuid.UUID:
    values: dict[str, Any] = {
        "title": "Canon EOS camera",
        "price_amount": 25_000,
        "currency": "EUR",
        "status": ListingStatus.DRAFT,
        **COMPLETE,
    }
    values.update(fields)
    if "age_seconds" in values:
        values["created_at"] = utcnow() - timedelta(seconds=values.pop("age_seconds"))
    rubric = load_rubrics()[ListingCondition(values["condition"])]
    values.setdefault("condition_score", condition_score(rubric, values["condition_answers"]))
    listing = Listing(category_id=category_id, seller_id=seller_id or uuid.uuid4(), **values)
    db.session.add(listing)
    db.session.commit()
    return listing.id
