"""Notifications benchmark: events -> in-app rows, and events -> emails over real SMTP, per worker process.

    .venv/bin/python bench/notifications.py [--inapp 5000] [--emails 2000] [--users 100] [--per-transaction 100]

It creates its own database (local PostgreSQL, or BENCH_DATABASE_ADMIN_URL), its own redis-server and a
local aiosmtpd server, then runs ONE worker process (``bazaar worker -q events,notifications,default``)
and one relay process:

1. in-app: ``--inapp`` offer events to 1,000 sellers whose offer emails are switched off (a stored
   preference, so the preference lookup is exercised) -> notifications/s from the first dispatch until
   every in-app row is written (bus delivery + fan-out + rows + live Socket.IO push through Redis);
2. email: ``--emails`` offer events to ``--users`` real, verified accounts (auth domain) -> emails/s
   from the first dispatch until aiosmtpd has received all of them (fan-out, delivery batches, contact
   lookups, Jinja rendering, one SMTP connection per batch, delivery log rows).

Targets (issue 10, this 2-core machine): >= 500 in-app notifications/s and >= 200 emails/s per worker.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

WORKER = "import sys; from app.cli import main; sys.argv = ['bazaar', *sys.argv[1:]]; main()"


class Counter:
    """aiosmtpd handler that only counts (the bench process must stay light)."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        with self.lock:
            self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin_dsn() -> tuple[str, str]:
    from app.embedded import local_postgres_admin_url

    url = os.environ.get("BENCH_DATABASE_ADMIN_URL") or local_postgres_admin_url()
    if not url:
        raise SystemExit("no PostgreSQL: set BENCH_DATABASE_ADMIN_URL")
    return url, make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inapp", type=int, default=5000)
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--per-transaction", type=int, default=100)
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    from app.embedded import database_url, start_redis
    from app.migrate import upgrade

    admin_url, dsn = admin_dsn()
    name = f"bazaar_bench_notifications_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    redis_server = start_redis()
    mailbox = Counter()
    smtp_port = free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        url = database_url(admin_url, name)
        upgrade(url)
        env = dict(os.environ)
        env.update(
            DATABASE_URL=url,
            REDIS_URL=redis_server.url,
            LOG_LEVEL="WARNING",
            LOG_JSON="false",
            EVENTS_SUBSCRIBER_MODULES="notifications_routes",
            PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'bench'}",
            RATELIMIT_ENABLED="false",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(smtp_port),
            ARGON2_TIME_COST="1",
            ARGON2_MEMORY_KIB="8192",
        )
        os.environ.update(env)
        run(args, env, processes, mailbox)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        smtp.stop()
        redis_server.stop()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args: argparse.Namespace, env: dict[str, str], processes: list[subprocess.Popen[bytes]], mailbox) -> None:  # type: ignore[no-untyped-def]
    from notifications_routes import BenchOfferMade
    from rq import Worker

    from app import create_app
    from app.events import publish
    from app.extensions import db
    from blueprints.auth import service as auth

    app = create_app()
    redis = app.extensions["redis"]

    def count(sql: str) -> int:
        value = db.session.execute(text(sql)).scalar_one()
        db.session.rollback()
        return int(value)

    def offer(seller: uuid.UUID) -> BenchOfferMade:
        offer_id, buyer = uuid.uuid4(), uuid.uuid4()
        return BenchOfferMade(
            aggregate_id=offer_id, actor=f"user:{buyer}", offer_id=offer_id, buyer_id=buyer, seller_id=seller,
            amount=4500, currency="EUR",
        )  # fmt: skip

    def publish_all(events: list[BenchOfferMade]) -> None:
        for start in range(0, len(events), args.per_transaction):
            for event in events[start : start + args.per_transaction]:
                publish(event)
            db.session.commit()

    def measure(what: str, done, total: int) -> float:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + 600
        while count("SELECT count(*) FROM platform.outbox_events WHERE dispatched_at IS NOT NULL") == 0:
            if time.monotonic() > deadline:
                raise SystemExit("the relay never dispatched")
            time.sleep(0.01)
        started = time.perf_counter()
        while done() < total:
            if time.monotonic() > deadline:
                raise SystemExit(f"{what}: only {done()} of {total} after 10 minutes")
            time.sleep(0.02)
        return time.perf_counter() - started

    with app.app_context():
        # Accounts for the email phase (real, verified) and preferences for the in-app phase.
        users = [
            auth.register_user(
                email=f"bench{n}@example.test", password="bench password 123", display_name=f"Seller {n}", verified=True
            )
            for n in range(args.users)
        ]
        db.session.commit()
        sellers = [uuid.uuid4() for _ in range(1000)]
        db.session.execute(
            text(
                "INSERT INTO notifications.preferences (id, user_id, kind, channel, enabled, source, updated_at) "
                "SELECT gen_random_uuid(), u, 'offer_received', 'email', false, 'user', now() "
                "FROM unnest(CAST(:users AS uuid[])) AS u"
            ),
            {"users": sellers},
        )
        db.session.execute(text("TRUNCATE platform.outbox_events, platform.event_deliveries"))
        db.session.commit()

        processes.append(spawn(["-c", WORKER, "worker", "-q", "events,notifications,default", "--no-scheduler"], env))
        deadline = time.monotonic() + 120
        while Worker.count(connection=redis) < 1:
            if time.monotonic() > deadline:
                raise SystemExit("the worker did not start")
            time.sleep(0.1)

        # 1. in-app
        publish_all([offer(sellers[n % len(sellers)]) for n in range(args.inapp)])
        processes.append(spawn(["-c", WORKER, "relay"], env))
        seconds = measure("in-app", lambda: count("SELECT count(*) FROM notifications.notifications"), args.inapp)
        emails_made = count("SELECT count(*) FROM notifications.deliveries")
        assert emails_made == 0, f"{emails_made} deliveries in the in-app phase"
        print(
            f"in-app     {args.inapp:,} events -> {args.inapp:,} in-app notifications (+ live pushes) with 1 worker "
            f"process: {args.inapp / seconds:,.0f} notifications/s ({seconds:.2f} s)",
            flush=True,
        )

        # 2. email
        db.session.execute(text("TRUNCATE platform.outbox_events, platform.event_deliveries"))
        db.session.commit()
        publish_all([offer(users[n % len(users)]) for n in range(args.emails)])
        seconds = measure("email", lambda: mailbox.count, args.emails)
        sent_sql = "SELECT count(*) FROM notifications.deliveries WHERE channel = 'email' AND status = 'sent'"
        deadline = time.monotonic() + 30  # the last outcome is recorded just after the server's reply
        while count(sent_sql) < args.emails and time.monotonic() < deadline:
            time.sleep(0.05)
        sent = count(sent_sql)
        logged = count("SELECT count(*) FROM notifications.delivery_attempts WHERE status = 'sent'")
        print(
            f"email      {args.emails:,} events -> {mailbox.count:,} emails received by aiosmtpd with 1 worker process "
            f"(+ in-app rows): {args.emails / seconds:,.0f} emails/s ({seconds:.2f} s); "
            f"{sent:,} deliveries sent, {logged:,} delivery-log rows",
            flush=True,
        )
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
