"""Socket.IO server (namespace ``/realtime``) bound per app, and the emit helper any process can use.

Web processes share rooms through the Redis message queue; workers and other processes emit through
:func:`external_emitter`, which writes to the same queue without serving sockets (DESIGN.md §5).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_socketio import SocketIO

NAMESPACE = "/realtime"


def init_app(app: Flask) -> SocketIO:
    socketio = SocketIO(
        app,
        async_mode="threading",  # explicit: installing gevent must not silently change the mode
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"] or None,
        cors_allowed_origins=[o for o in app.config["CORS_ORIGINS"].split(",") if o] or [],
        logger=False,
        engineio_logger=False,
        channel=app.config.get("SOCKETIO_CHANNEL", "bazaar-socketio"),
    )
    app.extensions["bazaar_socketio"] = socketio
    return socketio


def get_socketio() -> SocketIO:
    return current_app.extensions["bazaar_socketio"]


def external_emitter(redis_url: str, channel: str = "bazaar-socketio") -> SocketIO:
    """A write-only Socket.IO for RQ jobs and the relay: emits reach clients of every web process."""
    return SocketIO(message_queue=redis_url, channel=channel, write_only=True)


def emit_to_room(event: str, payload: Any, room: str) -> None:
    """Emit from inside an app context (request, job or CLI), through the message queue when configured."""
    socketio = current_app.extensions.get("bazaar_socketio")
    if socketio is None:
        socketio = external_emitter(current_app.config["SOCKETIO_MESSAGE_QUEUE"])
    socketio.emit(event, payload, to=room, namespace=NAMESPACE)
