"""Socket.IO side of messaging on ``/realtime``: who may join ``thread:<id>``, and the client events.

- ``room.join {"room": "thread:<id>"}``: participants only; anyone else gets the same 404 ack as for a
  thread that does not exist.
- ``message.send``: the REST send with ``thread_id``; acked with the stored message (``duplicate`` for a
  resend of the same ``client_id``). Persisted and committed first (a text message in one autocommit
  statement), then ``message.new`` goes to the room.
- ``message.read``: read receipt up to a message; ``message.read`` goes to the room.
- ``typing``: relayed to the thread room (not to the sender) at most once per user and thread every
  ``TYPING_THROTTLE_MS`` (Redis ``SET NX PX``, shared by every web process).
Errors are acks ``{"error": {"status", "title", "errors"}}`` (see ``app.realtime.on``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request

from app.db import db
from app.generator import Actor, ServiceError
from app.realtime import NAMESPACE, SocketError, get_socketio, on, register_room_authorizer
from app.security import Principal
from blueprints.messaging import sending, threads
from blueprints.messaging.schemas import (
    SocketMarkReadSchema,
    SocketMessageSendSchema,
    SocketTypingSchema,
    TypingEventSchema,
)

T = TypeVar("T")
TYPING_THROTTLE_MS = 2000
TYPING_KEY = "messaging:typing:{thread_id}:{user_id}"

_SEND = SocketMessageSendSchema()
_READ = SocketMarkReadSchema()
_TYPING = SocketTypingSchema()
_TYPING_EVENT = TypingEventSchema()


def authorize_thread_room(principal: Principal, room_id: str) -> bool:
    try:
        thread_id = uuid.UUID(room_id)
    except ValueError:
        return False
    return threads.is_participant(thread_id, principal.user_id)


def _run(func: Callable[..., T], /, **kwargs: Any) -> T:
    """Call a service in this event's transaction; a refusal rolls back and becomes an error ack."""
    try:
        return func(**kwargs)
    except ServiceError as error:
        db.session.rollback()
        raise SocketError(error.status, error.message, error.errors or None) from None


def message_send(principal: Principal, payload: Any) -> dict[str, Any]:
    data = _SEND.load(payload)
    actor = Actor.from_principal(principal)
    if data.get("attachment_ids"):
        result = _run(sending.send_message, thread_id=data.pop("thread_id"), actor=actor, **data)
        db.session.commit()
    else:  # one autocommit statement, pushed once it returns
        result = _run(
            sending.send_text_now,
            thread_id=data["thread_id"],
            actor=actor,
            client_id=data["client_id"],
            body=data["body"],
        )
    return {"ok": True, "duplicate": result.duplicate, "id": result.id, "message": result.message}


def message_read(principal: Principal, payload: Any) -> dict[str, Any]:
    data = _READ.load(payload)
    result = _run(
        threads.mark_read,
        thread_id=data["thread_id"],
        actor=Actor.from_principal(principal),
        message_id=data["message_id"],
    )
    db.session.commit()
    return {"ok": True, "read_seq": result.read_seq, "unread_count": result.unread_count}


def typing(principal: Principal, payload: Any) -> dict[str, Any]:
    data = _TYPING.load(payload)
    thread_id = data["thread_id"]
    if not threads.is_participant(thread_id, principal.user_id):
        raise SocketError(404, threads.NOT_FOUND)
    if data["typing"]:
        key = TYPING_KEY.format(thread_id=thread_id, user_id=principal.user_id)
        if not current_app.extensions["redis"].set(key, "1", px=TYPING_THROTTLE_MS, nx=True):
            return {"ok": True, "throttled": True}
    event = _TYPING_EVENT.dump({"thread_id": thread_id, "user_id": principal.user_id, "typing": data["typing"]})
    get_socketio().emit(
        "typing",
        event,
        to=f"thread:{thread_id}",
        skip_sid=request.sid,  # type: ignore[attr-defined]
        namespace=NAMESPACE,
    )
    return {"ok": True, "throttled": False}


CLIENT_EVENTS: dict[str, Callable[[Principal, Any], dict[str, Any]]] = {
    "message.send": message_send,
    "message.read": message_read,
    "typing": typing,
}


def register(app: Flask) -> None:
    register_room_authorizer(app, "thread", authorize_thread_room)
    for event, handler in CLIENT_EVENTS.items():
        # message.send touches no flask.request: chat's hot path skips the per-event Flask request.
        on(app, event, request_context=event != "message.send")(handler)
