"""Socket.IO gateway: token auth at connect, personal rooms, authorized rooms, expiry and revocation."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
import socketio as socketio_client
from flask_socketio import SocketIO

from app.realtime import NAMESPACE, emit_to_room, get_socketio, register_room_authorizer
from app.security import encode_access_token
from app.security.identity import revoke_session_tokens


def connect(app, token):  # type: ignore[no-untyped-def]
    return get_socketio(app).test_client(app, namespace=NAMESPACE, auth={"token": token})


def wait_for(client, name, timeout=3.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for packet in client.get_received(NAMESPACE):
            if packet["name"] == name:
                return packet["args"][0]
        time.sleep(0.02)
    return None


@pytest.fixture(scope="module")
def rt_app(make_app):  # type: ignore[no-untyped-def]
    """An app whose 'demo' rooms are open to user ids listed in ALLOWED (a stand-in domain authorizer)."""
    application = make_app(SOCKETIO_MESSAGE_QUEUE="off")  # Flask-SocketIO's test client needs no queue
    application.config["ALLOWED"] = set()
    register_room_authorizer(
        application, "demo", lambda p, room_id: (str(p.user_id), room_id) in application.config["ALLOWED"]
    )
    return application


def test_connect_without_token_is_refused(rt_app):
    client = get_socketio(rt_app).test_client(rt_app, namespace=NAMESPACE)
    assert not client.is_connected(NAMESPACE)


def test_connect_with_forged_token_is_refused(rt_app, token_for):
    client = connect(rt_app, token_for() + "x")
    assert not client.is_connected(NAMESPACE)


def test_connect_with_expired_token_is_refused(rt_app):
    with rt_app.app_context():
        token = encode_access_token(user_id=uuid.uuid4(), session_id=uuid.uuid4(), ttl=timedelta(seconds=-30))
    assert not connect(rt_app, token).is_connected(NAMESPACE)


def test_user_room_receives_pushes_for_that_user_only(rt_app, token_for):
    alice, bob = uuid.uuid4(), uuid.uuid4()
    alice_client, bob_client = connect(rt_app, token_for(alice)), connect(rt_app, token_for(bob))
    assert alice_client.is_connected(NAMESPACE) and bob_client.is_connected(NAMESPACE)
    with rt_app.app_context():
        emit_to_room("notification.new", {"hello": "alice"}, room=f"user:{alice}")
    assert wait_for(alice_client, "notification.new") == {"hello": "alice"}
    assert wait_for(bob_client, "notification.new", timeout=0.5) is None


def test_joining_a_room_needs_the_domains_consent(rt_app, token_for):
    user = uuid.uuid4()
    client = connect(rt_app, token_for(user))
    denied = client.emit("room.join", {"room": "demo:r1"}, namespace=NAMESPACE, callback=True)
    assert denied == {"error": {"status": 404, "title": "No such room."}}
    rt_app.config["ALLOWED"].add((str(user), "r1"))
    assert client.emit("room.join", {"room": "demo:r1"}, namespace=NAMESPACE, callback=True) == {
        "ok": True,
        "room": "demo:r1",
    }
    with rt_app.app_context():
        emit_to_room("typing", {"room": "demo:r1"}, room="demo:r1")
    assert wait_for(client, "typing") == {"room": "demo:r1"}


@pytest.mark.parametrize("payload", [None, "demo:r1", {"room": 5}, {"room": "nokind"}, {"room": "user:someone"}])
def test_bad_join_payloads_get_error_acks_not_crashes(rt_app, token_for, payload):
    client = connect(rt_app, token_for())
    ack = client.emit("room.join", payload, namespace=NAMESPACE, callback=True)
    assert ack["error"]["status"] in (404, 422)
    assert client.is_connected(NAMESPACE)


def test_revoking_the_session_disconnects_its_sockets(rt_app, token_for):
    session_id = uuid.uuid4()
    client = connect(rt_app, token_for(session_id=session_id))
    other = connect(rt_app, token_for())
    assert client.is_connected(NAMESPACE)
    with rt_app.app_context():
        revoke_session_tokens(session_id)
    assert not client.is_connected(NAMESPACE)
    assert other.is_connected(NAMESPACE)
    assert not connect(rt_app, token_for(session_id=session_id)).is_connected(NAMESPACE)


def test_token_expiry_disconnects_unless_refreshed(rt_app):
    user, session_id = uuid.uuid4(), uuid.uuid4()
    with rt_app.app_context():
        short = encode_access_token(user_id=user, session_id=session_id, ttl=timedelta(seconds=2))
        fresh = encode_access_token(user_id=user, session_id=session_id, ttl=timedelta(minutes=5))
        someone_else = encode_access_token(user_id=uuid.uuid4(), session_id=session_id)
    lapsing, refreshed = connect(rt_app, short), connect(rt_app, short)
    wrong = refreshed.emit("auth.refresh", {"token": someone_else}, namespace=NAMESPACE, callback=True)
    assert wrong["error"]["status"] == 403
    ack = refreshed.emit("auth.refresh", {"token": fresh}, namespace=NAMESPACE, callback=True)
    assert ack["ok"] is True
    deadline = time.monotonic() + 6
    while lapsing.is_connected(NAMESPACE) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not lapsing.is_connected(NAMESPACE)
    assert refreshed.is_connected(NAMESPACE)


@pytest.fixture
def socket_server(make_app):  # type: ignore[no-untyped-def]
    """A real Socket.IO server (werkzeug, threads) on a free port, sharing Redis with workers."""
    from werkzeug.serving import make_server

    from app.embedded import free_port

    application = make_app()
    port = free_port()
    server = make_server("127.0.0.1", port, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield application, f"http://127.0.0.1:{port}"
    server.shutdown()


def test_worker_side_emitter_reaches_a_real_client_through_redis(socket_server, token_for):
    application, url = socket_server
    user = uuid.uuid4()
    received: list[dict] = []
    arrived = threading.Event()
    client = socketio_client.Client(reconnection=False)
    client.on("offer.updated", lambda data: (received.append(data), arrived.set()), namespace=NAMESPACE)
    client.connect(
        url, namespaces=[NAMESPACE], auth={"token": token_for(user)}, transports=["websocket"], wait_timeout=5
    )
    try:
        emitter = SocketIO(
            message_queue=application.config["SOCKETIO_MESSAGE_QUEUE"], channel="bazaar-socketio", write_only=True
        )
        emitter.emit("offer.updated", {"state": "accepted"}, to=f"user:{user}", namespace=NAMESPACE)
        assert arrived.wait(5)
        assert received == [{"state": "accepted"}]
    finally:
        client.disconnect()


def test_a_real_client_with_a_bad_token_gets_a_clear_connect_error(socket_server):
    _application, url = socket_server
    client = socketio_client.Client(reconnection=False)
    errors: list = []
    client.on("connect_error", errors.append, namespace=NAMESPACE)
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        client.connect(url, namespaces=[NAMESPACE], auth={"token": "nope"}, transports=["websocket"], wait_timeout=5)
    assert errors == [
        {"message": "malformed token: Not enough segments", "data": {"status": 401, "code": "invalid_token"}}
    ]
