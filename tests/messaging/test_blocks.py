"""Blocks: a blocked user cannot message you (and learns no more than that); you manage only your own."""

from __future__ import annotations

import uuid

import pytest

from app.extensions import db
from tests.messaging.conftest import User, open_thread, send


@pytest.fixture
def accounts(app, token_for):  # type: ignore[no-untyped-def]
    """Real auth accounts (blocking checks that the blocked user exists)."""
    from blueprints.auth import service as auth

    def make(name: str) -> User:
        with app.app_context():
            user_id = auth.register_user(
                email=f"{name}-{uuid.uuid4().hex[:6]}@example.test",
                password="a long enough passphrase",
                display_name=name,
                verified=True,
            )
            db.session.commit()
        return User(user_id, token_for(user_id))

    return make


@pytest.fixture
def pair(accounts, new_listing, client):  # type: ignore[no-untyped-def]
    seller, buyer = accounts("seller"), accounts("buyer")
    thread = open_thread(client, buyer, new_listing(seller.id))
    return seller, buyer, thread


def block(client, blocker: User, blocked: uuid.UUID):  # type: ignore[no-untyped-def]
    return client.post("/messages/blocks", json={"blocked_id": str(blocked)}, headers=blocker.headers)


def test_a_blocked_user_cannot_message_you_and_is_not_told_more(client, pair, new_listing):
    seller, buyer, thread = pair
    assert send(client, buyer, thread["id"], "before").status_code == 201
    created = block(client, seller, buyer.id)
    assert created.status_code == 201
    refused = send(client, buyer, thread["id"], "after")
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    text = refused.get_data(as_text=True).lower()
    assert "block" not in text and str(seller.id) not in text and "errors" not in refused.get_json()
    # Nor can they start a new conversation with that seller.
    other = client.post("/messages/threads", json={"listing_id": str(new_listing(seller.id))}, headers=buyer.headers)
    assert other.status_code == 403 and other.get_json()["detail"] == refused.get_json()["detail"]
    # The blocker is told why they cannot write either.
    own = send(client, seller, thread["id"], "hello?")
    assert own.status_code == 403 and "unblock" in own.get_json()["detail"]
    # History stays readable for both.
    assert client.get(f"/messages/threads/{thread['id']}/messages", headers=buyer.headers).status_code == 200


def test_blocks_are_visible_and_removable_by_the_blocker_only(client, pair, make_user):
    seller, buyer, thread = pair
    block_id = block(client, seller, buyer.id).get_json()["id"]
    assert [b["blocked_id"] for b in client.get("/messages/blocks", headers=seller.headers).get_json()["items"]] == [
        str(buyer.id)
    ]
    assert client.get("/messages/blocks", headers=buyer.headers).get_json()["items"] == []
    assert client.get(f"/messages/blocks/{block_id}", headers=buyer.headers).status_code == 404
    etag = client.get(f"/messages/blocks/{block_id}", headers=seller.headers).headers["ETag"]
    stranger = make_user()
    denied = client.delete(f"/messages/blocks/{block_id}", headers={**buyer.headers, "If-Match": etag})
    assert denied.status_code == 404
    assert (
        client.delete(f"/messages/blocks/{block_id}", headers={**stranger.headers, "If-Match": etag}).status_code == 404
    )
    assert (
        client.delete(f"/messages/blocks/{block_id}", headers={**seller.headers, "If-Match": etag}).status_code == 204
    )
    assert send(client, buyer, thread["id"], "thanks for unblocking").status_code == 201


def test_bad_blocks_are_refused(client, pair):
    seller, buyer, _thread = pair
    assert block(client, seller, seller.id).status_code == 422
    unknown = block(client, seller, uuid.uuid4())
    assert unknown.status_code == 422 and "blocked_id" in unknown.get_json()["errors"]
    assert block(client, seller, buyer.id).status_code == 201
    assert block(client, seller, buyer.id).status_code == 409
    forged = client.post(
        "/messages/blocks", json={"blocked_id": str(buyer.id), "blocker_id": str(buyer.id)}, headers=seller.headers
    )
    assert forged.status_code == 422 and "blocker_id" in forged.get_json()["errors"]
    assert client.post("/messages/blocks", json={"blocked_id": str(buyer.id)}).status_code == 401


def test_system_messages_ignore_blocks(app, client, pair):
    from blueprints.messaging import service

    seller, buyer, thread = pair
    block(client, seller, buyer.id)
    with app.app_context():
        service.post_system_message(
            thread_id=uuid.UUID(thread["id"]), code="offer.expired", text="Offer expired", key="k1"
        )
        db.session.commit()
    items = client.get(f"/messages/threads/{thread['id']}/messages", headers=buyer.headers).get_json()["items"]
    assert [m["system_code"] for m in items] == ["offer.expired"]
