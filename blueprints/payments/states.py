"""The explicit state machines of payments, refunds and payouts, and the record of every transition.

A change of state goes through :func:`move`: it refuses a transition the table does not list, and
writes who/when/from/to/why into ``payments.transitions`` in the caller's transaction.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from app.db import db, utcnow


class PaymentState(StrEnum):
    REQUIRES_PAYMENT = "requires_payment"  # intent created; the buyer has not paid (or a card was declined)
    REQUIRES_ACTION = "requires_action"  # the buyer must authenticate (3-D Secure)
    PROCESSING = "processing"  # confirmed; the provider has not answered yet
    HELD = "held"  # captured and held in platform escrow
    PARTIALLY_REFUNDED = "partially_refunded"  # some money went back; the rest is in escrow or released
    RELEASED = "released"  # escrow released to the seller's payable
    REFUNDED = "refunded"  # everything captured went back to the buyer
    FAILED = "failed"  # too many declines: this payment is over
    EXPIRED = "expired"  # not paid within the checkout window
    CANCELED = "canceled"  # withdrawn before payment


P = PaymentState
PAYMENT_TRANSITIONS: dict[PaymentState, frozenset[PaymentState]] = {
    P.REQUIRES_PAYMENT: frozenset({P.REQUIRES_ACTION, P.PROCESSING, P.HELD, P.FAILED, P.EXPIRED, P.CANCELED}),
    P.REQUIRES_ACTION: frozenset({P.REQUIRES_PAYMENT, P.PROCESSING, P.HELD, P.FAILED, P.EXPIRED, P.CANCELED}),
    P.PROCESSING: frozenset({P.REQUIRES_PAYMENT, P.REQUIRES_ACTION, P.HELD, P.FAILED}),
    P.HELD: frozenset({P.RELEASED, P.PARTIALLY_REFUNDED, P.REFUNDED}),
    # A partially refunded payment may still be in escrow (release the rest) or already released.
    P.PARTIALLY_REFUNDED: frozenset({P.RELEASED, P.PARTIALLY_REFUNDED, P.REFUNDED}),
    P.RELEASED: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED}),
    P.REFUNDED: frozenset(),
    P.FAILED: frozenset(),
    P.EXPIRED: frozenset(),
    P.CANCELED: frozenset(),
}
UNPAID = frozenset({P.REQUIRES_PAYMENT, P.REQUIRES_ACTION, P.PROCESSING})
CAPTURED = frozenset({P.HELD, P.PARTIALLY_REFUNDED, P.RELEASED, P.REFUNDED})
ENDED_UNPAID = frozenset({P.FAILED, P.EXPIRED, P.CANCELED})


class RefundState(StrEnum):
    PENDING = "pending"  # reserved on the payment, provider not yet done
    SUCCEEDED = "succeeded"
    FAILED = "failed"


REFUND_TRANSITIONS: dict[RefundState, frozenset[RefundState]] = {
    RefundState.PENDING: frozenset({RefundState.SUCCEEDED, RefundState.FAILED}),
    RefundState.SUCCEEDED: frozenset(),
    RefundState.FAILED: frozenset(),
}


class PayoutState(StrEnum):
    PENDING = "pending"  # money moved to in-transit; the transfer is (re)tried with one idempotency key
    SENT = "sent"  # the provider made the transfer
    FAILED = "failed"  # the provider refused for good; money is back in the seller's payable
    CANCELED = "canceled"  # not sent (a hold, or staff gave up on a failure); the money is in the payable


PAYOUT_TRANSITIONS: dict[PayoutState, frozenset[PayoutState]] = {
    # canceled from pending: a hold arrived before the transfer; the money went back to the payable.
    PayoutState.PENDING: frozenset({PayoutState.SENT, PayoutState.FAILED, PayoutState.CANCELED}),
    PayoutState.SENT: frozenset(),
    PayoutState.FAILED: frozenset({PayoutState.PENDING, PayoutState.CANCELED}),
    PayoutState.CANCELED: frozenset(),
}

TABLES: dict[str, dict[Any, frozenset[Any]]] = {
    "payment": PAYMENT_TRANSITIONS,  # type: ignore[dict-item]
    "refund": REFUND_TRANSITIONS,  # type: ignore[dict-item]
    "payout": PAYOUT_TRANSITIONS,  # type: ignore[dict-item]
}


class TransitionRefused(Exception):
    def __init__(self, subject: str, current: str, wanted: str) -> None:
        super().__init__(f"a {subject} cannot go from {current} to {wanted}")
        self.subject, self.current, self.wanted = subject, current, wanted


def can_move(subject: str, current: str, wanted: str) -> bool:
    return wanted in TABLES[subject].get(current, frozenset())  # StrEnum members hash and compare as str


def parse_actor(actor: str) -> tuple[str, str | None]:
    """``"user:<id>"`` / ``"staff:<id>"`` / ``"system"`` -> (type, id)."""
    kind, _, ident = actor.partition(":")
    if kind not in {"user", "staff", "system"} or (kind != "system" and not ident):
        raise ValueError(f"actor must be 'user:<id>', 'staff:<id>' or 'system', got {actor!r}")
    return kind, ident or None


def move(obj: Any, subject: str, wanted: str, *, actor: str, reason: str) -> None:
    """Change ``obj.state`` to ``wanted`` if the table allows it, and record the transition."""
    from blueprints.payments.models import Transition

    current = obj.state
    if not can_move(subject, current, wanted):
        raise TransitionRefused(subject, current, wanted)
    actor_type, actor_id = parse_actor(actor)
    now = utcnow()
    obj.state = wanted
    obj.state_changed_at = now
    db.session.add(
        Transition(
            subject_type=subject,
            subject_id=obj.id,
            from_state=current,
            to_state=wanted,
            actor_type=actor_type,
            actor_id=actor_id,
            reason=reason[:500],
            occurred_at=now,
        )
    )


def record_creation(obj: Any, subject: str, *, actor: str, reason: str) -> None:
    """The first transition of an object (from nothing to its initial state)."""
    from blueprints.payments.models import Transition

    actor_type, actor_id = parse_actor(actor)
    db.session.add(
        Transition(
            subject_type=subject,
            subject_id=obj.id,
            from_state=None,
            to_state=obj.state,
            actor_type=actor_type,
            actor_id=actor_id,
            reason=reason[:500],
            occurred_at=obj.state_changed_at,
        )
    )
