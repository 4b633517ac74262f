"""Chat benchmark: N pairs of real Socket.IO clients through gunicorn, send -> persisted -> received.

    .venv/bin/python bench/chat.py [--pairs 20] [--seconds 10] [--rate 300]

Creates a throwaway database (local PostgreSQL; ``TEST_DATABASE_ADMIN_URL`` overrides) migrated to
head and a private Redis, seeds one published listing and one thread per pair, then serves in turn,
with the production settings (``gunicorn --config deploy/gunicorn.conf.py``, as ``bazaar run`` starts it;
``--workers`` sets ``WEB_WORKERS``; Redis message queue):

- ``bazaar``: the whole app (``wsgi:app``): token auth at connect, ``room.join`` through the thread
  authorizer, ``message.send`` validated, stored (thread lock, seq, outbox events) and committed in
  one autocommit statement, then one ``message.new`` push to the thread room and both user rooms;
- ``relay``: ``bench/chat_relay_app.py``, the same stack relaying ``message.send`` to the room with no
  auth, no validation and no database (the baseline).

Clients are python-socketio AsyncClients (websocket transport) in this process; in each pair the
buyer sends and the seller receives. Two loads per server:

1. closed loop: every buyer sends its next message when the previous one is acked (as fast as the
   server goes): messages/s acked (= persisted, for bazaar);
2. open loop at ``--rate`` messages/s spread over the pairs: latency from the sender's emit to the
   peer's ``message.new`` (p50, p99), and messages lost (sent but not received 30 s after the last).

Also printed, per load: CPU per message of the server (gunicorn master and workers, from /proc), of
the clients (this process) and of the PostgreSQL backends serving the bench database (local server),
with the load average: on a shared machine CPU per message resists the other load, msg/s does not.

Target on the 2-core machine: >= 500 persisted msg/s (1), p99 < 20 ms at 300 msg/s (2), 0 lost; and
for bazaar the database holds exactly the messages acked.

Measured 2026-11-26 on the 2-core machine (quiet: load avg 1.2-5.5 with the bench itself), defaults,
``--only bazaar``, 1 worker, main (20386b0) and web processes publishing emits only to live peers
(app/realtime_queue.py) alternated: 5 runs of main: closed 832-1225 msg/s (server 0.73-0.98 ms
CPU/msg), open @300/s p50 1.6-2.3 ms, p99 3.7-16.9 ms (server 1.07-1.37 ms CPU/msg); 7 runs with
peers-only publishing: closed 774-1336 msg/s (server 0.64-0.95 ms), open @300/s p50 1.4-2.2 ms, p99
2.9-12.7 ms (server 0.73-1.14 ms CPU/msg, mean 0.94 vs 1.20); lost 0, stored == sent in every run.
The previous session's machine, slower (about twice the server CPU per message), measured
closed 440-611 msg/s and p99 9-93 ms with publishing to every process.
Re-measured at cbbe01a, 3 default runs with the relay baseline (load avg 2.8-3.7 with the bench):
bazaar closed 1007-1152 msg/s (73-86% of the relay), open @300/s p50 1.6-2.0 ms, p99 3.0-4.5 ms,
lost 0, stored == sent.
- ``--workers 2`` (both processes publish to each other; load avg 5.1-5.5): closed 810 msg/s (server
  0.95 ms CPU/msg), open @300/s p50 2.0 ms, p99 8.2 ms (half the pushes cross processes through
  Redis), lost 0, stored == sent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import socketio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.embedded import database_url, free_port, local_postgres_admin_url, start_redis  # noqa: E402
from app.migrate import upgrade  # noqa: E402

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
NAMESPACE = "/realtime"
GUNICORN = ["--config", str(ROOT / "deploy" / "gunicorn.conf.py")]  # what `bazaar run` and deploy/ use


def psycopg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def app_environ(db_url: str, redis_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": SECRET,
        "LOG_LEVEL": "WARNING",
        "LOG_JSON": "false",
        "DATABASE_POOL_SIZE": "20",
    }


@dataclass
class Pair:
    thread_id: str
    buyer_token: str
    seller_token: str


def seed(db_url: str, redis_url: str, pairs: int) -> list[Pair]:
    """One category, ``pairs`` published listings (one seller each) and the buyers' threads."""
    from app import create_app
    from app.extensions import db
    from app.generator import Actor
    from app.security import encode_access_token
    from blueprints.listings.models import Category, Listing
    from blueprints.messaging import service
    from config import Config

    app = create_app(Config(app_environ(db_url, redis_url)))
    made = []
    with app.app_context():
        category = Category(name="Everything", slug="everything")
        db.session.add(category)
        db.session.flush()
        for index in range(pairs):
            buyer, seller = uuid.uuid4(), uuid.uuid4()
            listing = Listing(
                seller_id=seller,
                category_id=category.id,
                title=f"Bench item {index}",
                price_amount=1000,
                currency="EUR",
                condition="good",
                status="published",
            )
            db.session.add(listing)
            db.session.flush()
            thread, _ = service.open_thread(listing_id=listing.id, actor=Actor("user", str(buyer)))
            tokens = [
                encode_access_token(user_id=user, session_id=uuid.uuid4(), ttl=timedelta(hours=2))
                for user in (buyer, seller)
            ]
            made.append(Pair(str(thread.id), *tokens))
        db.session.commit()
    return made


def serve(target: str, port: int, environ: dict[str, str]) -> subprocess.Popen:
    if target == "bazaar":
        command = [*GUNICORN, "-b", f"127.0.0.1:{port}", "wsgi:app"]
    else:
        command = [*GUNICORN, "-b", f"127.0.0.1:{port}", "--pythonpath", "bench", "chat_relay_app:app"]
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *command], cwd=ROOT, env={**os.environ, **environ}, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode()[-3000:])  # type: ignore[union-attr]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise TimeoutError(f"{target} did not start")


@dataclass
class Tally:
    sent_at: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    received: set[str] = field(default_factory=set)
    acked: int = 0
    errors: list[Any] = field(default_factory=list)
    record: bool = True


async def connect(url: str, token: str, tally: Tally | None) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    if tally is not None:

        async def on_message(data: dict[str, Any]) -> None:
            now = time.perf_counter()
            client_id = data.get("client_id")
            started = tally.sent_at.get(client_id)
            if started is not None and client_id not in tally.received:
                tally.received.add(client_id)
                if tally.record:
                    tally.latencies.append(now - started)

        client.on("message.new", on_message, namespace=NAMESPACE)
    await client.connect(url, namespaces=[NAMESPACE], auth={"token": token}, transports=["websocket"], wait_timeout=10)
    return client


def cpu_seconds(pid: int) -> float:
    """CPU (user + system) used so far by ``pid`` and its children (the gunicorn worker), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def database_cpu(dsn: str) -> float:
    """CPU used so far by the PostgreSQL backends serving the bench database (local server only; else 0)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        pids = [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")]
    return sum(cpu_seconds_of(pid) for pid in pids)


def cpu_seconds_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_target(
    url: str, server_pid: int, pairs: list[Pair], seconds: float, rate: float, dsn: str
) -> dict[str, Any]:
    tally = Tally()
    senders, receivers = [], []
    for pair in pairs:
        receivers.append(await connect(url, pair.seller_token, tally))
        senders.append(await connect(url, pair.buyer_token, None))
    for client, pair in [*zip(senders, pairs, strict=True), *zip(receivers, pairs, strict=True)]:
        ack = await client.call("room.join", {"room": f"thread:{pair.thread_id}"}, namespace=NAMESPACE, timeout=10)
        assert ack.get("ok"), ack

    def payload(pair: Pair) -> dict[str, Any]:
        client_id = uuid.uuid4().hex
        tally.sent_at[client_id] = time.perf_counter()
        return {"thread_id": pair.thread_id, "client_id": client_id, "body": "Is it still available? " * 2}

    # 1. closed loop: each buyer sends when its previous message is acked.
    async def loop(client: socketio.AsyncClient, pair: Pair, until: float) -> None:
        while time.perf_counter() < until:
            ack = await client.call("message.send", payload(pair), namespace=NAMESPACE, timeout=30)
            if ack.get("ok"):
                tally.acked += 1
            else:
                tally.errors.append(ack)

    tally.record = False
    warm_until = time.perf_counter() + 2
    await asyncio.gather(*(loop(c, p, warm_until) for c, p in zip(senders, pairs, strict=True)))
    tally.acked = 0
    tally.record = True
    started = time.perf_counter()
    server_cpu, client_cpu, db_cpu = cpu_seconds(server_pid), own_cpu(), database_cpu(dsn)
    until = started + seconds
    await asyncio.gather(*(loop(c, p, until) for c, p in zip(senders, pairs, strict=True)))
    closed_elapsed = time.perf_counter() - started
    closed = {
        "acked": tally.acked,
        "per_second": tally.acked / closed_elapsed,
        "server_cpu_ms": (cpu_seconds(server_pid) - server_cpu) / max(tally.acked, 1) * 1000,
        "client_cpu_ms": (own_cpu() - client_cpu) / max(tally.acked, 1) * 1000,
        "db_cpu_ms": (database_cpu(dsn) - db_cpu) / max(tally.acked, 1) * 1000,
        "load": os.getloadavg()[0],
        **percentiles(tally.latencies),
    }
    await asyncio.sleep(1)
    closed_lost = len(set(tally.sent_at) - tally.received)

    # 2. open loop at a fixed rate, round-robin over the pairs.
    open_tally_start = len(tally.sent_at)
    tally.latencies = []
    acks: list[Any] = []
    interval = 1.0 / rate
    total = int(rate * seconds)
    start = time.perf_counter()
    server_cpu, client_cpu, db_cpu = cpu_seconds(server_pid), own_cpu(), database_cpu(dsn)
    for n in range(total):
        delay = start + n * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        index = n % len(pairs)
        await senders[index].emit("message.send", payload(pairs[index]), namespace=NAMESPACE, callback=acks.append)
    sending_done = time.perf_counter()
    deadline = sending_done + 30  # a saturated server drains its backlog before anything counts as lost
    while len(tally.received) < len(tally.sent_at) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    opened = {
        "sent": total,
        "offered_rate": rate,
        "achieved_rate": total / (sending_done - start),
        "drained_after_s": time.perf_counter() - sending_done,
        "server_cpu_ms": (cpu_seconds(server_pid) - server_cpu) / total * 1000,
        "client_cpu_ms": (own_cpu() - client_cpu) / total * 1000,
        "db_cpu_ms": (database_cpu(dsn) - db_cpu) / total * 1000,
        "load": os.getloadavg()[0],
        "lost": len(set(tally.sent_at) - tally.received),
        "errors": sum(1 for a in acks if not a.get("ok")),
        **percentiles(tally.latencies),
    }
    for client in senders + receivers:
        await client.disconnect()
    return {
        "closed": closed,
        "closed_lost": closed_lost,
        "open": opened,
        "open_count": len(tally.sent_at) - open_tally_start,
        "acked_total": closed["acked"],
        "sent_total": len(tally.sent_at),
        "errors": tally.errors[:3],
    }


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50_ms": at(0.50), "p99_ms": at(0.99), "max_ms": ordered[-1] * 1000}


def stored_messages(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT count(*) FROM messaging.messages").fetchone()[0]  # type: ignore[index]


def report(name: str, result: dict[str, Any]) -> None:
    closed, opened = result["closed"], result["open"]
    print(
        f"{name:7} closed loop: {closed['per_second']:7.0f} msg/s acked "
        f"(p50 {closed['p50_ms']:.1f} ms, p99 {closed['p99_ms']:.1f} ms), lost {result['closed_lost']}; "
        f"CPU per message: server {closed['server_cpu_ms']:.2f} ms, clients {closed['client_cpu_ms']:.2f} ms, "
        f"PostgreSQL {closed['db_cpu_ms']:.2f} ms; "
        f"load avg {closed['load']:.1f}"
    )
    print(
        f"{name:7} open loop @ {opened['offered_rate']:.0f}/s (achieved {opened['achieved_rate']:.0f}/s): "
        f"p50 {opened['p50_ms']:.1f} ms, p99 {opened['p99_ms']:.1f} ms, max {opened['max_ms']:.1f} ms, "
        f"lost {opened['lost']}, error acks {opened['errors']} (all delivered {opened['drained_after_s']:.1f} s "
        f"after the last send); CPU per message: server {opened['server_cpu_ms']:.2f} ms, "
        f"clients {opened['client_cpu_ms']:.2f} ms, PostgreSQL {opened['db_cpu_ms']:.2f} ms; "
        f"load avg {opened['load']:.1f}"
    )
    if result["errors"]:
        print(f"{name:7} first errors: {result['errors']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--only", choices=("bazaar", "relay"))
    parser.add_argument("--workers", type=int, default=1, help="WEB_WORKERS of deploy/gunicorn.conf.py")
    args = parser.parse_args()

    admin_url = os.environ.get("TEST_DATABASE_ADMIN_URL") or local_postgres_admin_url()
    if not admin_url:
        sys.exit("needs a local PostgreSQL (or TEST_DATABASE_ADMIN_URL)")
    name = f"bench_chat_{uuid.uuid4().hex[:8]}"  # dropped at the end
    admin_dsn = psycopg_dsn(admin_url)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    redis = start_redis()
    db_url = database_url(admin_url, name)
    try:
        upgrade(db_url)
        environ = {**app_environ(db_url, redis.url), "WEB_WORKERS": str(args.workers)}
        pairs = seed(db_url, redis.url, args.pairs)
        load = os.getloadavg()[0]
        print(
            f"{args.pairs} pairs, {args.seconds:.0f} s per load, gunicorn deploy/gunicorn.conf.py "
            f"with {args.workers} worker(s); load avg {load:.1f}"
        )
        results = {}
        for target in ("relay", "bazaar"):
            if args.only and target != args.only:
                continue
            port = free_port()
            process = serve(target, port, environ)
            try:
                before = stored_messages(psycopg_dsn(db_url))
                results[target] = asyncio.run(
                    run_target(
                        f"http://127.0.0.1:{port}", process.pid, pairs, args.seconds, args.rate, psycopg_dsn(db_url)
                    )
                )
                if target == "bazaar":
                    stored = stored_messages(psycopg_dsn(db_url)) - before
                    results[target]["stored"] = stored
            finally:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=15)
            report(target, results[target])
            if target == "bazaar":
                print(f"bazaar  stored {results[target]['stored']} messages for {results[target]['sent_total']} sent")
        if len(results) == 2:
            ratio = results["bazaar"]["closed"]["per_second"] / results["relay"]["closed"]["per_second"]
            print(f"bazaar/relay closed-loop throughput: {ratio:.0%}")
    finally:
        redis.stop()
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
