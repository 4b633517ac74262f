"""Payments benchmark: journal entries/s on the full money path, and balance reads at 10^6 entries.

    .venv/bin/python bench/payments.py [--payments 2000] [--sellers 200] [--threads 1,4]
                                       [--entries 1000000] [--skip-load]

It creates its own database (local PostgreSQL, or BENCH_DATABASE_ADMIN_URL) and its own
redis-server, then, with the sandbox provider:

1. path: per thread count, ``--payments`` payments each go charge -> hold (PaymentIntent confirmed,
   funds into escrow) -> release (seller payable minus commission), then one payout batch pays every
   seller (payout start + sent entries). Every step is the real service call with its transitions,
   events, timers and audit rows, one transaction per step as in production. Prints journal
   entries/s for the whole path and per phase.
2. balances: bulk-loads ``--entries`` journal entries (2 lines each: one hot platform escrow
   account, sellers' payables) straight in SQL with triggers off, recomputes the maintained
   balances, VACUUM ANALYZE, then times: the maintained balance (one row), the balance derived
   from the journal for the hot account (10^6 lines, index-only scan) and for one seller, the
   seller balance view, the trial balance and the drift check over the whole journal.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]


def admin_dsn() -> tuple[str, str]:
    from app.embedded import local_postgres_admin_url

    url = os.environ.get("BENCH_DATABASE_ADMIN_URL") or local_postgres_admin_url()
    if not url:
        raise SystemExit("no PostgreSQL: set BENCH_DATABASE_ADMIN_URL")
    return url, make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """(p50, p99, max) in milliseconds over ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))], samples[-1]


def entry_count() -> int:
    from app.db import db
    from blueprints.payments.ledger import JournalEntry

    return db.session.execute(select(func.count()).select_from(JournalEntry)).scalar_one()


def run_path(app, payments: int, sellers: int, threads: int) -> None:  # type: ignore[no-untyped-def]
    from app.db import db
    from blueprints.payments import payouts, service
    from blueprints.payments.orders import OrderTerms

    seller_ids = [uuid.uuid4() for _ in range(sellers)]
    orders: dict[uuid.UUID, OrderTerms] = {}
    for n in range(payments):
        orders[uuid.uuid4()] = OrderTerms(
            buyer_id=uuid.uuid4(), seller_id=seller_ids[n % sellers], amount=1_000 + n % 9_000, currency="USD"
        )
    service.register_order_source("bench", lambda order_id, buyer_id: orders.get(order_id))
    work = list(orders.items())
    chunks = [work[i::threads] for i in range(threads)]
    phase_times: dict[str, float] = {"charge+hold": 0.0, "release": 0.0}
    lock = threading.Lock()

    def worker(chunk) -> None:  # type: ignore[no-untyped-def]
        with app.app_context():
            spent = {"charge+hold": 0.0, "release": 0.0}
            for order_id, terms in chunk:
                started = time.perf_counter()
                payment = service.create_intent(
                    order_type="bench", order_id=order_id, buyer_id=terms.buyer_id, actor=f"user:{terms.buyer_id}"
                )
                db.session.commit()
                service.confirm_payment(payment_id=payment.id, payment_method="pm_card_visa", actor="system")
                db.session.commit()
                middle = time.perf_counter()
                service.release_payment(payment_id=payment.id, actor="system", reason="bench")
                db.session.commit()
                spent["charge+hold"] += middle - started
                spent["release"] += time.perf_counter() - middle
            with lock:
                for key, value in spent.items():
                    phase_times[key] = max(phase_times[key], value)

    with app.app_context():
        before = entry_count()
    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    charged = time.perf_counter()
    with app.app_context():
        stats = payouts.run_payout_batch(limit=sellers)
        finished = time.perf_counter()
        entries = entry_count() - before
    total = finished - started
    print(
        f"path  threads={threads}: {payments:,} payments, {stats['sent']} payouts -> {entries:,} journal entries "
        f"in {total:.1f} s = {entries / total:,.0f} entries/s  "
        f"(charge+hold+release {2 * payments / (charge_s := charged - started):,.0f} entries/s over {charge_s:.1f} s; "
        f"payout batch {2 * stats['sent'] / (finished - charged):,.0f} entries/s; "
        f"{payments / charge_s:,.0f} payments/s)",
        flush=True,
    )


BULK_LOAD = """
SET session_replication_role = replica;  -- bulk load: the per-row triggers are off, balances recomputed below
INSERT INTO payments.ledger_accounts (id, kind, currency, owner_id, balance)
SELECT gen_random_uuid(), 'seller_payable', 'USD', gen_random_uuid(), 0 FROM generate_series(1, :sellers);
CREATE TEMP TABLE bench_sellers AS
    SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM payments.ledger_accounts WHERE kind = 'seller_payable';
CREATE TEMP TABLE bench_entries AS
    SELECT gen_random_uuid() AS id, g AS n, 100 + g %% 5000 AS amount FROM generate_series(1, :entries) AS g;
INSERT INTO payments.journal_entries (id, kind, reference, memo, posted_at)
SELECT id, 'release', 'bench:' || n, '', now() - (n %% 30) * interval '1 day' FROM bench_entries;
INSERT INTO payments.journal_lines (id, entry_id, account_id, currency, amount)
SELECT gen_random_uuid(), e.id, :escrow, 'USD', -e.amount FROM bench_entries e
UNION ALL
SELECT gen_random_uuid(), e.id, s.id, 'USD', e.amount
FROM bench_entries e JOIN bench_sellers s ON s.n = e.n %% :sellers;
UPDATE payments.ledger_accounts a SET balance = s.total
FROM (SELECT account_id, sum(amount) AS total FROM payments.journal_lines GROUP BY account_id) s
WHERE a.id = s.account_id AND a.balance <> s.total;
SET session_replication_role = origin;
"""


def run_balances(app, entries: int, skip_load: bool) -> None:  # type: ignore[no-untyped-def]
    from app.db import db
    from blueprints.payments import ledger, queries
    from blueprints.payments.ledger import LedgerAccount

    sellers = max(entries // 100, 1)
    with app.app_context():
        escrow_ref = ledger.escrow("USD")
        if not skip_load:
            started = time.perf_counter()
            # the hot account starts with enough money for every release of the load
            ledger.posting.ensure_accounts([escrow_ref, ledger.buyer_funding(uuid.uuid4(), "USD")])
            escrow_id = ledger.posting.lock_accounts([escrow_ref])[escrow_ref][0]
            funding = ledger.buyer_funding(uuid.uuid4(), "USD")
            ledger.post(kind="hold", reference="bench:funding", lines=[(funding, -(10**15)), (escrow_ref, 10**15)])
            db.session.commit()
            connection = db.session.connection()
            for statement in filter(str.strip, BULK_LOAD.split(";\n")):
                connection.exec_driver_sql(
                    statement.replace(":sellers", str(sellers))
                    .replace(":entries", str(entries))
                    .replace(":escrow", f"'{escrow_id}'::uuid")
                )
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
                raw.exec_driver_sql("VACUUM ANALYZE payments.journal_lines")
                raw.exec_driver_sql("VACUUM ANALYZE payments.journal_entries")
                raw.exec_driver_sql("VACUUM ANALYZE payments.ledger_accounts")
            loaded = time.perf_counter() - started
            print(f"load  {entries:,} entries ({2 * entries:,} lines, {sellers:,} sellers) in {loaded:.0f} s")
        total_entries = entry_count()
        seller_id = db.session.execute(
            select(LedgerAccount.owner_id).where(LedgerAccount.kind == "seller_payable").limit(1)
        ).scalar_one()
        seller_ref = ledger.payable(seller_id, "USD")
        hot_lines = db.session.execute(
            text(
                "SELECT count(*) FROM payments.journal_lines l JOIN payments.ledger_accounts a ON a.id = l.account_id "
                "WHERE a.kind = 'platform_escrow'"
            )
        ).scalar_one()
        assert ledger.balance(escrow_ref) == ledger.derived_balance(escrow_ref)
        print(f"balances at {total_entries:,} entries (hot escrow account: {hot_lines:,} lines):")
        for label, fn, repeat in (
            ("maintained balance, hot account", lambda: ledger.balance(escrow_ref), 2000),
            ("maintained balance, one seller", lambda: ledger.balance(seller_ref), 2000),
            ("seller balance view (API)", lambda: queries.seller_balance(seller_id), 500),
            ("derived from journal, one seller", lambda: ledger.derived_balance(seller_ref), 500),
            ("derived from journal, hot account", lambda: ledger.derived_balance(escrow_ref), 10),
            ("trial balance, whole journal", ledger.totals_by_currency, 3),
            ("drift check, whole journal", ledger.drifted_accounts, 3),
        ):
            p50, p99, worst = timed(fn, repeat)
            print(f"  {label:36s} p50 {p50:9.3f} ms   p99 {p99:9.3f} ms   max {worst:9.3f} ms   (n={repeat})")
            db.session.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--sellers", type=int, default=200)
    parser.add_argument("--threads", default="1,4")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--skip-load", action="store_true", help="balance timings without the bulk load")
    args = parser.parse_args()

    from app.embedded import database_url, start_redis
    from app.migrate import upgrade

    admin_url, dsn = admin_dsn()
    name = f"bazaar_bench_payments_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    redis_server = start_redis()
    try:
        url = database_url(admin_url, name)
        upgrade(url)
        os.environ.update(
            DATABASE_URL=url,
            REDIS_URL=redis_server.url,
            LOG_LEVEL="WARNING",
            LOG_JSON="false",
            RATELIMIT_ENABLED="false",
            PAYMENTS_PROVIDER="sandbox",
        )
        from app import create_app

        app = create_app()
        for threads in (int(t) for t in args.threads.split(",")):
            run_path(app, args.payments, args.sellers, threads)
        run_balances(app, args.entries, args.skip_load)
    finally:
        redis_server.stop()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
