"""Refunds: from escrow or after release, partial or full, never more than captured, even concurrently."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.db import db
from blueprints.payments import ledger, payouts, service
from blueprints.payments.errors import InvalidAmount, WrongState
from blueprints.payments.models import Payment, Refund
from tests.payments.conftest import assert_ledger_sound, events_of, held_payment, open_payment, transitions_of

USD = "USD"


def refund(payment: Payment, amount: int | None, reason: str = "not as described") -> Refund:
    pending = service.refund_payment(payment_id=payment.id, amount=amount, reason=reason, actor="staff:1")
    db.session.commit()
    done = service.execute_refund(refund_id=pending.id)
    db.session.commit()
    db.session.refresh(payment)
    return done


def release(payment: Payment) -> None:
    service.release_payment(payment_id=payment.id, actor="staff:1", reason="delivered")
    db.session.commit()


def test_partial_refund_from_escrow_then_release_of_the_rest(app_ctx, orders):
    payment = held_payment(orders)  # 10,000 + 500
    done = refund(payment, 2_005)
    assert (done.state, done.from_escrow, payment.state, payment.amount_refunded) == (
        "succeeded",
        2_005,
        "partially_refunded",
        2_005,
    )
    assert ledger.balance(ledger.escrow(USD)) == 8_495
    assert ledger.balance(ledger.refunds(payment.buyer_id, USD)) == 2_005
    release(payment)
    # item left 7,995: commission 799.5 -> 800; seller 7,195; platform 800 + 500
    assert (payment.seller_amount, payment.platform_fee) == (7_195, 1_300)
    assert ledger.balance(ledger.escrow(USD)) == 0
    [event] = events_of("payments.PaymentRefunded")
    assert event["amount"] == 2_005 and event["full"] is False
    assert [t[1] for t in transitions_of(done.id)] == ["pending", "succeeded"]
    assert_ledger_sound()


def test_full_refund_from_escrow_returns_everything_including_the_buyer_fee(app_ctx, orders):
    payment = held_payment(orders)
    done = refund(payment, None)
    assert done.amount == 10_500 and payment.state == "refunded"
    assert ledger.balance(ledger.escrow(USD)) == 0
    assert ledger.balance(ledger.refunds(payment.buyer_id, USD)) == 10_500
    assert events_of("payments.PaymentRefunded")[0]["full"] is True
    with pytest.raises(WrongState):
        service.refund_payment(payment_id=payment.id, amount=1, reason="again", actor="staff:1")
    db.session.rollback()
    with pytest.raises(WrongState):
        service.release_payment(payment_id=payment.id, actor="staff:1", reason="no")
    assert_ledger_sound()


def test_never_more_than_captured(app_ctx, orders):
    payment = held_payment(orders)
    with pytest.raises(InvalidAmount):
        service.refund_payment(payment_id=payment.id, amount=10_501, reason="too much", actor="staff:1")
    db.session.rollback()
    refund(payment, 10_000)
    with pytest.raises(InvalidAmount):
        service.refund_payment(payment_id=payment.id, amount=501, reason="too much", actor="staff:1")
    db.session.rollback()
    for bad in (0, -5, 1.5, True):
        with pytest.raises(InvalidAmount):
            service.refund_payment(payment_id=payment.id, amount=bad, reason="bad", actor="staff:1")
        db.session.rollback()
    refund(payment, 500)
    assert payment.amount_refunded == payment.amount_captured == 10_500
    with pytest.raises(WrongState):
        service.refund_payment(payment_id=payment.id, amount=1, reason="again", actor="staff:1")
    db.session.rollback()
    assert_ledger_sound()


def test_an_unpaid_payment_has_nothing_to_refund(app_ctx, orders):
    payment = open_payment(orders)
    with pytest.raises(WrongState):
        service.refund_payment(payment_id=payment.id, amount=None, reason="x", actor="staff:1")


def test_concurrent_refunds_never_exceed_captured(app, orders):
    with app.app_context():
        payment = held_payment(orders)
        payment_id = payment.id
    outcomes: list[str] = []

    def ask() -> None:
        with app.app_context():
            try:
                service.refund_payment(payment_id=payment_id, amount=4_000, reason="race", actor="staff:1")
                db.session.commit()
                outcomes.append("ok")
            except InvalidAmount:
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ok", "ok"] + ["refused"] * 4
    with app.app_context():
        for refund_id in db.session.execute(select(Refund.id).where(Refund.payment_id == payment_id)).scalars():
            service.execute_refund(refund_id=refund_id)
            db.session.commit()
        stored = db.session.get(Payment, payment_id)
        assert stored.amount_refunded == 8_000 <= stored.amount_captured
        assert_ledger_sound()


def test_refund_after_release_comes_from_the_seller_then_the_fees(app_ctx, orders):
    payment = held_payment(orders)
    release(payment)  # seller 9,000, platform 1,500
    done = refund(payment, 9_500)
    assert (done.from_seller, done.from_fees, done.reversed_amount) == (9_000, 500, 0)
    assert ledger.balance(ledger.payable(payment.seller_id, USD)) == 0
    assert ledger.balance(ledger.fees(USD)) == 1_000
    assert payment.state == "partially_refunded"
    refund(payment, None)
    assert payment.state == "refunded" and ledger.balance(ledger.fees(USD)) == 0
    assert_ledger_sound()


def test_refund_after_payout_reverses_the_transfer_first(app_ctx, orders):
    payment = held_payment(orders)
    release(payment)
    assert payouts.run_payout_batch()["sent"] == 1
    assert ledger.balance(ledger.paid_out(payment.seller_id, USD)) == 9_000
    done = refund(payment, 4_000)
    assert (done.state, done.from_seller, done.reversed_amount) == ("succeeded", 4_000, 4_000)
    assert ledger.balance(ledger.paid_out(payment.seller_id, USD)) == 5_000
    assert ledger.balance(ledger.payable(payment.seller_id, USD)) == 0
    [payout] = db.session.execute(select(payouts.Payout)).scalars().all()
    assert payout.reversed_amount == 4_000
    assert_ledger_sound()


def test_a_refund_waits_for_money_in_transit_and_the_payout_leaves_it_behind(app_ctx, orders):
    payment = held_payment(orders)
    release(payment)
    payout = payouts.open_payout(seller_id=payment.seller_id, currency=USD)
    db.session.commit()
    pending = service.refund_payment(payment_id=payment.id, amount=1_000, reason="late", actor="staff:1")
    db.session.commit()
    done = service.execute_refund(refund_id=pending.id)
    db.session.commit()
    assert done.state == "pending" and "in transit" in done.error
    # the payout sees money reserved for the refund: it puts everything back instead of sending it
    payouts.send_payout(payout_id=payout.id)
    db.session.commit()
    assert payout.state == "canceled" and payout.provider_transfer_id is None
    done = service.execute_refund(refund_id=pending.id)
    db.session.commit()
    assert (done.state, done.reversed_amount) == ("succeeded", 0)
    assert ledger.balance(ledger.payable(payment.seller_id, USD)) == 8_000
    assert payouts.run_payout_batch()["sent"] == 1
    assert ledger.balance(ledger.paid_out(payment.seller_id, USD)) == 8_000
    assert_ledger_sound()


def test_dispute_split_refunds_part_and_releases_the_rest(app_ctx, orders):
    payment = held_payment(orders)
    pending = service.resolve_dispute(payment_id=payment.id, refund_amount=3_000, actor="system", reason="split 30%")
    db.session.commit()
    service.execute_refund(refund_id=pending.id)
    db.session.commit()
    db.session.refresh(payment)
    assert payment.state == "released" and payment.amount_refunded == 3_000
    # item left 7,000 -> commission 700, seller 6,300; platform 700 + 500
    assert (payment.seller_amount, payment.platform_fee) == (6_300, 1_200)
    assert ledger.balance(ledger.escrow(USD)) == 0
    other = held_payment(orders)
    assert service.resolve_dispute(payment_id=other.id, refund_amount=0, actor="system", reason="seller wins") is None
    db.session.commit()
    assert other.state == "released"
    assert_ledger_sound()
