"""Property test: random sequences of charges, releases, refunds, payouts and holds on the real
database (sandbox provider) never break the money invariants.

After every step: refunded <= captured for the payment touched; a payout run leaves every seller's
held money behind and pays nothing to a seller on hold. After every sequence: the journal sums to
zero per currency, every maintained balance equals its journal, no payable (or any custody account)
is negative. ``PROPERTY_EXAMPLES`` x ``PROPERTY_STEPS`` is about 10,000 operations.
"""

from __future__ import annotations

import os
import uuid

import pytest
from flask import current_app
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test
from sqlalchemy import event, select

from app.db import db
from blueprints.payments import payouts, service
from blueprints.payments.errors import InvalidAmount, OnHold, WrongState
from blueprints.payments.holds import payout_reserve
from blueprints.payments.ledger import LedgerAccount
from blueprints.payments.models import Hold, Payment
from tests.payments.conftest import ORDER_TYPE, assert_ledger_sound

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "100"))
STEPS = int(os.environ.get("PROPERTY_STEPS", "100"))
CURRENCIES = ("USD", "EUR")
OPERATIONS = {"count": 0}


class Marketplace(RuleBasedStateMachine):
    def __init__(self, book) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.book = book
        self.sellers = [uuid.uuid4() for _ in range(3)]
        self.payments: list[uuid.UUID] = []
        self.holds: list[uuid.UUID] = []

    def _payment(self, data: st.DataObject) -> Payment:
        payment_id = data.draw(st.sampled_from(self.payments), label="payment")
        return db.session.get(Payment, payment_id, populate_existing=True)

    def step(self) -> None:
        OPERATIONS["count"] += 1

    @rule(seller=st.integers(0, 2), amount=st.integers(1, 80_000), currency=st.sampled_from(CURRENCIES))
    def charge(self, seller: int, amount: int, currency: str) -> None:
        self.step()
        order_id, terms = self.book.add(amount=amount, currency=currency, seller=self.sellers[seller])
        payment = service.create_intent(
            order_type=ORDER_TYPE, order_id=order_id, buyer_id=terms.buyer_id, actor="system"
        )
        service.confirm_payment(payment_id=payment.id, payment_method="pm_card_visa", actor="system")
        db.session.commit()
        assert payment.state == "held" and payment.amount_captured == payment.amount_total
        self.payments.append(payment.id)

    @precondition(lambda self: self.payments)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        self.step()
        payment = self._payment(data)
        was_in_escrow = payment.in_escrow
        on_hold = db.session.execute(
            select(Hold.id).where(Hold.payment_id == payment.id, Hold.lifted_at.is_(None))
        ).first()
        try:
            service.release_payment(payment_id=payment.id, actor="staff:1", reason="property")
            db.session.commit()
        except OnHold:
            db.session.rollback()
            assert on_hold is not None
            return
        except WrongState:
            db.session.rollback()
            assert not was_in_escrow
            return
        assert was_in_escrow and on_hold is None
        assert payment.state == "released"

    @precondition(lambda self: self.payments)
    @rule(data=st.data(), share=st.floats(0.0, 1.2))
    def refund(self, data: st.DataObject, share: float) -> None:
        self.step()
        payment = self._payment(data)
        amount = max(1, int(payment.amount_captured * share))
        try:
            pending = service.refund_payment(payment_id=payment.id, amount=amount, reason="property", actor="staff:1")
            db.session.commit()
        except (InvalidAmount, WrongState):
            db.session.rollback()
            db.session.refresh(payment)
            assert amount > payment.refundable or payment.state not in ("held", "partially_refunded", "released")
            return
        service.execute_refund(refund_id=pending.id)
        db.session.commit()
        db.session.refresh(payment)
        assert 0 <= payment.amount_refunded + payment.amount_refund_pending <= payment.amount_captured

    @rule()
    def payout(self) -> None:
        self.step()
        payable_before, paid_before = self._balances()
        reserves = {
            (s, c): payout_reserve(s, c) for s in self.sellers for c in CURRENCIES if payable_before.get((s, c))
        }
        on_hold = self._sellers_on_hold()
        payouts.run_payout_batch()
        payable_after, paid_after = self._balances()
        for (seller, currency), payable in payable_before.items():
            if seller in on_hold:  # a seller on hold gets nothing
                assert paid_after.get((seller, currency), 0) == paid_before.get((seller, currency), 0)
                assert payable_after[(seller, currency)] == payable
            else:  # held money (payments on hold, refunds pending) stays in the payable
                assert payable_after[(seller, currency)] >= min(reserves.get((seller, currency), 0), payable)

    def _sellers_on_hold(self) -> set[uuid.UUID]:
        """This sequence's sellers with a seller hold not lifted: the test's own reading of the holds
        table, in one query rather than ``seller_on_hold`` per seller at every payout step."""
        query = select(Hold.seller_id).where(Hold.seller_id.in_(self.sellers), Hold.lifted_at.is_(None))
        return set(db.session.execute(query).scalars())

    def _balances(self) -> tuple[dict, dict]:  # type: ignore[type-arg]
        """(payable, paid out) per (seller, currency), in one query."""
        rows = db.session.execute(
            select(LedgerAccount.kind, LedgerAccount.owner_id, LedgerAccount.currency, LedgerAccount.balance).where(
                LedgerAccount.owner_id.in_(self.sellers)
            )
        )
        payable: dict = {}  # type: ignore[type-arg]
        paid: dict = {}  # type: ignore[type-arg]
        for kind, owner, currency, balance in rows:
            target = {"seller_payable": payable, "paid_out": paid}.get(kind)
            if target is not None:
                target[(owner, currency)] = balance
        return payable, paid

    @precondition(lambda self: self.payments)
    @rule(data=st.data(), on_seller=st.booleans())
    def hold(self, data: st.DataObject, on_seller: bool) -> None:
        self.step()
        if on_seller:
            seller = data.draw(st.sampled_from(self.sellers), label="seller")
            hold = service.place_hold(source="fraud", reason="property", actor="system", seller_id=seller)
        else:
            payment = self._payment(data)
            hold = service.place_hold(source="dispute", reason="property", actor="system", payment_id=payment.id)
        db.session.commit()
        self.holds.append(hold.id)

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def lift(self, data: st.DataObject) -> None:
        self.step()
        hold_id = data.draw(st.sampled_from(self.holds), label="hold")
        self.holds.remove(hold_id)
        service.lift_hold(hold_id=hold_id, actor="staff:1", reason="property")
        db.session.commit()

    def teardown(self) -> None:
        """Check the whole ledger, then lift this sequence's holds and pay its sellers out, so money
        left behind does not pile up for the next sequences' payout runs."""
        db.session.rollback()
        assert_ledger_sound()
        for hold_id in self.holds:
            service.lift_hold(hold_id=hold_id, actor="staff:1", reason="end of sequence")
        db.session.commit()
        payouts.run_payout_batch()
        payable, _paid = self._balances()
        minimum = current_app.config["PAYMENTS_PAYOUT_MINIMUM"]
        assert all(balance < minimum for balance in payable.values()), payable


@pytest.fixture
def relaxed_durability(app_ctx):  # type: ignore[no-untyped-def]
    """Commits that do not wait for the WAL flush: the property is about money rules, not crash
    durability (tested elsewhere), and ten thousand operations commit tens of thousands of times."""

    def relax(dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
        dbapi_connection.commit()

    event.listen(db.engine, "connect", relax)
    db.session.remove()
    db.engine.dispose()
    try:
        yield
    finally:
        event.remove(db.engine, "connect", relax)
        db.session.remove()
        db.engine.dispose()


def test_random_operation_sequences_keep_the_money_invariants(relaxed_durability, orders):
    OPERATIONS["count"] = 0
    run_state_machine_as_test(
        lambda: Marketplace(orders),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
    print(f"\n{OPERATIONS['count']} operations in {EXAMPLES} sequences")
