"""Keyset (cursor) pagination: opaque signed cursors, stable while rows are inserted concurrently.

A cursor holds the sort key values of the row it continues from, the direction (next or prev) and
a fingerprint of the query it belongs to, signed with the app's secret (itsdangerous) and
time-stamped. A forged, truncated, expired or foreign cursor (issued for other filters or another
sort) is a 400 naming ``cursor``, never a 500 or a silently wrong page. Because pages continue from
key values rather than offsets, rows inserted meanwhile never shift a page: no duplicates, no gaps.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_smorest import abort
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.generator.filtering import SortKey

CURSOR_MAX_AGE_SECONDS = 24 * 3600
NEXT, PREV = "n", "p"


def query_fingerprint(parts: Mapping[str, Any]) -> str:
    """Short hash of everything that selects and orders rows (not limit, fields or embed)."""
    data = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.blake2b(data.encode(), digest_size=8).hexdigest()


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


class CursorCodec:
    """Signs and reads cursors for one resource (its own salt: a cursor of another resource fails)."""

    def __init__(self, secret: str, salt: str, column_types: Mapping[str, sa.types.TypeEngine]) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=salt)
        self._types = column_types

    def encode(self, direction: str, keys: Sequence[SortKey], row: Any, fingerprint: str) -> str:
        values = [_encode_value(getattr(row, key.column)) for key in keys]
        return self._serializer.dumps({"d": direction, "v": values, "q": fingerprint})

    def decode(self, token: str, keys: Sequence[SortKey], fingerprint: str) -> tuple[str, list[Any]]:
        try:
            data = self._serializer.loads(token, max_age=CURSOR_MAX_AGE_SECONDS)
        except SignatureExpired:
            abort(
                400,
                message="The cursor has expired; start again from the first page.",
                errors={"cursor": ["Expired cursor."]},
            )
        except BadSignature:
            abort(400, message="The cursor is not valid.", errors={"cursor": ["Invalid cursor."]})
        if not isinstance(data, dict) or data.get("q") != fingerprint:
            abort(
                400,
                message="The cursor belongs to another query (filters or sort changed).",
                errors={"cursor": ["Cursor does not match this query."]},
            )
        values = data.get("v")
        if data.get("d") not in (NEXT, PREV) or not isinstance(values, list) or len(values) != len(keys):
            abort(400, message="The cursor is not valid.", errors={"cursor": ["Invalid cursor."]})
        try:
            decoded = [self._decode_value(key.column, value) for key, value in zip(keys, values, strict=True)]
        except (TypeError, ValueError):
            abort(400, message="The cursor is not valid.", errors={"cursor": ["Invalid cursor."]})
        return data["d"], decoded

    def _decode_value(self, column: str, value: Any) -> Any:
        if value is None:
            raise ValueError("null key")
        column_type = self._types[column]
        if isinstance(column_type, sa.DateTime):
            return datetime.fromisoformat(value)
        if isinstance(column_type, sa.Uuid):
            return uuid.UUID(value)
        if isinstance(column_type, sa.Integer):
            if not isinstance(value, int):
                raise TypeError("integer key")
            return value
        if isinstance(column_type, sa.Float | sa.Numeric):
            return value
        return str(value)


def keyset_clause(
    model: type, keys: Sequence[SortKey], values: Sequence[Any], direction: str
) -> sa.ColumnElement[bool]:
    """Rows strictly after (next) or before (prev) ``values`` in the order ``keys``."""
    columns = [getattr(model, key.column) for key in keys]
    forward = direction == NEXT
    if all(k.descending == keys[0].descending for k in keys):
        # One direction for every key: a row-value comparison, which PostgreSQL serves from an index.
        after = keys[0].descending != forward
        left, right = sa.tuple_(*columns), sa.tuple_(*values)
        return left > right if after else left < right
    ors = []
    for index, key in enumerate(keys):
        after = key.descending != forward
        head = [columns[i] == values[i] for i in range(index)]
        step = columns[index] > values[index] if after else columns[index] < values[index]
        ors.append(sa.and_(*head, step))
    return sa.or_(*ors)


def order_by(model: type, keys: Sequence[SortKey], direction: str) -> list[Any]:
    reverse = direction == PREV
    ordering = []
    for key in keys:
        column = getattr(model, key.column)
        ordering.append(column.desc() if key.descending != reverse else column.asc())
    return ordering


def codec_for(salt: str, column_types: Mapping[str, sa.types.TypeEngine]) -> CursorCodec:
    return CursorCodec(current_app.config["SECRET_KEY"], salt, column_types)
