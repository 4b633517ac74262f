"""Realtime pushes of the messaging domain, emitted only once the change they announce has committed.

Payloads are dumped with the same marshmallow schemas that document them (``/docs/realtime``) and are
built before the commit (ORM rows expire at commit). A push lost to a dropped connection or a Redis
hiccup loses nothing: the message is stored, and clients catch up with ``GET ...?after=<seq>``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from app.events import on_commit
from app.realtime import emit_to_room
from blueprints.messaging.schemas import MessageSchema, ReadReceiptSchema, ThreadUpdatedSchema

Emit = tuple[str, dict[str, Any], str]  # (event, payload, room)

_MESSAGE = MessageSchema()
_THREAD_UPDATED = ThreadUpdatedSchema()
_READ_RECEIPT = ReadReceiptSchema()


def message_view(message: Any, attachments: Iterable[Any] = ()) -> dict[str, Any]:
    """A stored message as clients see it (REST items, ``message.new``, acks)."""
    return _MESSAGE.dump(
        {
            "id": message.id,
            "thread_id": message.thread_id,
            "seq": message.seq,
            "kind": message.kind.value if hasattr(message.kind, "value") else message.kind,
            "sender_id": message.sender_id,
            "client_id": message.client_id,
            "body": message.body,
            "system_code": message.system_code,
            "data": message.data or {},
            "attachments": [
                {
                    "id": a.id,
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "size": a.size,
                    "checksum": a.checksum,
                }
                for a in attachments
            ],
            "created_at": message.created_at,
        }
    )


def thread_updated(**fields: Any) -> dict[str, Any]:
    return _THREAD_UPDATED.dump(fields)


def read_receipt(result: Any) -> dict[str, Any]:
    return _READ_RECEIPT.dump(result)


def to_user(user_id: uuid.UUID, state: dict[str, Any]) -> Emit:
    return ("thread.updated", state, f"user:{user_id}")


def after_commit(emits: list[Emit]) -> None:
    """Emit each ``(event, payload, room)`` after the current transaction commits (never if it rolls back)."""

    def send() -> None:
        for event, payload, room in emits:
            emit_to_room(event, payload, room)

    on_commit(send)
