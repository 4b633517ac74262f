"""The Stripe adapter against localstripe over real HTTP, webhooks signed by localstripe into the
app's real endpoint, and the Connect calls against recorded Stripe responses (no SDK patching).

Slow: starts localstripe (a process) and serves the app with werkzeug in a thread.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import select

from app.db import db
from app.security import encode_access_token
from blueprints.payments import ledger, payouts, service
from blueprints.payments.models import Payment, ProviderEventRecord, SellerAccount
from blueprints.payments.providers import get_provider
from tests.payments.conftest import (
    ORDER_TYPE,
    WEBHOOK_SECRET,
    LiveServer,
    assert_ledger_sound,
    stripe_settings,
)

pytestmark = pytest.mark.slow
USD = "USD"


@pytest.fixture(scope="module")
def stripe_app(make_app, localstripe):  # type: ignore[no-untyped-def]
    return make_app(**stripe_settings(localstripe))


@pytest.fixture(scope="module")
def live(stripe_app, localstripe) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    server = LiveServer(stripe_app)
    registered = requests.post(
        f"{localstripe}/_config/webhooks/bazaar",
        data={"url": f"{server.url}/payments/webhooks/stripe", "secret": WEBHOOK_SECRET},
        headers={"Authorization": "Bearer sk_test_bazaar"},
        timeout=10,
    )
    assert registered.status_code == 200, registered.text
    yield server
    server.stop()


@pytest.fixture
def http(live, stripe_app, app, orders):  # type: ignore[no-untyped-def]  # `app`: tables cleaned after
    """Pay an order over HTTP as its buyer."""

    class Client:
        def __init__(self) -> None:
            self.order_id, self.terms = orders.add(amount=10_000)

        def headers(self, key: str | None = None) -> dict[str, str]:
            with stripe_app.app_context():
                token = encode_access_token(
                    user_id=self.terms.buyer_id, session_id=uuid.uuid4(), roles=("buyer",), mfa_at=datetime.now(UTC)
                )
            return {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}

        def pay(self) -> dict:  # type: ignore[type-arg]
            response = requests.post(
                f"{live.url}/payments/intents",
                json={"order_type": ORDER_TYPE, "order_id": str(self.order_id)},
                headers=self.headers(str(uuid.uuid4())),
                timeout=30,
            )
            assert response.status_code == 201, response.text
            return response.json()

        def confirm(self, payment_id: str, method: str) -> dict:  # type: ignore[type-arg]
            response = requests.post(
                f"{live.url}/payments/{payment_id}/confirm",
                json={"payment_method": method},
                headers=self.headers(str(uuid.uuid4())),
                timeout=30,
            )
            assert response.status_code == 200, response.text
            return response.json()

    return Client()


def wait_until(check, seconds: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"not true within {seconds} s")


def provider_event(stripe_app, type_: str, object_id: str) -> ProviderEventRecord | None:  # type: ignore[no-untyped-def]
    with stripe_app.app_context():
        return db.session.execute(
            select(ProviderEventRecord).where(
                ProviderEventRecord.type == type_, ProviderEventRecord.object_id == object_id
            )
        ).scalar_one_or_none()


def payment_state(stripe_app, payment_id: str) -> str:  # type: ignore[no-untyped-def]
    with stripe_app.app_context():
        return db.session.get(Payment, uuid.UUID(payment_id)).state


def test_pay_with_stripe_then_the_signed_webhook_arrives_and_changes_nothing(http, stripe_app):
    created = http.pay()
    assert created["provider"] == "stripe" and created["client_secret"].startswith(created["id"] and "pi_")
    confirmed = http.confirm(created["id"], "pm_card_visa")
    assert confirmed["state"] == "held"
    with stripe_app.app_context():
        intent_id = db.session.get(Payment, uuid.UUID(created["id"])).provider_intent_id
        assert ledger.balance(ledger.escrow(USD)) == 10_500
    record = wait_until(lambda: provider_event(stripe_app, "payment_intent.succeeded", intent_id))
    assert record.outcome == "stale: already held"  # verified, deduplicated, and a no-op


def test_three_d_secure_completes_through_the_webhook(http, stripe_app):
    created = http.pay()
    with stripe_app.app_context():
        client = get_provider().client
        card = {"number": "4000002500003155", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
        method = client.v1.payment_methods.create(params={"type": "card", "card": card})
    confirmed = http.confirm(created["id"], method.id)
    assert confirmed["state"] == "requires_action"
    # What Stripe.js does in the browser: answer the challenge with the client secret.
    with stripe_app.app_context():
        payment = db.session.get(Payment, uuid.UUID(created["id"]))
        intent_id, secret = payment.provider_intent_id, payment.client_secret
    answered = requests.post(
        f"{stripe_app.config['STRIPE_API_BASE']}/v1/payment_intents/{intent_id}/_authenticate",
        data={"client_secret": secret, "success": "true", "key": "pk_test_bazaar"},  # a publishable key
        timeout=10,
    )
    assert answered.status_code == 200, answered.text
    wait_until(lambda: payment_state(stripe_app, created["id"]) == "held")
    assert provider_event(stripe_app, "payment_intent.succeeded", intent_id).outcome == "held"
    with stripe_app.app_context():
        assert_ledger_sound()


def test_a_decline_is_counted_once_from_the_answer_and_the_webhook(http, stripe_app):
    created = http.pay()
    confirmed = http.confirm(created["id"], "pm_card_chargeCustomerFail")
    assert confirmed["state"] == "requires_payment" and confirmed["last_error"].startswith("card_declined")
    with stripe_app.app_context():
        intent_id = db.session.get(Payment, uuid.UUID(created["id"])).provider_intent_id
    record = wait_until(lambda: provider_event(stripe_app, "payment_intent.payment_failed", intent_id))
    assert record.outcome == "duplicate decline"
    with stripe_app.app_context():
        assert db.session.get(Payment, uuid.UUID(created["id"])).declines == 1


def test_refunds_at_stripe_partial_then_full(http, stripe_app):
    created = http.pay()
    http.confirm(created["id"], "pm_card_visa")
    payment_id = uuid.UUID(created["id"])
    with stripe_app.app_context():
        for amount in (2_500, None):
            refund = service.refund_payment(payment_id=payment_id, amount=amount, reason="damaged", actor="staff:1")
            db.session.commit()
            refund = service.execute_refund(refund_id=refund.id)
            db.session.commit()
            assert refund.state == "succeeded" and refund.provider_refund_id.startswith("re_")
        payment = db.session.get(Payment, payment_id)
        assert (payment.state, payment.amount_refunded) == ("refunded", 10_500)
        assert ledger.balance(ledger.escrow(USD)) == 0
        assert_ledger_sound()


def test_a_forged_webhook_is_refused_by_the_live_endpoint(live, http):
    body = b'{"id": "evt_forged", "type": "payment_intent.succeeded", "created": 1, "data": {"object": {}}}'
    forged = requests.post(
        f"{live.url}/payments/webhooks/stripe",
        data=body,
        headers={"Stripe-Signature": f"t={int(time.time())},v1={'ab' * 32}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert forged.status_code == 400


def test_connect_accounts_transfers_and_reversals_with_recorded_responses(make_app, connect_server, app, orders):
    connect_app = make_app(**stripe_settings(connect_server.url))
    with connect_app.app_context():
        seller = uuid.uuid4()
        account = service.ensure_seller_account(seller_id=seller, actor=f"user:{seller}", email="s@example.com")
        db.session.commit()
        assert account.provider_account_id.startswith("acct_") and account.payouts_enabled
        assert (
            service.ensure_seller_account(seller_id=seller, actor="system").provider_account_id
            == account.provider_account_id
        )
        # a payment charged through localstripe (forwarded), released, paid out by a Connect transfer
        order_id, terms = orders.add(seller=seller)
        payment = service.create_intent(
            order_type=ORDER_TYPE, order_id=order_id, buyer_id=terms.buyer_id, actor="system"
        )
        service.confirm_payment(payment_id=payment.id, payment_method="pm_card_visa", actor="system")
        service.release_payment(payment_id=payment.id, actor="staff:1", reason="delivered")
        db.session.commit()
        assert payouts.run_payout_batch()["sent"] == 1
        [transfer] = connect_server.transfers.values()
        assert (transfer["amount"], transfer["destination"], transfer["currency"]) == (
            9_000,
            account.provider_account_id,
            "usd",
        )
        # a refund after payout pulls the money back with a reversal first
        refund = service.refund_payment(payment_id=payment.id, amount=3_000, reason="late", actor="staff:1")
        db.session.commit()
        refund = service.execute_refund(refund_id=refund.id)
        db.session.commit()
        assert (refund.state, refund.reversed_amount) == ("succeeded", 3_000)
        assert transfer["amount_reversed"] == 3_000
        assert ledger.balance(ledger.paid_out(seller, USD)) == 6_000
        # a closed destination is refused for good: the payout fails and the money goes back
        db.session.get(SellerAccount, seller).provider_account_id = "acct_closed"
        other_order, other_terms = orders.add(seller=seller, amount=2_000)
        other = service.create_intent(
            order_type=ORDER_TYPE, order_id=other_order, buyer_id=other_terms.buyer_id, actor="system"
        )
        service.confirm_payment(payment_id=other.id, payment_method="pm_card_visa", actor="system")
        service.release_payment(payment_id=other.id, actor="staff:1", reason="delivered")
        db.session.commit()
        assert payouts.run_payout_batch()["failed"] == 1
        assert ledger.balance(ledger.payable(seller, USD)) == 1_800
        assert_ledger_sound()
