"""Rows for generator tests, written straight to the database (the API is what the tests exercise)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from app.db import utcnow
from app.extensions import db
from blueprints.listings.models import Category, Listing, ListingCondition, ListingStatus


def make_category(app, **fields: Any) -> uuid.UUID:  # type: ignore[no-untyped-def]
    with app.app_context():
        suffix = uuid.uuid4().hex[:8]
        category = Category(
            name=fields.pop("name", f"Category {suffix}"), slug=fields.pop("slug", f"cat-{suffix}"), **fields
        )
        db.session.add(category)
        db.session.commit()
        return category.id


def make_listing(app, *, category_id: uuid.UUID, seller_id: uuid.UUID | None = None, **fields: Any) -> uuid.UUID:  # type: ignore[no-untyped-def]
    with app.app_context():
        values: dict[str, Any] = {
            "title": "A thing",
            "price_amount": 1000,
            "currency": "EUR",
            "condition": ListingCondition.GOOD,
            "status": ListingStatus.PUBLISHED,
        }
        values.update(fields)
        listing = Listing(category_id=category_id, seller_id=seller_id or uuid.uuid4(), **values)
        db.session.add(listing)
        db.session.commit()
        return listing.id


def make_listings(app, count: int, *, category_id: uuid.UUID, **fields: Any) -> list[uuid.UUID]:  # type: ignore[no-untyped-def]
    """``count`` listings with distinct, increasing created_at (one second apart)."""
    start = utcnow() - timedelta(days=1)
    with app.app_context():
        rows = []
        for index in range(count):
            values: dict[str, Any] = {
                "title": f"Item {index:03d}",
                "price_amount": 100 * (index + 1),
                "currency": "EUR",
                "condition": ListingCondition.GOOD,
                "status": ListingStatus.PUBLISHED,
                "seller_id": uuid.uuid4(),
                "created_at": start + timedelta(seconds=index),
            }
            values.update(fields)
            rows.append(Listing(category_id=category_id, **values))
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


@contextmanager
def count_statements(app) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """Every SQL statement the app's engine runs inside the block."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
