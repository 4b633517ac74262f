"""Catalog set-up for seeds and tools: categories by slug, the default rubrics, listings from rows.

Exposed through :mod:`blueprints.listings.service`. Every function is idempotent: categories and
rubrics are found by slug and grade, listings by (seller, sku), so running twice changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from app.db import db
from app.generator import ServiceError
from blueprints.listings.conditions import DEFAULT_RUBRICS
from blueprints.listings.models import Category, ConditionRubric, Listing
from blueprints.listings.validation import check_attributes_schema


def ensure_category(
    *, slug: str, name: str, parent_slug: str | None = None, attributes_schema: Mapping[str, Any] | None = None
) -> uuid.UUID:
    """The category with this slug (created, or its name, parent and schema brought up to date)."""
    problems = check_attributes_schema(dict(attributes_schema or {}))
    if problems:
        raise ServiceError("The attributes schema is not valid.", status=422, errors={"attributes_schema": problems})
    parent_id = None
    if parent_slug is not None:
        parent_id = db.session.execute(sa.select(Category.id).where(Category.slug == parent_slug)).scalar()
        if parent_id is None:
            raise ServiceError("No such parent category.", status=422, errors={"parent_slug": ["No such Category."]})
    category = db.session.execute(sa.select(Category).where(Category.slug == slug)).scalar_one_or_none()
    if category is None:
        category = Category(slug=slug, name=name)
        db.session.add(category)
    category.name, category.parent_id = name, parent_id
    category.attributes_schema = dict(attributes_schema or {})
    db.session.flush()
    return category.id


def ensure_rubrics() -> int:
    """Store the built-in rubric of every grade that has none yet (so staff can edit them); returns how many."""
    have = set(db.session.execute(sa.select(ConditionRubric.grade)).scalars())
    added = 0
    for grade, values in DEFAULT_RUBRICS.items():
        if grade not in have:
            db.session.add(ConditionRubric(grade=grade, **values))
            added += 1
    db.session.flush()
    return added


def import_rows(
    *, seller_id: uuid.UUID, rows: Iterable[Mapping[str, Any]], keep_existing: bool = False
) -> dict[str, Any]:
    """Create or update the seller's listings from JSON-Lines-shaped rows, validated like the API.

    ``keep_existing`` (seeds): rows whose sku the seller already has, even deleted, are skipped
    unread, so a second seed leaves alone what happened since (a sale, a staff edit, a removal).
    Returns counts and the issues of rows that were refused (nothing is written for those).
    """
    from blueprints.listings.bulk.rows import RowValidator, ValidRow
    from blueprints.listings.bulk.writing import write_rows

    rows = list(rows)
    existing: set[str] = set()
    if keep_existing:
        skus = [row.get("sku") for row in rows]
        existing = set(
            db.session.execute(
                sa.select(Listing.sku).where(Listing.seller_id == seller_id, Listing.sku.in_(skus))
            ).scalars()
        )
    validator = RowValidator(seller_id=seller_id, is_csv=False)
    valid, issues, kept = [], [], 0
    for number, raw in enumerate(rows, start=1):
        if raw.get("sku") in existing:
            kept += 1
            continue
        result = validator.validate(number, raw)
        if isinstance(result, ValidRow):
            valid.append(result)
        else:
            issues.extend(result)
    outcome = write_rows(seller_id, valid, issues)
    return {"created": outcome.created, "updated": outcome.updated, "skipped": outcome.skipped + kept, "issues": issues}


def seller_for_sku(*, sku: str) -> uuid.UUID | None:
    """Whose listing carries this external id (seeds find their demo sellers again)."""
    return db.session.execute(sa.select(Listing.seller_id).where(Listing.sku == sku).limit(1)).scalar()


def listing_for_sku(*, seller_id: uuid.UUID, sku: str) -> uuid.UUID | None:
    """The id of the seller's listing with this external id (seeds find their demo listings again)."""
    return db.session.execute(
        sa.select(Listing.id).where(Listing.seller_id == seller_id, Listing.sku == sku, Listing.deleted_at.is_(None))
    ).scalar()
