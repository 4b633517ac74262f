"""The baseline of bench/chat.py: a bare Flask-SocketIO relay, no auth, no database, no schemas.

Same server stack as Bazaar's realtime gateway (gunicorn gthread, threading mode, simple-websocket,
the Redis message queue, namespace ``/realtime``), so the ratio measures what authentication,
validation, persistence, events and the extra pushes cost. ``room.join`` joins any room;
``message.send`` emits the payload to its thread room as ``message.new`` and acks.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from flask_socketio import SocketIO, join_room

NAMESPACE = "/realtime"

app = Flask(__name__)
socketio = SocketIO(
    app,
    async_mode="threading",
    message_queue=os.environ["REDIS_URL"],
    channel="bench-relay",
    max_http_buffer_size=256 * 1024,
    async_handlers=False,  # as app/realtime.py
)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@socketio.on("room.join", namespace=NAMESPACE)
def room_join(payload: dict[str, Any]) -> dict[str, Any]:
    join_room(payload["room"])
    return {"ok": True, "room": payload["room"]}


@socketio.on("message.send", namespace=NAMESPACE)
def message_send(payload: dict[str, Any]) -> dict[str, Any]:
    socketio.emit("message.new", payload, to=f"thread:{payload['thread_id']}", namespace=NAMESPACE)
    return {"ok": True, "id": payload["client_id"]}
