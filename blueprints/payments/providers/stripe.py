"""The Stripe adapter: official SDK (``StripeClient``), Connect "separate charges and transfers".

Buyers are charged into the platform's balance with PaymentIntents; a seller's share leaves with a
Transfer to their connected (Express) account when a payout runs; refunds after a payout first pull
the money back with a transfer reversal. Every money-moving call carries an idempotency key, and the
SDK retries network failures with that same key. ``base_address`` points the SDK elsewhere (tests:
localstripe, and a fixture server for the Connect calls localstripe lacks).
"""

from __future__ import annotations

from typing import Any, NoReturn

import stripe

from blueprints.payments.providers.base import (
    REQUIRES_PAYMENT_METHOD,
    ConnectedAccount,
    Intent,
    PaymentProvider,
    ProviderError,
    ProviderEvent,
    Refund,
    Reversal,
    Transfer,
    intent_from_object,
)
from blueprints.payments.providers.sandbox import parse_stripe_webhook

RETRIABLE = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


def _raise(exc: stripe.StripeError) -> NoReturn:
    retriable = isinstance(exc, RETRIABLE) or (exc.http_status or 0) >= 500
    code = getattr(exc, "code", None) or type(exc).__name__
    raise ProviderError(exc.user_message or str(exc), code=str(code), retriable=retriable) from exc


def _as_dict(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


class StripeProvider(PaymentProvider):
    name = "stripe"

    def __init__(
        self,
        api_key: str,
        *,
        webhook_secret: str,
        base_address: str | None = None,
        return_url: str = "",
        webhook_tolerance: int = 300,
    ) -> None:
        addresses: dict[str, str] = {"api": base_address} if base_address else {}
        self.client = stripe.StripeClient(api_key, base_addresses=addresses, max_network_retries=2)  # type: ignore[arg-type]
        self._webhook_secret = webhook_secret
        self._return_url = return_url
        self._tolerance = webhook_tolerance

    def _intent(self, obj: Any) -> Intent:
        return intent_from_object(_as_dict(obj))

    def create_intent(self, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]) -> Intent:
        params = {
            "amount": amount,
            "currency": currency.lower(),
            "metadata": metadata,
            "payment_method_types": ["card"],
        }
        try:
            created = self.client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})  # type: ignore[arg-type]
        except stripe.StripeError as exc:
            _raise(exc)
        return self._intent(created)

    def confirm_intent(
        self, intent_id: str, *, payment_method: str, amount: int, currency: str, idempotency_key: str
    ) -> Intent:
        """Attach the payment method, then confirm (two calls: the form both Stripe and localstripe accept)."""
        intents = self.client.v1.payment_intents
        try:
            intents.update(intent_id, params={"payment_method": payment_method})
            confirmed = intents.confirm(intent_id, options={"idempotency_key": idempotency_key})
        except stripe.CardError as exc:
            # A decline is an answer, not a failure: report the intent as Stripe leaves it.
            error = exc.error
            return Intent(
                id=intent_id,
                status=REQUIRES_PAYMENT_METHOD,
                amount=amount,
                currency=currency,
                attempt_ref=getattr(error, "charge", None) or idempotency_key,
                error_code=getattr(error, "decline_code", None) or exc.code or "card_declined",
                error_message=exc.user_message or str(exc),
            )
        except stripe.StripeError as exc:
            _raise(exc)
        return self._intent(confirmed)

    def cancel_intent(self, intent_id: str, *, amount: int, currency: str) -> Intent:
        try:
            return self._intent(self.client.v1.payment_intents.cancel(intent_id))
        except stripe.StripeError as exc:
            _raise(exc)

    def refund(
        self, *, intent_id: str, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Refund:
        params = {"payment_intent": intent_id, "amount": amount, "metadata": metadata}
        try:
            refund = self.client.v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})  # type: ignore[arg-type]
        except stripe.StripeError as exc:
            _raise(exc)
        return Refund(id=refund.id, status=refund.status or "pending")

    def create_account(
        self, *, seller_id: str, email: str | None, country: str, idempotency_key: str
    ) -> ConnectedAccount:
        params: dict[str, Any] = {
            "type": "express",
            "country": country,
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"seller_id": seller_id},
        }
        if email:
            params["email"] = email
        try:
            account = self.client.v1.accounts.create(params=params, options={"idempotency_key": idempotency_key})  # type: ignore[arg-type]
            link = None
            if not account.payouts_enabled and self._return_url:
                link = self.client.v1.account_links.create(
                    params={
                        "account": account.id,
                        "refresh_url": self._return_url,
                        "return_url": self._return_url,
                        "type": "account_onboarding",
                    }
                ).url
        except stripe.StripeError as exc:
            _raise(exc)
        return ConnectedAccount(id=account.id, payouts_enabled=bool(account.payouts_enabled), onboarding_url=link)

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
        params = {
            "amount": amount,
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": metadata,
        }
        try:
            created = self.client.v1.transfers.create(params=params, options={"idempotency_key": idempotency_key})  # type: ignore[arg-type]
        except stripe.StripeError as exc:
            _raise(exc)
        return Transfer(id=created.id, amount=int(created.amount), destination=str(created.destination))

    def reverse_transfer(self, transfer_id: str, *, amount: int, idempotency_key: str) -> Reversal:
        try:
            reversal = self.client.v1.transfers.reversals.create(
                transfer_id, params={"amount": amount}, options={"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            _raise(exc)
        return Reversal(id=reversal.id, transfer_id=transfer_id, amount=int(reversal.amount))

    def parse_webhook(self, payload: bytes, signature: str | None) -> ProviderEvent:
        return parse_stripe_webhook(payload, signature, self._webhook_secret, self._tolerance)
