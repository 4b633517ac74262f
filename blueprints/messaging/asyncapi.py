"""The Socket.IO namespace ``/realtime`` described as AsyncAPI 2.6, generated from code.

``/docs/realtime.json`` is the AsyncAPI document and ``/docs/realtime`` a page for people (both linked
from ``/docs``). Payload and ack schemas are the marshmallow schemas the handlers load and dump, turned
into JSON Schema by apispec; the event list is checked against the handlers actually registered on the
namespace, so an event added without documentation still shows up (marked undocumented).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import marshmallow as ma
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app, render_template_string

from app.generator.openapi import schema_name_resolver
from app.realtime import NAMESPACE, get_socketio
from blueprints.messaging import schemas as s

bp = Blueprint("messaging_realtime_docs", __name__)

CLIENT, SERVER = "client", "server"  # who sends the event


class RoomSchema(ma.Schema):
    room = ma.fields.String(required=True, metadata={"description": "'<kind>:<id>', e.g. thread:<uuid>"})


class RoomJoinedSchema(ma.Schema):
    ok = ma.fields.Boolean(required=True)
    room = ma.fields.String(required=True)


class TokenSchema(ma.Schema):
    token = ma.fields.String(required=True, metadata={"description": "A fresh access token of the same user"})


class RefreshedSchema(ma.Schema):
    ok = ma.fields.Boolean(required=True)
    expires_at = ma.fields.Float(required=True, metadata={"description": "Unix time the new token expires"})


class ReadAckSchema(ma.Schema):
    ok = ma.fields.Boolean(required=True)
    read_seq = ma.fields.Integer(required=True)
    unread_count = ma.fields.Integer(required=True)


class ExpiredSchema(ma.Schema):
    reason = ma.fields.String(required=True)


class DomainPushSchema(ma.Schema):
    """Pushed by another domain through ``emit_to_room``; see that domain's docs for the fields."""

    class Meta:
        unknown = ma.INCLUDE


@dataclass(frozen=True)
class SocketEvent:
    name: str
    sender: str  # CLIENT or SERVER
    summary: str
    payload: type[ma.Schema] | None
    ack: type[ma.Schema] | None = None
    rooms: str = ""


EVENTS: list[SocketEvent] = [
    SocketEvent("auth.refresh", CLIENT, "Swap in a fresh access token before the current one expires.",
                TokenSchema, RefreshedSchema),
    SocketEvent("room.join", CLIENT, "Join a room the owning domain lets you into (thread:<id> for "
                "participants); anything else is a 404 ack.", RoomSchema, RoomJoinedSchema),
    SocketEvent("room.leave", CLIENT, "Leave a room you joined.", RoomSchema, s.OkAckSchema),
    SocketEvent("message.send", CLIENT, "Send a message; acked with the stored message. Resending the same "
                "client_id returns the stored one (duplicate=true), never a copy.",
                s.SocketMessageSendSchema, s.MessageSendAckSchema),
    SocketEvent("message.read", CLIENT, "Mark a thread read up to a message.", s.SocketMarkReadSchema,
                ReadAckSchema),
    SocketEvent("typing", CLIENT, "Tell the thread you are typing (relayed at most every 2 s per thread).",
                s.SocketTypingSchema, s.OkAckSchema),
    SocketEvent("message.new", SERVER, "A message was stored in a thread (after commit). Also sent to both "
                "participants' user rooms, so inboxes update: unread = seq minus your read_seq.", s.MessageSchema,
                rooms="thread:<id>, user:<id> (each socket once)"),
    SocketEvent("message.read", SERVER, "A participant read the thread up to read_seq.", s.ReadReceiptSchema,
                rooms="thread:<id>"),
    SocketEvent("typing", SERVER, "The other participant is typing (or stopped).", s.TypingEventSchema,
                rooms="thread:<id> (not to the sender)"),
    SocketEvent("thread.updated", SERVER, "You read, archived or unarchived a thread (syncs your other devices).",
                s.ThreadUpdatedSchema, rooms="user:<id>"),
    SocketEvent("offer.updated", SERVER, "An offer you take part in changed (emitted by the offers domain).",
                DomainPushSchema, rooms="user:<id>, thread:<id>"),
    SocketEvent("notification.new", SERVER, "An in-app notification (emitted by the notifications domain).",
                DomainPushSchema, rooms="user:<id>"),
    SocketEvent("auth.expired", SERVER, "Your token expired without auth.refresh; the socket is closed next.",
                ExpiredSchema, rooms="the socket"),
]  # fmt: skip


def _registered_client_events() -> list[str]:
    handlers = get_socketio().server.handlers.get(NAMESPACE, {})
    return sorted(name for name in handlers if name not in {"connect", "disconnect"})


def _schemas(events: list[SocketEvent]) -> dict[str, Any]:
    """JSON Schemas of every payload and ack (apispec, OpenAPI 3.1 flavour = JSON Schema)."""
    spec = APISpec("realtime", "v1", "3.1.0", plugins=[MarshmallowPlugin(schema_name_resolver=schema_name_resolver)])
    classes = {e.payload for e in events} | {e.ack for e in events} | {s.ErrorAckSchema}
    for cls in sorted((c for c in classes if c is not None), key=lambda c: c.__name__):
        name = schema_name_resolver(cls)
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=cls)
    return spec.to_dict()["components"]["schemas"]


def _ref(cls: type[ma.Schema] | None) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{schema_name_resolver(cls)}"} if cls else {}


def document() -> dict[str, Any]:
    """The AsyncAPI 2.6 document of ``/realtime``."""
    events = list(EVENTS)
    documented = {e.name for e in events if e.sender == CLIENT}
    for name in _registered_client_events():
        if name not in documented:
            events.append(SocketEvent(name, CLIENT, "Registered by a domain; payload not described here.", None))
    messages: dict[str, Any] = {}
    for event in events:
        key = f"{event.sender}.{event.name}"
        message: dict[str, Any] = {"name": event.name, "title": event.name, "summary": event.summary}
        message["payload"] = _ref(event.payload) or {"type": "object"}
        if event.sender == CLIENT:
            ack = [_ref(event.ack)] if event.ack else [{"type": "object"}]
            message["x-ack"] = {"oneOf": [*ack, _ref(s.ErrorAckSchema)]}
        if event.rooms:
            message["x-rooms"] = event.rooms
        messages[key] = message
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    return {
        "asyncapi": "2.6.0",
        "id": "urn:bazaar:realtime",
        "info": {
            "title": "Bazaar realtime (Socket.IO)",
            "version": "v1",
            "description": DESCRIPTION,
        },
        "servers": {
            "bazaar": {
                "url": f"{base.netloc}/socket.io/",
                "protocol": "wss" if base.scheme == "https" else "ws",
                "description": "Socket.IO 5 (Engine.IO 4); transports websocket or polling",
                "security": [{"accessToken": []}],
            }
        },
        "defaultContentType": "application/json",
        "channels": {
            NAMESPACE: {
                "description": "The one namespace. Rooms: user:<id> and session:<id> (joined at connect), "
                "thread:<id> (room.join, participants only).",
                "publish": {
                    "operationId": "clientEvents",
                    "summary": "Events clients emit (with an ack callback)",
                    "message": {"oneOf": [{"$ref": f"#/components/messages/{k}"} for k in messages if k[0] == "c"]},
                },
                "subscribe": {
                    "operationId": "serverEvents",
                    "summary": "Events the server pushes",
                    "message": {"oneOf": [{"$ref": f"#/components/messages/{k}"} for k in messages if k[0] == "s"]},
                },
            }
        },
        "components": {
            "messages": messages,
            "schemas": _schemas(events),
            "securitySchemes": {
                "accessToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The access token of POST /auth/login, sent in the Socket.IO handshake as "
                    "auth={token: ...} (or an Authorization: Bearer header). Refused tokens get a "
                    "connect_error {message, data: {status: 401, code}}.",
                }
            },
        },
    }


DESCRIPTION = """\
Connect to the namespace `/realtime` with `auth: {token: <access token>}`. A refused token is a
`connect_error` whose `data` is `{status: 401, code: no_token | invalid_token}`. Refresh before expiry
with `auth.refresh`; otherwise the server sends `auth.expired` and disconnects. Revoking the session
(logout, suspension) disconnects its sockets at once.

Every client event takes an ack callback. Errors are acks `{error: {status, title, errors}}` with HTTP
status codes (404 for a thread you do not take part in, 422 for a bad payload with per-field errors);
the socket stays connected. Payloads above 256 KiB close the connection.

Messages are stored before they are pushed. After a reconnect, join your thread rooms again, then fetch
`GET /messages/threads/<id>/messages?after=<last seq you have>` until it is empty: nothing is lost.
"""

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Bazaar realtime API</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}code,pre{background:#f4f4f4}
pre{padding:.6em;overflow:auto;font-size:12px}td,th{vertical-align:top;text-align:left;padding:.3em .6em}
table{border-collapse:collapse}tr{border-bottom:1px solid #ddd}</style></head><body>
<h1>{{ doc.info.title }}</h1>
<p>AsyncAPI {{ doc.asyncapi }}: <a href="/docs/realtime.json">/docs/realtime.json</a> &middot;
REST: <a href="/docs">/docs</a> &middot; domain events: <a href="/docs/events">/docs/events</a></p>
<pre>{{ doc.info.description }}</pre>
<pre>const socket = io("{{ base }}/realtime", {auth: {token: accessToken}, transports: ["websocket"]});
socket.emit("room.join", {room: "thread:" + threadId}, ack =&gt; console.log(ack));
socket.emit("message.send", {thread_id: threadId, client_id: crypto.randomUUID(), body: "Hi!"}, ack =&gt; ...);
socket.on("message.new", message =&gt; ...);</pre>
<table><tr><th>Event</th><th>Sent by</th><th>Rooms</th><th>What</th><th>Payload</th><th>Ack</th></tr>
{% for key, m in doc.components.messages.items() %}
<tr id="{{ key }}"><td><code>{{ m.name }}</code></td><td>{{ key.split('.')[0] }}</td><td>{{ m.get('x-rooms', '') }}</td>
<td>{{ m.summary }}</td><td><pre>{{ schema(m.payload) }}</pre></td>
<td>{% if m.get('x-ack') %}<pre>{{ schema(m['x-ack']) }}</pre>{% endif %}</td></tr>
{% endfor %}</table></body></html>"""


def _render_schema(doc: dict[str, Any], node: Any, depth: int = 0) -> str:
    """A schema with its $refs inlined (two levels), for reading."""

    def inline(value: Any, level: int) -> Any:
        if isinstance(value, dict):
            ref = value.get("$ref")
            if ref and level < 3:
                return inline(doc["components"]["schemas"][ref.rsplit("/", 1)[1]], level + 1)
            return {k: inline(v, level) for k, v in value.items()}
        if isinstance(value, list):
            return [inline(v, level) for v in value]
        return value

    return json.dumps(inline(node, depth), indent=1)


@bp.get("/docs/realtime.json")
def asyncapi_json() -> Response:
    return Response(json.dumps(document(), indent=1), mimetype="application/json")


@bp.get("/docs/realtime")
def asyncapi_page() -> str:
    doc = document()
    return render_template_string(
        PAGE, doc=doc, base=current_app.config["PUBLIC_BASE_URL"], schema=lambda node: _render_schema(doc, node)
    )
