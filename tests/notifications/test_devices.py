"""Push devices: registered by their user, visible and removable only by them, moved when re-registered."""

from __future__ import annotations

import uuid

from blueprints.notifications.models import PushDevice
from tests.notifications.conftest import count

TOKEN = "fcm-" + "a" * 60


def test_register_list_and_delete_own_devices_only(notif_app, client, auth_headers):
    alice, bob = uuid.uuid4(), uuid.uuid4()
    created = client.post(
        "/notifications/devices", json={"token": TOKEN, "platform": "android", "label": "Pixel"},
        headers=auth_headers(alice),
    )  # fmt: skip
    assert created.status_code == 201, created.json
    device = created.json
    assert device["user_id"] == str(alice)
    assert client.get("/notifications/devices", headers=auth_headers(bob)).json["items"] == []
    assert [d["id"] for d in client.get("/notifications/devices", headers=auth_headers(alice)).json["items"]] == [
        device["id"]
    ]
    etag = client.get(f"/notifications/devices/{device['id']}", headers=auth_headers(alice)).headers["ETag"]
    denied = client.delete(f"/notifications/devices/{device['id']}", headers={**auth_headers(bob), "If-Match": etag})
    assert denied.status_code == 404
    assert count(PushDevice, token=TOKEN) == 1
    deleted = client.delete(f"/notifications/devices/{device['id']}", headers={**auth_headers(alice), "If-Match": etag})
    assert deleted.status_code == 204
    assert count(PushDevice, token=TOKEN) == 0


def test_a_device_moves_to_the_user_who_registers_it_last(notif_app, client, auth_headers):
    alice, bob = uuid.uuid4(), uuid.uuid4()
    body = {"token": TOKEN, "platform": "ios"}
    assert client.post("/notifications/devices", json=body, headers=auth_headers(alice)).status_code == 201
    assert client.post("/notifications/devices", json=body, headers=auth_headers(bob)).status_code == 201
    assert client.get("/notifications/devices", headers=auth_headers(alice)).json["items"] == []
    (moved,) = client.get("/notifications/devices", headers=auth_headers(bob)).json["items"]
    assert moved["platform"] == "ios"


def test_bad_devices_are_refused_with_field_errors(notif_app, client, auth_headers):
    headers = auth_headers(uuid.uuid4())
    for body, field in (
        ({"token": TOKEN, "platform": "windows-phone"}, "platform"),
        ({"token": "short", "platform": "android"}, "token"),
        ({"token": TOKEN, "platform": "android", "user_id": str(uuid.uuid4())}, "user_id"),
    ):
        response = client.post("/notifications/devices", json=body, headers=headers)
        assert response.status_code == 422, body
        assert field in response.json["errors"], response.json
    assert client.post("/notifications/devices", json={"token": TOKEN, "platform": "web"}).status_code == 401
    assert count(PushDevice) == 0
