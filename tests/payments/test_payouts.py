"""Payouts: batching payable balances, holds, provider failures, backoff, staff retry."""

from __future__ import annotations

from sqlalchemy import select

from app.db import db, utcnow
from blueprints.payments import ledger, payouts, service
from blueprints.payments.models import Payment, Payout, SellerAccount
from blueprints.payments.providers.sandbox import INVALID_ACCOUNT, UNREACHABLE_ACCOUNT
from tests.payments.conftest import assert_ledger_sound, events_of, held_payment, transitions_of

USD = "USD"


def released(orders, **kwargs) -> Payment:  # type: ignore[no-untyped-def]
    payment = held_payment(orders, **kwargs)
    service.release_payment(payment_id=payment.id, actor="staff:1", reason="delivered")
    db.session.commit()
    return payment


def all_payouts() -> list[Payout]:
    return list(db.session.execute(select(Payout).order_by(Payout.created_at)).scalars())


def test_batch_pays_each_seller_their_payable_balance_once(app_ctx, orders):
    first = released(orders)
    second = released(orders, seller=first.seller_id, amount=5_000)
    other = released(orders, currency="EUR")
    stats = payouts.run_payout_batch()
    assert stats["opened"] == 2 and stats["sent"] == 2
    assert ledger.balance(ledger.paid_out(first.seller_id, USD)) == 9_000 + 4_500
    assert ledger.balance(ledger.payable(first.seller_id, USD)) == 0
    assert ledger.balance(ledger.in_transit(first.seller_id, USD)) == 0
    assert ledger.balance(ledger.paid_out(other.seller_id, "EUR")) == 9_000
    sent = events_of("payments.PayoutSent")
    assert sorted(e["amount"] for e in sent) == [9_000, 13_500]
    for payout in all_payouts():
        assert payout.provider_transfer_id.startswith("tr_sbx_")
        assert [t[1] for t in transitions_of(payout.id)] == ["pending", "sent"]
    assert payouts.run_payout_batch() == {"opened": 0, "sent": 0, "failed": 0, "deferred": 0, "canceled": 0}
    assert second.seller_id == first.seller_id
    assert_ledger_sound()


def test_below_the_minimum_nothing_is_paid(app_ctx, orders):
    released(orders, amount=100)  # seller gets 90 < 100 minimum
    assert payouts.run_payout_batch()["opened"] == 0


def test_a_seller_on_hold_is_not_paid_until_the_hold_is_lifted(app_ctx, orders):
    payment = released(orders)
    hold = service.place_hold(source="fraud", reason="velocity", actor="system", seller_id=payment.seller_id)
    db.session.commit()
    assert payouts.run_payout_batch()["opened"] == 0
    assert ledger.balance(ledger.payable(payment.seller_id, USD)) == 9_000
    service.lift_hold(hold_id=hold.id, actor="staff:2", reason="cleared")
    db.session.commit()
    assert payouts.run_payout_batch()["sent"] == 1


def test_money_of_a_held_payment_stays_behind(app_ctx, orders):
    held = released(orders)
    free = released(orders, seller=held.seller_id, amount=5_000)
    service.place_hold(source="dispute", reason="chargeback", actor="system", payment_id=held.id)
    db.session.commit()
    payouts.run_payout_batch()
    assert ledger.balance(ledger.paid_out(free.seller_id, USD)) == 4_500
    assert ledger.balance(ledger.payable(held.seller_id, USD)) == 9_000
    assert_ledger_sound()


def test_a_hold_after_the_payout_opened_puts_the_money_back(app_ctx, orders):
    payment = released(orders)
    payout = payouts.open_payout(seller_id=payment.seller_id, currency=USD)
    db.session.commit()
    service.place_hold(source="fraud", reason="account takeover", actor="system", seller_id=payment.seller_id)
    db.session.commit()
    payouts.send_payout(payout_id=payout.id)
    db.session.commit()
    assert payout.state == "canceled" and payout.provider_transfer_id is None
    assert ledger.balance(ledger.payable(payment.seller_id, USD)) == 9_000
    assert ledger.balance(ledger.in_transit(payment.seller_id, USD)) == 0
    assert_ledger_sound()


def test_a_refused_transfer_fails_the_payout_and_staff_can_retry(app_ctx, orders):
    payment = released(orders)
    service.ensure_seller_account(seller_id=payment.seller_id, actor="system")
    account = db.session.get(SellerAccount, payment.seller_id)
    good_destination, account.provider_account_id = account.provider_account_id, INVALID_ACCOUNT
    db.session.commit()
    stats = payouts.run_payout_batch()
    assert stats["failed"] == 1
    [payout] = all_payouts()
    assert payout.state == "failed" and payout.last_error.startswith("account_invalid")
    assert ledger.balance(ledger.payable(payment.seller_id, USD)) == 9_000
    assert account.payouts_enabled is False
    assert events_of("payments.PayoutFailed")[0]["payout_id"] == str(payout.id)
    assert payouts.run_payout_batch()["opened"] == 0  # the seller is skipped until the account is fixed
    account.provider_account_id = good_destination
    db.session.commit()
    service.retry_payout(payout_id=payout.id, actor="staff:3", reason="bank details fixed")
    db.session.commit()
    assert payout.generation == 2 and payout.transfer_key.endswith("-2")
    payouts.send_payout(payout_id=payout.id)
    db.session.commit()
    assert payout.state == "sent"
    assert [t[1] for t in transitions_of(payout.id)] == ["pending", "failed", "pending", "sent"]
    assert ledger.balance(ledger.paid_out(payment.seller_id, USD)) == 9_000
    assert_ledger_sound()


def test_an_unreachable_provider_is_retried_with_backoff_then_given_up(app, app_ctx, orders):
    payment = released(orders)
    service.ensure_seller_account(seller_id=payment.seller_id, actor="system")
    db.session.get(SellerAccount, payment.seller_id).provider_account_id = UNREACHABLE_ACCOUNT
    db.session.commit()
    assert payouts.run_payout_batch()["deferred"] == 1
    [payout] = all_payouts()
    assert payout.state == "pending" and payout.attempts == 1
    assert payout.next_attempt_at > utcnow()
    assert payouts.backoff(1).total_seconds() == 10 and payouts.backoff(3).total_seconds() == 40
    for _ in range(app.config["PAYMENTS_PAYOUT_MAX_ATTEMPTS"] - 1):
        payouts.send_payout(payout_id=payout.id)
        db.session.commit()
    assert payout.state == "failed" and payout.attempts == app.config["PAYMENTS_PAYOUT_MAX_ATTEMPTS"]
    assert ledger.balance(ledger.payable(payment.seller_id, USD)) == 9_000
    assert db.session.get(SellerAccount, payment.seller_id).payouts_enabled is True  # not the account's fault
    assert_ledger_sound()


def test_operators_can_run_the_batch_and_the_sweep_from_the_cli(app, app_ctx, orders):
    released(orders)
    runner = app.test_cli_runner()
    paid = runner.invoke(args=["payments", "payouts"])
    assert paid.exit_code == 0 and "'sent': 1" in paid.output, paid.output
    swept = runner.invoke(args=["payments", "sweep"])
    assert swept.exit_code == 0 and "'errors': 0" in swept.output, swept.output
