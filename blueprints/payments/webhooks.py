"""Provider events in: Stripe webhooks and the sandbox's in-process events take the same path.

Each event is processed once: its id is inserted into ``payments.provider_events`` in the same
transaction as its effect (a concurrent duplicate waits on the primary key, then does nothing).
Order does not matter: effects only move a payment forward along its transition table, so a late
``payment_failed`` after ``succeeded`` is recorded as stale and changes nothing.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, DateTime, String, bindparam, select, text

from app.db import db, utcnow
from blueprints.payments.escrow import apply_intent
from blueprints.payments.models import Payment, ProviderEventRecord, SellerAccount
from blueprints.payments.providers import get_provider
from blueprints.payments.providers.base import ProviderEvent, intent_from_object

INTENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.processing",
        "payment_intent.requires_action",
        "payment_intent.canceled",
    }
)


class RetryLater(Exception):
    """The event is about something this database does not know yet: ask the provider to resend it."""


def handle_event(event: ProviderEvent, *, provider: str) -> str:
    """Apply one provider event at most once; returns the outcome recorded for it."""
    claimed = db.session.execute(
        _CLAIM,
        {
            "id": event.id,
            "provider": provider,
            "type": event.type,
            "created": event.created,
            "object_id": str(event.object.get("id") or "")[:255] or None,
            "received_at": utcnow(),
        },
    ).first()
    if claimed is None:
        return "duplicate"
    outcome = _apply(event)
    db.session.execute(
        ProviderEventRecord.__table__.update().where(ProviderEventRecord.id == event.id).values(outcome=outcome[:200])
    )
    return outcome


# Claim an event id: plain SQL built once, because SQLAlchemy 2.0 never caches a PostgreSQL
# INSERT ... ON CONFLICT (sqlalchemy#10445) and compiled this for every event.
_CLAIM = text(
    "INSERT INTO payments.provider_events (id, provider, type, created, object_id, outcome, received_at)"
    " VALUES (:id, :provider, :type, :created, :object_id, 'processing', :received_at)"
    " ON CONFLICT (id) DO NOTHING RETURNING id"
).bindparams(
    bindparam("id", type_=String()),
    bindparam("provider", type_=String()),
    bindparam("type", type_=String()),
    bindparam("created", type_=BigInteger()),
    bindparam("object_id", type_=String()),
    bindparam("received_at", type_=DateTime(timezone=True)),
)


def _apply(event: ProviderEvent) -> str:
    obj = event.object
    if event.type in INTENT_EVENTS:
        payment = db.session.execute(
            select(Payment)
            .where(Payment.provider_intent_id == obj.get("id"))
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if payment is None:
            if (obj.get("metadata") or {}).get("payment_id"):
                raise RetryLater(f"payment intent {obj.get('id')} is not committed yet")
            return "ignored: not a Bazaar payment"
        return apply_intent(payment, intent_from_object(obj), actor="system")
    if event.type == "account.updated":
        account = db.session.execute(
            select(SellerAccount).where(SellerAccount.provider_account_id == obj.get("id")).with_for_update()
        ).scalar_one_or_none()
        if account is None:
            return "ignored: unknown account"
        account.payouts_enabled = bool(obj.get("payouts_enabled"))
        return f"payouts_enabled={account.payouts_enabled}"
    # refund.*, charge.refunded, transfer.*: Bazaar initiated them and recorded the outcome already.
    return "noted"


def deliver_local_events() -> list[str]:
    """Feed the events the provider produced in-process (the sandbox) through :func:`handle_event`."""
    provider = get_provider()
    return [handle_event(event, provider=provider.name) for event in provider.take_events()]
