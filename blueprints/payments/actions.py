"""Staff actions on payments, refunds, holds and payouts, declared as generator actions.

Each becomes ``POST /payments/<resource>/{id}/<name>`` for clients holding the ``staff`` role and a
button with a form in the admin, both audited by the generator. They adapt the generator's calling
convention (``target`` id, :class:`~app.generator.Actor`) to :mod:`blueprints.payments.service`. Money
actions called over the API need a recent MFA check (staff in the admin authenticate with FAB).
"""

from __future__ import annotations

import uuid

import marshmallow as ma
from marshmallow import validate

from app.db import db
from app.generator import Actor
from app.security.stepup import ensure_recent_mfa
from blueprints.payments import payouts, service
from blueprints.payments.models import Hold, Payment, Payout
from blueprints.payments.webhooks import deliver_local_events


class ReasonInput(ma.Schema):
    reason = ma.fields.String(
        required=True, validate=validate.Length(1, 500), metadata={"description": "Kept in the history"}
    )


class RefundInput(ReasonInput):
    amount = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1),
        metadata={"description": "Minor units; empty refunds everything still refundable"},
    )


def _actor(actor: Actor) -> str:
    """The service's actor string; a client (not the admin) moving money must have passed MFA lately."""
    if actor.type == "user":
        ensure_recent_mfa()
    return f"{actor.type}:{actor.id}" if actor.type != "system" else "system"


def refund(*, payment_id: uuid.UUID, actor: Actor, reason: str, amount: int | None = None) -> Payment:
    """Refund the buyer (all that is left when no amount is given); carried out right after commit."""
    service.refund_payment(payment_id=payment_id, amount=amount, reason=reason, actor=_actor(actor))
    return db.session.get(Payment, payment_id)


def release(*, payment_id: uuid.UUID, actor: Actor, reason: str) -> Payment:
    """Release the escrow to the seller now (e.g. delivery confirmed out of band)."""
    service.release_payment(payment_id=payment_id, actor=_actor(actor), reason=reason)
    return db.session.get(Payment, payment_id)


def hold(*, payment_id: uuid.UUID, actor: Actor, reason: str) -> Payment:
    """Freeze this payment: no release until the hold is lifted."""
    service.place_hold(source="staff", reason=reason, actor=_actor(actor), payment_id=payment_id)
    return db.session.get(Payment, payment_id)


def hold_seller(*, payment_id: uuid.UUID, actor: Actor, reason: str) -> Payment:
    """Freeze every payout of this payment's seller until the hold is lifted."""
    payment = db.session.get(Payment, payment_id)
    service.place_hold(source="staff", reason=reason, actor=_actor(actor), seller_id=payment.seller_id)
    return payment


def lift(*, hold_id: uuid.UUID, actor: Actor, reason: str) -> Hold:
    """Lift this hold; what it blocked becomes due again."""
    return service.lift_hold(hold_id=hold_id, actor=_actor(actor), reason=reason)


def retry(*, payout_id: uuid.UUID, actor: Actor, reason: str) -> Payout:
    """Send a failed payout again (new idempotency key), now."""
    payout = service.retry_payout(payout_id=payout_id, actor=_actor(actor), reason=reason)
    db.session.commit()  # the new attempt is written down before the provider is called
    payout = payouts.send_payout(payout_id=payout_id)
    deliver_local_events()
    return payout
