"""Payments test helpers: an order book standing in for offers/listings, and money assertions.

The order book is registered as order source ``"testorder"`` through the real registration port
(``service.register_order_source``), as the offers domain registers ``"offer"``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.db import db
from app.events.outbox import OutboxEvent
from blueprints.payments import ledger, service
from blueprints.payments.models import Payment, Transition
from blueprints.payments.orders import OrderTerms

ORDER_TYPE = "testorder"


@dataclass
class OrderBook:
    orders: dict[uuid.UUID, OrderTerms] = field(default_factory=dict)

    def add(
        self,
        *,
        amount: int = 10_000,
        currency: str = "USD",
        buyer: uuid.UUID | None = None,
        seller: uuid.UUID | None = None,
    ) -> tuple[uuid.UUID, OrderTerms]:
        terms = OrderTerms(
            buyer_id=buyer or uuid.uuid4(),
            seller_id=seller or uuid.uuid4(),
            amount=amount,
            currency=currency,
            listing_id=uuid.uuid4(),
        )
        order_id = uuid.uuid4()
        self.orders[order_id] = terms
        return order_id, terms

    def resolve(self, order_id: uuid.UUID, buyer_id: uuid.UUID) -> OrderTerms | None:
        return self.orders.get(order_id)


BOOK = OrderBook()
service.register_order_source(ORDER_TYPE, BOOK.resolve)


@pytest.fixture
def orders() -> Iterator[OrderBook]:
    BOOK.orders.clear()
    yield BOOK
    BOOK.orders.clear()


def open_payment(book: OrderBook, **kwargs) -> Payment:  # type: ignore[no-untyped-def]
    order_id, terms = book.add(**kwargs)
    payment = service.create_intent(
        order_type=ORDER_TYPE, order_id=order_id, buyer_id=terms.buyer_id, actor=f"user:{terms.buyer_id}"
    )
    db.session.commit()
    return payment


def held_payment(book: OrderBook, **kwargs) -> Payment:  # type: ignore[no-untyped-def]
    payment = open_payment(book, **kwargs)
    service.confirm_payment(payment_id=payment.id, payment_method="pm_card_visa", actor=f"user:{payment.buyer_id}")
    db.session.commit()
    assert payment.state == "held"
    return payment


def assert_ledger_sound() -> None:
    """The invariants after every operation: balanced journal, balances = journal, nothing negative."""
    assert ledger.drifted_accounts() == []
    assert all(total == 0 for total in ledger.totals_by_currency().values())
    rows = db.session.execute(select(ledger.LedgerAccount.kind, ledger.LedgerAccount.balance)).all()
    for kind, value in rows:
        assert (value <= 0) if kind == "buyer_funding" else (value >= 0), (kind, value)


def events_of(type_: str) -> list[dict]:  # type: ignore[type-arg]
    rows = db.session.execute(select(OutboxEvent).where(OutboxEvent.type == type_).order_by(OutboxEvent.position))
    return [row.payload for row in rows.scalars()]


def transitions_of(subject_id: uuid.UUID) -> list[tuple[str | None, str, str]]:
    rows = db.session.execute(
        select(Transition).where(Transition.subject_id == subject_id).order_by(Transition.occurred_at, Transition.id)
    ).scalars()
    return [(t.from_state, t.to_state, t.actor_type) for t in rows]


def past(seconds: int = 1) -> datetime:
    from datetime import timedelta

    return datetime.now(UTC) - timedelta(seconds=seconds)


# -- local servers: localstripe, the Connect fixture server, the app over real HTTP ----------------

WEBHOOK_SECRET = "whsec_bazaar_tests"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    import socket
    import time

    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"server on port {port} exited with {process.returncode}")
            if time.monotonic() > deadline:
                pytest.fail(f"server on port {port} did not start within {seconds} s")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """localstripe (a stateful fake Stripe with signed webhooks) on a free port for this run."""
    import subprocess
    import sys
    from pathlib import Path

    port = free_port()
    binary = Path(sys.executable).with_name("localstripe")
    process = subprocess.Popen(
        [str(binary), "--port", str(port), "--from-scratch"],
        cwd=tmp_path_factory.mktemp("localstripe"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def connect_server(localstripe) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """The recorded-responses server for Connect calls, forwarding the rest to localstripe."""
    from tests.payments.stripe_server import StripeFixtureServer

    server = StripeFixtureServer(upstream=localstripe).start()
    try:
        yield server
    finally:
        server.stop()


def stripe_settings(api_base: str) -> dict[str, str]:
    return {
        "PAYMENTS_PROVIDER": "stripe",
        "STRIPE_API_KEY": "sk_test_bazaar",
        "STRIPE_API_BASE": api_base,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


class LiveServer:
    """The app served over real HTTP by werkzeug in a thread (localstripe posts webhooks to it)."""

    def __init__(self, flask_app) -> None:  # type: ignore[no-untyped-def]
        import threading

        from werkzeug.serving import make_server

        self.app = flask_app
        self._server = make_server("127.0.0.1", 0, flask_app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
