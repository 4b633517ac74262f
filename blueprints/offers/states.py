"""The offer state machine: the transition table, turn-taking, and what every transition leaves behind.

``move(offer, name, actor, ...)`` is the only code that changes ``Offer.state``: it checks the table,
appends an ``OfferTransition`` row (who, when, from, to, amount, why), publishes the domain event of
that transition in the same transaction, and queues an ``offer.updated`` push to the buyer's and the
seller's personal rooms, sent only after the transaction commits (never for work that rolls back).
"""

from __future__ import annotations

import logging
from typing import Any

from app.db import db, utcnow
from app.events import on_commit
from app.events import publish as publish_event
from app.generator import Actor, ServiceError
from app.generator.rules import STAFF_ROLE
from app.realtime import emit_to_room
from blueprints.offers.events import EVENT_OF_TRANSITION
from blueprints.offers.models import OPEN_STATES, Offer, OfferState, OfferTransition, Party

log = logging.getLogger(__name__)

S = OfferState
OPEN = frozenset(OPEN_STATES)

# transition name -> (states it may start from (None: the offer is new), state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[OfferState | None], OfferState]] = {
    "create": (frozenset({None}), S.PENDING),  # a buyer's opening offer
    "counter": (frozenset({None}), S.COUNTERED),  # the new offer a counter creates
    "supersede": (OPEN, S.SUPERSEDED),  # the offer a counter answers
    "accept": (OPEN, S.ACCEPTED),
    "decline": (OPEN, S.DECLINED),
    "withdraw": (OPEN, S.WITHDRAWN),
    "expire": (OPEN, S.EXPIRED),  # nobody answered in time
    "lapse": (frozenset({S.ACCEPTED}), S.EXPIRED),  # accepted, but not paid within the checkout window
    "cancel": (OPEN | {S.ACCEPTED}, S.CANCELLED),  # listing gone, another offer accepted, or staff
}

NOTIFY_EVENT = "offer.updated"


def is_staff(actor: Actor) -> bool:
    return actor.type == "staff" or STAFF_ROLE in actor.roles


def party_of(actor: Actor, offer: Offer) -> Party | None:
    """The side the actor is on in this offer, if any."""
    user_id = actor.user_id
    if user_id is not None and user_id == offer.buyer_id:
        return Party.BUYER
    if user_id is not None and user_id == offer.seller_id:
        return Party.SELLER
    return None


def require_turn(offer: Offer, actor: Actor, *, verb: str) -> Party:
    """The party this call acts for: the awaited one for answers, the author for withdraw (else 403)."""
    needed = offer.author if verb == "withdraw" else offer.awaiting
    party = party_of(actor, offer)
    if party is None and (actor.type == "system" or is_staff(actor)):
        return Party(needed)  # support or automation acting for the party whose move it is
    if party != needed:
        if verb == "withdraw":
            raise ServiceError(
                "Only the party who made this offer may withdraw it.",
                status=403,
                errors={"state": ["Decline it instead."]},
            )
        raise ServiceError(
            f"It is the {offer.awaiting}'s turn to answer this offer.",
            status=403,
            errors={"state": [f"Awaiting the {offer.awaiting}."]},
        )
    return party


def check(offer_state: OfferState | None, name: str) -> OfferState:
    """The target state of ``name`` from ``offer_state``, or a 409 naming the current state."""
    sources, target = TRANSITIONS[name]
    if offer_state not in sources:
        allowed = ", ".join(sorted(s.value for s in sources if s is not None)) or "a new offer"
        current = offer_state.value if offer_state is not None else "new"
        raise ServiceError(
            f"Cannot {name} an offer that is {current}.",
            status=409,
            errors={"state": [f"Is {current}; {name} needs one of: {allowed}."]},
        )
    return target


def actor_label(actor: Actor) -> str:
    """The event envelope's actor: ``user:<id>``, ``staff:<id>`` or ``system``."""
    return "system" if actor.type == "system" else f"{actor.type}:{actor.id}"


def move(
    offer: Offer,
    name: str,
    actor: Actor,
    *,
    party: Party | None = None,
    reason: str = "",
    event_fields: dict[str, Any] | None = None,
) -> Offer:
    """Apply transition ``name`` to ``offer`` (new offers: state None) and leave its trail."""
    current = OfferState(offer.state) if offer.state is not None else None
    target = check(current, name)
    now = utcnow()
    offer.state = target
    if reason:
        offer.reason = reason
    if name in ("accept", "decline", "supersede") and offer.answered_at is None:
        offer.answered_at = now
    offer.updated_at = now
    by = party.value if party is not None else ("staff" if is_staff(actor) else actor.type)
    db.session.add(
        OfferTransition(
            negotiation_id=offer.negotiation_id,
            offer_id=offer.id,
            occurred_at=now,
            transition=name,
            from_state=current.value if current is not None else None,
            to_state=target.value,
            amount=offer.amount,
            currency=offer.currency,
            actor_type=actor.type,
            actor_id=actor.id,
            party=party.value if party is not None else None,
            reason=reason,
        )
    )
    event_class = EVENT_OF_TRANSITION.get(name)
    if event_class is not None:
        publish_event(
            event_class(
                aggregate_id=offer.id,
                actor=actor_label(actor),
                offer_id=offer.id,
                negotiation_id=offer.negotiation_id,
                listing_id=offer.listing_id,
                buyer_id=offer.buyer_id,
                seller_id=offer.seller_id,
                amount=offer.amount,
                currency=offer.currency,
                from_state=current.value if current is not None else None,
                to_state=target.value,
                author=Party(offer.author).value,
                by=by,
                round=offer.round,
                reason=reason,
                **(event_fields or {}),
            )
        )
    push_update(offer, transition=name, by=by)
    return offer


def push_update(offer: Offer, *, transition: str, by: str) -> None:
    """``offer.updated`` to the two parties' rooms once the transaction commits (nobody else)."""
    payload = {
        "offer_id": str(offer.id),
        "negotiation_id": str(offer.negotiation_id),
        "listing_id": str(offer.listing_id),
        "state": OfferState(offer.state).value,
        "transition": transition,
        "by": by,
        "amount": offer.amount,
        "currency": offer.currency,
        "awaiting": Party(offer.awaiting).value if offer.state in OPEN else None,
        "round": offer.round,
        "expires_at": offer.expires_at.isoformat() if offer.expires_at else None,
        "checkout_due_at": offer.checkout_due_at.isoformat() if offer.checkout_due_at else None,
        "reason": offer.reason,
    }
    rooms = (f"user:{offer.buyer_id}", f"user:{offer.seller_id}")

    def send() -> None:
        for room in rooms:
            try:
                emit_to_room(NOTIFY_EVENT, payload, room=room)
            except Exception:  # a push is best effort: clients catch up through GET /offers
                log.exception("offer.updated push to %s failed", room)

    on_commit(send)
