"""A payout worker killed with SIGKILL in the middle of a batch never transfers twice after a rerun.

Slow: runs real RQ worker processes (``bazaar worker --burst``) against the Connect fixture server,
which answers transfers from recorded Stripe responses and honours idempotency keys like Stripe.
The second transfer of the batch is made "at Stripe" and never answered; the worker is killed while
waiting. The payout row and the money in transit were committed before the call, so the rerun sends
the same idempotency key and Stripe's answer is the transfer it already made.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db import db
from app.queues import enqueue
from blueprints.payments import ledger, service, tasks
from blueprints.payments.models import Payout
from tests.payments.conftest import assert_ledger_sound, held_payment, stripe_settings
from tests.payments.stripe_server import StripeFixtureServer

pytestmark = pytest.mark.slow
USD = "USD"


def start_worker(settings: dict[str, str]) -> subprocess.Popen:  # type: ignore[type-arg]
    bazaar = Path(sys.executable).with_name("bazaar")
    env = {**os.environ, **settings}
    return subprocess.Popen(
        [str(bazaar), "worker", "-q", "payouts", "--burst", "--no-scheduler"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_a_worker_killed_mid_batch_then_rerun_makes_each_transfer_once(app, make_app, orders):
    server = StripeFixtureServer().start()
    settings = stripe_settings(server.url)
    stripe_app = make_app(**settings)
    try:
        sellers = [uuid.uuid4() for _ in range(3)]
        with stripe_app.app_context():  # connected accounts made through the recorded Connect answers
            for seller in sellers:
                service.ensure_seller_account(seller_id=seller, actor="system")
            db.session.commit()
        with app.app_context():  # sales charged with the sandbox, released to the sellers' payables
            for index, seller in enumerate(sellers):
                payment = held_payment(orders, seller=seller, amount=10_000 * (index + 1))
                service.release_payment(payment_id=payment.id, actor="staff:1", reason="delivered")
                db.session.commit()
            enqueue("payouts", tasks.run_payouts, retry=None)

        server.hang_transfer(2)
        worker = start_worker(settings)
        try:
            assert server.hung.wait(timeout=90), "the worker never reached the second transfer"
            os.kill(worker.pid, signal.SIGKILL)
            assert worker.wait(timeout=10) == -signal.SIGKILL
        finally:
            if worker.poll() is None:
                worker.kill()
        assert len(server.transfers) == 2  # the second one exists at "Stripe", unknown to Bazaar
        with app.app_context():
            states = sorted(p.state for p in db.session.execute(select(Payout)).scalars())
            assert states == ["pending", "pending", "sent"]

        server.hang_transfer(None)
        with app.app_context():
            enqueue("payouts", tasks.run_payouts, retry=None)  # the next batch (or a Retry) reruns it
        rerun = start_worker(settings)
        try:
            _, errors = rerun.communicate(timeout=90)
        finally:
            if rerun.poll() is None:
                rerun.kill()
        assert rerun.returncode == 0, errors.decode()[-2000:]

        assert len(server.transfers) == 3, "one transfer per seller, none twice"
        requests = server.transfer_requests()
        assert len(requests) == 4 and len({r["key"] for r in requests}) == 3  # the rerun replayed one key
        with app.app_context():
            payouts = db.session.execute(select(Payout).order_by(Payout.amount)).scalars().all()
            assert [p.state for p in payouts] == ["sent"] * 3
            assert {p.provider_transfer_id for p in payouts} == set(server.transfers)
            for payout in payouts:
                transfer = server.transfers[payout.provider_transfer_id]
                assert (transfer["amount"], transfer["metadata"]["payout_id"]) == (payout.amount, str(payout.id))
                assert ledger.balance(ledger.paid_out(payout.seller_id, USD)) == payout.amount
                assert ledger.balance(ledger.in_transit(payout.seller_id, USD)) == 0
                assert ledger.balance(ledger.payable(payout.seller_id, USD)) == 0
            assert sorted(p.amount for p in payouts) == [9_000, 18_000, 27_000]
            assert_ledger_sound()
    finally:
        server.stop()
