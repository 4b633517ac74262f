"""The escrow lifecycle through the service with the sandbox provider, ledger checked after each step."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import db, utcnow
from app.events.timers import FiredTimer, Timer
from blueprints.payments import escrow, handlers, ledger, service, timers
from blueprints.payments.errors import InvalidAmount, InvalidOrder, OnHold, WrongState
from blueprints.payments.models import Payment
from tests.payments.conftest import (
    ORDER_TYPE,
    assert_ledger_sound,
    events_of,
    held_payment,
    open_payment,
    past,
    transitions_of,
)

USD = "USD"


def buyer_of(payment: Payment) -> str:
    return f"user:{payment.buyer_id}"


def fire(name: str, payment: Payment) -> None:
    timer = FiredTimer(uuid.uuid4(), name, str(payment.id), utcnow(), {"payment_id": str(payment.id)}, 1)
    {timers.EXPIRE: handlers.expire_payment, timers.AUTO_RELEASE: handlers.auto_release}[name](timer)
    db.session.commit()


def test_intent_then_payment_holds_funds_in_escrow(app_ctx, orders):
    payment = open_payment(orders, amount=10_005)
    assert (payment.state, payment.amount, payment.buyer_fee, payment.amount_total) == (
        "requires_payment",
        10_005,
        500,
        10_505,
    )
    assert payment.client_secret and payment.provider_intent_id.startswith("pi_sbx_")
    expiry = db.session.execute(
        select(Timer).where(Timer.name == timers.EXPIRE, Timer.key == str(payment.id))
    ).scalar_one()
    assert expiry.state == "scheduled"
    assert ledger.balance(ledger.escrow(USD)) == 0
    service.confirm_payment(payment_id=payment.id, payment_method="pm_card_visa", actor=buyer_of(payment))
    db.session.commit()
    assert payment.state == "held" and payment.amount_captured == 10_505
    assert ledger.balance(ledger.escrow(USD)) == 10_505
    assert ledger.balance(ledger.buyer_funding(payment.buyer_id, USD)) == -10_505
    assert transitions_of(payment.id) == [
        (None, "requires_payment", "user"),
        ("requires_payment", "processing", "user"),
        ("processing", "held", "system"),
    ]
    [held] = events_of("payments.PaymentHeld")
    assert held["amount_total"] == 10_505 and held["payment_id"] == str(payment.id)
    db.session.refresh(expiry)
    assert expiry.state == "cancelled"
    assert_ledger_sound()


def test_the_same_order_gets_one_live_payment(app_ctx, orders):
    order_id, terms = orders.add()
    first = service.create_intent(order_type=ORDER_TYPE, order_id=order_id, buyer_id=terms.buyer_id, actor="system")
    again = service.create_intent(order_type=ORDER_TYPE, order_id=order_id, buyer_id=terms.buyer_id, actor="system")
    assert first.id == again.id
    db.session.commit()
    assert db.session.execute(select(Payment).where(Payment.order_id == order_id)).scalars().all() == [first]


def test_orders_are_checked_with_their_owner(app_ctx, orders):
    order_id, terms = orders.add()
    with pytest.raises(InvalidOrder):
        service.create_intent(order_type=ORDER_TYPE, order_id=uuid.uuid4(), buyer_id=terms.buyer_id, actor="system")
    with pytest.raises(InvalidOrder):  # someone else's order
        service.create_intent(order_type=ORDER_TYPE, order_id=order_id, buyer_id=uuid.uuid4(), actor="system")
    with pytest.raises(InvalidOrder):
        service.create_intent(order_type="nope", order_id=order_id, buyer_id=terms.buyer_id, actor="system")
    bad = orders.add(amount=0)[0]
    with pytest.raises(InvalidAmount):
        service.create_intent(order_type=ORDER_TYPE, order_id=bad, buyer_id=orders.orders[bad].buyer_id, actor="system")


@pytest.mark.parametrize(
    ("card", "code"),
    [("pm_card_chargeDeclined", "card_declined"), ("4000000000009995", "insufficient_funds")],
)
def test_a_decline_lets_the_buyer_try_again(app_ctx, orders, card, code):
    payment = open_payment(orders)
    service.confirm_payment(payment_id=payment.id, payment_method=card, actor=buyer_of(payment))
    db.session.commit()
    assert payment.state == "requires_payment" and payment.declines == 1
    assert payment.last_error.startswith(code)
    [failed] = events_of("payments.PaymentFailed")
    assert failed["code"] == code and failed["final"] is False
    assert ledger.balance(ledger.escrow(USD)) == 0
    service.confirm_payment(payment_id=payment.id, payment_method="pm_card_visa", actor=buyer_of(payment))
    db.session.commit()
    assert payment.state == "held"
    assert_ledger_sound()


def test_too_many_declines_fail_the_payment_for_good(app_ctx, orders):
    payment = open_payment(orders)
    for _ in range(escrow.MAX_DECLINES):
        service.confirm_payment(payment_id=payment.id, payment_method="pm_card_chargeDeclined", actor=buyer_of(payment))
        db.session.commit()
    assert payment.state == "failed"
    assert events_of("payments.PaymentFailed")[-1]["final"] is True
    with pytest.raises(WrongState):
        service.confirm_payment(payment_id=payment.id, payment_method="pm_card_visa", actor=buyer_of(payment))


def test_three_d_secure_challenge_passes_or_fails(app_ctx, orders):
    payment = open_payment(orders)
    service.confirm_payment(
        payment_id=payment.id, payment_method="pm_card_authenticationRequired", actor=buyer_of(payment)
    )
    db.session.commit()
    assert payment.state == "requires_action"
    service.authenticate_payment(payment_id=payment.id, success=False, actor=buyer_of(payment))
    db.session.commit()
    assert payment.state == "requires_payment" and "authentication" in payment.last_error
    service.confirm_payment(payment_id=payment.id, payment_method="4000002500003155", actor=buyer_of(payment))
    service.authenticate_payment(payment_id=payment.id, success=True, actor=buyer_of(payment))
    db.session.commit()
    assert payment.state == "held"
    assert_ledger_sound()


def test_an_unknown_payment_method_is_refused_and_changes_nothing(app_ctx, orders):
    payment = open_payment(orders)
    with pytest.raises(service.ProviderRefused):
        service.confirm_payment(payment_id=payment.id, payment_method="pm_card_stolen", actor=buyer_of(payment))
    db.session.rollback()
    db.session.refresh(payment)
    assert payment.state == "requires_payment"


def test_an_unpaid_payment_expires_after_the_checkout_window(app_ctx, orders):
    payment = open_payment(orders)
    fire(timers.EXPIRE, payment)  # not due yet: nothing happens
    assert payment.state == "requires_payment"
    payment.expires_at = past()
    db.session.commit()
    with pytest.raises(WrongState):
        service.confirm_payment(payment_id=payment.id, payment_method="pm_card_visa", actor=buyer_of(payment))
    db.session.rollback()
    fire(timers.EXPIRE, payment)
    assert payment.state == "expired"
    [expired] = events_of("payments.PaymentExpired")
    assert expired["order_id"] == str(payment.order_id)
    # the order can be paid again with a new payment
    again = service.create_intent(
        order_type=ORDER_TYPE, order_id=payment.order_id, buyer_id=payment.buyer_id, actor="system"
    )
    assert again.id != payment.id


def test_a_paid_payment_never_expires(app_ctx, orders):
    payment = held_payment(orders)
    payment.expires_at = past()
    db.session.commit()
    fire(timers.EXPIRE, payment)
    assert payment.state == "held"


def test_shipping_then_buyer_confirmation_releases_to_seller_minus_fee(app_ctx, orders):
    payment = held_payment(orders, amount=10_005)
    with pytest.raises(WrongState):
        service.mark_shipped(payment_id=open_payment(orders).id, actor="system")
    db.session.rollback()
    service.mark_shipped(payment_id=payment.id, actor=f"user:{payment.seller_id}")
    db.session.commit()
    assert payment.release_due_at == payment.shipped_at + timedelta(days=3)
    service.confirm_received(payment_id=payment.id, actor=buyer_of(payment))
    db.session.commit()
    # commission 10% of 10,005 = 1,000.5 -> 1,001; platform keeps it plus the 500 buyer fee
    assert (payment.state, payment.seller_amount, payment.platform_fee) == ("released", 9_004, 1_501)
    assert ledger.balance(ledger.escrow(USD)) == 0
    assert ledger.balance(ledger.payable(payment.seller_id, USD)) == 9_004
    assert ledger.balance(ledger.fees(USD)) == 1_501
    [released] = events_of("payments.PaymentReleased")
    assert released["seller_amount"] == 9_004 and released["reason"] == "the buyer confirmed receipt"
    with pytest.raises(WrongState):
        service.confirm_received(payment_id=payment.id, actor=buyer_of(payment))
    assert_ledger_sound()


def test_auto_release_after_the_inspection_window_unless_on_hold(app_ctx, orders):
    payment = held_payment(orders)
    service.mark_shipped(payment_id=payment.id, actor=f"user:{payment.seller_id}")
    db.session.commit()
    fire(timers.AUTO_RELEASE, payment)
    assert payment.state == "held"  # not due yet
    payment.release_due_at = past()
    hold = service.place_hold(source="dispute", reason="item not as described", actor="system", payment_id=payment.id)
    db.session.commit()
    fire(timers.AUTO_RELEASE, payment)
    assert payment.state == "held"
    with pytest.raises(OnHold):
        service.confirm_received(payment_id=payment.id, actor=buyer_of(payment))
    db.session.rollback()
    service.lift_hold(hold_id=hold.id, actor="staff:7", reason="resolved for the seller")
    db.session.commit()
    rearmed = db.session.execute(select(Timer).where(Timer.name == timers.AUTO_RELEASE)).scalar_one()
    assert rearmed.state == "scheduled" and rearmed.due_at <= utcnow()
    fire(timers.AUTO_RELEASE, payment)
    assert payment.state == "released"
    assert_ledger_sound()


def test_delivery_restarts_the_inspection_window(app_ctx, orders):
    payment = held_payment(orders)
    service.mark_shipped(payment_id=payment.id, actor=f"user:{payment.seller_id}")
    delivered = utcnow() + timedelta(days=2)
    service.record_delivery(payment_id=payment.id, delivered_at=delivered)
    db.session.commit()
    assert payment.release_due_at == delivered + timedelta(days=3)


def test_the_inspection_window_is_set_in_seconds(app_ctx, orders, monkeypatch):
    from flask import current_app

    monkeypatch.setitem(current_app.config, "PAYMENTS_INSPECTION_SECONDS", 5)
    payment = held_payment(orders)
    service.mark_shipped(payment_id=payment.id, actor=f"user:{payment.seller_id}")
    db.session.commit()
    assert payment.release_due_at == payment.shipped_at + timedelta(seconds=5)
    armed = db.session.execute(select(Timer).where(Timer.name == timers.AUTO_RELEASE)).scalar_one()
    assert armed.due_at == payment.release_due_at


def test_a_seller_cannot_buy_their_own_item(app_ctx, orders):
    seller = uuid.uuid4()
    order_id, _terms = orders.add(buyer=seller, seller=seller)
    with pytest.raises(WrongState):
        service.create_intent(order_type=ORDER_TYPE, order_id=order_id, buyer_id=seller, actor="system")


def test_get_payment_is_the_read_model_for_other_domains(app_ctx, orders):
    payment = held_payment(orders)
    view = service.get_payment(payment_id=payment.id)
    assert (view.state, view.amount_total, view.buyer_id) == ("held", 10_500, payment.buyer_id)
    with pytest.raises(service.PaymentNotFound):
        service.get_payment(payment_id=uuid.uuid4())
