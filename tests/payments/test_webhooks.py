"""Provider webhooks on the real endpoint: signatures (good, bad, stale), duplicates, out-of-order."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from app.db import db
from blueprints.payments.ledger import JournalEntry
from blueprints.payments.models import ProviderEventRecord, SellerAccount
from blueprints.payments.providers import get_provider
from tests.payments.conftest import assert_ledger_sound, open_payment

URL = "/payments/webhooks/stripe"


def intent_event(payment, type_: str, status: str, event_id: str, **extra) -> bytes:  # type: ignore[no-untyped-def]
    obj = {
        "id": payment.provider_intent_id,
        "object": "payment_intent",
        "amount": payment.amount_total,
        "amount_received": payment.amount_total if status == "succeeded" else 0,
        "currency": payment.currency.lower(),
        "status": status,
        "metadata": {"payment_id": str(payment.id)},
        **extra,
    }
    return json.dumps(
        {"id": event_id, "object": "event", "type": type_, "created": int(time.time()), "data": {"object": obj}}
    ).encode()


def deliver(client, payload: bytes, signature: str | None = "sign"):  # type: ignore[no-untyped-def]
    if signature == "sign":
        signature = get_provider().sign(payload)
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return client.post(URL, data=payload, headers=headers)


def test_a_signed_success_event_holds_the_payment_once(client, app_ctx, orders):
    payment = open_payment(orders)
    payload = intent_event(payment, "payment_intent.succeeded", "succeeded", "evt_1")
    first = deliver(client, payload)
    assert first.status_code == 200 and first.get_json()["outcome"] == "held"
    again = deliver(client, payload)
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    db.session.refresh(payment)
    assert payment.state == "held"
    holds = select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "hold")
    assert db.session.execute(holds).scalar_one() == 1
    assert db.session.get(ProviderEventRecord, "evt_1").outcome == "held"
    assert_ledger_sound()


def test_bad_stale_and_missing_signatures_are_rejected_and_change_nothing(client, app_ctx, orders):
    payment = open_payment(orders)
    payload = intent_event(payment, "payment_intent.succeeded", "succeeded", "evt_2")
    provider = get_provider()
    forged = provider.sign(payload).rsplit("v1=", 1)[0] + "v1=" + "0" * 64
    stale = provider.sign(payload, timestamp=int(time.time()) - 3600)
    tampered_body = payload.replace(b'"succeeded"', b'"succeeded" ', 1)
    for body, signature in (
        (payload, forged),
        (payload, stale),
        (payload, None),
        (tampered_body, provider.sign(payload)),
    ):
        response = deliver(client, body, signature)
        assert response.status_code == 400, signature
        assert response.mimetype == "application/problem+json"
    db.session.refresh(payment)
    assert payment.state == "requires_payment"
    assert db.session.execute(select(func.count()).select_from(ProviderEventRecord)).scalar_one() == 0


def test_events_out_of_order_only_move_forward(client, app_ctx, orders):
    payment = open_payment(orders)
    succeeded = intent_event(payment, "payment_intent.succeeded", "succeeded", "evt_ok")
    late_failure = intent_event(
        payment,
        "payment_intent.payment_failed",
        "requires_payment_method",
        "evt_old_failure",
        last_payment_error={
            "code": "card_declined",
            "decline_code": "card_declined",
            "message": "declined",
            "charge": "ch_1",
        },
    )
    late_processing = intent_event(payment, "payment_intent.processing", "processing", "evt_old_processing")
    assert deliver(client, succeeded).get_json()["outcome"] == "held"
    assert deliver(client, late_failure).get_json()["outcome"].startswith("stale")
    assert deliver(client, late_processing).get_json()["outcome"].startswith("stale")
    db.session.refresh(payment)
    assert (payment.state, payment.declines) == ("held", 0)


def test_a_decline_event_counts_once_per_charge_attempt(client, app_ctx, orders):
    payment = open_payment(orders)
    error = {"code": "card_declined", "decline_code": "insufficient_funds", "message": "no funds", "charge": "ch_a"}
    first = intent_event(
        payment, "payment_intent.payment_failed", "requires_payment_method", "evt_f1", last_payment_error=error
    )
    resent_as_new_event = intent_event(
        payment, "payment_intent.payment_failed", "requires_payment_method", "evt_f2", last_payment_error=error
    )
    assert deliver(client, first).get_json()["outcome"] == "declined"
    assert deliver(client, resent_as_new_event).get_json()["outcome"] == "duplicate decline"
    db.session.refresh(payment)
    assert (payment.state, payment.declines) == ("requires_payment", 1)


def test_events_about_unknown_objects(client, app_ctx, orders):
    payment = open_payment(orders)
    foreign = json.loads(intent_event(payment, "payment_intent.succeeded", "succeeded", "evt_foreign"))
    foreign["data"]["object"].update(id="pi_not_ours", metadata={})
    body = json.dumps(foreign).encode()
    assert deliver(client, body).get_json()["outcome"].startswith("ignored")
    ours_but_unknown = json.loads(intent_event(payment, "payment_intent.succeeded", "succeeded", "evt_early"))
    ours_but_unknown["data"]["object"]["id"] = "pi_not_committed_yet"
    early = deliver(client, json.dumps(ours_but_unknown).encode())
    assert early.status_code == 409, early.get_json()  # any non-2xx makes the provider resend it later
    assert db.session.get(ProviderEventRecord, "evt_early") is None  # the provider will resend it


def test_account_updated_turns_payouts_on_and_off(client, app_ctx):
    import uuid

    seller = uuid.uuid4()
    db.session.add(
        SellerAccount(seller_id=seller, provider="stripe", provider_account_id="acct_123", payouts_enabled=False)
    )
    db.session.commit()
    event = {
        "id": "evt_acct",
        "type": "account.updated",
        "created": int(time.time()),
        "data": {"object": {"id": "acct_123", "object": "account", "payouts_enabled": True}},
    }
    assert deliver(client, json.dumps(event).encode()).get_json()["outcome"] == "payouts_enabled=True"
    db.session.expire_all()
    assert db.session.get(SellerAccount, seller).payouts_enabled is True
