"""Live chats and negotiations between the demo buyers and sellers (open offers, counter-offers).

Everything goes through the messaging and offers services, as the API would do it. A scene is one
transaction (thread, messages, offers) and is recognised by its thread: a second run finds the
buyer's thread about the listing and skips the scene.
"""

from __future__ import annotations

from app.db import db
from app.generator import Actor
from blueprints.listings import service as listings
from blueprints.messaging import service as messaging
from blueprints.offers import service as offers
from seeds import Echo, progress
from seeds.buyers import buyer_actor
from seeds.catalog import SELLERS, _rows
from seeds.scenes import BUYER, CONVERSATIONS, Scene

SELLER_ROLES = frozenset({"seller", "buyer"})


def seller_actor(key: str) -> Actor:
    index = [k for k, _ in SELLERS].index(key)
    seller_id = listings.seller_for_sku(sku=_rows(index)[0]["sku"])
    if seller_id is None:
        raise RuntimeError(f"demo seller {key} is missing: run the catalog seed first")
    return Actor("user", str(seller_id), SELLER_ROLES)


def scene_listing(scene: Scene, seller: Actor) -> listings.ListingSummary | None:
    """The first of the seller's copies of the product that is published (None: none is, any more)."""
    index = [k for k, _ in SELLERS].index(scene.seller)
    for row in _rows(index):
        if row["title"] != scene.title:
            continue
        listing_id = listings.listing_for_sku(seller_id=seller.user_id, sku=row["sku"])  # type: ignore[arg-type]
        summary = listings.get_listing_summary(listing_id=listing_id) if listing_id else None
        if summary is not None and summary.status == "published":
            return summary
    return None


def existing_thread(scene: Scene, seller: Actor) -> messaging.ThreadSummary | None:
    """The scene's thread if it was played before (its listing may have changed status since)."""
    buyer_id = buyer_actor(scene.buyer).user_id
    index = [k for k, _ in SELLERS].index(scene.seller)
    for row in _rows(index):
        if row["title"] == scene.title:
            listing_id = listings.listing_for_sku(seller_id=seller.user_id, sku=row["sku"])  # type: ignore[arg-type]
            if listing_id is not None:
                thread = messaging.find_thread(listing_id=listing_id, buyer_id=buyer_id)  # type: ignore[arg-type]
                if thread is not None:
                    return thread
    return None


def say(thread_id, scene: Scene, lines, seller: Actor, start: int = 0) -> int:  # type: ignore[no-untyped-def]
    """Send ``lines`` in the thread (client ids numbered from ``start``); returns how many were sent."""
    buyer = buyer_actor(scene.buyer)
    for number, (who, text) in enumerate(lines, start=start):
        messaging.send_message(
            thread_id=thread_id,
            actor=buyer if who == BUYER else seller,
            client_id=f"seed-{number}",
            body=text,
        )
    return len(lines)


def price_at(pct: int, listing: listings.ListingSummary) -> int:
    """``pct`` % of the asking price, rounded down to a whole unit of the currency."""
    return max(100, listing.price_amount * pct // 100 // 100 * 100)


def bargain(scene: Scene, listing: listings.ListingSummary, seller: Actor) -> offers.Offer | None:
    """The buyer's opening offer and, if the scene has one, the seller's counter; the live offer."""
    if scene.offer_pct is None:
        return None
    offer = offers.create_offer(
        listing_id=listing.id,
        amount=price_at(scene.offer_pct, listing),
        currency=listing.currency,
        actor=buyer_actor(scene.buyer),
        message="Would you accept this?",
    )
    if scene.counter_pct is not None:
        offer = offers.counter(
            offer_id=offer.id,
            actor=seller,
            amount=price_at(scene.counter_pct, listing),
            currency=listing.currency,
            message="I can meet you halfway.",
        )
    return offer


def play(scene: Scene) -> str:
    """Play one chat/negotiation scene; returns what happened, for the progress output."""
    seller = seller_actor(scene.seller)
    if existing_thread(scene, seller) is not None:
        return "already there"
    listing = scene_listing(scene, seller)
    if listing is None:
        return "skipped: no published copy of the listing"
    thread, _created = messaging.open_thread(listing_id=listing.id, actor=buyer_actor(scene.buyer))
    say(thread.id, scene, scene.lines, seller)
    offer = bargain(scene, listing, seller)
    db.session.commit()
    return f"{len(scene.lines)} messages" + (f", offer {offer.state} at {offer.amount}" if offer else "")


def seed(echo: Echo) -> None:
    for done, scene in enumerate(CONVERSATIONS, start=1):
        echo(f"  {scene.buyer} -> {scene.seller} about {scene.title}: {play(scene)}")
        progress(echo, "conversations", done, len(CONVERSATIONS), every=len(CONVERSATIONS))
