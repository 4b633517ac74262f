"""The AsyncAPI description of /realtime: complete, linked from /docs, and true to what is sent."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from app.realtime import NAMESPACE, get_socketio
from tests.messaging.conftest import emit, received


@pytest.fixture
def doc(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get("/docs/realtime.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def validator(doc: dict[str, Any], ref: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """Validate against one component schema, resolving its $refs inside the document."""
    return jsonschema.Draft202012Validator({**ref, "components": doc["components"]})


def message(doc: dict[str, Any], key: str) -> dict[str, Any]:
    return doc["components"]["messages"][key]


def test_document_shape_and_links(client, doc):
    assert doc["asyncapi"] == "2.6.0"
    channel = doc["channels"][NAMESPACE]
    for operation in ("publish", "subscribe"):
        for ref in channel[operation]["message"]["oneOf"]:
            key = ref["$ref"].rsplit("/", 1)[1]
            assert key in doc["components"]["messages"]
    for msg in doc["components"]["messages"].values():
        for node in (msg["payload"], *msg.get("x-ack", {}).get("oneOf", [])):
            if "$ref" in node:
                assert node["$ref"].rsplit("/", 1)[1] in doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["accessToken"]["scheme"] == "bearer"
    assert "/docs/realtime" in client.get("/openapi.json").get_json()["info"]["description"]
    page = client.get("/docs/realtime")
    assert page.status_code == 200 and "message.send" in page.get_data(as_text=True)


def test_every_registered_client_event_is_listed(app, doc):
    registered = set(get_socketio(app).server.handlers[NAMESPACE]) - {"connect", "disconnect"}
    listed = {m["name"] for k, m in doc["components"]["messages"].items() if k.startswith("client.")}
    assert registered <= listed
    for name in ("message.send", "message.read", "typing", "room.join", "auth.refresh"):
        assert message(doc, f"client.{name}")["payload"].get("$ref"), name
    for name in ("message.new", "message.read", "typing", "thread.updated", "offer.updated", "notification.new"):
        assert f"server.{name}" in doc["components"]["messages"]


def test_documented_schemas_match_real_payloads(client, doc, connect, buyer, seller, thread):
    tid = thread["id"]
    alice, bob = connect(buyer), connect(seller)
    for peer in (alice, bob):
        emit(peer, "room.join", {"room": f"thread:{tid}"})
    sent = {"thread_id": tid, "client_id": "doc-1", "body": "hello"}
    validator(doc, message(doc, "client.message.send")["payload"]).validate(sent)
    ack = emit(alice, "message.send", sent)
    validator(doc, message(doc, "client.message.send")["x-ack"]).validate(ack)
    validator(doc, message(doc, "server.message.new")["payload"]).validate(received(bob, "message.new")[0])
    emit(bob, "message.read", {"thread_id": tid, "message_id": ack["id"]})
    validator(doc, message(doc, "server.message.read")["payload"]).validate(received(alice, "message.read")[0])
    validator(doc, message(doc, "server.thread.updated")["payload"]).validate(received(bob, "thread.updated")[0])
    emit(bob, "typing", {"thread_id": tid})
    validator(doc, message(doc, "server.typing")["payload"]).validate(received(alice, "typing")[0])
    error = emit(alice, "message.send", {"thread_id": tid})
    validator(doc, message(doc, "client.message.send")["x-ack"]).validate(error)
    # The documented input schema refuses what the server refuses.
    with pytest.raises(jsonschema.ValidationError):
        validator(doc, message(doc, "client.message.send")["payload"]).validate({**sent, "sender_id": "x"})
