"""Client API of payments: pay an order, follow it, release it, and the provider webhook.

Handlers parse, call :mod:`service`, and shape the answer. Only the buyer and the seller see a
payment (anyone else gets a 404); buyer-only and seller-only actions answer 403 to the other party.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from flask import request
from flask_smorest import Blueprint, abort

from app.db import db
from app.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from app.security import current_principal, login_required
from app.security.stepup import require_recent_mfa
from blueprints.payments import queries, service
from blueprints.payments.errors import PaymentError
from blueprints.payments.models import Payment
from blueprints.payments.schemas import (
    AuthenticateSchema,
    ConfirmSchema,
    IntentCreateSchema,
    PaymentSchema,
    ReceiptSchema,
    WebhookAckSchema,
)

T = TypeVar("T")

blp = Blueprint(
    "payments",
    __name__,
    description="Escrowed payments: buyers pay into escrow, sellers are paid out after delivery.",
)
BEARER = [{"bearerAuth": []}]


def fail(exc: PaymentError) -> NoReturn:
    abort(exc.status, message=exc.message, errors=exc.errors or None)


def call(func: Callable[..., T], **kwargs: Any) -> T:
    try:
        return func(**kwargs)
    except PaymentError as exc:
        db.session.rollback()
        fail(exc)


def me() -> uuid.UUID:
    user_id = current_principal().user_id
    assert user_id is not None  # login_required ran first
    return user_id


def actor() -> str:
    return f"user:{me()}"


def party_payment(payment_id: uuid.UUID, role: str | None = None) -> Payment:
    """Load a payment the caller is party to (404 otherwise), optionally requiring a role (403)."""
    payment = call(queries.payment_for_party, payment_id=payment_id, user_id=me())
    if role is not None and getattr(payment, f"{role}_id") != me():
        abort(403, message=f"Only the {role} of this payment may do this.")
    return payment


@blp.route("/intents", methods=["POST"])
@login_required
@idempotent("payments.create_intent")
@blp.arguments(IntentCreateSchema)
@blp.response(201, PaymentSchema)
@blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER], security=BEARER)
def create_intent(args: dict[str, Any]) -> dict[str, Any]:
    """Pay an order (an accepted offer, a buy-now): the order's owner sets the amount; the answer
    carries the ``client_secret`` the buyer confirms with (or ``POST /payments/{id}/confirm``)."""
    payment = call(
        service.create_intent,
        order_type=args["order_type"],
        order_id=args["order_id"],
        buyer_id=me(),
        actor=actor(),
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    return queries.payment_view(payment, me())


@blp.route("/<uuid:payment_id>/receipt", methods=["GET"])
@login_required
@blp.response(200, ReceiptSchema)
@blp.doc(security=BEARER)
def get_receipt(payment_id: uuid.UUID) -> dict[str, Any]:
    """The buyer's receipt: item, buyer fee, total charged, refunds."""
    return queries.receipt(party_payment(payment_id, role="buyer"))


@blp.route("/<uuid:payment_id>/confirm", methods=["POST"])
@login_required
@idempotent("payments.confirm")
@blp.arguments(ConfirmSchema)
@blp.response(200, PaymentSchema)
@blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER], security=BEARER)
def confirm(args: dict[str, Any], payment_id: uuid.UUID) -> dict[str, Any]:
    """Charge a payment method. A decline is an answer (state ``requires_payment`` with
    ``last_error``), not an error; try another method until the checkout window closes."""
    party_payment(payment_id, role="buyer")
    payment = call(service.confirm_payment, payment_id=payment_id, payment_method=args["payment_method"], actor=actor())
    return queries.payment_view(payment, me())


@blp.route("/<uuid:payment_id>/authenticate", methods=["POST"])
@login_required
@blp.arguments(AuthenticateSchema)
@blp.response(200, PaymentSchema)
@blp.doc(security=BEARER)
def authenticate(args: dict[str, Any], payment_id: uuid.UUID) -> dict[str, Any]:
    """Sandbox provider only: answer the 3-D Secure challenge of a ``requires_action`` payment."""
    party_payment(payment_id, role="buyer")
    payment = call(service.authenticate_payment, payment_id=payment_id, success=args["success"], actor=actor())
    db.session.commit()
    return queries.payment_view(payment, me())


@blp.route("/<uuid:payment_id>/ship", methods=["POST"])
@login_required
@blp.response(200, PaymentSchema)
@blp.doc(security=BEARER)
def ship(payment_id: uuid.UUID) -> dict[str, Any]:
    """Seller: the item is on its way; escrow auto-releases after the inspection window."""
    party_payment(payment_id, role="seller")
    payment = call(service.mark_shipped, payment_id=payment_id, actor=actor())
    db.session.commit()
    return queries.payment_view(payment, me())


@blp.route("/<uuid:payment_id>/confirm-received", methods=["POST"])
@login_required
@require_recent_mfa()
@blp.response(200, PaymentSchema)
@blp.doc(security=BEARER)
def confirm_received(payment_id: uuid.UUID) -> dict[str, Any]:
    """Buyer: the item arrived as described; the seller is paid now (needs a recent MFA check)."""
    party_payment(payment_id, role="buyer")
    payment = call(service.confirm_received, payment_id=payment_id, actor=actor())
    db.session.commit()
    return queries.payment_view(payment, me())


@blp.route("/webhooks/stripe", methods=["POST"])
@blp.response(200, WebhookAckSchema)
def stripe_webhook() -> dict[str, Any]:
    """Provider events, verified with the ``Stripe-Signature`` header and applied once per event id."""
    try:
        outcome = service.receive_webhook(payload=request.get_data(), signature=request.headers.get("Stripe-Signature"))
    except service.InvalidWebhook as exc:
        db.session.rollback()
        abort(400, message=f"Webhook rejected: {exc}")
    except service.RetryLater as exc:
        db.session.rollback()
        abort(409, message=str(exc))  # any non-2xx: the provider sends the event again later
    db.session.commit()
    return {"received": True, "outcome": outcome}
