"""What the offers domain does when time passes or other domains move (imported at app start).

Timers (durable, fired once by the workers): ``offers.expire`` ends an unanswered offer and
``offers.remind`` publishes ``OfferExpiringSoon`` before that,
``offers.checkout`` lets an unpaid acceptance lapse. Subscribers: a listing sold or removed cancels
its open offers; payments' ``PaymentHeld`` closes the checkout window (offers then marks the listing
sold; a payment held after the acceptance ended is refunded), ``PaymentExpired`` or a final
``PaymentFailed`` lets the acceptance lapse at once. Handlers work in the bus's transaction and never
commit; each is idempotent (a redelivery finds nothing to do).
"""

from __future__ import annotations

import uuid
from typing import Any

from app.events import FiredTimer, on_timer, subscribe
from blueprints.offers import acceptance, checkout, service

PAYMENT_EXPIRED_REASON = "The payment window closed before payment was completed."
PAYMENT_FAILED_REASON = "The payment could not be completed."
CHECKOUT_LAPSED_REASON = "The buyer did not pay within the checkout window."


@on_timer(service.EXPIRE_TIMER)
def expire_offer(timer: FiredTimer) -> None:
    service.expire(offer_id=uuid.UUID(timer.payload["offer_id"]))


@on_timer(service.REMIND_TIMER)
def remind_offer(timer: FiredTimer) -> None:
    service.remind(offer_id=uuid.UUID(timer.payload["offer_id"]))


@on_timer(acceptance.CHECKOUT_TIMER)
def checkout_lapsed(timer: FiredTimer) -> None:
    acceptance.lapse(offer_id=uuid.UUID(timer.payload["offer_id"]), reason=CHECKOUT_LAPSED_REASON)


@subscribe("listings.ListingSold", "listings.ListingRemoved", name="offers.listing_gone")
def listing_gone(event: Any) -> None:
    why = "sold" if event.type == "listings.ListingSold" else "removed"
    if why == "sold" and event.payload().get("quantity_left", 0) > 0:
        return  # one unit of several: the listing is published again and its offers stand
    acceptance.listing_gone(listing_id=uuid.UUID(str(event.payload()["listing_id"])), why=why)


def _offer_order(event: Any) -> uuid.UUID | None:
    data = event.payload()
    return uuid.UUID(str(data["order_id"])) if data.get("order_type") == "offer" else None


@subscribe("payments.PaymentHeld", name="offers.payment_held")
def payment_held(event: Any) -> None:
    offer_id = _offer_order(event)
    if offer_id is None:
        return
    payment_id = uuid.UUID(str(event.payload()["payment_id"]))
    if not acceptance.record_payment(offer_id=offer_id, payment_id=payment_id):
        checkout.refund_late_payment(offer_id=offer_id, payment_id=payment_id)


@subscribe("payments.PaymentExpired", "payments.PaymentFailed", name="offers.payment_ended")
def payment_ended(event: Any) -> None:
    offer_id = _offer_order(event)
    data = event.payload()
    if offer_id is None or (event.type == "payments.PaymentFailed" and not data.get("final")):
        return
    reason = PAYMENT_EXPIRED_REASON if event.type == "payments.PaymentExpired" else PAYMENT_FAILED_REASON
    acceptance.lapse(offer_id=offer_id, reason=reason)
