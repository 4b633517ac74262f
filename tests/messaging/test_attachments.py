"""Attachments: metadata checks, the pre-signed upload (size + checksum verified), sending, downloading."""

from __future__ import annotations

import hashlib
import time
import uuid
from urllib.parse import urlsplit

from tests.messaging.conftest import send

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def declare(client, user, thread_id, data: bytes = PNG, **overrides):  # type: ignore[no-untyped-def]
    body = {
        "filename": "photo.png",
        "content_type": "image/png",
        "size": len(data),
        "checksum": hashlib.sha256(data).hexdigest(),
        **overrides,
    }
    return client.post(f"/messages/threads/{thread_id}/attachments", json=body, headers=user.headers)


def put(client, ticket: dict, data: bytes, content_type: str | None = None):  # type: ignore[no-untyped-def]
    path = urlsplit(ticket["url"]).path
    headers = dict(ticket["headers"])
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.put(path, data=data, headers=headers)


def test_upload_send_and_download(client, storage, buyer, seller, thread):
    declared = declare(client, buyer, thread["id"])
    assert declared.status_code == 201
    ticket = declared.get_json()
    assert ticket["upload"]["method"] == "PUT" and ticket["upload"]["headers"] == {"Content-Type": "image/png"}
    attachment_id = ticket["attachment"]["id"]
    # Not uploaded yet: cannot be sent.
    early = send(client, buyer, thread["id"], "photo", attachment_ids=[attachment_id])
    assert early.status_code == 422 and "attachment_ids" in early.get_json()["errors"]
    assert put(client, ticket["upload"], PNG).status_code == 204
    sent = send(client, buyer, thread["id"], "", attachment_ids=[attachment_id])
    assert sent.status_code == 201
    message = sent.get_json()
    assert message["body"] == "" and [a["id"] for a in message["attachments"]] == [attachment_id]
    assert message["attachments"][0]["checksum"] == hashlib.sha256(PNG).hexdigest()
    # The seller (a participant) gets a short-lived link; the bytes come back intact, as a download.
    link = client.get(f"/messages/threads/{thread['id']}/attachments/{attachment_id}", headers=seller.headers)
    assert link.status_code == 200
    file = client.get(urlsplit(link.get_json()["url"]).path)
    assert file.status_code == 200 and file.data == PNG and file.mimetype == "image/png"
    assert "attachment" in file.headers["Content-Disposition"]
    assert file.headers["X-Content-Type-Options"] == "nosniff"
    # An attachment goes out once; a resend of the same message is still fine.
    again = send(client, buyer, thread["id"], "again", attachment_ids=[attachment_id])
    assert again.status_code == 422
    resend = send(client, buyer, thread["id"], "", client_id=message["client_id"], attachment_ids=[attachment_id])
    assert resend.status_code == 200 and resend.get_json()["id"] == message["id"]


def test_uploads_must_match_what_was_signed(client, storage, buyer, thread):
    ticket = declare(client, buyer, thread["id"]).get_json()["upload"]
    short = put(client, ticket, PNG[:-1])
    assert short.status_code == 422 and "body" in short.get_json()["errors"]
    assert put(client, ticket, PNG + b"x").status_code == 422
    tampered = bytearray(PNG)
    tampered[10] ^= 0xFF
    mismatch = put(client, ticket, bytes(tampered))
    assert mismatch.status_code == 422 and "SHA-256" in mismatch.get_json()["errors"]["body"][0]
    assert put(client, ticket, PNG, content_type="text/html").status_code == 422
    forged = dict(ticket, url=ticket["url"][:-3] + "abc")
    assert put(client, forged, PNG).status_code == 403
    assert list((storage.root).rglob("*")) == [] or all(p.is_dir() for p in storage.root.rglob("*"))
    assert put(client, ticket, PNG).status_code == 204


def test_expired_links_are_refused(client, storage, buyer, thread, monkeypatch):
    ticket = declare(client, buyer, thread["id"]).get_json()["upload"]
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + storage.ttl + 5)
    expired = put(client, ticket, PNG)
    assert expired.status_code == 403 and "expired" in expired.get_json()["detail"]


def test_declaring_bad_attachments_is_422(client, storage, buyer, thread, app):
    too_big = app.config["MESSAGING_ATTACHMENT_MAX_BYTES"] + 1
    cases = [
        {"content_type": "text/html"},
        {"content_type": "image/svg+xml"},
        {"size": too_big},
        {"size": 0},
        {"checksum": "ABC"},
        {"checksum": "g" * 64},
        {"filename": "../../etc/passwd"},
        {"filename": ""},
        {"filename": "a\nb.png"},
        {"uploader_id": str(uuid.uuid4())},
    ]
    for overrides in cases:
        response = declare(client, buyer, thread["id"], **overrides)
        assert response.status_code == 422, (overrides, response.get_json())


def test_you_cannot_send_someone_elses_upload(client, storage, buyer, seller, thread):
    ticket = declare(client, seller, thread["id"]).get_json()
    put(client, ticket["upload"], PNG)
    stolen = send(client, buyer, thread["id"], "mine now", attachment_ids=[ticket["attachment"]["id"]])
    assert stolen.status_code == 422
    # An unsent upload is visible to its uploader only.
    url = f"/messages/threads/{thread['id']}/attachments/{ticket['attachment']['id']}"
    assert client.get(url, headers=buyer.headers).status_code == 404
    assert client.get(url, headers=seller.headers).status_code == 200
