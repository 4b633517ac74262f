"""The payments side of an acceptance: offers is payments' "offer" order source, and refunds a late payment.

Payments pulls the terms of an order from its owner (``register_order_source``): an accepted offer is
payable by its buyer, for its amount and currency, until the checkout window closes. A payment held
after the acceptance already lapsed or was cancelled (the intent was confirmed just too late) is
refunded in full: the listing may already be on offer again, so the sale cannot go through.
"""

from __future__ import annotations

import logging
import uuid

from blueprints.offers.queries import get_offer_terms
from blueprints.payments import service as payments

log = logging.getLogger(__name__)

ORDER_TYPE = "offer"
LATE_PAYMENT_REASON = "The offer's checkout window had closed before the payment was held."


def order_terms(order_id: uuid.UUID, buyer_id: uuid.UUID) -> payments.OrderTerms | None:
    """What payments may charge for an accepted offer: only its buyer, only within the window."""
    terms = get_offer_terms(offer_id=order_id)
    if terms is None or terms.buyer_id != buyer_id:
        return None
    return payments.OrderTerms(
        buyer_id=terms.buyer_id,
        seller_id=terms.seller_id,
        amount=terms.amount,
        currency=terms.currency,
        listing_id=terms.listing_id,
    )


def register() -> None:
    payments.register_order_source(ORDER_TYPE, order_terms)


def refund_late_payment(*, offer_id: uuid.UUID, payment_id: uuid.UUID) -> None:
    log.warning("payment %s held for offer %s after its acceptance ended: refunding", payment_id, offer_id)
    payments.refund_payment(payment_id=payment_id, amount=None, reason=LATE_PAYMENT_REASON, actor="system")
