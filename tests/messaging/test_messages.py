"""Messages over REST: sending, idempotent resends, validation, history both ways, read receipts, events."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.events import OutboxEvent
from app.extensions import db
from blueprints.messaging.models import Message, Thread
from tests.messaging.conftest import send


def outbox(event_type: str, thread_id: object) -> list[dict]:
    """Events of one thread (its id is the aggregate id), so leftovers of other tests never count."""
    stmt = select(OutboxEvent).where(OutboxEvent.type == event_type, OutboxEvent.aggregate_id == str(thread_id))
    rows = db.session.execute(stmt.order_by(OutboxEvent.position))
    return [row.payload for row in rows.scalars()]


def message_count(thread_id: str) -> int:
    stmt = select(func.count()).select_from(Message).where(Message.thread_id == uuid.UUID(thread_id))
    return db.session.execute(stmt).scalar_one()


def test_send_stores_trimmed_plain_text_and_publishes_message_sent(client, buyer, seller, thread):
    response = send(client, buyer, thread["id"], "  <b>Is it</b> still available?\r\n  ", client_id="c-1")
    assert response.status_code == 201
    message = response.get_json()
    assert message["body"] == "<b>Is it</b> still available?"  # stored as typed: clients render it escaped
    assert message["seq"] == 1 and message["kind"] == "text" and message["sender_id"] == str(buyer.id)
    assert message["client_id"] == "c-1" and message["attachments"] == []
    [event] = outbox("messaging.MessageSent", thread["id"])
    assert event["message_id"] == message["id"] and event["recipient_ids"] == [str(seller.id)]
    assert event["preview"] == "<b>Is it</b> still available?" and event["seq"] == 1
    assert outbox("messaging.OffPlatformContactFlagged", thread["id"]) == []


def test_a_resend_with_the_same_client_id_never_duplicates(client, buyer, seller, thread):
    first = send(client, buyer, thread["id"], "Hello", client_id="retry-1")
    again = send(client, buyer, thread["id"], "Hello", client_id="retry-1")
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json() == first.get_json()
    assert message_count(thread["id"]) == 1 and len(outbox("messaging.MessageSent", thread["id"])) == 1
    other_text = send(client, buyer, thread["id"], "Something else", client_id="retry-1")
    assert other_text.status_code == 409 and "client_id" in other_text.get_json()["errors"]
    # client_ids are per sender: the seller may use the same one.
    assert send(client, seller, thread["id"], "Hi", client_id="retry-1").status_code == 201
    assert message_count(thread["id"]) == 2


def test_invalid_messages_are_422_and_store_nothing(client, buyer, thread):
    tid = thread["id"]
    cases = [
        {"client_id": "c", "body": "   "},
        {"client_id": "c", "body": "x" * 4001},
        {"client_id": "c", "body": "nul \x00 byte"},
        {"client_id": "c", "body": 42},
        {"client_id": "has space", "body": "hi"},
        {"client_id": "x" * 65, "body": "hi"},
        {"body": "no client id"},
        {"client_id": "c", "body": "hi", "sender_id": str(uuid.uuid4())},
        {"client_id": "c", "body": "hi", "attachment_ids": ["nope"]},
        {"client_id": "c", "body": "hi", "attachment_ids": [str(uuid.uuid4())] * 2},
    ]
    for body in cases:
        response = client.post(f"/messages/threads/{tid}/messages", json=body, headers=buyer.headers)
        assert response.status_code == 422, (body, response.get_json())
        assert response.get_json()["errors"], body
    assert client.post(f"/messages/threads/{tid}/messages", data="hi", headers=buyer.headers).status_code in (
        415,
        422,
    )
    assert message_count(tid) == 0
    assert send(client, buyer, tid, "x" * 4000).status_code == 201  # the limit itself is fine


def test_off_platform_contact_is_delivered_unchanged_and_flagged(client, buyer, seller, thread):
    text = "Let's skip the fees: venmo me @jane-d or call 415-555-0134"
    message = send(client, buyer, thread["id"], text).get_json()
    assert message["body"] == text  # no silent rewriting
    assert "flags" not in message  # the signal is for fraud review, not for the other party
    [flag] = outbox("messaging.OffPlatformContactFlagged", thread["id"])
    assert flag["message_id"] == message["id"] and flag["sender_id"] == str(buyer.id)
    assert flag["recipient_id"] == str(seller.id) and flag["signals"] == ["payment_handle", "phone"]
    assert db.session.get(Message, uuid.UUID(message["id"])).flags == ["payment_handle", "phone"]


def test_history_pages_both_ways(client, buyer, seller, thread):
    tid = thread["id"]
    for n in range(1, 8):
        send(client, buyer if n % 2 else seller, tid, f"m{n}")
    latest = client.get(f"/messages/threads/{tid}/messages?limit=3", headers=seller.headers).get_json()
    assert [m["body"] for m in latest["items"]] == ["m5", "m6", "m7"]
    assert latest["links"]["next"] is None
    older = client.get(latest["links"]["prev"], headers=seller.headers).get_json()
    assert [m["seq"] for m in older["items"]] == [2, 3, 4]
    oldest = client.get(older["links"]["prev"], headers=seller.headers).get_json()
    assert [m["seq"] for m in oldest["items"]] == [1] and oldest["links"]["prev"] is None
    newer = client.get(oldest["links"]["next"], headers=seller.headers).get_json()
    assert [m["seq"] for m in newer["items"]] == [2, 3, 4]
    after = client.get(f"/messages/threads/{tid}/messages?after=5", headers=buyer.headers).get_json()
    assert [m["seq"] for m in after["items"]] == [6, 7] and after["links"]["next"] is None
    assert client.get(f"/messages/threads/{tid}/messages?after=7", headers=buyer.headers).get_json()["items"] == []
    for query in ("before=3&after=1", "before=0", "after=-1", "limit=0", "limit=201", "after=x", "since=1"):
        response = client.get(f"/messages/threads/{tid}/messages?{query}", headers=buyer.headers)
        assert response.status_code == 422, query


def test_history_costs_three_queries_whatever_the_page_size(app, client, buyer, thread):
    from sqlalchemy import event

    for n in range(12):
        send(client, buyer, thread["id"], f"m{n}")
    counts = []
    engine = db.engine
    for limit in (2, 12):
        statements: list[str] = []

        def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            page = client.get(f"/messages/threads/{thread['id']}/messages?limit={limit}", headers=buyer.headers)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(page.get_json()["items"]) == limit
        counts.append(len([s for s in statements if "messaging." in s]))
    assert counts == [3, 3]


def test_read_receipts_and_unread_counts(client, buyer, seller, thread):
    tid = thread["id"]
    ids = [send(client, seller, tid, f"m{n}").get_json()["id"] for n in range(3)]
    inbox = client.get("/messages/inbox", headers=buyer.headers).get_json()
    assert inbox["items"][0]["unread_count"] == 3 and inbox["unread_total"] == 3
    read = client.post(f"/messages/threads/{tid}/read", json={"message_id": ids[1]}, headers=buyer.headers)
    assert read.status_code == 200
    assert read.get_json()["read_seq"] == 2 and read.get_json()["unread_count"] == 1
    # Markers never move back.
    back = client.post(f"/messages/threads/{tid}/read", json={"message_id": ids[0]}, headers=buyer.headers)
    assert back.get_json()["read_seq"] == 2
    seller_side = client.get("/messages/inbox", headers=seller.headers).get_json()["items"][0]
    assert seller_side["other_read_seq"] == 2 and seller_side["unread_count"] == 0
    generated = client.get(f"/messages/threads/{tid}", headers=seller.headers).get_json()
    assert generated["buyer_read_seq"] == 2 and generated["last_seq"] == 3
    # Answering reads everything before your answer.
    send(client, buyer, tid, "ok")
    assert client.get("/messages/inbox", headers=buyer.headers).get_json()["unread_total"] == 0


def test_read_marker_must_name_a_message_of_the_thread(client, buyer, seller, new_listing, thread):
    from tests.messaging.conftest import open_thread

    other = open_thread(client, buyer, new_listing(seller.id))
    foreign = send(client, seller, other["id"], "elsewhere").get_json()["id"]
    for body in ({"message_id": foreign}, {"message_id": str(uuid.uuid4())}, {}, {"message_id": "x"}):
        response = client.post(f"/messages/threads/{thread['id']}/read", json=body, headers=buyer.headers)
        assert response.status_code == 422, body


def test_system_messages_are_idempotent_per_key_and_reach_both_sides(app, client, buyer, seller, thread):
    from blueprints.messaging import service

    tid = uuid.UUID(thread["id"])
    with app.app_context():
        first = service.post_system_message(
            thread_id=tid, code="offer.accepted", text="Offer accepted", key="offer:1:accepted", data={"amount": 5}
        )
        again = service.post_system_message(
            thread_id=tid, code="offer.accepted", text="Offer accepted", key="offer:1:accepted"
        )
        db.session.commit()
    assert first == again
    items = client.get(f"/messages/threads/{tid}/messages", headers=buyer.headers).get_json()["items"]
    assert [(m["kind"], m["sender_id"], m["system_code"], m["data"]) for m in items] == [
        ("system", None, "offer.accepted", {"amount": 5})
    ]
    [event] = outbox("messaging.MessageSent", tid)
    assert sorted(event["recipient_ids"]) == sorted([str(buyer.id), str(seller.id)]) and event["sender_id"] is None
    assert client.get("/messages/inbox", headers=seller.headers).get_json()["unread_total"] == 1


def test_a_send_is_one_statement_and_writes_what_publish_would(app, client, buyer, seller, thread):
    """The hot path: thread lock, message, thread, outbox row and the relay's wake-up in one statement."""
    from sqlalchemy import event

    from app.events import outbox_values
    from blueprints.messaging.events import MessageSent

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = db.engine
    send(client, buyer, thread["id"], "warm the participants cache")
    event.listen(engine, "before_cursor_execute", count)
    try:
        message = send(client, seller, thread["id"], "Yes, still available").get_json()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    [sent] = [s for s in statements if "messaging." in s or "outbox" in s or "pg_notify" in s]
    assert "FOR UPDATE" in sent and "outbox_events" in sent and "pg_notify" in sent, statements
    [_, stored] = db.session.execute(
        select(OutboxEvent)
        .where(OutboxEvent.aggregate_id == thread["id"], OutboxEvent.type == MessageSent.type)
        .order_by(OutboxEvent.position)
    ).scalars()
    expected = MessageSent(
        id=stored.id,
        occurred_at=stored.occurred_at,
        aggregate_id=uuid.UUID(thread["id"]),
        actor=f"user:{seller.id}",
        thread_id=uuid.UUID(thread["id"]),
        message_id=uuid.UUID(message["id"]),
        listing_id=uuid.UUID(thread["listing_id"]),
        seq=2,
        kind="text",
        sender_id=seller.id,
        recipient_ids=[buyer.id],
        preview="Yes, still available",
    )
    row = outbox_values(expected)
    assert {c: getattr(stored, c) for c in row} == {**row, "id": stored.id}


def test_concurrent_sends_get_contiguous_seqs_and_matching_events(app, buyer, seller, thread):
    from concurrent.futures import ThreadPoolExecutor

    def one(index: int) -> int:
        author = buyer if index % 2 else seller
        return send(app.test_client(), author, thread["id"], f"message {index}", client_id=f"c-{index}").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(one, range(24))) == [201] * 24
    tid = uuid.UUID(thread["id"])
    by_id = dict(db.session.execute(select(Message.id, Message.seq).where(Message.thread_id == tid)).tuples().all())
    assert sorted(by_id.values()) == list(range(1, 25))
    events = outbox("messaging.MessageSent", thread["id"])
    assert sorted((uuid.UUID(e["message_id"]), e["seq"]) for e in events) == sorted(by_id.items())


def test_socket_sends_and_concurrent_resends_get_contiguous_seqs_and_one_message_each(app, buyer, seller, thread):
    """``send_text_now`` (Socket.IO's one autocommit statement) from 8 threads at once, each message sent
    twice or three times under the same client_id: no duplicate, no seq used up, events match."""
    from concurrent.futures import ThreadPoolExecutor

    from app.generator import Actor
    from blueprints.messaging import sending

    tid = uuid.UUID(thread["id"])

    def one(index: int) -> tuple[str, str, bool]:
        n = index % 16
        author = buyer if n % 2 else seller
        with app.app_context():
            result = sending.send_text_now(
                thread_id=tid, actor=Actor("user", str(author.id)), client_id=f"c-{n}", body=f"message {n}"
            )
        return f"c-{n}", result.id, result.duplicate

    with ThreadPoolExecutor(max_workers=8) as pool:
        acks = list(pool.map(one, [*range(16), *range(16), *range(8)]))
    stored = dict(
        db.session.execute(select(Message.client_id, Message.id).where(Message.thread_id == tid)).tuples().all()
    )
    assert len(stored) == 16
    assert all(str(stored[client_id]) == message_id for client_id, message_id, _ in acks)
    assert sorted(client_id for client_id, _, duplicate in acks if not duplicate) == sorted(stored)
    by_id = dict(db.session.execute(select(Message.id, Message.seq).where(Message.thread_id == tid)).tuples().all())
    assert sorted(by_id.values()) == list(range(1, 17))
    events = outbox("messaging.MessageSent", thread["id"])
    assert sorted((uuid.UUID(e["message_id"]), e["seq"]) for e in events) == sorted(by_id.items())
    last_seq = db.session.execute(select(Thread.last_seq).where(Thread.id == tid)).scalar_one()
    assert last_seq == 16
