"""Messaging on Socket.IO (in-process test clients): rooms, send/ack/push, resends, receipts, typing."""

from __future__ import annotations

import uuid

from app.realtime import NAMESPACE
from tests.messaging.conftest import emit, received, send


def join(client, thread_id) -> dict:  # type: ignore[no-untyped-def]
    return emit(client, "room.join", {"room": f"thread:{thread_id}"})


def test_only_participants_join_a_thread_room(connect, buyer, seller, stranger, thread):
    for user in (buyer, seller):
        assert join(connect(user), thread["id"]) == {"ok": True, "room": f"thread:{thread['id']}"}
    outsider = connect(stranger)
    denied = join(outsider, thread["id"])
    unknown = join(outsider, uuid.uuid4())
    malformed = emit(outsider, "room.join", {"room": "thread:not-a-uuid"})
    assert denied == unknown == malformed == {"error": {"status": 404, "title": "No such room."}}
    assert outsider.is_connected(NAMESPACE)


def test_send_acks_the_stored_message_and_pushes_it_to_the_room(connect, client, buyer, seller, stranger, thread):
    tid = thread["id"]
    alice, bob, eve = connect(buyer), connect(seller), connect(stranger)
    join(alice, tid)
    join(bob, tid)
    ack = emit(alice, "message.send", {"thread_id": tid, "client_id": "s-1", "body": " Hi there "})
    assert ack["ok"] is True and ack["duplicate"] is False
    assert ack["id"] == ack["message"]["id"] and ack["message"]["body"] == "Hi there"
    assert received(bob, "message.new") == [ack["message"]]  # once, though bob is in two of its rooms
    assert received(alice, "message.new") == [ack["message"]]  # the sender's other devices see it too
    assert received(eve, "message.new", timeout=0.3) == []
    # Persisted first: it is in the history, and the ids agree.
    items = client.get(f"/messages/threads/{tid}/messages", headers=seller.headers).get_json()["items"]
    assert [m["id"] for m in items] == [ack["id"]]


def test_participants_get_new_messages_in_their_inbox_without_joining(connect, buyer, seller, thread):
    """message.new also goes to user rooms (inbox badges); typing and receipts need the thread room."""
    tid = thread["id"]
    alice, bob_inbox = connect(buyer), connect(seller)
    join(alice, tid)
    ack = emit(alice, "message.send", {"thread_id": tid, "client_id": "i-1", "body": "Still for sale?"})
    [pushed] = received(bob_inbox, "message.new")
    assert pushed["seq"] == 1 and pushed["sender_id"] == str(buyer.id) and pushed["id"] == ack["id"]
    emit(alice, "typing", {"thread_id": tid})
    assert received(bob_inbox, "typing", timeout=0.3) == []
    assert received(bob_inbox, "thread.updated", timeout=0.3) == []  # new messages need no second push


def test_resends_over_socket_and_rest_never_duplicate(connect, client, buyer, thread):
    tid = thread["id"]
    alice = connect(buyer)
    payload = {"thread_id": tid, "client_id": "same-1", "body": "once"}
    first, second = emit(alice, "message.send", payload), emit(alice, "message.send", payload)
    assert second["duplicate"] is True and second["id"] == first["id"]
    rest = send(client, buyer, tid, "once", client_id="same-1")
    assert rest.status_code == 200 and rest.get_json()["id"] == first["id"]
    via_rest = send(client, buyer, tid, "twice", client_id="same-2").get_json()
    assert emit(alice, "message.send", {**payload, "client_id": "same-2", "body": "twice"})["id"] == via_rest["id"]
    conflict = emit(alice, "message.send", {**payload, "body": "changed"})
    assert conflict["error"]["status"] == 409 and "client_id" in conflict["error"]["errors"]
    items = client.get(f"/messages/threads/{tid}/messages", headers=buyer.headers).get_json()["items"]
    assert [m["body"] for m in items] == ["once", "twice"]


T = "<thread>"  # replaced by the thread's id
ILL_TYPED = [
    None,
    "hello",
    42,
    [1, 2],
    {},
    {"thread_id": "nope", "client_id": "c", "body": "x"},
    {"client_id": "c", "body": "x"},
    {"thread_id": T, "client_id": "c", "body": {"nested": True}},
    {"thread_id": T, "client_id": "c", "body": "x" * 100_000},
    {"thread_id": T, "client_id": "c" * 100, "body": "x"},
    {"thread_id": T, "client_id": "c", "body": "x", "sender_id": "someone"},
    {"thread_id": T, "client_id": "c", "body": "x", "attachment_ids": "all"},
]


def test_ill_typed_sends_get_error_acks_and_the_socket_stays(connect, client, buyer, thread):
    alice = connect(buyer)
    for payload in ILL_TYPED:
        if isinstance(payload, dict) and payload.get("thread_id") == T:
            payload = {**payload, "thread_id": thread["id"]}
        ack = emit(alice, "message.send", payload)
        assert ack["error"]["status"] == 422, (payload, ack)
        assert alice.is_connected(NAMESPACE)
    assert emit(alice, "message.send", {"thread_id": thread["id"], "client_id": "ok", "body": "fine"})["ok"] is True
    items = client.get(f"/messages/threads/{thread['id']}/messages", headers=buyer.headers).get_json()["items"]
    assert [m["body"] for m in items] == ["fine"]


def test_strangers_and_blocked_senders_get_error_acks(app, connect, buyer, seller, stranger, thread):
    from app.extensions import db
    from blueprints.messaging.models import Block

    outsider = connect(stranger)
    ack = emit(outsider, "message.send", {"thread_id": thread["id"], "client_id": "c", "body": "hi"})
    assert ack == {"error": {"status": 404, "title": "No such thread."}}
    with app.app_context():
        db.session.add(Block(blocker_id=seller.id, blocked_id=buyer.id))
        db.session.commit()
    refused = emit(connect(buyer), "message.send", {"thread_id": thread["id"], "client_id": "c", "body": "hi"})
    assert refused == {"error": {"status": 403, "title": "You cannot send messages in this conversation."}}


def test_read_receipts_are_pushed_to_the_thread(connect, client, buyer, seller, thread):
    tid = thread["id"]
    alice, bob = connect(buyer), connect(seller)
    join(alice, tid)
    join(bob, tid)
    sent = [emit(bob, "message.send", {"thread_id": tid, "client_id": f"b{n}", "body": f"m{n}"}) for n in range(3)]
    ack = emit(alice, "message.read", {"thread_id": tid, "message_id": sent[1]["id"]})
    assert ack == {"ok": True, "read_seq": 2, "unread_count": 1}
    [receipt] = received(bob, "message.read")
    assert receipt["user_id"] == str(buyer.id) and receipt["read_seq"] == 2 and receipt["message_id"] == sent[1]["id"]
    [update] = received(alice, "thread.updated")  # the reader's other devices
    assert update["reason"] == "read" and update["read_seq"] == 2 and update["unread_count"] == 1
    # An older receipt changes nothing and pushes nothing.
    assert emit(alice, "message.read", {"thread_id": tid, "message_id": sent[0]["id"]})["read_seq"] == 2
    assert received(bob, "message.read", timeout=0.3) == []
    bad = emit(alice, "message.read", {"thread_id": tid, "message_id": str(uuid.uuid4())})
    assert bad["error"]["status"] == 422 and "message_id" in bad["error"]["errors"]


def test_typing_is_relayed_to_the_other_side_and_throttled(connect, buyer, seller, stranger, thread):
    tid = thread["id"]
    alice, bob = connect(buyer), connect(seller)
    join(alice, tid)
    join(bob, tid)
    assert emit(alice, "typing", {"thread_id": tid}) == {"ok": True, "throttled": False}
    assert emit(alice, "typing", {"thread_id": tid}) == {"ok": True, "throttled": True}
    assert received(bob, "typing") == [{"thread_id": tid, "user_id": str(buyer.id), "typing": True}]
    assert received(alice, "typing", timeout=0.3) == []  # not echoed to the sender
    # Stopping is never throttled; the other side's throttle is its own.
    assert emit(alice, "typing", {"thread_id": tid, "typing": False})["throttled"] is False
    assert emit(bob, "typing", {"thread_id": tid})["throttled"] is False
    assert emit(connect(stranger), "typing", {"thread_id": tid})["error"]["status"] == 404
    assert emit(alice, "typing", {"thread_id": tid, "typing": "yes please"})["error"]["status"] == 422


def test_reconnect_and_catch_up_loses_nothing(connect, client, buyer, seller, thread):
    tid = thread["id"]
    alice, bob = connect(buyer), connect(seller)
    join(alice, tid)
    join(bob, tid)
    emit(bob, "message.send", {"thread_id": tid, "client_id": "b1", "body": "one"})
    [seen] = received(alice, "message.new")
    alice.disconnect(namespace=NAMESPACE)  # the connection drops...
    for n in range(2, 6):  # ...while the seller keeps writing, over the socket and over REST
        if n % 2:
            emit(bob, "message.send", {"thread_id": tid, "client_id": f"b{n}", "body": f"m{n}"})
        else:
            send(client, seller, tid, f"m{n}")
    alice = connect(buyer)
    join(alice, tid)
    caught_up = client.get(f"/messages/threads/{tid}/messages?after={seen['seq']}", headers=buyer.headers).get_json()
    assert [m["seq"] for m in caught_up["items"]] == [2, 3, 4, 5]
    emit(bob, "message.send", {"thread_id": tid, "client_id": "b6", "body": "live again"})
    assert [m["seq"] for m in received(alice, "message.new")] == [6]
