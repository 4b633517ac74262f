"""Reads of the offers domain for other domains and the API: payable terms, a negotiation's history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.db import db, utcnow
from blueprints.offers.models import Negotiation, Offer, OfferState, OfferTransition


@dataclass(frozen=True)
class OfferTerms:
    """What an accepted offer costs and who pays whom (payments' order source)."""

    offer_id: uuid.UUID
    buyer_id: uuid.UUID
    seller_id: uuid.UUID
    listing_id: uuid.UUID
    amount: int
    currency: str
    checkout_due_at: datetime


def get_offer_terms(*, offer_id: uuid.UUID) -> OfferTerms | None:
    """The payable terms of an accepted, unpaid offer still inside its checkout window (else None)."""
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.state != OfferState.ACCEPTED or offer.paid_at is not None:
        return None
    if offer.checkout_due_at is None or offer.checkout_due_at <= utcnow():
        return None
    return OfferTerms(
        offer_id=offer.id,
        buyer_id=offer.buyer_id,
        seller_id=offer.seller_id,
        listing_id=offer.listing_id,
        amount=offer.amount,
        currency=offer.currency,
        checkout_due_at=offer.checkout_due_at,
    )


def negotiation_of(*, offer_id: uuid.UUID) -> tuple[Negotiation, list[Offer], list[OfferTransition]]:
    """The negotiation of an offer, its offers (by round) and its timeline (in order)."""
    negotiation = db.session.execute(
        select(Negotiation).join(Offer, Offer.negotiation_id == Negotiation.id).where(Offer.id == offer_id)
    ).scalar_one()
    negotiation_id = negotiation.id
    offers = db.session.execute(
        select(Offer).where(Offer.negotiation_id == negotiation_id).order_by(Offer.round)
    ).scalars()
    timeline = db.session.execute(
        select(OfferTransition)
        .where(OfferTransition.negotiation_id == negotiation_id)
        .order_by(OfferTransition.occurred_at, OfferTransition.seq)
    ).scalars()
    return negotiation, list(offers), list(timeline)
