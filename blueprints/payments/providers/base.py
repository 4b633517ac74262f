"""The provider port: what the payments domain needs from a payment processor, and nothing more.

Shapes follow Stripe's (Connect "separate charges and transfers"): a PaymentIntent charges the buyer
into the platform's balance, transfers move a seller's share to their connected account, reversals
pull it back. Every money-moving call takes an idempotency key so a retry never moves money twice.
Provider events (webhooks) are normalised into :class:`ProviderEvent` with Stripe's event shape.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any


class ProviderError(Exception):
    """The provider refused or could not be reached. ``retriable``: the same call may succeed later."""

    def __init__(self, message: str, *, code: str = "provider_error", retriable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retriable = retriable


class InvalidWebhook(Exception):
    """A webhook whose signature, timestamp or body does not verify: never processed."""


# Stripe PaymentIntent statuses (https://docs.stripe.com/payments/paymentintents/lifecycle).
REQUIRES_PAYMENT_METHOD = "requires_payment_method"
REQUIRES_CONFIRMATION = "requires_confirmation"
REQUIRES_ACTION = "requires_action"
PROCESSING = "processing"
SUCCEEDED = "succeeded"
CANCELED = "canceled"


@dataclass(frozen=True)
class Intent:
    id: str
    status: str
    amount: int
    currency: str  # upper-case ISO 4217, as stored by Bazaar
    client_secret: str | None = None
    amount_received: int = 0
    # The charge attempt this status comes from (a decline is counted once per attempt).
    attempt_ref: str | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class Refund:
    id: str
    status: str  # succeeded | pending | failed


@dataclass(frozen=True)
class Transfer:
    id: str
    amount: int
    destination: str


@dataclass(frozen=True)
class Reversal:
    id: str
    transfer_id: str
    amount: int


@dataclass(frozen=True)
class ConnectedAccount:
    id: str
    payouts_enabled: bool
    onboarding_url: str | None = None


@dataclass(frozen=True)
class ProviderEvent:
    """A provider notification: ``type`` and ``object`` as in Stripe's event JSON."""

    id: str
    type: str
    created: int
    object: dict[str, Any] = field(default_factory=dict)


def intent_from_object(obj: dict[str, Any]) -> Intent:
    """Read a PaymentIntent JSON object (webhook payload or API answer) into an :class:`Intent`."""
    error = obj.get("last_payment_error") or {}
    charge = obj.get("latest_charge")
    if isinstance(charge, dict):
        charge = charge.get("id")
    status = obj.get("status") or REQUIRES_PAYMENT_METHOD
    received = obj.get("amount_received")
    if received is None:  # localstripe omits the field: a succeeded intent received its amount
        received = obj.get("amount") if status == SUCCEEDED else 0
    return Intent(
        id=obj["id"],
        status=status,
        amount=int(obj.get("amount") or 0),
        currency=str(obj.get("currency") or "").upper(),
        client_secret=obj.get("client_secret"),
        amount_received=int(received or 0),
        attempt_ref=error.get("charge") or charge,
        error_code=error.get("decline_code") or error.get("code"),
        error_message=error.get("message"),
    )


class PaymentProvider(abc.ABC):
    """One implementation per processor; chosen by ``PAYMENTS_PROVIDER`` (see ``providers.get_provider``)."""

    name: str = ""

    @abc.abstractmethod
    def create_intent(
        self, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Intent: ...

    @abc.abstractmethod
    def confirm_intent(
        self, intent_id: str, *, payment_method: str, amount: int, currency: str, idempotency_key: str
    ) -> Intent:
        """Confirm with a payment method (server-side confirmation; browsers may use Stripe.js instead)."""

    @abc.abstractmethod
    def cancel_intent(self, intent_id: str, *, amount: int, currency: str) -> Intent: ...

    @abc.abstractmethod
    def refund(
        self, *, intent_id: str, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Refund: ...

    @abc.abstractmethod
    def create_account(
        self, *, seller_id: str, email: str | None, country: str, idempotency_key: str
    ) -> ConnectedAccount: ...

    @abc.abstractmethod
    def transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        idempotency_key: str,
        transfer_group: str,
        metadata: dict[str, str],
    ) -> Transfer: ...

    @abc.abstractmethod
    def reverse_transfer(self, transfer_id: str, *, amount: int, idempotency_key: str) -> Reversal: ...

    @abc.abstractmethod
    def parse_webhook(self, payload: bytes, signature: str | None) -> ProviderEvent:
        """Verify and decode a webhook; raise :class:`InvalidWebhook` when it does not verify."""

    def take_events(self) -> list[ProviderEvent]:
        """Events produced in-process by the last calls (the sandbox); webhook providers return []."""
        return []
