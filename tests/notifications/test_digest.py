"""Chatty kinds: nothing emailed while online; offline, one email per thread per window, skipped if seen."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import text

from app.extensions import db
from app.realtime import NAMESPACE, get_socketio
from blueprints.notifications import presence
from tests.notifications.conftest import deliveries, notifications_of
from tests.notifications.routes_for_tests import MessagePosted


def message(thread: uuid.UUID, sender: uuid.UUID, recipient: uuid.UUID, preview: str) -> MessagePosted:
    return MessagePosted(
        aggregate_id=thread,
        actor=f"user:{sender}",
        thread_id=thread,
        sender_id=sender,
        recipient_ids=[recipient],
        preview=preview,
    )


def end_windows_now() -> None:
    """Fast-forward the digest windows: their deliveries and their timers become due now."""
    db.session.execute(
        text(
            "UPDATE notifications.deliveries SET not_before = now() WHERE status = 'pending' AND digest_key IS NOT NULL"
        )
    )
    db.session.execute(
        text(
            "UPDATE platform.timers SET due_at = now() "
            "WHERE name = 'notifications.dispatch' AND key LIKE :digest AND state = 'scheduled'"
        ),
        {"digest": "%:digest"},
    )
    db.session.commit()


def test_offline_user_gets_one_email_per_thread_per_window(notif_app, smtp, emit, drain, make_user):
    reader, bob, carol = make_user("Reader"), make_user("Bob"), make_user("Carol")
    bike, lamp = uuid.uuid4(), uuid.uuid4()
    emit(message(bike, bob, reader, "Is it still available?"))
    emit(message(bike, bob, reader, "I can pick it up today"), message(lamp, carol, reader, "Does the lamp work?"))
    emit(message(bike, bob, reader, "Cash or card?"))
    drain()
    assert len([n for n in notifications_of(reader) if n.kind == "new_message"]) == 4  # the bell has all
    pending = deliveries(user_id=reader, channel="email")
    assert len(pending) == 4 and {d.status for d in pending} == {"pending"}
    assert len({d.batch_id for d in pending if d.digest_key == f"thread_id:{bike}"}) == 1  # one window
    assert smtp.mailbox.messages == []  # nothing before the window ends

    end_windows_now()
    drain()
    mails = smtp.mailbox.wait_for(2)
    assert len(mails) == 2
    by_subject = {m.message["Subject"]: m for m in mails}
    bike_mail = by_subject["3 new messages from Bob"]
    assert "Bob: Is it still available?" in bike_mail.text() and "Bob: Cash or card?" in bike_mail.text()
    assert "Does the lamp work?" in by_subject["New message from Carol"].text()

    bike_rows = deliveries(user_id=reader, channel="email", digest_key=f"thread_id:{bike}")
    carrier = next(d for d in bike_rows if d.status == "sent")
    assert sorted(d.status for d in bike_rows) == ["digested", "digested", "sent"]
    assert {d.digest_of for d in bike_rows if d.status == "digested"} == {carrier.id}

    # The next message after the digest opens a new window instead of mailing at once.
    emit(message(bike, bob, reader, "Still there?"))
    drain()
    latest = deliveries(user_id=reader, channel="email", status="pending")
    assert len(latest) == 1 and latest[0].batch_id != carrier.batch_id
    assert len(smtp.mailbox.messages) == 2


def test_no_email_while_the_user_is_online_on_the_socket(notif_app, smtp, emit, drain, make_user):
    reader, bob = make_user("Reader"), make_user("Bob")
    presence.touch(reader, "socket-1")
    emit(message(uuid.uuid4(), bob, reader, "hello"))
    drain()
    assert len(notifications_of(reader)) == 1
    assert deliveries(user_id=reader, channel="email") == []


def test_a_digest_is_skipped_when_read_in_the_app_or_the_user_came_online(
    notif_app, smtp, emit, drain, make_user, client, auth_headers
):
    reader, other, bob = make_user("Reader"), make_user("Other"), make_user("Bob")
    emit(message(uuid.uuid4(), bob, reader, "one"), message(uuid.uuid4(), bob, other, "two"))
    drain()
    assert client.post("/notifications/read-all", headers=auth_headers(reader)).json["marked"] == 1
    presence.touch(other, "socket-9")  # came online before the window ended
    end_windows_now()
    drain()
    (read_one,) = deliveries(user_id=reader, channel="email")
    (online_one,) = deliveries(user_id=other, channel="email")
    assert (read_one.status, read_one.last_error) == ("skipped", "seen: read in the app")
    assert (online_one.status, online_one.last_error) == ("skipped", "seen: the user was online")
    assert smtp.mailbox.messages == []


def test_presence_follows_socket_pings_and_expires(notif_app, live_app, token_for, monkeypatch):
    user = uuid.uuid4()
    live = live_app
    socket = get_socketio(live).test_client(live, namespace=NAMESPACE, auth={"token": token_for(user)})
    try:
        assert not presence.is_online(user)
        ack = socket.emit("presence.ping", {}, namespace=NAMESPACE, callback=True)
        assert ack["ok"] is True and ack["ttl"] == 90
        assert presence.is_online(user)
        assert socket.emit("presence.leave", {}, namespace=NAMESPACE, callback=True) == {"ok": True}
        assert not presence.is_online(user)
    finally:
        socket.disconnect(NAMESPACE)
    monkeypatch.setitem(notif_app.config, "NOTIFICATIONS_PRESENCE_TTL_SECONDS", 1)
    presence.touch(user, "vanished-socket")  # a web process died without saying goodbye
    assert presence.is_online(user)
    time.sleep(1.1)
    assert not presence.is_online(user)
    assert presence.online_users([user, uuid.uuid4()]) == set()
