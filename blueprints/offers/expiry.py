"""The answer clock of an offer: its expiry and the reminder before it, durable timers per negotiation.

One ``offers.expire`` and one ``offers.remind`` timer exist per negotiation (the timer key), so a
counter-offer re-arms both for the new offer, and any answer disarms both. The reminder publishes
``OfferExpiringSoon`` a quarter of the window (at most 6 hours) before the offer expires.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from app.db import db, utcnow
from app.events import publish as publish_event
from app.events import schedule
from blueprints.offers.events import OfferExpiringSoon
from blueprints.offers.models import OPEN_STATES, Offer, Party
from blueprints.offers.policies import EffectivePolicy

EXPIRE_TIMER = "offers.expire"
REMIND_TIMER = "offers.remind"
REMIND_BEFORE = timedelta(hours=6)


def arm_expiry(offer: Offer, policy: EffectivePolicy) -> None:
    """Expiry and its reminder, one of each per negotiation: a counter moves both to the new offer."""
    window = timedelta(seconds=policy.expiry_seconds)
    offer.expires_at = utcnow() + window
    payload, key = {"offer_id": str(offer.id)}, str(offer.negotiation_id)
    schedule(EXPIRE_TIMER, offer.expires_at, payload, key=key)
    schedule(REMIND_TIMER, offer.expires_at - min(REMIND_BEFORE, window / 4), payload, key=key)


def remind(*, offer_id: uuid.UUID) -> Offer | None:
    """The reminder timer: tell both parties an open offer expires soon (no-op once answered)."""
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.state not in OPEN_STATES or offer.expires_at <= utcnow():
        return None
    publish_event(
        OfferExpiringSoon(
            aggregate_id=offer.id,
            actor="system",
            offer_id=offer.id,
            negotiation_id=offer.negotiation_id,
            listing_id=offer.listing_id,
            buyer_id=offer.buyer_id,
            seller_id=offer.seller_id,
            amount=offer.amount,
            currency=offer.currency,
            awaiting=Party(offer.awaiting).value,
            expires_at=offer.expires_at,
        )
    )
    return offer
