"""Multi-row inserts of the fan-out as ONE statement each: columns sent as arrays, unnest()ed server-side.

A multi-row VALUES of 250 rows x 20 columns costs psycopg more to parse than PostgreSQL to insert;
a dozen array parameters cost nothing, whatever the batch size.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import TextClause, text

NOTE_COLUMNS = {
    "id": "uuid",
    "user_id": "uuid",
    "kind": "text",
    "event_id": "uuid",
    "event_type": "text",
    "title": "text",
    "body": "text",
    "link": "text",
    "in_app": "boolean",
    "data": "jsonb",
    "created_at": "timestamptz",
}
DELIVERY_COLUMNS = {
    "id": "uuid", "notification_id": "uuid", "user_id": "uuid", "event_id": "uuid", "kind": "text",
    "channel": "text", "status": "text", "attempts": "integer", "batch_id": "uuid", "not_before": "timestamptz",
    "digest_key": "text", "address": "text", "resends": "integer", "created_at": "timestamptz",
    "updated_at": "timestamptz",
}  # fmt: skip


def _unnest_insert(table: str, columns: dict[str, str], conflict: str, returning: str = "") -> TextClause:
    names = ", ".join(columns)
    arrays = ", ".join(f"CAST(:{c} AS {'text' if t == 'jsonb' else t}[])" for c, t in columns.items())
    values = ", ".join(f"t.{c}::jsonb" if t == "jsonb" else f"t.{c}" for c, t in columns.items())
    return text(
        f"INSERT INTO notifications.{table} ({names}) SELECT {values} FROM unnest({arrays}) AS t({names}) "  # noqa: S608 - fixed identifiers
        f"ON CONFLICT ON CONSTRAINT {conflict} DO NOTHING {returning}"
    )


INSERT_NOTIFICATIONS = _unnest_insert("notifications", NOTE_COLUMNS, "uq_notifications_event_user", "RETURNING id")
INSERT_DELIVERIES = _unnest_insert("deliveries", DELIVERY_COLUMNS, "uq_deliveries_dedup")


def as_columns(rows: list[dict[str, Any]], columns: dict[str, str]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {name: [] for name in columns}
    for row in rows:
        for name, kind in columns.items():
            value = row.get(name)
            out[name].append(json.dumps(value, default=str) if kind == "jsonb" else value)
    return out
