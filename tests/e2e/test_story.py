"""The MVP marketplace as its users live it, driven only from outside the running processes.

One story, in order: a seller and a buyer sign up, verify their email from the link in the mail,
the seller enables MFA and publishes a listing; the buyer finds it by full-text search, they chat
live over Socket.IO, negotiate (offer, counter, accept), the buyer pays with a sandbox card, the
seller ships, the buyer confirms receipt, escrow is released and paid out; an integrator's webhook
receives every event of the story, signed, in order per aggregate.
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.story import Actor, email_text, eventually, verification_token

pytestmark = pytest.mark.slow


def _answers_for(rubric: dict) -> dict:
    answers = {}
    for question in rubric.get("disclosures") or rubric.get("questions") or []:
        answers[question["key"]] = False if question.get("kind", "boolean") == "boolean" else "none"
    return answers


def _attributes_for(schema: dict) -> dict:
    values = {}
    for name in schema.get("required", []):
        spec = schema.get("properties", {}).get(name, {})
        if "enum" in spec:
            values[name] = spec["enum"][0]
        elif spec.get("type") in ("integer", "number"):
            values[name] = max(1, spec.get("minimum", 1))
        elif spec.get("type") == "boolean":
            values[name] = True
        else:
            values[name] = "Acme"
    return values


def verify_email(system, actor: Actor) -> None:  # type: ignore[no-untyped-def]
    mail = system.inbox.wait_for(lambda m: actor.email in (m["To"] or "") and "verify-email" in email_text(m))
    actor.post("/auth/email/verify", {"token": verification_token(email_text(mail))})
    assert actor.get("/auth/me")["email_verified"] is True


def test_the_marketplace_story(system):  # type: ignore[no-untyped-def]
    run = uuid.uuid4().hex[:8]
    seller = Actor(system.base_url, f"seller-{run}@example.com", "Sam Seller")
    buyer = Actor(system.base_url, f"buyer-{run}@example.com", "Bea Buyer")

    # -- accounts --------------------------------------------------------------------------------
    seller.signup(["seller", "buyer"])
    buyer.signup(["buyer"])
    verify_email(system, seller)
    verify_email(system, buyer)
    seller.enable_mfa()
    seller.login()  # password + TOTP

    # -- the listing -----------------------------------------------------------------------------
    categories = seller.get("/listings/categories?limit=100")["items"]
    assert categories, "the seed command created no categories"
    category = next((c for c in categories if c.get("parent_id")), categories[0])
    rubric = next(r for r in seller.get("/listings/condition-rubrics?limit=50")["items"] if r["grade"] == "like_new")
    photos = [
        {
            "key": f"listings/{run}/{i}.jpg",
            "content_type": "image/jpeg",
            "size_bytes": 120_000 + i,
            "width": 1200,
            "height": 900,
            "order": i,
        }
        for i in range(max(3, rubric.get("min_photos", 1)))
    ]
    listing = seller.post(
        "/listings",
        {
            "category_id": category["id"],
            "title": f"Vintage walnut record cabinet {run}",
            "description": "Mid-century walnut cabinet for vinyl records, solid brass handles, very clean.",
            "price": {"amount": 24000, "currency": "USD"},
            "condition": "like_new",
            "condition_answers": _answers_for(rubric),
            "attributes": _attributes_for(category.get("attributes_schema") or {}),
            "photos": photos,
            "shipping_options": [{"method": "tracked", "price_amount": 2500, "days_min": 2, "days_max": 5}],
            "location_label": "Portland, OR",
            "country": "US",
        },
        status=201,
    )
    published = seller.post(f"/listings/{listing['id']}/publish")
    assert published["status"] == "published"

    found = eventually(
        lambda: [i for i in buyer.get(f"/listings?q=walnut+record+cabinet+{run}")["items"] if i["id"] == listing["id"]],
        "the listing in full-text search",
    )
    assert found[0]["price"] == {"amount": 24000, "currency": "USD"}

    # -- chat, live both ways ----------------------------------------------------------------------
    events = ("message.new", "message.read", "offer.updated", "notification.new")
    seller.connect_socket(events)
    buyer.connect_socket(events)
    thread = buyer.post("/messages/threads", {"listing_id": listing["id"]}, status=201)
    again = buyer.post("/messages/threads", {"listing_id": listing["id"]}, status=200)
    assert again["id"] == thread["id"], "opening a thread twice returns the same thread"
    for actor in (buyer, seller):
        assert actor.emit("room.join", {"room": f"thread:{thread['id']}"}) == {
            "ok": True,
            "room": f"thread:{thread['id']}",
        }
    ack = buyer.emit("message.send", {"thread_id": thread["id"], "client_id": "b-1", "body": "Is it still available?"})
    assert "error" not in ack, ack
    incoming = seller.pushes.wait("message.new", lambda m: m.get("client_id") == "b-1" or m.get("id") == ack.get("id"))
    reply = seller.emit("message.send", {"thread_id": thread["id"], "client_id": "s-1", "body": "Yes, it is!"})
    buyer.pushes.wait("message.new", lambda m: m.get("id") == reply.get("id") or m.get("client_id") == "s-1")
    read = buyer.emit("message.read", {"thread_id": thread["id"], "message_id": reply["id"]})
    assert "error" not in read, read
    seller.pushes.wait("message.read")
    assert incoming["body"] == "Is it still available?"
    history = buyer.get(f"/messages/threads/{thread['id']}/messages")
    assert [m["body"] for m in history["items"]][-2:] in (
        ["Is it still available?", "Yes, it is!"],
        ["Yes, it is!", "Is it still available?"],
    )

    # -- negotiation: offer below asking, counter, accept ------------------------------------------
    offer = buyer.post(
        "/offers",
        {"listing_id": listing["id"], "price": {"amount": 18000, "currency": "USD"}, "message": "Would you take 180?"},
        status=201,
        headers={"Idempotency-Key": f"offer-{run}"},
    )
    replay = buyer.call(
        "POST",
        "/offers",
        201,
        headers={"Idempotency-Key": f"offer-{run}"},
        json={
            "listing_id": listing["id"],
            "price": {"amount": 18000, "currency": "USD"},
            "message": "Would you take 180?",
        },
    )
    assert replay["id"] == offer["id"], "the same Idempotency-Key and body replay the stored response"
    seller.pushes.wait("offer.updated", lambda p: str(p.get("offer_id", p.get("id"))) == offer["id"])
    counter = seller.post(f"/offers/{offer['id']}/counter", {"price": {"amount": 21000, "currency": "USD"}})
    assert counter["id"] != offer["id"] and counter["state"] == "countered"
    buyer.pushes.wait("offer.updated", lambda p: str(p.get("offer_id", p.get("id"))) == counter["id"])
    accepted = buyer.post(f"/offers/{counter['id']}/accept")
    assert accepted["state"] == "accepted"
    for actor in (buyer, seller):
        actor.pushes.wait("offer.updated", lambda p: p.get("state") == "accepted")
    assert seller.get(f"/listings/{listing['id']}")["status"] == "reserved"  # no longer public
    eventually(lambda: seller.get("/notifications/unread-count").get("unread", 0) > 0, "seller's in-app notifications")
    eventually(lambda: buyer.get("/notifications/unread-count").get("unread", 0) > 0, "buyer's in-app notifications")

    # -- payment: escrow held, listing sold, seller told by email -------------------------------------
    payment = buyer.post(
        "/payments/intents",
        {"order_type": "offer", "order_id": counter["id"]},
        status=201,
        headers={"Idempotency-Key": f"pay-{run}"},
    )
    assert payment["amount"]["amount"] >= 21000
    confirmed = buyer.post(
        f"/payments/{payment['id']}/confirm",
        {"payment_method": "pm_card_visa"},
        headers={"Idempotency-Key": f"confirm-{run}"},
    )
    assert confirmed["state"] in ("held", "processing"), confirmed
    eventually(lambda: buyer.get(f"/payments/{payment['id']}")["state"] == "held", "payment held in escrow")
    eventually(lambda: seller.get(f"/listings/{listing['id']}")["status"] == "sold", "listing sold")
    system.inbox.wait_for(lambda m: seller.email in (m["To"] or "") and "payment" in (m["Subject"] or "").lower())

    # -- shipping and release ----------------------------------------------------------------------
    seller.post(f"/payments/{payment['id']}/ship")
    released = buyer.post(f"/payments/{payment['id']}/confirm-received")
    assert released["state"] == "released", released
    balance = seller.get("/payments/seller/balance")
    usd = next(b for b in balance["balances"] if b["currency"] == "USD")
    assert usd["available"] == 21000 - 2100, balance  # the agreed price less the 10% platform fee
    assert usd["in_escrow"] == 0

    seller.close()
    buyer.close()
