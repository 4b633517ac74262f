"""Realtime pushes of the messaging domain, emitted only once the change they announce has committed.

Payloads are plain JSON-ready dicts built before the commit (ORM rows expire at commit), in the shapes
the marshmallow schemas of ``schemas.py`` document (``/docs/realtime``; tests validate real payloads
against that document). Building them by hand keeps marshmallow off the hot path of chat. A push lost
to a dropped connection or a Redis hiccup loses nothing: the message is stored, and clients catch up
with ``GET ...?after=<seq>``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from app.events import on_commit
from app.realtime import emit_to_room

Emit = tuple[str, dict[str, Any], str | list[str]]  # (event, payload, room or rooms)


def _id(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def message_dict(
    *,
    id: uuid.UUID,
    thread_id: uuid.UUID,
    seq: int,
    kind: str,
    sender_id: uuid.UUID | None,
    client_id: str,
    body: str,
    system_code: str | None,
    data: dict[str, Any],
    attachments: Iterable[Any],
    created_at: datetime,
) -> dict[str, Any]:
    """A stored message as clients see it (REST items, ``message.new``, acks): ``MessageSchema``."""
    return {
        "id": str(id),
        "thread_id": str(thread_id),
        "seq": seq,
        "kind": kind,
        "sender_id": _id(sender_id),
        "client_id": client_id,
        "body": body,
        "system_code": system_code,
        "data": data,
        "attachments": [
            {
                "id": str(a.id),
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "checksum": a.checksum,
            }
            for a in attachments
        ],
        "created_at": created_at.isoformat(),
    }


def message_view(message: Any, attachments: Iterable[Any] = ()) -> dict[str, Any]:
    """``message_dict`` of a stored ``Message`` row."""
    return message_dict(
        id=message.id,
        thread_id=message.thread_id,
        seq=message.seq,
        kind=message.kind.value if hasattr(message.kind, "value") else message.kind,
        sender_id=message.sender_id,
        client_id=message.client_id,
        body=message.body,
        system_code=message.system_code,
        data=message.data or {},
        attachments=attachments,
        created_at=message.created_at,
    )


def thread_updated(
    *,
    thread_id: uuid.UUID,
    reason: str,
    last_seq: int,
    last_activity_at: datetime,
    read_seq: int,
    unread_count: int,
    archived: bool,
) -> dict[str, Any]:
    """``thread.updated`` for one participant: ``ThreadUpdatedSchema``."""
    return {
        "thread_id": str(thread_id),
        "reason": reason,
        "last_seq": last_seq,
        "last_activity_at": last_activity_at.isoformat(),
        "read_seq": read_seq,
        "unread_count": unread_count,
        "archived": archived,
    }


def read_receipt(result: Any) -> dict[str, Any]:
    """``message.read``: ``ReadReceiptSchema``."""
    return {
        "thread_id": str(result.thread_id),
        "user_id": str(result.user_id),
        "read_seq": result.read_seq,
        "message_id": str(result.message_id),
        "read_at": result.read_at.isoformat(),
    }


def to_user(user_id: uuid.UUID, state: dict[str, Any]) -> Emit:
    return ("thread.updated", state, f"user:{user_id}")


def now(emits: list[Emit]) -> None:
    """Emit each ``(event, payload, rooms)`` at once: for a change already committed (autocommit).

    Several rooms in one emit cost one message-queue publish, and a socket in more than one of them
    gets the event once."""
    for event, payload, rooms in emits:
        emit_to_room(event, payload, rooms)  # type: ignore[arg-type]


def after_commit(emits: list[Emit]) -> None:
    """:func:`now`, once the current transaction commits (never if it rolls back)."""
    on_commit(lambda: now(emits))
