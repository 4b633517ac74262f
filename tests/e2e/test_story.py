"""The MVP marketplace as its users live it, driven only from outside the running processes.

One story, in order: staff grant an integrator its role (``bazaar auth grant-role``) and it registers
a webhook; a seller and a buyer sign up, verify their email from the link in the mail, the seller
enables MFA and publishes listings; the buyer finds one by full-text search, they chat live over
Socket.IO, negotiate (offer, counter, accept), the buyer pays with a sandbox card, the seller ships,
the buyer confirms receipt, escrow is released and a payout pays the seller; the ledger balances.
Beside it, a second negotiation expires by its durable timer and a third buyer is rate limited on
offer spam. At the end the integrator's webhook has received every event type of the story, each
signed, in order per aggregate.

The system runs with the short timers and low limits of ``SYSTEM_SETTINGS`` below (read by the
``system`` fixture of tests/e2e/conftest.py for this module only).
"""

from __future__ import annotations

import ast
import json
import time
import uuid
from datetime import datetime

import pytest

from tests.e2e.story import Actor, WebhookReceiver, email_text, eventually, signature_valid, verification_token

# The story takes about a minute on a quiet machine; the bound is for a loaded CI runner.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

USD = "USD"
# Offers expire after 20 s unless their listing's policy says otherwise (the reminder comes 5 s
# before: a worker late by more skips it); escrow auto-releases 10 s after shipping; a buyer may
# start 3 negotiations a day and POST /offers 5 times a minute; the integrator listens on 127.0.0.1.
SYSTEM_SETTINGS = {
    "OFFERS_EXPIRY_SECONDS": "20",
    "PAYMENTS_INSPECTION_SECONDS": "10",
    "OFFERS_MAX_DAILY_PER_BUYER": "3",
    "RATELIMIT_ROUTES": "offers_create.create_offer=5/minute",
    "WEBHOOKS_ALLOW_PRIVATE": "true",
}
# Every event type the story makes happen, which the integrator subscribed to with "*".
STORY_EVENT_TYPES = {
    "auth.UserRegistered",
    "auth.EmailVerified",
    "auth.MfaChanged",
    "listings.ListingPublished",
    "listings.ListingReserved",
    "listings.ListingSold",
    "messaging.ThreadOpened",
    "messaging.MessageSent",
    "offers.OfferCreated",
    "offers.OfferCountered",
    "offers.OfferAccepted",
    "offers.OfferWithdrawn",
    "offers.OfferExpiringSoon",
    "offers.OfferExpired",
    "payments.PaymentHeld",
    "payments.PaymentReleased",
    "payments.PayoutSent",
}
# What must never reach an integrator: one-time tokens that take over an account.
SECRET_EVENT_TYPES = {"auth.EmailVerificationRequested", "auth.PasswordResetRequested"}


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


def publish_listing(seller: Actor, run: str, title: str, price: int) -> dict:
    categories = seller.get("/listings/categories?limit=100")["items"]
    assert categories, "the seed command created no categories"
    category = next((c for c in categories if c.get("parent_id")), categories[0])
    rubric = next(r for r in seller.get("/listings/condition-rubrics?limit=50")["items"] if r["grade"] == "like_new")
    slug = uuid.uuid4().hex[:6]
    photos = [
        {
            "key": f"listings/{run}/{slug}-{i}.jpg",
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
            "title": title,
            "description": "Mid-century walnut furniture, solid brass handles, very clean, from a smoke-free home.",
            "price": {"amount": price, "currency": USD},
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
    return listing


def make_offer(buyer: Actor, listing: dict, amount: int, status: int = 201) -> dict:
    return buyer.post(
        "/offers",
        {"listing_id": listing["id"], "price": {"amount": amount, "currency": USD}},
        status=status,
        headers={"Idempotency-Key": f"offer-{uuid.uuid4().hex}"},
    )


def register_integrator(system, run: str, receiver: WebhookReceiver) -> tuple[Actor, dict]:  # type: ignore[no-untyped-def]
    """Staff grant the role from the CLI; it reaches the integrator's token at the next refresh."""
    integrator = Actor(system.base_url, f"integrator-{run}@example.com", "Ivy Integrator")
    integrator.signup(["buyer"])
    body = {"url": receiver.url, "event_types": ["*"], "description": "the story's integrator"}
    denied = integrator.post("/webhooks/endpoints", body, status=403)
    assert denied["status"] == 403
    granted = system.cli("auth", "grant-role", integrator.email, "integrator")
    assert "integrator granted" in granted.stdout
    integrator.post("/webhooks/endpoints", body, status=403)  # the token in hand predates the grant
    integrator.refresh()
    assert integrator.get("/auth/me")["granted_roles"] == ["integrator"]
    endpoint = integrator.post("/webhooks/endpoints", body, status=201)
    assert endpoint["secret"].startswith("whsec_") and endpoint["event_types"] == ["*"]
    # Workers cache the active endpoints for a second: events from now on are fanned out to this one.
    time.sleep(1.1)
    return integrator, endpoint


def spam_offers(system, run: str, listing: dict) -> None:  # type: ignore[no-untyped-def]
    """A third buyer starts negotiations faster than allowed: the daily anti-spam rule (3) answers 429,
    then the route's own rate limit (5 POST /offers a minute) does; both problem+json."""
    spammer = Actor(system.base_url, f"spammer-{run}@example.com", "Sly Spammer")
    spammer.signup(["buyer"])
    for amount in (15000, 15100, 15200):  # withdrawn negotiations still count: it is a rate
        offer = make_offer(spammer, listing, amount)
        spammer.post(f"/offers/{offer['id']}/withdraw")
    for remaining in ("1", "0"):
        response = spammer.session.post(
            system.url("/offers"),
            json={"listing_id": listing["id"], "price": {"amount": 15300, "currency": USD}},
            headers={"Authorization": f"Bearer {spammer.access_token}", "Idempotency-Key": uuid.uuid4().hex},
            timeout=30,
        )
        assert response.status_code == 429, response.text
        assert response.headers["Content-Type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["status"] == 429 and "listing_id" in problem["errors"], problem
        assert 86_000 < int(response.headers["Retry-After"]) <= 86_401  # until the oldest leaves the 24 h window
        assert response.headers["RateLimit-Limit"] == "5"
        assert response.headers["RateLimit-Remaining"] == remaining
    limited = spammer.session.post(
        system.url("/offers"),
        json={"listing_id": listing["id"], "price": {"amount": 15400, "currency": USD}},
        headers={"Authorization": f"Bearer {spammer.access_token}", "Idempotency-Key": uuid.uuid4().hex},
        timeout=30,
    )
    assert limited.status_code == 429 and limited.headers["Content-Type"].startswith("application/problem+json")
    assert "Rate limit exceeded" in limited.json()["detail"]
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["RateLimit-Remaining"] == "0"
    assert 0 <= int(limited.headers["RateLimit-Reset"]) <= 60
    assert len(spammer.get("/offers?limit=50")["items"]) == 3


def assert_expired(seller: Actor, buyer: Actor, offer: dict, listing: dict) -> None:
    """The second negotiation: nobody answered, its durable timer ended it (the relay and worker did)."""
    expired = eventually(
        lambda: (o := buyer.get(f"/offers/{offer['id']}"))["state"] == "expired" and o, "the offer expired", 40
    )
    assert datetime.fromisoformat(expired["expires_at"]) <= datetime.fromisoformat(expired["updated_at"])
    for actor in (buyer, seller):
        actor.pushes.wait(
            "offer.updated", lambda p: p.get("offer_id", p.get("id")) == offer["id"] and p.get("state") == "expired"
        )
    # The reminder before expiry reached the party who had to answer (the seller), in the app.
    reminders = eventually(
        lambda: seller.get("/notifications?kind=offer_expiring")["items"], "the seller's expiry reminder"
    )
    assert len(reminders) == 1
    assert seller.get(f"/listings/{listing['id']}")["status"] == "published"  # still for sale


def pay_out(system, seller: Actor, proceeds: int) -> None:  # type: ignore[no-untyped-def]
    """The seller connects a payout account; the payout batch (as its RQ job runs it) sends the money."""
    account = seller.post("/payments/seller/account", {"country": "US", "email": seller.email})
    assert account["provider"] == "sandbox" and account["payouts_enabled"] is True
    stats = ast.literal_eval(system.cli("payments", "payouts").stdout.strip())  # the job's stats, printed
    assert stats["sent"] >= 1 and stats["failed"] == 0, stats  # (the demo seeds' sellers may be paid too)
    [payout] = seller.get("/payments/payouts")["items"]
    assert payout["state"] == "sent" and payout["value"] == {"amount": proceeds, "currency": USD}, payout
    usd = next(b for b in seller.get("/payments/seller/balance")["balances"] if b["currency"] == USD)
    assert (usd["available"], usd["in_transit"], usd["paid_out"]) == (0, 0, proceeds), usd
    eventually(lambda: seller.get("/notifications?kind=payout_sent")["items"], "the seller told of the payout")


def sale_released_by_timer(system, run: str, seller: Actor, listing: dict) -> int:  # type: ignore[no-untyped-def]
    """Another buyer pays and never confirms receipt: the auto-release timer pays the seller when the
    inspection window (10 s here) ends after shipping. Returns the seller's proceeds."""
    abe = Actor(system.base_url, f"abe-{run}@example.com", "Abe Buyer")
    abe.signup(["buyer"])
    bid = make_offer(abe, listing, 16000)
    assert seller.post(f"/offers/{bid['id']}/accept")["state"] == "accepted"
    payment = abe.post(
        "/payments/intents",
        {"order_type": "offer", "order_id": bid["id"]},
        status=201,
        headers={"Idempotency-Key": f"pay-abe-{run}"},
    )
    abe.post(
        f"/payments/{payment['id']}/confirm",
        {"payment_method": "pm_card_visa"},
        headers={"Idempotency-Key": f"confirm-abe-{run}"},
    )
    eventually(lambda: abe.get(f"/payments/{payment['id']}")["state"] == "held", "the second payment held")
    shipped = seller.post(f"/payments/{payment['id']}/ship")
    window = datetime.fromisoformat(shipped["release_due_at"]) - datetime.fromisoformat(shipped["shipped_at"])
    assert window.total_seconds() == 10, shipped
    assert shipped["state"] == "held"
    released = eventually(
        lambda: (p := abe.get(f"/payments/{payment['id']}"))["state"] == "released" and p, "the auto-release", 60
    )
    assert datetime.fromisoformat(released["released_at"]) >= datetime.fromisoformat(shipped["release_due_at"])
    return 16000 - 1600


def assert_ledger_balances(system) -> None:  # type: ignore[no-untyped-def]
    report = json.loads(system.cli("payments", "ledger-check").stdout)
    assert report["sound"] is True, report
    assert report["unbalanced_entries"] == [] and report["drifted_accounts"] == []
    assert report["trial_balance"][USD] == 0 and set(report["trial_balance"].values()) == {0}  # (seeds add EUR)
    assert report["entries"] >= 4  # hold, release, payout start, payout sent


def assert_webhooks(receiver: WebhookReceiver, endpoint: dict, sequences: dict[str, list[str]]) -> None:
    """Every event type of the story arrived, each signed with the endpoint's secret, in order per aggregate.

    ``sequences`` names, per aggregate id, event types that must arrive in that order (others may come
    between them); beside that, every aggregate's events must arrive in the order they occurred.
    """
    try:
        eventually(lambda: receiver.types() >= STORY_EVENT_TYPES, "a webhook of every event type of the story", 60)
    except AssertionError as missing:
        raise AssertionError(f"{missing}; never received: {sorted(STORY_EVENT_TYPES - receiver.types())}") from None
    deliveries = receiver.received()
    assert all(signature_valid(d, endpoint["secret"]) for d in deliveries)
    assert not any(signature_valid(d, "whsec_not-the-secret") for d in deliveries)
    assert all(d.headers["bazaar-event-id"] == d.event["id"] for d in deliveries)
    assert not receiver.types() & SECRET_EVENT_TYPES, "one-time tokens must never leave for integrators"
    first_seen: dict[str, dict] = {}
    for delivery in deliveries:  # at-least-once: a redelivery keeps its first place
        first_seen.setdefault(delivery.event["id"], delivery.event)
    per_aggregate: dict[str, list[dict]] = {}
    for event in first_seen.values():
        per_aggregate.setdefault(event["aggregate_id"], []).append(event)
    for aggregate, events in per_aggregate.items():
        times = [datetime.fromisoformat(e["occurred_at"]) for e in events]
        assert times == sorted(times), f"aggregate {aggregate} out of order: {[e['type'] for e in events]}"
    for aggregate, expected in sequences.items():
        arrived = [e["type"] for e in per_aggregate.get(aggregate, []) if e["type"] in expected]
        assert arrived == expected, f"aggregate {aggregate}: {arrived}, expected {expected}"


def test_the_marketplace_story(system):  # type: ignore[no-untyped-def]
    run = uuid.uuid4().hex[:8]
    receiver = WebhookReceiver()
    try:
        story(system, run, receiver)
    finally:
        print("webhook event types received:", sorted(receiver.types()))  # shown when the story fails
        receiver.close()


def story(system, run: str, receiver: WebhookReceiver) -> None:  # type: ignore[no-untyped-def]
    integrator, endpoint = register_integrator(system, run, receiver)
    seller = Actor(system.base_url, f"seller-{run}@example.com", "Sam Seller")
    buyer = Actor(system.base_url, f"buyer-{run}@example.com", "Bea Buyer")

    # -- accounts --------------------------------------------------------------------------------
    seller.signup(["seller", "buyer"])
    buyer.signup(["buyer"])
    verify_email(system, seller)
    verify_email(system, buyer)
    seller.enable_mfa()
    seller.login()  # password + TOTP

    # -- the listings: the one the story sells (its own policy: offers stand an hour), and another --
    listing = publish_listing(seller, run, f"Vintage walnut record cabinet {run}", 24000)
    policy = seller.post("/offers/policies", {"listing_id": listing["id"], "expiry_hours": 1}, status=201)
    assert policy["expiry_hours"] == 1
    side_table = publish_listing(seller, run, f"Walnut side table {run}", 16000)

    found = eventually(
        lambda: [i for i in buyer.get(f"/listings?q=walnut+record+cabinet+{run}")["items"] if i["id"] == listing["id"]],
        "the listing in full-text search",
    )
    assert found[0]["price"] == {"amount": 24000, "currency": USD}

    events = ("message.new", "message.read", "offer.updated", "notification.new")
    seller.connect_socket(events)
    buyer.connect_socket(events)

    # -- a second negotiation, left unanswered: the platform's 20 s window runs while the story goes on --
    forgotten = make_offer(buyer, side_table, 14000)
    assert forgotten["state"] == "pending"
    window = datetime.fromisoformat(forgotten["expires_at"]) - datetime.fromisoformat(forgotten["created_at"])
    assert 19 <= window.total_seconds() <= 21, window

    # -- a third buyer spams offers on it and is rate limited ----------------------------------------
    spam_offers(system, run, side_table)

    # -- chat, live both ways ----------------------------------------------------------------------
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
        {"listing_id": listing["id"], "price": {"amount": 18000, "currency": USD}, "message": "Would you take 180?"},
        status=201,
        headers={"Idempotency-Key": f"offer-{run}"},
    )
    window = datetime.fromisoformat(offer["expires_at"]) - datetime.fromisoformat(offer["created_at"])
    assert 3590 <= window.total_seconds() <= 3610, "the listing's policy (1 h) wins over the platform's 20 s"
    replay = buyer.call(
        "POST",
        "/offers",
        201,
        headers={"Idempotency-Key": f"offer-{run}"},
        json={
            "listing_id": listing["id"],
            "price": {"amount": 18000, "currency": USD},
            "message": "Would you take 180?",
        },
    )
    assert replay["id"] == offer["id"], "the same Idempotency-Key and body replay the stored response"
    seller.pushes.wait("offer.updated", lambda p: str(p.get("offer_id", p.get("id"))) == offer["id"])
    counter = seller.post(f"/offers/{offer['id']}/counter", {"price": {"amount": 21000, "currency": USD}})
    assert counter["id"] != offer["id"] and counter["state"] == "countered"
    buyer.pushes.wait("offer.updated", lambda p: str(p.get("offer_id", p.get("id"))) == counter["id"])
    accepted = buyer.post(f"/offers/{counter['id']}/accept")
    assert accepted["state"] == "accepted"
    for actor in (buyer, seller):
        actor.pushes.wait("offer.updated", lambda p: p.get("state") == "accepted")
    assert seller.get(f"/listings/{listing['id']}")["status"] == "reserved"  # no longer public
    eventually(lambda: seller.get("/notifications/unread-count").get("unread", 0) > 0, "seller's in-app notifications")
    eventually(lambda: buyer.get("/notifications/unread-count").get("unread", 0) > 0, "buyer's in-app notifications")

    # -- the second negotiation has expired by now ---------------------------------------------------
    assert_expired(seller, buyer, forgotten, side_table)

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
    proceeds = 21000 - 2100  # the agreed price less the 10% platform fee
    balance = seller.get("/payments/seller/balance")
    usd = next(b for b in balance["balances"] if b["currency"] == USD)
    assert usd["available"] == proceeds, balance
    assert usd["in_escrow"] == 0

    # -- a second sale the buyer never confirms: released by the inspection timer ----------------------
    proceeds += sale_released_by_timer(system, run, seller, side_table)

    # -- the payout pays the seller; the ledger balances -----------------------------------------------
    pay_out(system, seller, proceeds)
    assert_ledger_balances(system)

    # -- the integrator saw it all ---------------------------------------------------------------------
    assert_webhooks(
        receiver,
        endpoint,
        {
            seller.user_id: ["auth.UserRegistered", "auth.EmailVerified", "auth.MfaChanged"],
            listing["id"]: ["listings.ListingPublished", "listings.ListingReserved", "listings.ListingSold"],
            thread["id"]: ["messaging.ThreadOpened", "messaging.MessageSent", "messaging.MessageSent"],
            offer["id"]: ["offers.OfferCreated"],
            counter["id"]: ["offers.OfferCountered", "offers.OfferAccepted"],
            forgotten["id"]: ["offers.OfferCreated", "offers.OfferExpiringSoon", "offers.OfferExpired"],
            payment["id"]: ["payments.PaymentHeld", "payments.PaymentReleased"],
        },
    )
    assert integrator.get(f"/webhooks/endpoints/{endpoint['id']}/deliveries?status=failed") == []

    seller.close()
    buyer.close()
