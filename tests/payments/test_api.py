"""The payments API: paying an order, following it, who may do what, and the Idempotency-Key contract."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.db import db
from blueprints.payments import payouts
from blueprints.payments.ledger import JournalEntry
from blueprints.payments.models import Payment, Transition
from tests.payments.conftest import ORDER_TYPE, assert_ledger_sound


@pytest.fixture
def parties(orders, token_for):  # type: ignore[no-untyped-def]
    """An order with a buyer and a seller, and headers for each (tokens carry a fresh MFA check)."""
    order_id, terms = orders.add(amount=10_000)

    def headers(user: uuid.UUID, key: str | None = None, roles: tuple[str, ...] = ("buyer",), mfa: bool = True):
        token = token_for(user, roles=roles, mfa_at=datetime.now(UTC) if mfa else None)
        extra = {"Idempotency-Key": key} if key else {}
        return {"Authorization": f"Bearer {token}", **extra}

    return {
        "order_id": str(order_id),
        "buyer": terms.buyer_id,
        "seller": terms.seller_id,
        "stranger": uuid.uuid4(),
        "headers": headers,
    }


def pay(client, parties, key="key-1", **body):  # type: ignore[no-untyped-def]
    payload = {"order_type": ORDER_TYPE, "order_id": parties["order_id"], **body}
    return client.post("/payments/intents", json=payload, headers=parties["headers"](parties["buyer"], key))


def paid(client, parties) -> str:  # type: ignore[no-untyped-def]
    payment_id = pay(client, parties).get_json()["id"]
    response = client.post(
        f"/payments/{payment_id}/confirm",
        json={"payment_method": "pm_card_visa"},
        headers=parties["headers"](parties["buyer"], "confirm-1"),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "held"
    return payment_id


def test_pay_ship_and_confirm_receipt(client, parties, app_ctx):
    created = pay(client, parties)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["total"] == {"amount": 10_500, "currency": "USD"}
    assert body["buyer_fee"] == {"amount": 500, "currency": "USD"}
    assert body["client_secret"].startswith(body["provider"] == "sandbox" and "pi_sbx_")
    payment_id = body["id"]
    shown = client.get(f"/payments/{payment_id}", headers=parties["headers"](parties["buyer"]))
    assert shown.status_code == 200
    assert shown.get_json()["state"] == "requires_payment" and "client_secret" not in shown.get_json()
    paid_id = paid(client, parties)
    assert paid_id == payment_id
    seller = parties["headers"](parties["seller"])
    shipped = client.post(f"/payments/{payment_id}/ship", headers=seller)
    assert shipped.status_code == 200 and shipped.get_json()["release_due_at"]
    received = client.post(f"/payments/{payment_id}/confirm-received", headers=parties["headers"](parties["buyer"]))
    assert received.status_code == 200, received.get_json()
    assert received.get_json()["state"] == "released"
    as_seller = client.get(f"/payments/{payment_id}", headers=seller).get_json()
    assert as_seller["seller_proceeds"] == {"amount": 9_000, "currency": "USD"}
    receipt = client.get(f"/payments/{payment_id}/receipt", headers=parties["headers"](parties["buyer"])).get_json()
    assert receipt["total"]["amount"] == 10_500 and receipt["net_paid"]["amount"] == 10_500
    assert [line["amount"]["amount"] for line in receipt["lines"]] == [10_000, 500]
    assert_ledger_sound()


def test_intent_inputs_are_checked_and_amounts_are_not_client_writable(client, parties, app_ctx):
    assert client.post("/payments/intents", json={}).status_code == 401
    missing_key = pay(client, parties, key=None)
    assert missing_key.status_code == 400 and "Idempotency-Key" in missing_key.get_json()["errors"]
    with_amount = pay(client, parties, amount=1)
    assert with_amount.status_code == 422 and "amount" in with_amount.get_json()["errors"]
    for body, field in (
        ({"order_type": ORDER_TYPE, "order_id": "not-a-uuid"}, "order_id"),
        ({"order_type": "spaceship", "order_id": parties["order_id"]}, "order_type"),
        ({"order_type": ORDER_TYPE, "order_id": str(uuid.uuid4())}, "order_id"),
    ):
        response = client.post("/payments/intents", json=body, headers=parties["headers"](parties["buyer"], "k-x"))
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"]
    someone_elses = client.post(
        "/payments/intents",
        json={"order_type": ORDER_TYPE, "order_id": parties["order_id"]},
        headers=parties["headers"](parties["stranger"], "k-y"),
    )
    assert someone_elses.status_code == 422
    assert db.session.execute(select(func.count()).select_from(Payment)).scalar_one() == 0


def test_same_key_replays_and_another_body_conflicts(client, parties, app_ctx):
    first = pay(client, parties)
    again = pay(client, parties)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    conflict = client.post(
        "/payments/intents",
        json={"order_type": ORDER_TYPE, "order_id": str(uuid.uuid4())},
        headers=parties["headers"](parties["buyer"], "key-1"),
    )
    assert conflict.status_code == 409
    assert db.session.execute(select(func.count()).select_from(Payment)).scalar_one() == 1


def test_concurrent_double_submit_makes_one_intent_and_one_charge(app, parties, app_ctx):
    def race(url: str, body: dict, key: str) -> list[tuple[int, dict]]:  # type: ignore[type-arg]
        results: list[tuple[int, dict]] = []  # type: ignore[type-arg]
        barrier = threading.Barrier(4)
        headers = parties["headers"](parties["buyer"], key)

        def submit() -> None:
            client = app.test_client()
            barrier.wait(timeout=10)
            response = client.post(url, json=body, headers=headers)
            results.append((response.status_code, response.get_json()))

        threads = [threading.Thread(target=submit) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        return results

    created = race("/payments/intents", {"order_type": ORDER_TYPE, "order_id": parties["order_id"]}, "double")
    assert len(created) == 4 and {status for status, _ in created} == {201}
    assert len({body["id"] for _, body in created}) == 1
    [payment] = db.session.execute(select(Payment)).scalars().all()
    confirmed = race(f"/payments/{payment.id}/confirm", {"payment_method": "pm_card_visa"}, "double-confirm")
    assert {status for status, _ in confirmed} == {200}
    charges = db.session.execute(
        select(func.count()).select_from(Transition).where(Transition.to_state == "processing")
    ).scalar_one()
    holds = db.session.execute(select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "hold"))
    assert charges == 1 and holds.scalar_one() == 1
    assert_ledger_sound()


def test_only_the_parties_see_a_payment(client, parties, app_ctx):
    payment_id = pay(client, parties).get_json()["id"]
    headers = parties["headers"]
    assert client.get(f"/payments/{payment_id}").status_code == 401
    assert client.get(f"/payments/{payment_id}", headers=headers(parties["stranger"])).status_code == 404
    assert client.get(f"/payments/{payment_id}/receipt", headers=headers(parties["stranger"])).status_code == 404
    assert client.get(f"/payments/{payment_id}", headers=headers(parties["seller"])).status_code == 200
    assert client.get("/payments", headers=headers(parties["stranger"])).get_json()["items"] == []
    mine = client.get(f"/payments?buyer_id={parties['buyer']}", headers=headers(parties["buyer"])).get_json()
    assert [item["id"] for item in mine["items"]] == [payment_id]


def test_each_party_may_only_do_their_part(client, parties, app_ctx):
    payment_id = paid(client, parties)
    h = parties["headers"]
    buyer, seller, stranger = parties["buyer"], parties["seller"], parties["stranger"]
    attempts = [
        ("confirm", h(seller, "s-1"), {"payment_method": "pm_card_visa"}, 403),
        ("confirm", h(stranger, "x-1"), {"payment_method": "pm_card_visa"}, 404),
        ("ship", h(buyer), None, 403),
        ("ship", h(stranger), None, 404),
        ("confirm-received", h(seller), None, 403),
        ("confirm-received", h(stranger), None, 404),
        ("release", h(buyer), {"reason": "I say so"}, 403),  # only staff release; the buyer confirms receipt
        ("refund", h(buyer), {"reason": "I want my money"}, 403),
        ("refund", h(seller), {"reason": "x"}, 403),
        ("hold", h(stranger), {"reason": "x"}, 404),
    ]
    for action, headers, body, expected in attempts:
        response = client.post(f"/payments/{payment_id}/{action}", json=body, headers=headers)
        assert response.status_code == expected, (action, response.get_json())
        assert response.mimetype == "application/problem+json"
    assert client.get(f"/payments/{payment_id}/receipt", headers=h(seller)).status_code == 403
    assert client.patch(f"/payments/{payment_id}", json={"amount_total": 1}, headers=h(buyer)).status_code in (404, 405)
    payment = db.session.get(Payment, uuid.UUID(payment_id))
    assert (payment.state, payment.amount_total, payment.amount_refunded) == ("held", 10_500, 0)


def test_confirming_receipt_needs_a_recent_mfa_check(client, parties, app_ctx, app, monkeypatch):
    payment_id = paid(client, parties)
    monkeypatch.setitem(app.extensions, "bazaar_mfa_enrolled", lambda user_id: True)
    stale = client.post(
        f"/payments/{payment_id}/confirm-received", headers=parties["headers"](parties["buyer"], mfa=False)
    )
    assert stale.status_code == 401 and stale.get_json()["type"].endswith("step-up-required")
    fresh = client.post(f"/payments/{payment_id}/confirm-received", headers=parties["headers"](parties["buyer"]))
    assert fresh.status_code == 200


def test_a_decline_is_an_answer_not_an_error(client, parties, app_ctx):
    payment_id = pay(client, parties).get_json()["id"]
    response = client.post(
        f"/payments/{payment_id}/confirm",
        json={"payment_method": "pm_card_chargeDeclined"},
        headers=parties["headers"](parties["buyer"], "decline-1"),
    )
    assert response.status_code == 200
    assert response.get_json()["state"] == "requires_payment"
    assert response.get_json()["last_error"].startswith("card_declined")
    unknown = client.post(
        f"/payments/{payment_id}/confirm",
        json={"payment_method": "pm_nonsense"},
        headers=parties["headers"](parties["buyer"], "decline-2"),
    )
    assert unknown.status_code == 422 and "payment_method" in unknown.get_json()["errors"]


def test_staff_refund_over_the_api_and_the_seller_money_views(client, parties, app_ctx):
    payment_id = paid(client, parties)
    staff = parties["headers"](uuid.uuid4(), roles=("staff",))
    released = client.post(f"/payments/{payment_id}/release", json={"reason": "delivered"}, headers=staff)
    assert released.status_code == 200, released.get_json()
    seller = parties["headers"](parties["seller"])
    balance = client.get("/payments/seller/balance", headers=seller).get_json()
    assert balance["balances"] == [
        {"currency": "USD", "available": 9_000, "on_hold": 0, "in_escrow": 0, "in_transit": 0, "paid_out": 0}
    ]
    assert payouts.run_payout_batch()["sent"] == 1
    listed = client.get("/payments/payouts", headers=seller).get_json()["items"]
    assert len(listed) == 1 and listed[0]["value"] == {"amount": 9_000, "currency": "USD"}
    assert "destination" not in listed[0]
    assert client.get("/payments/payouts", headers=parties["headers"](parties["buyer"])).get_json()["items"] == []
    assert (
        client.get(f"/payments/payouts/{listed[0]['id']}", headers=parties["headers"](parties["buyer"])).status_code
        == 404
    )
    refund = client.post(f"/payments/{payment_id}/refund", json={"reason": "broken", "amount": 2_000}, headers=staff)
    assert refund.status_code == 200, refund.get_json()
    assert refund.get_json()["state"] == "released"  # recorded; carried out right after the commit
    assert client.post(f"/payments/{payment_id}/refund", json={"amount": 5}, headers=staff).status_code == 422
    too_much = client.post(f"/payments/{payment_id}/refund", json={"reason": "x", "amount": 99_999}, headers=staff)
    assert too_much.status_code == 422 and "amount" in too_much.get_json()["errors"]
    assert client.get("/payments/journal", headers=seller).get_json()["items"] == []  # staff only
    assert len(client.get("/payments/journal", headers=staff).get_json()["items"]) >= 3
