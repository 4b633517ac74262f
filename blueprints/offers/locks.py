"""Transaction-scoped advisory locks that serialise the writes which must not interleave.

The *book* lock of a listing is held by whatever adds an offer to it (create, counter) or takes it
off the market (accept), so no offer can appear on a listing between an acceptance's sweep of the
open offers and its commit. The *buyer* lock makes the per-buyer anti-spam counts exact. Both are
released by COMMIT or ROLLBACK; the offers domain never locks another domain's rows.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text

from app.db import db

_BOOK = 0x0FFE_0001
_BUYER = 0x0FFE_0002
_LOCK = text("SELECT pg_advisory_xact_lock(:space, :key)")


def _key(value: uuid.UUID) -> int:
    """A signed 32-bit key from a UUID (a collision only makes two listings wait for each other)."""
    return int.from_bytes(value.bytes[:4], "big", signed=True)


def lock_book(listing_id: uuid.UUID) -> None:
    db.session.execute(_LOCK, {"space": _BOOK, "key": _key(listing_id)})


def lock_buyer(buyer_id: uuid.UUID) -> None:
    db.session.execute(_LOCK, {"space": _BUYER, "key": _key(buyer_id)})
