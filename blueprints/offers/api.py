"""``POST /offers``: a buyer's opening offer (Idempotency-Key required, as for every order-like POST).

Reads and answers are generated (see :mod:`blueprints.offers.resources`); creating an offer is the
one hand-written endpoint because it belongs to no existing row and runs the listing's policies.
The answer is the offer exactly as ``GET /offers/{id}`` shows it (without the history).

Anti-spam answers: a second open negotiation by one buyer on one listing (over the policy's
``max_open_per_buyer``) is a 422 naming ``listing_id``; more negotiations started in 24 hours than
``max_daily_per_buyer`` is a 429 with ``Retry-After`` (seconds until the oldest one leaves the window).
"""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from flask_smorest import Blueprint, abort

from app.generator import Actor, ServiceError
from app.generator.compiled import compile_resource
from app.generator.http import json_response
from app.generator.queries import etag_of
from app.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from app.security import current_principal, login_required
from blueprints.offers import resources, service
from blueprints.offers.schemas import OfferCreateSchema

blp = Blueprint("offers_create", __name__, description="Make an offer on a listing.")
OFFER = compile_resource("offers", resources.offers)
BEARER = [{"bearerAuth": []}]


@blp.route("", methods=["POST"])
@login_required
@idempotent("offers.create_offer")
@blp.arguments(OfferCreateSchema)
@blp.response(201, OFFER.schemas.output)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER], security=BEARER)
def create_offer(args: dict[str, Any]) -> Response:
    """Offer an amount for a published listing (not your own), in its currency.

    The listing's policy may answer at once: below its minimum the offer comes back ``declined``
    with a polite ``reason``; at or above its auto-accept threshold it comes back ``accepted``.
    """
    actor = Actor.from_principal(current_principal())
    try:
        offer = service.create_offer(actor=actor, **args)
    except service.TooManyOffers as error:
        abort(429, message=error.message, errors=error.errors, headers={"Retry-After": str(error.retry_after)})
    except ServiceError as error:
        abort(error.status, message=error.message, errors=error.errors or None)
    body = OFFER.dump_fn()(offer)
    response = json_response(body, 201)
    response.set_etag(etag_of(body))
    response.headers["Location"] = url_for("offers_offer.get", offer_id=offer.id)
    return response
