"""Events the offers domain publishes: one per offer transition (payload version 1 each).

Every event carries the same payload, so a consumer never needs to read offers' tables: which offer
of which negotiation, on which listing, between which buyer and seller, for how much (integer minor
units of ``currency``), from which state to which, who acted (``by``: buyer, seller, staff or
system) and why. ``OfferCountered`` is published for the NEW offer (``previous_offer_id`` names the
one it superseded); ``OfferAccepted`` carries ``checkout_due_at``, the end of the payment window.
``OfferExpiringSoon`` is a reminder (no state change) before an unanswered offer expires.
Subscribers (listing and payment outcomes) live in :mod:`blueprints.offers.subscribers`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from app.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class OfferTransitioned(DomainEvent):
    """Shared payload of the offer events (abstract: declares no ``type``)."""

    offer_id: uuid.UUID
    negotiation_id: uuid.UUID
    listing_id: uuid.UUID
    buyer_id: uuid.UUID
    seller_id: uuid.UUID
    amount: int
    currency: str
    from_state: str | None
    to_state: str
    author: str  # buyer | seller: who proposed this amount
    by: str  # buyer | seller | staff | system: who made this transition
    round: int
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class OfferCreated(OfferTransitioned):
    """A buyer opened a negotiation with an offer; it awaits the seller until ``expires_at``."""

    type = "offers.OfferCreated"
    version = 1
    personal = frozenset({"message"})
    message: str
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class OfferCountered(OfferTransitioned):
    """A party answered with another amount: a new offer that awaits the other party."""

    type = "offers.OfferCountered"
    version = 1
    personal = frozenset({"message"})
    previous_offer_id: uuid.UUID
    message: str
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class OfferAccepted(OfferTransitioned):
    """The awaited party accepted: the listing is reserved and the buyer must pay by ``checkout_due_at``."""

    type = "offers.OfferAccepted"
    version = 1
    checkout_due_at: datetime


@dataclass(frozen=True, kw_only=True)
class OfferDeclined(OfferTransitioned):
    """The awaited party (or the listing's minimum-offer policy, ``by=system``) said no."""

    type = "offers.OfferDeclined"
    version = 1


@dataclass(frozen=True, kw_only=True)
class OfferWithdrawn(OfferTransitioned):
    """The party who made the offer took it back before an answer."""

    type = "offers.OfferWithdrawn"
    version = 1


@dataclass(frozen=True, kw_only=True)
class OfferExpired(OfferTransitioned):
    """No answer in time (``from_state`` pending/countered), or an acceptance lapsed unpaid (``accepted``)."""

    type = "offers.OfferExpired"
    version = 1


@dataclass(frozen=True, kw_only=True)
class OfferCancelled(OfferTransitioned):
    """The offer can no longer be taken: listing sold or removed, another offer accepted, or staff."""

    type = "offers.OfferCancelled"
    version = 1


@dataclass(frozen=True, kw_only=True)
class OfferExpiringSoon(DomainEvent):
    """An open offer is close to expiring unanswered (a reminder: not a transition)."""

    type = "offers.OfferExpiringSoon"
    version = 1
    offer_id: uuid.UUID
    negotiation_id: uuid.UUID
    listing_id: uuid.UUID
    buyer_id: uuid.UUID
    seller_id: uuid.UUID
    amount: int
    currency: str
    awaiting: str  # buyer | seller: who should answer
    expires_at: datetime


EVENT_OF_TRANSITION: dict[str, type[OfferTransitioned]] = {
    "create": OfferCreated,
    "counter": OfferCountered,
    "accept": OfferAccepted,
    "decline": OfferDeclined,
    "withdraw": OfferWithdrawn,
    "expire": OfferExpired,
    "lapse": OfferExpired,
    "cancel": OfferCancelled,
}
