"""Generator declarations of the offers domain: REST resources, admin views, policies and actions.

``/offers`` lists and shows offers to their two parties only (anyone else gets a 404), with
``?role=buyer|seller`` and ``?state=``; ``GET /offers/{id}`` adds the whole negotiation (every offer
and every transition). The answers are actions, so staff get the same buttons in the admin: staff act
for the party whose move it is, and alone may ``cancel`` (with a reason). ``/offers/negotiations`` is
the admin's timeline view; ``/offers/policies`` holds the sellers' and staff's negotiation rules.
"""

from __future__ import annotations

import uuid
from typing import Any

from app.generator import (
    OWNER,
    PARTICIPANT,
    STAFF,
    WHERE,
    Action,
    AdminOptions,
    Money,
    Policy,
    Resource,
)
from app.security import Principal
from blueprints.offers import service
from blueprints.offers.models import Negotiation, Offer, OfferPolicy, OfferTransition
from blueprints.offers.policies import validate_policy
from blueprints.offers.schemas import CancelInput, CounterInput, DeclineInput, OfferDetailSchema

PARTIES = PARTICIPANT("buyer_id", "seller_id")
PARTY_OR_STAFF = PARTIES | STAFF
# Staff follow plain-id references into the other domains' admin views (URLs only: no import).
ADMIN_LINKS = {
    "listing_id": "/admin/listings/listing/show/{value}",
    "buyer_id": "/admin/auth/users/show/{value}",
    "seller_id": "/admin/auth/users/show/{value}",
    "payment_id": "/admin/payments/payment/show/{value}",
    "negotiation_id": "/admin/offers/negotiation/show/{value}",
    "current_offer_id": "/admin/offers/offer/show/{value}",
    "previous_offer_id": "/admin/offers/offer/show/{value}",
    "offer_id": "/admin/offers/offer/show/{value}",
}


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def offer_detail(*, obj_id: uuid.UUID, principal: Principal) -> dict[str, Any]:
    """The negotiation an offer belongs to, with every offer and transition (the caller may read the offer)."""
    negotiation, offers, timeline = service.negotiation_of(offer_id=obj_id)
    return {
        "negotiation": {
            "id": str(negotiation.id),
            "status": str(negotiation.status),
            "counter_rounds": negotiation.counter_rounds,
            "current_offer_id": str(negotiation.current_offer_id) if negotiation.current_offer_id else None,
            "offers": [
                {
                    "id": str(o.id),
                    "round": o.round,
                    "author": str(o.author),
                    "state": str(o.state),
                    "price": _money(o.amount, o.currency),
                    "message": o.message,
                    "created_at": o.created_at.isoformat(),
                }
                for o in offers
            ],
            "timeline": [
                {
                    "offer_id": str(t.offer_id),
                    "occurred_at": t.occurred_at.isoformat(),
                    "transition": t.transition,
                    "from_state": t.from_state,
                    "to_state": t.to_state,
                    "price": _money(t.amount, t.currency),
                    "by": t.party or ("staff" if t.actor_type == "staff" else t.actor_type),
                    "reason": t.reason,
                }
                for t in timeline
            ],
        }
    }


negotiations = Resource(
    Negotiation,
    path="/negotiations",
    description="A buyer bargaining with a seller over one listing: its offers and their timeline.",
    policy=Policy(read=PARTY_OR_STAFF),
    filters={"listing_id": ("eq",), "status": ("eq", "in"), "created_at": ("gte", "lt")},
    sort=("created_at",),
    default_sort="-created_at",
    scopes={"role": {"buyer": OWNER("buyer_id"), "seller": OWNER("seller_id")}},
    admin=AdminOptions(
        list_columns=("listing_id", "buyer_id", "seller_id", "status", "counter_rounds", "created_at"),
        search_columns=("listing_id", "buyer_id", "seller_id", "status"),
        related=(Offer, OfferTransition),
        links=(
            ("Conversation", "/admin/messaging/thread/list/?_flt_0_listing_id={listing_id}&_flt_0_buyer_id={buyer_id}"),
            ("Payments", "/admin/payments/payment/list/?_flt_0_listing_id={listing_id}&_flt_0_buyer_id={buyer_id}"),
        ),
        column_links=ADMIN_LINKS,
    ),
)

offers = Resource(
    Offer,
    path="",
    description="Offers and counter-offers; only the buyer and the seller of an offer see it.",
    policy=Policy(read=PARTY_OR_STAFF),
    money={"price": Money("amount", "currency")},
    filters={
        "state": ("eq", "in"),
        "listing_id": ("eq",),
        "negotiation_id": ("eq",),
        "price": ("gte", "lte"),
        "created_at": ("gte", "lt"),
    },
    sort=("created_at", "price"),
    default_sort="-created_at",
    scopes={"role": {"buyer": OWNER("buyer_id"), "seller": OWNER("seller_id")}},
    detail=offer_detail,
    detail_schema=OfferDetailSchema,
    actions=[
        Action(service.counter, allow=PARTY_OR_STAFF, input=CounterInput),
        Action(service.accept, allow=PARTY_OR_STAFF, confirm="Accept this offer (reserves the listing)?"),
        Action(service.decline, allow=PARTY_OR_STAFF, input=DeclineInput),
        Action(service.withdraw, allow=PARTY_OR_STAFF, confirm="Withdraw this offer?"),
        Action(service.cancel, allow=STAFF, input=CancelInput),
    ],
    admin=AdminOptions(
        list_columns=("listing_id", "buyer_id", "seller_id", "round", "author", "amount", "currency", "state"),
        search_columns=("listing_id", "buyer_id", "seller_id", "state", "negotiation"),
        related=(OfferTransition,),
        column_links=ADMIN_LINKS,
    ),
)

transitions = Resource(
    OfferTransition,
    path="/transitions",
    description="The append-only timeline of every offer (staff; parties read it with the offer).",
    policy=Policy(read=STAFF),
    filters={"negotiation_id": ("eq",), "offer_id": ("eq",), "transition": ("eq", "in")},
    sort=("occurred_at",),
    default_sort="occurred_at",
    admin=AdminOptions(
        label="Offer timeline",
        list_columns=("occurred_at", "transition", "from_state", "to_state", "amount", "party", "actor_type", "reason"),
        search_columns=("transition", "to_state", "actor_type", "negotiation", "offer"),
        column_links=ADMIN_LINKS,
    ),
)

policies = Resource(
    OfferPolicy,
    path="/policies",
    description="Negotiation rules of a listing (its seller) or a category default (staff); empty fields inherit.",
    policy=Policy(
        read=WHERE(listing_id=None) | OWNER("seller_id") | STAFF,
        create=OWNER("seller_id") | STAFF,
        update=OWNER("seller_id") | STAFF,
        delete=OWNER("seller_id") | STAFF,
        read_only=("seller_id",),
        write_once=("listing_id", "category_id"),
    ),
    filters={"listing_id": ("eq", "is_null"), "category_id": ("eq", "is_null")},
    sort=("created_at",),
    on_create=validate_policy,
    on_update=validate_policy,
    admin=AdminOptions(
        list_columns=("listing_id", "category_id", "min_offer_bps", "auto_accept_bps", "max_counter_rounds"),
        search_columns=("listing_id", "category_id", "seller_id"),
    ),
)
