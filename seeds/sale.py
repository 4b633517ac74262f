"""One completed sale: chat, offer, counter, acceptance, card payment into escrow (sandbox provider),
shipping, the buyer's confirmation of receipt (escrow released) and the seller's payout.

Each step is the domain service the API calls for it. The sale up to the release is one transaction,
recognised again by its thread on a second run; the payout follows in its own transactions (money that
leaves is written down first). The listing becomes ``sold`` when the relay delivers PaymentHeld.
"""

from __future__ import annotations

from flask import current_app

from app.db import db
from blueprints.messaging import service as messaging
from blueprints.offers import service as offers
from blueprints.payments import service as payments
from seeds import Echo
from seeds.buyers import buyer_actor
from seeds.conversations import bargain, existing_thread, say, scene_listing, seller_actor
from seeds.scenes import SALE

TEST_CARD = "pm_card_visa"  # the sandbox's always-succeeding card


def seed(echo: Echo) -> None:
    if current_app.config["PAYMENTS_PROVIDER"] != "sandbox":
        echo("  sale: skipped (the demo sale pays through the sandbox provider only)")
        return
    seller = seller_actor(SALE.seller)
    if existing_thread(SALE, seller) is not None:
        echo(f"  sale of {SALE.title}: already there")
        return
    listing = scene_listing(SALE, seller)
    if listing is None:
        echo(f"  sale of {SALE.title}: skipped (no published copy of the listing)")
        return
    buyer = buyer_actor(SALE.buyer)
    buyer_ref, seller_ref = f"user:{buyer.id}", f"user:{seller.id}"
    thread, _created = messaging.open_thread(listing_id=listing.id, actor=buyer)
    sent = say(thread.id, SALE, SALE.lines[:3], seller)
    offer = bargain(SALE, listing, seller)
    assert offer is not None
    offers.accept(offer_id=offer.id, actor=buyer)
    echo(f"  sale: offer accepted at {offer.amount} {offer.currency} (asking {listing.price_amount})")
    payment = payments.create_intent(order_type="offer", order_id=offer.id, buyer_id=buyer.user_id, actor=buyer_ref)  # type: ignore[arg-type]
    payment = payments.confirm_payment(payment_id=payment.id, payment_method=TEST_CARD, actor=buyer_ref)
    if payment.state != payments.PaymentState.HELD:
        raise RuntimeError(f"the demo payment is {payment.state}, expected held in escrow")
    echo(f"  sale: paid {payment.amount_total} {payment.currency} into escrow")
    say(thread.id, SALE, SALE.lines[3:4], seller, start=sent)
    payments.mark_shipped(payment_id=payment.id, actor=seller_ref)
    say(thread.id, SALE, SALE.lines[4:], seller, start=sent + 1)
    payment = payments.confirm_received(payment_id=payment.id, actor=buyer_ref)
    echo(f"  sale: shipped, received, escrow released ({payment.seller_amount} to the seller)")
    db.session.commit()
    payout = payments.pay_out_seller(seller_id=seller.user_id, currency=payment.currency, actor="system")  # type: ignore[arg-type]
    if payout is None:
        echo("  sale: nothing payable yet (the daily payout batch will pay it)")
    else:
        echo(f"  sale: payout of {payout.amount} {payout.currency} {payout.state}")
