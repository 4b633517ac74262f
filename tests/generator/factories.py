"""Rows of the demo domain, written straight to the database (the API is what the tests exercise)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from app.db import utcnow
from app.extensions import db
from tests.generator.demo import Condition, Item, Shelf, Status


def make_shelf(app, **fields: Any) -> uuid.UUID:  # type: ignore[no-untyped-def]
    with app.app_context():
        suffix = uuid.uuid4().hex[:8]
        shelf = Shelf(name=fields.pop("name", f"Shelf {suffix}"), slug=fields.pop("slug", f"shelf-{suffix}"), **fields)
        db.session.add(shelf)
        db.session.commit()
        return shelf.id


def make_item(app, *, shelf_id: uuid.UUID, seller_id: uuid.UUID | None = None, **fields: Any) -> uuid.UUID:  # type: ignore[no-untyped-def]
    with app.app_context():
        values: dict[str, Any] = {
            "title": "A thing",
            "price_amount": 1000,
            "currency": "EUR",
            "condition": Condition.GOOD,
            "status": Status.PUBLISHED,
        }
        values.update(fields)
        item = Item(shelf_id=shelf_id, seller_id=seller_id or uuid.uuid4(), **values)
        db.session.add(item)
        db.session.commit()
        return item.id


def make_items(app, count: int, *, shelf_id: uuid.UUID, **fields: Any) -> list[uuid.UUID]:  # type: ignore[no-untyped-def]
    """``count`` published items with distinct, increasing created_at (one second apart)."""
    start = utcnow() - timedelta(days=1)
    with app.app_context():
        rows = []
        for index in range(count):
            values: dict[str, Any] = {
                "title": f"Item {index:03d}",
                "price_amount": 100 * (index + 1),
                "currency": "EUR",
                "condition": Condition.GOOD,
                "status": Status.PUBLISHED,
                "seller_id": uuid.uuid4(),
                "created_at": start + timedelta(seconds=index),
            }
            values.update(fields)
            rows.append(Item(shelf_id=shelf_id, **values))
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
