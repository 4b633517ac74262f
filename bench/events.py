"""Event bus benchmark: publish rate, delivery throughput, and commit-to-handler latency.

    .venv/bin/python bench/events.py [--events 50000] [--per-transaction 100] [--workers 2]
                                     [--rate 200] [--seconds 20]

It creates its own database (on the local PostgreSQL, or BENCH_DATABASE_ADMIN_URL) and its own
redis-server, so nothing else is touched, then:

1. publish: ``--events`` events in transactions of ``--per-transaction`` from one process, with no
   relay running -> events/s published (INSERT + COMMIT, what a domain pays);
2. deliver: start ``--workers`` RQ workers (SimpleWorker, queue ``events``) and one relay process;
   time from the first dispatch until every event is settled (handled by the no-op subscriber
   ``bench.noop`` AND by the webhook fan-out, which every event goes through) -> events/s delivered;
3. latency: with relay and workers running, publish one event per transaction at a steady
   ``--rate`` for ``--seconds`` (``--publishers`` threads share the rate); the subscriber writes its
   handling time to Redis -> p50/p95/p99/max of handler time - commit time (same clock).

Targets (issue 4, this 2-core machine): >= 2,000 events/s delivered; p99 < 500 ms at 200 events/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
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


def admin_dsn() -> tuple[str, str]:
    from app.embedded import local_postgres_admin_url

    url = os.environ.get("BENCH_DATABASE_ADMIN_URL") or local_postgres_admin_url()
    if not url:
        raise SystemExit("no PostgreSQL: set BENCH_DATABASE_ADMIN_URL")
    return url, make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--per-transaction", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--publishers", type=int, default=4, help="threads sharing the steady rate")
    args = parser.parse_args()

    from app.embedded import database_url, start_redis
    from app.migrate import upgrade

    admin_url, dsn = admin_dsn()
    name = f"bazaar_bench_events_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    redis_server = start_redis()
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
            EVENTS_SUBSCRIBER_MODULES="events_noop",
            PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'bench'}",
            RATELIMIT_ENABLED="false",
        )
        os.environ.update(env)
        run(args, env, processes)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        redis_server.stop()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args: argparse.Namespace, env: dict[str, str], processes: list[subprocess.Popen[bytes]]) -> None:
    from events_noop import BenchPinged
    from rq import Worker

    from app import create_app
    from app.events import publish
    from app.extensions import db

    app = create_app()
    redis = app.extensions["redis"]
    with app.app_context():
        # 1. publish
        aggregates = [uuid.uuid4() for _ in range(1000)]
        started = time.perf_counter()
        for start in range(0, args.events, args.per_transaction):
            for n in range(start, min(start + args.per_transaction, args.events)):
                publish(BenchPinged(aggregate_id=aggregates[n % len(aggregates)], n=n))
            db.session.commit()
        publish_s = time.perf_counter() - started
        print(
            f"published  {args.events:,} events in transactions of {args.per_transaction}: "
            f"{args.events / publish_s:,.0f} events/s ({publish_s:.2f} s)",
            flush=True,
        )

        # 2. deliver
        for _ in range(args.workers):
            processes.append(spawn(["-c", WORKER, "worker", "-q", "events", "--no-scheduler"], env))
        deadline = time.monotonic() + 120
        while Worker.count(connection=redis) < args.workers:
            if time.monotonic() > deadline:
                raise SystemExit("workers did not start")
            time.sleep(0.1)
        processes.append(spawn(["-c", WORKER, "relay"], env))

        def count(sql: str) -> int:
            value = db.session.execute(text(sql)).scalar_one()
            db.session.rollback()
            return int(value)

        deadline = time.monotonic() + 600
        while count("SELECT count(*) FROM platform.outbox_events WHERE dispatched_at IS NOT NULL") == 0:
            if time.monotonic() > deadline:
                raise SystemExit("the relay never dispatched")
            time.sleep(0.02)
        first_dispatch = time.perf_counter()
        while count("SELECT count(*) FROM platform.outbox_events WHERE settled_at IS NULL") > 0:
            if time.monotonic() > deadline:
                raise SystemExit("delivery did not finish in 10 minutes")
            time.sleep(0.05)
        deliver_s = time.perf_counter() - first_dispatch
        delivered = count("SELECT count(*) FROM platform.event_deliveries WHERE subscriber = 'bench.noop'")
        assert delivered == args.events, f"{delivered} delivered of {args.events}"
        print(
            f"delivered  {delivered:,} events to bench.noop (+ webhooks.fan_out) with {args.workers} worker(s) "
            f"+ 1 relay: {delivered / deliver_s:,.0f} events/s ({deliver_s:.2f} s)",
            flush=True,
        )

        # 3. latency at a steady rate
        # Several publishers (threads, each its own app context and session) share the steady rate,
        # so a slow commit does not lower it: event n is due at begin + n / rate whoever sends it.
        committed: dict[str, float] = {}
        total = int(args.rate * args.seconds)
        interval = 1.0 / args.rate
        begin = time.perf_counter() + 0.5

        def publisher(offset: int) -> None:
            with app.app_context():
                for n in range(offset, total, args.publishers):
                    pause = begin + n * interval - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    event = BenchPinged(aggregate_id=uuid.uuid4(), n=n, probe=True)
                    publish(event)
                    db.session.commit()
                    committed[str(event.id)] = time.time()

        threads = [threading.Thread(target=publisher, args=(i,)) for i in range(args.publishers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        achieved = total / (time.perf_counter() - begin)
        deadline = time.monotonic() + 60
        while redis.hlen("bench:handled") < total and time.monotonic() < deadline:
            time.sleep(0.1)
        handled = {k.decode(): float(v) for k, v in redis.hgetall("bench:handled").items()}
        latencies = [(handled[k] - t) * 1000 for k, t in committed.items() if k in handled]
        missing = total - len(latencies)
        print(
            f"latency    {total:,} events at {achieved:,.0f} events/s "
            f"(1 per transaction, {args.publishers} publishers), "
            f"commit -> handler: "
            f"p50 {statistics.median(latencies):.1f} ms, p95 {percentile(latencies, 95):.1f} ms, "
            f"p99 {percentile(latencies, 99):.1f} ms, max {max(latencies):.1f} ms"
            + (f", {missing} not handled within 60 s" if missing else ""),
            flush=True,
        )
        stages = db.session.execute(
            text(
                """
                SELECT extract(epoch FROM dispatched_at - recorded_at) * 1000 AS to_dispatch,
                       extract(epoch FROM settled_at - dispatched_at) * 1000 AS to_settle
                FROM platform.outbox_events WHERE (payload->>'probe')::boolean
                """
            )
        ).all()
        to_dispatch = [r.to_dispatch for r in stages if r.to_dispatch is not None]
        to_settle = [r.to_settle for r in stages if r.to_settle is not None]
        if to_dispatch and to_settle:
            print(
                f"           of which transaction start -> dispatched p50 {statistics.median(to_dispatch):.1f} ms "
                f"p99 {percentile(to_dispatch, 99):.1f} ms; dispatched -> settled "
                f"p50 {statistics.median(to_settle):.1f} ms p99 {percentile(to_settle, 99):.1f} ms",
                flush=True,
            )
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
