"""The bell: list, read and mark only your own notifications; live pushes reach only your room."""

from __future__ import annotations

import uuid

from app.realtime import NAMESPACE, get_socketio
from blueprints.notifications.models import Notification
from tests.notifications.conftest import count, notifications_of
from tests.notifications.test_email import offer_for


def two_users_with_notifications(emit, drain) -> tuple[uuid.UUID, uuid.UUID]:  # type: ignore[no-untyped-def]
    alice, bob = uuid.uuid4(), uuid.uuid4()
    emit(offer_for(alice, amount=1000), offer_for(alice, amount=2000), offer_for(bob, amount=3000))
    drain()
    return alice, bob


def test_a_user_lists_only_their_own_notifications(notif_app, client, auth_headers, emit, drain):
    alice, bob = two_users_with_notifications(emit, drain)
    response = client.get("/notifications", headers=auth_headers(alice))
    assert response.status_code == 200, response.json
    items = response.json["items"]
    assert [i["title"] for i in items] == ["New offer", "New offer"]
    assert {i["body"] for i in items} == {"A buyer offered 10.00 EUR.", "A buyer offered 20.00 EUR."}
    assert all(i["user_id"] == str(alice) for i in items)
    assert "data" not in items[0] and "event_id" not in items[0]  # the payload stays server-side
    assert client.get("/notifications", headers=auth_headers(bob)).json["items"][0]["body"] == (
        "A buyer offered 30.00 EUR."
    )
    assert client.get("/notifications").status_code == 401
    assert client.get("/notifications/unread-count").status_code == 401


def test_another_users_notification_is_a_404_to_read_and_to_mark(notif_app, client, auth_headers, emit, drain):
    alice, bob = two_users_with_notifications(emit, drain)
    bobs = notifications_of(bob)[0]
    assert client.get(f"/notifications/{bobs.id}", headers=auth_headers(alice)).status_code == 404
    response = client.post(f"/notifications/{bobs.id}/read", headers=auth_headers(alice))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert client.post(f"/notifications/{uuid.uuid4()}/read", headers=auth_headers(alice)).status_code == 404
    assert notifications_of(bob)[0].read_at is None
    assert client.post(f"/notifications/{bobs.id}/read").status_code == 401


def test_unread_count_mark_read_and_mark_all_read(notif_app, client, auth_headers, emit, drain):
    alice, bob = two_users_with_notifications(emit, drain)
    headers = auth_headers(alice)
    assert client.get("/notifications/unread-count", headers=headers).json == {"unread": 2}
    first, second = notifications_of(alice)
    response = client.post(f"/notifications/{first.id}/read", headers=headers)
    assert response.status_code == 200 and response.json["read_at"] is not None
    read_at = response.json["read_at"]
    assert client.post(f"/notifications/{first.id}/read", headers=headers).json["read_at"] == read_at  # idempotent
    assert client.get("/notifications/unread-count", headers=headers).json == {"unread": 1}
    unread = client.get("/notifications?read_at[is_null]=true", headers=headers).json["items"]
    assert [i["id"] for i in unread] == [str(second.id)]

    response = client.post("/notifications/read-all", headers=headers)
    assert response.status_code == 200 and response.json == {"marked": 1, "unread": 0}
    assert client.get("/notifications/unread-count", headers=auth_headers(bob)).json == {"unread": 1}  # untouched
    assert count(Notification, user_id=bob, read_at=None) == 1
    bad = client.post("/notifications/read-all", json={"up_to": "yesterday"}, headers=headers)
    assert bad.status_code == 422 and "up_to" in bad.json["errors"]
    assert client.post("/notifications/read-all", json={"user_id": str(bob)}, headers=headers).status_code == 422


def test_clients_cannot_write_notifications(notif_app, client, auth_headers, emit, drain):
    alice, _ = two_users_with_notifications(emit, drain)
    mine = notifications_of(alice)[0]
    headers = auth_headers(alice)
    assert client.post("/notifications", json={"title": "x"}, headers=headers).status_code == 405
    patch = client.patch(f"/notifications/{mine.id}", json={"read_at": None}, headers=headers)
    assert patch.status_code == 405
    assert client.delete(f"/notifications/{mine.id}", headers=headers).status_code == 405


def test_a_new_notification_is_pushed_live_to_its_user_only(notif_app, live_app, token_for, emit, drain):
    alice, bob = uuid.uuid4(), uuid.uuid4()
    live = live_app
    socketio = get_socketio(live)
    alice_socket = socketio.test_client(live, namespace=NAMESPACE, auth={"token": token_for(alice)})
    bob_socket = socketio.test_client(live, namespace=NAMESPACE, auth={"token": token_for(bob)})
    try:
        assert alice_socket.is_connected(NAMESPACE) and bob_socket.is_connected(NAMESPACE)
        alice_socket.get_received(NAMESPACE)
        bob_socket.get_received(NAMESPACE)
        emit(offer_for(alice, amount=1234))
        drain(app=live)  # the worker runs in this app, whose emits reach the test clients in-process
        pushed = [m for m in alice_socket.get_received(NAMESPACE) if m["name"] == "notification.new"]
        assert len(pushed) == 1
        payload = pushed[0]["args"][0]
        note = notifications_of(alice)[0]
        assert payload["id"] == str(note.id)
        assert payload["kind"] == "offer_received" and payload["body"] == "A buyer offered 12.34 EUR."
        assert payload["link"] == f"/offers/{note.data['offer_id']}"
        assert [m for m in bob_socket.get_received(NAMESPACE) if m["name"] == "notification.new"] == []
    finally:
        alice_socket.disconnect(NAMESPACE)
        bob_socket.disconnect(NAMESPACE)
