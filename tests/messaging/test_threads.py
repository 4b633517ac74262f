"""Threads: one per (listing, buyer), who may open one, participant-only reads, archive, the inbox."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.events import OutboxEvent
from app.extensions import db
from blueprints.listings.models import ListingStatus
from tests.messaging.conftest import open_thread, send


def test_opening_twice_returns_the_same_thread(client, buyer, seller, listing):
    first = client.post("/messages/threads", json={"listing_id": str(listing)}, headers=buyer.headers)
    assert first.status_code == 201
    body = first.get_json()
    assert body["buyer_id"] == str(buyer.id) and body["seller_id"] == str(seller.id) and body["created"] is True
    again = client.post("/messages/threads", json={"listing_id": str(listing)}, headers=buyer.headers)
    assert again.status_code == 200
    assert again.get_json()["id"] == body["id"] and again.get_json()["created"] is False
    opened = select(OutboxEvent).where(
        OutboxEvent.type == "messaging.ThreadOpened", OutboxEvent.aggregate_id == body["id"]
    )
    events = db.session.execute(opened).scalars()
    assert [e.payload["thread_id"] for e in events] == [body["id"]]


def test_each_buyer_gets_their_own_thread(client, buyer, stranger, listing):
    assert open_thread(client, buyer, listing)["id"] != open_thread(client, stranger, listing)["id"]


def test_you_cannot_open_a_thread_on_your_own_listing(client, seller, listing):
    response = client.post("/messages/threads", json={"listing_id": str(listing)}, headers=seller.headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "listing_id" in response.get_json()["errors"]


def test_unpublished_and_unknown_listings_answer_alike(client, buyer, seller, new_listing):
    answers = []
    for status in (ListingStatus.DRAFT, ListingStatus.PAUSED, ListingStatus.REMOVED, ListingStatus.SOLD):
        listing_id = new_listing(seller.id, status=status)
        answers.append(client.post("/messages/threads", json={"listing_id": str(listing_id)}, headers=buyer.headers))
    answers.append(client.post("/messages/threads", json={"listing_id": str(uuid.uuid4())}, headers=buyer.headers))
    assert {r.status_code for r in answers} == {422}
    shapes = {(r.get_json()["detail"], str(r.get_json()["errors"])) for r in answers}
    assert len(shapes) == 1  # existence and status are not disclosed


def test_an_existing_thread_survives_the_listing_being_sold(app, client, buyer, seller, listing, thread):
    from blueprints.listings.models import Listing

    with app.app_context():
        db.session.get(Listing, listing).status = ListingStatus.SOLD
        db.session.commit()
    again = client.post("/messages/threads", json={"listing_id": str(listing)}, headers=buyer.headers)
    assert again.status_code == 200 and again.get_json()["id"] == thread["id"]
    assert send(client, seller, thread["id"], "Sorry, it is sold").status_code == 201


def test_bad_open_bodies_are_422(client, buyer):
    for body in ({}, {"listing_id": "nope"}, {"listing_id": str(uuid.uuid4()), "buyer_id": str(uuid.uuid4())}):
        response = client.post("/messages/threads", json=body, headers=buyer.headers)
        assert response.status_code == 422, body
    assert client.post("/messages/threads", json={"listing_id": str(uuid.uuid4())}).status_code == 401


def test_generated_thread_routes_are_for_participants_only(client, buyer, seller, stranger, thread):
    tid = thread["id"]
    for user in (buyer, seller):
        response = client.get(f"/messages/threads/{tid}", headers=user.headers)
        assert response.status_code == 200
        assert "buyer_archived_at" not in response.get_json()  # the other side's archive is private
        assert [t["id"] for t in client.get("/messages/threads", headers=user.headers).get_json()["items"]] == [tid]
    assert client.get(f"/messages/threads/{tid}", headers=stranger.headers).status_code == 404
    assert client.get("/messages/threads", headers=stranger.headers).get_json()["items"] == []
    assert client.post(f"/messages/threads/{tid}/archive", headers=stranger.headers).status_code == 404
    assert client.get(f"/messages/threads/{tid}").status_code == 401
    # No client may create, change or delete threads through the generated resource.
    assert client.patch(f"/messages/threads/{tid}", json={}, headers=buyer.headers).status_code == 405
    assert client.delete(f"/messages/threads/{tid}", headers=buyer.headers).status_code == 405


def test_every_thread_route_is_404_for_a_stranger(client, stranger, thread):
    tid = thread["id"]
    message_id = uuid.uuid4()
    calls = [
        ("get", f"/messages/threads/{tid}", None),
        ("get", f"/messages/threads/{tid}/messages", None),
        ("post", f"/messages/threads/{tid}/messages", {"client_id": "c1", "body": "hi"}),
        ("post", f"/messages/threads/{tid}/read", {"message_id": str(message_id)}),
        ("post", f"/messages/threads/{tid}/archive", None),
        ("post", f"/messages/threads/{tid}/unarchive", None),
        (
            "post",
            f"/messages/threads/{tid}/attachments",
            {"filename": "a.png", "content_type": "image/png", "size": 3, "checksum": "a" * 64},
        ),
        ("get", f"/messages/threads/{tid}/attachments/{uuid.uuid4()}", None),
    ]
    for method, url, body in calls:
        response = getattr(client, method)(url, json=body, headers=stranger.headers)
        assert response.status_code == 404, (method, url, response.get_json())
        assert response.mimetype == "application/problem+json"


def test_archive_is_per_participant_and_a_new_message_unarchives(client, buyer, seller, thread):
    tid = thread["id"]
    archived = client.post(f"/messages/threads/{tid}/archive", headers=buyer.headers)
    assert archived.status_code == 200
    assert client.get("/messages/inbox", headers=buyer.headers).get_json()["items"] == []
    archived_page = client.get("/messages/inbox?archived=true", headers=buyer.headers).get_json()
    assert [t["id"] for t in archived_page["items"]] == [tid] and archived_page["items"][0]["archived"] is True
    assert [t["id"] for t in client.get("/messages/inbox", headers=seller.headers).get_json()["items"]] == [tid]
    send(client, seller, tid, "Still interested?")
    assert [t["id"] for t in client.get("/messages/inbox", headers=buyer.headers).get_json()["items"]] == [tid]
    client.post(f"/messages/threads/{tid}/archive", headers=buyer.headers)
    assert client.post(f"/messages/threads/{tid}/unarchive", headers=buyer.headers).status_code == 200
    assert [t["id"] for t in client.get("/messages/inbox", headers=buyer.headers).get_json()["items"]] == [tid]


def test_inbox_pages_by_latest_activity_with_unread_counts(client, buyer, seller, new_listing):
    threads = [open_thread(client, buyer, new_listing(seller.id))["id"] for _ in range(5)]
    for index, tid in enumerate(threads):
        for n in range(index):
            send(client, seller, tid, f"message {n}")
    send(client, seller, threads[0], "latest activity")  # thread 0 becomes the most recent
    first = client.get("/messages/inbox?limit=3", headers=buyer.headers).get_json()
    assert [t["id"] for t in first["items"]] == [threads[0], threads[4], threads[3]]
    assert [t["unread_count"] for t in first["items"]] == [1, 4, 3]
    assert first["unread_total"] == 1 + 1 + 2 + 3 + 4
    assert {t["role"] for t in first["items"]} == {"buyer"}
    assert {t["other_party_id"] for t in first["items"]} == {str(seller.id)}
    second = client.get(first["links"]["next"], headers=buyer.headers).get_json()
    assert [t["id"] for t in second["items"]] == [threads[2], threads[1]]
    assert second["links"]["next"] is None
    seller_view = client.get("/messages/inbox", headers=seller.headers).get_json()
    assert seller_view["unread_total"] == 0  # you have read what you wrote
    assert client.get("/messages/inbox?cursor=forged", headers=buyer.headers).status_code == 400
    mismatched = client.get(
        f"/messages/inbox?archived=true&cursor={first['links']['next'].split('cursor=')[1]}", headers=buyer.headers
    )
    assert mismatched.status_code == 400
