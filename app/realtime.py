"""Socket.IO gateway (namespace ``/realtime``): authenticated connections, rooms, and emits from anywhere.

- Clients connect with their access token (``auth={"token": ...}``); a bad or expired token is refused
  with a clear connect error. Each socket joins ``user:<id>`` and ``session:<sid>``.
- Tokens expire: a reaper disconnects sockets whose token lapsed unless the client sent
  ``auth.refresh`` with a new one. Revoking a session disconnects its sockets in every process.
- Other rooms (``thread:<id>``...) are joined with ``room.join`` only when the owning domain's
  authorizer says the user may (domains register one per room kind).
- Handlers registered through :func:`on` get the principal, and any error becomes an error ack:
  a bad payload never crashes the socket server.
Web processes share rooms through the Redis message queue; workers emit via :func:`emit_to_room`.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request
from flask_socketio import ConnectionRefusedError, SocketIO, disconnect, join_room, leave_room
from marshmallow import ValidationError

from app.realtime_queue import PipelinedRedisManager
from app.security.identity import Principal, authenticate_token
from app.security.tokens import TokenError

log = logging.getLogger(__name__)

NAMESPACE = "/realtime"
CHANNEL = "bazaar-socketio"
SESSION_SOCKETS_KEY = "realtime:session-sockets:{sid}"

RoomAuthorizer = Callable[[Principal, str], bool]


class SocketError(Exception):
    """Raised by a handler to answer an error ack (``status`` as in HTTP, ``errors`` per field)."""

    def __init__(self, status: int, title: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(title)
        self.status, self.title, self.errors = status, title, errors or {}

    def ack(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "title": self.title}
        if self.errors:
            body["errors"] = self.errors
        return {"error": body}


@dataclass
class Connection:
    principal: Principal
    expires_at: float


class Gateway:
    """Per-app state: live connections of this process and the room authorizers of the domains."""

    def __init__(self, app: Flask, socketio: SocketIO) -> None:
        self.app = app
        self.socketio = socketio
        self.connections: dict[str, Connection] = {}
        self.authorizers: dict[str, RoomAuthorizer] = {}
        self.lock = threading.Lock()
        self._reaper_started = False

    # -- connections -------------------------------------------------------------------------------
    def add(self, sid: str, principal: Principal) -> None:
        expires_at = float(principal.claims.get("exp", time.time() + 60))
        with self.lock:
            self.connections[sid] = Connection(principal, expires_at)
            start = not self._reaper_started
            self._reaper_started = True
        if start:
            self.socketio.start_background_task(self._reap_expired)
        redis = self.app.extensions["redis"]
        key = SESSION_SOCKETS_KEY.format(sid=principal.session_id)
        with redis.pipeline() as pipe:
            pipe.sadd(key, sid)
            pipe.expire(key, int(self.app.config["JWT_REFRESH_TTL_SECONDS"]))
            pipe.execute()

    def remove(self, sid: str) -> None:
        with self.lock:
            connection = self.connections.pop(sid, None)
        if connection is not None:
            key = SESSION_SOCKETS_KEY.format(sid=connection.principal.session_id)
            self.app.extensions["redis"].srem(key, sid)

    def principal(self, sid: str) -> Principal | None:
        connection = self.connections.get(sid)
        return connection.principal if connection else None

    def refresh(self, sid: str, principal: Principal) -> float:
        with self.lock:
            connection = self.connections.get(sid)
            if connection is None or connection.principal.user_id != principal.user_id:
                raise SocketError(403, "The new token belongs to another user.")
            connection.principal = principal
            connection.expires_at = float(principal.claims["exp"])
            return connection.expires_at

    def _reap_expired(self) -> None:
        while True:
            self.socketio.sleep(1)
            now = time.time()
            with self.lock:
                expired = [sid for sid, c in self.connections.items() if c.expires_at <= now]
            for sid in expired:
                log.info("realtime: token expired, disconnecting %s", sid)
                self.socketio.emit("auth.expired", {"reason": "token expired"}, to=sid, namespace=NAMESPACE)
                self.socketio.server.disconnect(sid, namespace=NAMESPACE)
                self.remove(sid)


def _token_from_handshake(auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return auth["token"]
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def get_gateway(app: Flask | None = None) -> Gateway:
    return (app or current_app).extensions["bazaar_realtime"]


def get_socketio(app: Flask | None = None) -> SocketIO:
    return (app or current_app).extensions["bazaar_socketio"]


def socket_principal() -> Principal:
    return _connected(get_gateway().principal(request.sid))  # type: ignore[attr-defined]


def on(app: Flask, event: str, *, request_context: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a handler ``fn(principal, payload) -> ack`` for a client event on ``/realtime``.

    ``request_context=False`` runs it in an app context only, not in the Flask request Flask-SocketIO
    builds for every event (request object, URL routing, cookie session, request teardown: a tenth of
    a chat send's CPU); such a handler must not touch ``flask.request`` (``join_room``, ``request.sid``).
    """

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        socketio = get_socketio(app)
        if request_context:

            @functools.wraps(fn)
            def handler(payload: Any = None) -> Any:
                return _answer(event, lambda: fn(socket_principal(), payload))

            socketio.on_event(event, handler, namespace=NAMESPACE)
        else:
            gateway = get_gateway(app)

            def bare_handler(sid: str, payload: Any = None) -> Any:
                with app.app_context():
                    return _answer(event, lambda: fn(_connected(gateway.principal(sid)), payload))

            socketio.server.on(event, bare_handler, namespace=NAMESPACE)
        return fn

    return decorator


def _connected(principal: Principal | None) -> Principal:
    if principal is None:
        raise SocketError(401, "Not connected.")
    return principal


def _answer(event: str, handle: Callable[[], Any]) -> Any:
    """The handler's ack; any error becomes an error ack (a bad event never takes the server down)."""
    try:
        return handle()
    except SocketError as exc:
        return exc.ack()
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return SocketError(422, "Invalid payload.", messages).ack()
    except Exception:  # one bad event must never take the socket server down
        log.exception("realtime handler %s failed", event)
        from app.extensions import db

        db.session.rollback()
        return SocketError(500, "Unexpected error; it has been logged.").ack()


def register_room_authorizer(app: Flask, kind: str, authorizer: RoomAuthorizer) -> None:
    """``authorizer(principal, room_id) -> bool`` decides who may join ``<kind>:<id>``."""
    get_gateway(app).authorizers[kind] = authorizer


def join_authorized_room(principal: Principal, room: Any) -> dict[str, Any]:
    if not isinstance(room, str) or ":" not in room:
        raise SocketError(422, "Invalid room.", {"room": ["Expected '<kind>:<id>'."]})
    kind, _, room_id = room.partition(":")
    authorizer = get_gateway().authorizers.get(kind)
    # Unknown kinds and rooms the user may not see answer alike: existence is not disclosed.
    if authorizer is None or kind in {"user", "session"} or not authorizer(principal, room_id):
        raise SocketError(404, "No such room.")
    join_room(room)
    return {"ok": True, "room": room}


def _register_core_handlers(app: Flask, socketio: SocketIO, gateway: Gateway) -> None:
    @socketio.on("connect", namespace=NAMESPACE)
    def connect(auth: Any = None) -> None:
        token = _token_from_handshake(auth)
        if not token:
            raise ConnectionRefusedError("Access token required.", {"status": 401, "code": "no_token"})
        try:
            principal = authenticate_token(token)
        except TokenError as exc:
            raise ConnectionRefusedError(str(exc), {"status": 401, "code": "invalid_token"}) from None
        gateway.add(request.sid, principal)  # type: ignore[attr-defined]
        join_room(f"user:{principal.user_id}")
        join_room(f"session:{principal.session_id}")

    @socketio.on("disconnect", namespace=NAMESPACE)
    def on_disconnect(reason: Any = None) -> None:
        gateway.remove(request.sid)  # type: ignore[attr-defined]

    @on(app, "auth.refresh")
    def refresh(principal: Principal, payload: Any) -> dict[str, Any]:
        token = payload.get("token") if isinstance(payload, dict) else None
        if not isinstance(token, str):
            raise SocketError(422, "Invalid payload.", {"token": ["Missing data for required field."]})
        try:
            fresh = authenticate_token(token)
        except TokenError as exc:
            disconnect()
            raise SocketError(401, str(exc)) from None
        return {"ok": True, "expires_at": gateway.refresh(request.sid, fresh)}  # type: ignore[attr-defined]

    @on(app, "room.join")
    def room_join(principal: Principal, payload: Any) -> dict[str, Any]:
        return join_authorized_room(principal, payload.get("room") if isinstance(payload, dict) else None)

    @on(app, "room.leave")
    def room_leave(principal: Principal, payload: Any) -> dict[str, Any]:
        room = payload.get("room") if isinstance(payload, dict) else None
        if not isinstance(room, str) or room.startswith(("user:", "session:")):
            raise SocketError(422, "Invalid room.", {"room": ["Expected a room you joined."]})
        leave_room(room)
        return {"ok": True}


def init_app(app: Flask) -> SocketIO:
    url = app.config["SOCKETIO_MESSAGE_QUEUE"] or None
    channel = app.config.get("SOCKETIO_CHANNEL", CHANNEL)
    # Web processes publish from one thread in pipelines, emits only while another web process is alive
    # (app/realtime_queue.py); same channel and wire.
    queue: dict[str, Any] = (
        {"client_manager": PipelinedRedisManager(url, channel=channel)}
        if url and url.startswith(("redis://", "rediss://"))
        else {"message_queue": url, "channel": channel}
    )
    socketio = SocketIO(
        app,
        async_mode="threading",  # explicit: installing gevent must not silently change the mode
        **queue,
        cors_allowed_origins=[o for o in app.config["CORS_ORIGINS"].split(",") if o] or [],
        logger=False,
        engineio_logger=False,
        max_http_buffer_size=256 * 1024,  # no socket payload needs more; larger ones are refused
        # A socket's events run one after another on the thread that reads it, not on a new thread
        # each: no thread start per message (measured: the largest fixed cost of a chat send), and a
        # client's messages are handled in the order it sent them.
        async_handlers=False,
    )
    gateway = Gateway(app, socketio)
    app.extensions["bazaar_socketio"] = socketio
    app.extensions["bazaar_realtime"] = gateway
    _register_core_handlers(app, socketio, gateway)
    return socketio


def disconnect_session(session_id: uuid.UUID | str) -> int:
    """Disconnect every socket of a revoked session, in whichever web process holds it."""
    redis = current_app.extensions["redis"]
    key = SESSION_SOCKETS_KEY.format(sid=session_id)
    socket_ids = [s.decode() if isinstance(s, bytes) else s for s in redis.smembers(key)]
    server = get_socketio().server
    for socket_id in socket_ids:
        server.disconnect(socket_id, namespace=NAMESPACE)
    redis.delete(key)
    return len(socket_ids)


def external_emitter(redis_url: str, channel: str = CHANNEL) -> SocketIO:
    """A write-only Socket.IO for RQ jobs and the relay: emits reach clients of every web process."""
    return SocketIO(message_queue=redis_url, channel=channel, write_only=True)


def emit_to_room(event: str, payload: Any, room: str) -> None:
    """Emit from any app context (request, job, CLI); crosses processes through the message queue."""
    socketio = current_app.extensions.get("bazaar_socketio")
    if socketio is None:
        socketio = external_emitter(current_app.config["SOCKETIO_MESSAGE_QUEUE"])
    socketio.emit(event, payload, to=room, namespace=NAMESPACE)
