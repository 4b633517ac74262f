"""The demo marketplace seeds: buyers, live chats and negotiations, one sale paid out; idempotent.

Runs the real steps of ``bazaar seed`` (catalog included) on the test database and checks what a new
user exploring the API or the admin would find, then that a second run adds nothing.
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from app.db import db
from app.generator import Actor
from blueprints.auth import service as auth
from blueprints.listings import service as listings
from blueprints.listings.models import Listing
from blueprints.messaging.models import Message, Thread
from blueprints.offers.models import Negotiation, Offer
from blueprints.payments import service as payments
from blueprints.payments.models import JournalEntry, JournalLine, Payment, Payout
from seeds import run_seeds
from seeds.buyers import BUYERS, buyer_email
from seeds.scenes import CONVERSATIONS, SALE

STEPS = ("seeds.staff", "seeds.catalog", "seeds.buyers", "seeds.conversations", "seeds.sale")


def count(model: type) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_seeds_make_a_living_marketplace_and_run_twice_without_adding_anything(app_ctx) -> None:  # type: ignore[no-untyped-def]
    output: list[str] = []
    run_seeds(echo=output.append, steps=STEPS)

    buyers = [auth.find_user_id(email=buyer_email(key)) for key, _ in BUYERS]
    assert all(buyers) and len(set(buyers)) == len(BUYERS)
    scenes = (*CONVERSATIONS, SALE)
    assert count(Thread) == len(scenes)
    assert count(Message) == sum(len(scene.lines) for scene in scenes)
    thread_buyers = set(db.session.execute(sa.select(Thread.buyer_id)).scalars())
    assert thread_buyers == set(buyers)  # every demo buyer chats with someone

    # Live negotiations: opening offers awaiting the seller, counters awaiting the buyer, one accepted.
    live = Counter(str(state) for state in db.session.execute(sa.select(Offer.state)).scalars())
    bargains = [s for s in CONVERSATIONS if s.offer_pct is not None]
    assert live["pending"] == sum(1 for s in bargains if s.counter_pct is None) >= 2
    assert live["countered"] == sum(1 for s in bargains if s.counter_pct is not None) >= 1
    assert live["accepted"] == 1
    assert live["superseded"] == sum(1 for s in (*bargains, SALE) if s.counter_pct is not None)  # by the counters
    assert count(Negotiation) == len(bargains) + 1

    # The sale: held, shipped, released, paid out; every journal entry of it balances.
    payment = db.session.execute(sa.select(Payment)).scalar_one()
    assert payment.state == "released" and payment.shipped_at is not None
    assert payment.amount_total == payment.amount + payment.buyer_fee
    assert payment.seller_amount + payment.platform_fee == payment.amount + payment.buyer_fee
    accepted = db.session.execute(sa.select(Offer).where(Offer.state == "accepted")).scalar_one()
    assert (payment.order_type, payment.order_id, payment.amount) == ("offer", accepted.id, accepted.amount)
    sold = listings.get_listing_summary(listing_id=payment.listing_id)
    assert sold is not None and sold.title == SALE.title and sold.status == "reserved"  # sold once PaymentHeld lands
    kinds = db.session.execute(
        sa.select(JournalEntry.kind, sa.func.sum(JournalLine.amount))
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .group_by(JournalEntry.id, JournalEntry.kind)
    ).all()
    assert {kind for kind, _ in kinds} >= {"hold", "release", "payout_start", "payout_sent"}
    assert all(total == 0 for _, total in kinds)
    payout = db.session.execute(sa.select(Payout)).scalar_one()
    assert (payout.state, payout.amount, payout.seller_id) == ("sent", payment.seller_amount, payment.seller_id)

    accounts = output[output.index("seed data ready; demo accounts (email / password):") + 1 :]
    assert "  buyer   emma@buyers.bazaar.local / bazaar-buyer  (Emma Martin)" in accounts
    assert "  staff   trust@bazaar.local / bazaar-trust  (TrustSafety, /admin)" in accounts
    assert sum("@sellers.bazaar.local / bazaar-seller" in line for line in accounts) == 4
    assert any(line.startswith("  sale: payout of ") and line.endswith(" sent") for line in output)

    before = {model: count(model) for model in (Thread, Message, Offer, Payment, Payout, JournalEntry, Listing)}
    again: list[str] = []
    run_seeds(echo=again.append, steps=STEPS)
    assert {model: count(model) for model in before} == before
    assert "  buyers: 0 created, 4 already there" in again
    assert sum(line.endswith(": already there") for line in again) == len(scenes)
    # Paid out already: nothing left to pay (the service refuses to send an empty payout).
    assert payments.pay_out_seller(seller_id=payment.seller_id, currency=payment.currency, actor="system") is None


def test_a_scene_whose_listing_is_gone_is_skipped_not_forced(app_ctx) -> None:  # type: ignore[no-untyped-def]
    run_seeds(echo=lambda _: None, steps=("seeds.catalog", "seeds.buyers"))
    scene = CONVERSATIONS[0]
    copies = db.session.execute(sa.select(Listing).where(Listing.title == scene.title)).scalars().all()
    staff = Actor.staff("moderator")
    for listing in copies:
        if listing.status == "published":
            listings.remove(listing_id=listing.id, actor=staff, reason="counterfeit")
    db.session.commit()

    output: list[str] = []
    run_seeds(echo=output.append, steps=("seeds.conversations",))
    skipped = f"  {scene.buyer} -> {scene.seller} about {scene.title}: skipped: no published copy of the listing"
    assert skipped in output
    assert count(Thread) == len(CONVERSATIONS) - 1
    assert db.session.execute(sa.select(Offer).where(Offer.listing_id.in_([c.id for c in copies]))).first() is None
