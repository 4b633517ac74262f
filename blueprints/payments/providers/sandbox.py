"""The sandbox provider: Stripe's payment lifecycle simulated in-process, deterministic and offline.

The default for local runs and tests. It keeps no state: ids derive from the idempotency keys, so a
retried call returns the same object in any process (a payout worker killed and rerun included), and
the outcome of a confirmation derives from the test card, as with Stripe's test mode:

==========================================  ===============================================
payment method                              outcome
==========================================  ===============================================
``pm_card_visa`` / ``4242424242424242``      succeeds: funds captured
``pm_card_chargeDeclined`` / ``4000000000000002``  declined (``card_declined``)
``pm_card_chargeDeclinedInsufficientFunds`` / ``4000000000009995``  declined (``insufficient_funds``)
``pm_card_authenticationRequired`` / ``4000002500003155``  ``requires_action`` until :meth:`authenticate`
==========================================  ===============================================

Transfers to ``acct_sbx_invalid`` fail for good (``account_invalid``); to ``acct_sbx_unreachable`` they
fail as a network error would (retriable). Each call queues the events Stripe would send
(``payment_intent.succeeded``...), which the service feeds through the same handler as webhooks.
Webhooks signed in Stripe's scheme with the sandbox secret verify too (:meth:`sign`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from typing import Any

import stripe

from blueprints.payments.providers.base import (
    CANCELED,
    REQUIRES_ACTION,
    REQUIRES_PAYMENT_METHOD,
    SUCCEEDED,
    ConnectedAccount,
    Intent,
    InvalidWebhook,
    PaymentProvider,
    ProviderError,
    ProviderEvent,
    Refund,
    Reversal,
    Transfer,
)

SUCCESS, DECLINED, NO_FUNDS, ACTION = "success", "card_declined", "insufficient_funds", "requires_action"
TEST_CARDS: dict[str, str] = {
    "pm_card_visa": SUCCESS,
    "4242424242424242": SUCCESS,
    "pm_card_chargeDeclined": DECLINED,
    "4000000000000002": DECLINED,
    "pm_card_chargeDeclinedInsufficientFunds": NO_FUNDS,
    "4000000000009995": NO_FUNDS,
    "pm_card_authenticationRequired": ACTION,
    "4000002500003155": ACTION,
}
INVALID_ACCOUNT = "acct_sbx_invalid"
UNREACHABLE_ACCOUNT = "acct_sbx_unreachable"
DECLINE_MESSAGES = {
    DECLINED: "Your card was declined.",
    NO_FUNDS: "Your card has insufficient funds.",
}


def _ref(prefix: str, *parts: str) -> str:
    return f"{prefix}_sbx_{hashlib.sha256('|'.join(parts).encode()).hexdigest()[:24]}"


class SandboxProvider(PaymentProvider):
    name = "sandbox"

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._local = threading.local()

    # -- events -----------------------------------------------------------------------------
    def _emit(self, type_: str, obj: dict[str, Any], *discriminators: str) -> None:
        event = ProviderEvent(
            id=_ref("evt", type_, obj["id"], *discriminators), type=type_, created=int(time.time()), object=obj
        )
        self._events().append(event)

    def _events(self) -> list[ProviderEvent]:
        if not hasattr(self._local, "events"):
            self._local.events = []
        return self._local.events

    def take_events(self) -> list[ProviderEvent]:
        events, self._local.events = self._events(), []
        return events

    # -- intents ----------------------------------------------------------------------------
    def _intent(self, intent_id: str, status: str, amount: int, currency: str, **extra: Any) -> Intent:
        secret = hmac.new(self._secret.encode(), intent_id.encode(), hashlib.sha256).hexdigest()[:24]
        return Intent(
            id=intent_id,
            status=status,
            amount=amount,
            currency=currency,
            client_secret=f"{intent_id}_secret_{secret}",
            **extra,
        )

    @staticmethod
    def intent_object(intent: Intent) -> dict[str, Any]:
        """The intent as Stripe's JSON (the ``data.object`` of its events)."""
        error = None
        if intent.error_code:
            error = {"code": "card_declined", "decline_code": intent.error_code, "message": intent.error_message}
            error["charge"] = intent.attempt_ref
        return {
            "id": intent.id,
            "object": "payment_intent",
            "amount": intent.amount,
            "amount_received": intent.amount_received,
            "currency": intent.currency.lower(),
            "status": intent.status,
            "latest_charge": intent.attempt_ref,
            "last_payment_error": error,
        }

    def create_intent(self, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]) -> Intent:
        if amount <= 0:
            raise ProviderError("amount must be positive", code="parameter_invalid_integer")
        return self._intent(_ref("pi", idempotency_key), REQUIRES_PAYMENT_METHOD, amount, currency)

    def confirm_intent(
        self, intent_id: str, *, payment_method: str, amount: int, currency: str, idempotency_key: str
    ) -> Intent:
        outcome = TEST_CARDS.get(payment_method.replace(" ", ""))
        if outcome is None:
            raise ProviderError(f"unknown sandbox payment method {payment_method!r}", code="payment_method_invalid")
        charge = _ref("ch", idempotency_key)
        if outcome == ACTION:
            intent = self._intent(intent_id, REQUIRES_ACTION, amount, currency)
            self._emit("payment_intent.requires_action", self.intent_object(intent), idempotency_key)
            return intent
        return self._charge(intent_id, outcome, amount, currency, charge)

    def _charge(self, intent_id: str, outcome: str, amount: int, currency: str, charge: str) -> Intent:
        if outcome == SUCCESS:
            intent = self._intent(intent_id, SUCCEEDED, amount, currency, amount_received=amount, attempt_ref=charge)
            self._emit("payment_intent.succeeded", self.intent_object(intent))
            return intent
        intent = self._intent(
            intent_id,
            REQUIRES_PAYMENT_METHOD,
            amount,
            currency,
            attempt_ref=charge,
            error_code=outcome,
            error_message=DECLINE_MESSAGES[outcome],
        )
        self._emit("payment_intent.payment_failed", self.intent_object(intent), charge)
        return intent

    def authenticate(self, intent_id: str, *, success: bool, amount: int, currency: str, attempt_key: str) -> Intent:
        """The buyer's answer to the 3-D Secure challenge of a ``requires_action`` intent."""
        charge = _ref("ch", attempt_key, "authenticated")
        if success:
            return self._charge(intent_id, SUCCESS, amount, currency, charge)
        intent = self._intent(
            intent_id,
            REQUIRES_PAYMENT_METHOD,
            amount,
            currency,
            attempt_ref=charge,
            error_code="authentication_failed",
            error_message="The provided payment method has failed authentication.",
        )
        self._emit("payment_intent.payment_failed", self.intent_object(intent), charge)
        return intent

    def cancel_intent(self, intent_id: str, *, amount: int, currency: str) -> Intent:
        intent = self._intent(intent_id, CANCELED, amount, currency)
        self._emit("payment_intent.canceled", self.intent_object(intent))
        return intent

    # -- refunds, connected accounts, transfers ------------------------------------------------
    def refund(
        self, *, intent_id: str, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Refund:
        refund = Refund(id=_ref("re", idempotency_key), status="succeeded")
        obj = {"id": refund.id, "object": "refund", "amount": amount, "currency": currency.lower()}
        self._emit(
            "refund.created", {**obj, "payment_intent": intent_id, "status": refund.status, "metadata": metadata}
        )
        return refund

    def create_account(
        self, *, seller_id: str, email: str | None, country: str, idempotency_key: str
    ) -> ConnectedAccount:
        return ConnectedAccount(id=_ref("acct", seller_id), payouts_enabled=True)

    def transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        idempotency_key: str,
        transfer_group: str,
        metadata: dict[str, str],
    ) -> Transfer:
        if destination == INVALID_ACCOUNT:
            raise ProviderError("No such destination: the account cannot receive transfers", code="account_invalid")
        if destination == UNREACHABLE_ACCOUNT:
            raise ProviderError("The provider could not be reached", code="api_connection_error", retriable=True)
        transfer = Transfer(id=_ref("tr", idempotency_key), amount=amount, destination=destination)
        obj = {"id": transfer.id, "object": "transfer", "amount": amount, "currency": currency.lower()}
        self._emit("transfer.created", {**obj, "destination": destination, "transfer_group": transfer_group})
        return transfer

    def reverse_transfer(self, transfer_id: str, *, amount: int, idempotency_key: str) -> Reversal:
        return Reversal(id=_ref("trr", idempotency_key), transfer_id=transfer_id, amount=amount)

    # -- webhooks -------------------------------------------------------------------------------
    def sign(self, payload: bytes, timestamp: int | None = None) -> str:
        """A ``Stripe-Signature`` header for ``payload`` made with the sandbox secret."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        signature = hmac.new(self._secret.encode(), b"%d." % timestamp + payload, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={signature}"

    def parse_webhook(self, payload: bytes, signature: str | None) -> ProviderEvent:
        return parse_stripe_webhook(payload, signature, self._secret)


def parse_stripe_webhook(payload: bytes, signature: str | None, secret: str, tolerance: int = 300) -> ProviderEvent:
    """Verify a Stripe-scheme signature with the official SDK, then read the event."""
    if not signature or not secret:
        raise InvalidWebhook("missing Stripe-Signature header or webhook secret")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=tolerance)
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook(str(exc)) from None
    except ValueError as exc:
        raise InvalidWebhook(f"body is not a Stripe event: {exc}") from None
    body = json.loads(payload)
    try:
        return ProviderEvent(
            id=str(event["id"]), type=str(event["type"]), created=int(event["created"]), object=body["data"]["object"]
        )
    except (KeyError, TypeError) as exc:
        raise InvalidWebhook(f"event lacks {exc}") from None
