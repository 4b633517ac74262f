"""Writing validated rows: new listings by COPY, existing ones (same seller and sku) updated or skipped.

Runs inside the caller's transaction. A per-seller advisory lock serialises concurrent imports of
one seller, so the sku lookup and the COPY see the same rows; the (seller_id, sku) unique key is the
last guard against a duplicate.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.db import db, utcnow
from app.events import NOTIFY_CHANNEL, OutboxEvent, outbox_values
from app.generator import Actor, ServiceError
from blueprints.listings.bulk.rows import DEFAULTS, Issue, ValidRow
from blueprints.listings.events import ListingPublished
from blueprints.listings.models import Listing, ListingStatus, ListingStatusChange

COPY_COLUMNS = (
    "id", "seller_id", "category_id", "title", "description", "price_amount", "currency", "quantity",
    "condition", "condition_answers", "condition_score", "attributes", "photos", "shipping_options",
    "location_label", "country", "latitude", "longitude", "language", "sku", "status", "published_at",
    "version", "created_at", "updated_at",
)  # fmt: skip
COMPARED = (
    "category_id", "title", "description", "price_amount", "currency", "quantity", "condition",
    "condition_answers", "attributes", "photos", "shipping_options", "location_label", "country",
    "latitude", "longitude", "language",
)  # fmt: skip
IMPORTER = Actor.system("listings.import")
DELETED_SKU = "A deleted listing of this seller has this sku."
_STATUS, _DELETED, _FIRST_COMPARED = 2, 3, 4  # existing rows are (id, sku, status, deleted, *COMPARED)
_PUBLISHABLE = frozenset({ListingStatus.DRAFT.value, ListingStatus.PAUSED.value})  # what _update publishes


# A per-seller advisory lock serialises concurrent imports of one seller (they see the same skus).
LOCK_SELLER = "SELECT pg_advisory_xact_lock(hashtextextended(%(seller_id)s::text, 7))"
# The rows holding the batch's skus, deleted ones too (the unique key still holds their sku).
EXISTING = f"""
SELECT id, sku, status::text, deleted_at IS NOT NULL, {", ".join(COMPARED)}
FROM listings.listings WHERE seller_id = %(seller_id)s AND sku = ANY(%(skus)s::varchar[])
"""  # noqa: S608 - column names from COMPARED


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    skipped: int = 0


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") and not isinstance(value, str) else value


def write_rows(seller_id: uuid.UUID, rows: list[ValidRow], issues: list[Issue]) -> Outcome:
    """Create, update or skip each row (by sku); rows that cannot be applied are added to ``issues``."""
    outcome = Outcome()
    if not rows:
        return outcome
    connection = db.session.connection().connection.driver_connection
    with connection.cursor() as cursor:
        # driver SQL: the ORM's per-row result processing cost more than decoding the rows' JSON
        cursor.execute(LOCK_SELLER, {"seller_id": seller_id})
        cursor.execute(EXISTING, {"seller_id": seller_id, "skus": [r.sku for r in rows]})
        existing = {found[1]: found for found in cursor}
    fresh = [r for r in rows if r.sku not in existing]
    _copy_new(seller_id, fresh)
    outcome.created = len(fresh)
    for row in rows:
        current = existing.get(row.sku)
        if current is None:
            continue
        if current[_DELETED]:  # the seller deleted it: neither brought back nor duplicated (the sku stays taken)
            issues.append(Issue(row.row, "sku", "conflict", DELETED_SKU, row.sku))
            continue
        values = row.values
        wanted = tuple([values.get(c, DEFAULTS.get(c)) for c in COMPARED])
        # one tuple comparison (enums are StrEnums: equal to their values); a kept draft may still need publishing
        if current[_FIRST_COMPARED:] == wanted and not (row.publish and current[_STATUS] in _PUBLISHABLE):
            outcome.skipped += 1
            continue
        try:
            _update(current[0], dict(zip(COMPARED, wanted, strict=True)), publish=row.publish)
            outcome.updated += 1
        except ServiceError as error:
            # the savepoint undid this row only; the batch goes on and the row is reported
            for field, messages in (error.errors or {"row": [error.message]}).items():
                issues.extend(Issue(row.row, field, "not_applied", m, row.sku) for m in messages)
    return outcome


# json.dumps' output, one encoder; no cycle check (documents parsed from JSON have no cycles; it was ~10 %)
_DUMPS = json.JSONEncoder(ensure_ascii=True, separators=(", ", ": "), check_circular=False).encode
_PUBLISHED, _DRAFT = ListingStatus.PUBLISHED.value, ListingStatus.DRAFT.value


# What COPY's text format escapes (the characters psycopg's write_row escapes), and how.
_COPY_SPECIAL = re.compile("[\b\t\n\v\f\r\\\\]").search
_COPY_ESCAPES = str.maketrans(
    {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r", "\\": "\\\\"}
)
_NULL = "\\N"


def copy_text(row: ValidRow) -> str:
    """The row's COPY text for the columns ``category_id`` to ``sku`` of ``COPY_COLUMNS``.

    The text psycopg's ``write_row`` sends for them (``str()`` of numbers, ``.hex`` of UUIDs, ``\\N`` for
    NULL, COPY escapes), formatted without its per-value adaptation, so that the import's validating child
    can do it off the writing process. Text cells are escaped only if one of them needs it (one scan).
    """
    get = row.values.get  # validation already merged DEFAULTS into the values

    def document(column: str) -> str:
        value = get(column)
        return _DUMPS(value if value is not None else DEFAULTS[column])

    texts = [
        get("title"), get("description"), get("currency"), _plain(get("condition")), document("condition_answers"),
        document("attributes"), document("photos"), document("shipping_options"), get("location_label"),
        get("country"), get("language"), get("sku"),
    ]  # fmt: skip
    if _COPY_SPECIAL("".join(filter(None, texts))):
        texts = [text.translate(_COPY_ESCAPES) if text else text for text in texts]
    title, description, currency, condition, answers, attributes, photos, shipping, label, country, language, sku = [
        _NULL if text is None else text for text in texts
    ]
    price, quantity, score, latitude, longitude = (
        get("price_amount"), get("quantity"), get("condition_score"), get("latitude"), get("longitude")
    )  # fmt: skip
    return (
        f"{get('category_id').hex}\t{title}\t{description}\t{_NULL if price is None else price}\t{currency}\t"
        f"{_NULL if quantity is None else quantity}\t{condition}\t{answers}\t{_NULL if score is None else score}\t"
        f"{attributes}\t{photos}\t{shipping}\t{label}\t{country}\t{_NULL if latitude is None else latitude}\t"
        f"{_NULL if longitude is None else longitude}\t{language}\t{sku}"
    )


def _copy_new(seller_id: uuid.UUID, rows: list[ValidRow]) -> None:
    if not rows:
        return
    now = utcnow()
    published: list[tuple[uuid.UUID, ValidRow]] = []
    connection = db.session.connection().connection.driver_connection
    with connection.cursor() as cursor:
        columns = ", ".join(COPY_COLUMNS)
        with cursor.copy(f"COPY listings.listings ({columns}) FROM STDIN") as copy:
            random = os.urandom(16 * len(rows))  # one read of the system's randomness for the batch's ids
            seller, stamp, lines = seller_id.hex, str(now), []
            for index, row in enumerate(rows):
                listing_id = uuid.UUID(bytes=random[16 * index : 16 * index + 16], version=4)
                text = row.copy_text or copy_text(row)  # formatted ahead by the validating child, if any
                if row.publish:
                    lines.append(f"{listing_id.hex}\t{seller}\t{text}\t{_PUBLISHED}\t{stamp}\t1\t{stamp}\t{stamp}\n")
                    published.append((listing_id, row))
                else:
                    lines.append(f"{listing_id.hex}\t{seller}\t{text}\t{_DRAFT}\t{_NULL}\t1\t{stamp}\t{stamp}\n")
            copy.write("".join(lines))
    if published:
        db.session.execute(
            sa.insert(ListingStatusChange),
            [
                {
                    "id": uuid.uuid4(),
                    "listing_id": lid,
                    "occurred_at": now,
                    "transition": "publish",
                    "from_status": "draft",
                    "to_status": "published",
                    "actor_type": IMPORTER.type,
                    "actor_id": IMPORTER.id,
                    "reason": "bulk import",
                }
                for lid, _row in published
            ],
        )
        # one multi-row INSERT for the batch's events (publish() would flush one ORM object per event);
        # the same rows publish() writes, and the NOTIFY its commit hook would send
        events = [
            outbox_values(
                ListingPublished(
                    aggregate_id=lid,
                    actor="system",
                    listing_id=lid,
                    seller_id=seller_id,
                    from_status="draft",
                    to_status="published",
                    reason="bulk import",
                    title=row.values["title"],
                    price_amount=row.values["price_amount"],
                    currency=row.values["currency"],
                    category_id=row.values["category_id"],
                )
            )
            for lid, row in published
        ]
        db.session.execute(sa.insert(OutboxEvent), events)
        db.session.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})


def _update(listing_id: uuid.UUID, wanted: dict[str, Any], *, publish: bool) -> None:
    """An existing listing changed in the file: the same path as an API edit (versions, price history)."""
    from blueprints.listings import editing, service

    listing = db.session.execute(sa.select(Listing).where(Listing.id == listing_id).with_for_update()).scalar_one()
    with db.session.begin_nested():
        for column, value in wanted.items():
            setattr(listing, column, value)
        editing.on_update(obj=listing, actor=IMPORTER, changes=wanted)
        db.session.flush()
        if publish and ListingStatus(listing.status) in (ListingStatus.DRAFT, ListingStatus.PAUSED):
            service.publish(listing_id=listing.id, actor=IMPORTER)
