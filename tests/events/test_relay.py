"""The relay: exactly-once effects through crashes, Redis outages and concurrent relays.

Process-spawning tests are marked ``slow``; every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import namedtuple
from pathlib import Path

import pytest
import redis
from rq import Queue
from sqlalchemy import func, select

from app.embedded import start_redis
from app.events import publish
from app.events.outbox import OutboxEvent
from app.events.records import DONE, EventDelivery
from app.events.relay import Relay, ordered_prefix, split_jobs
from app.extensions import db
from tests.events import handlers
from tests.events.conftest import FAST, run_worker_burst
from tests.events.handlers import Pinged

ROOT = Path(__file__).resolve().parents[2]
Row = namedtuple("Row", "position aggregate_id")


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING", "LOG_JSON": "false"})
    env.update({key: str(value) for key, value in FAST.items()})
    env.update(extra)
    return env


def _spawn(*args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def _undispatched() -> int:
    count = db.session.execute(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))
    ).scalar_one()
    db.session.rollback()
    return count


def _queued_positions(connection) -> list[list[int]]:  # type: ignore[no-untyped-def]
    queue = Queue("events", connection=connection)
    return [list(job.args[0]) for job in queue.get_jobs()]


def _assert_each_subscriber_once(events: list[Pinged]) -> None:
    for subscriber in ("tests.recorder_a", "tests.recorder_b"):
        statuses = db.session.execute(
            select(EventDelivery.event_id, EventDelivery.status).where(EventDelivery.subscriber == subscriber)
        ).all()
        assert sorted(e for e, _ in statuses) == sorted(e.id for e in events), subscriber
        assert {s for _, s in statuses} == {DONE}
    db.session.rollback()
    # Effects committed once per event (on_commit runs only after the delivery's commit).
    assert sorted(handlers.AFTER_COMMIT) == sorted(e.id for e in events)


def _publish_many(count: int, per_transaction: int, aggregates: list[uuid.UUID]) -> list[Pinged]:
    events = []
    for start in range(0, count, per_transaction):
        for n in range(start, min(start + per_transaction, count)):
            event = Pinged(aggregate_id=aggregates[n % len(aggregates)], n=n)
            publish(event)
            events.append(event)
        db.session.commit()
    return events


# --- pure functions -------------------------------------------------------------------------------


def test_ordered_prefix_stops_each_aggregate_at_a_row_held_elsewhere():
    claimed = [Row(1, "a"), Row(3, "a"), Row(4, "b"), Row(6, "c")]
    pending = [Row(1, "a"), Row(2, "a"), Row(3, "a"), Row(4, "b"), Row(5, "c"), Row(6, "c")]
    # a: 2 is held by another relay, so 3 must wait; c: 5 is held elsewhere, so 6 waits.
    assert ordered_prefix(claimed, pending) == [Row(1, "a"), Row(4, "b")]
    assert ordered_prefix(claimed, claimed) == claimed


def test_split_jobs_keeps_an_aggregate_in_one_job_in_order():
    rows = [Row(p, f"agg{p % 7}") for p in range(1, 101)]
    jobs = split_jobs(rows, 30)
    assert len(jobs) == 4 and sorted(p for job in jobs for p in job) == list(range(1, 101))
    for job in jobs:
        assert job == sorted(job)
        owners = {f"agg{p % 7}" for p in job}
        assert all(f"agg{p % 7}" in owners for p in job)
    assert len({frozenset(f"agg{p % 7}" for p in job) for job in jobs}) == len(jobs)


# --- in-process relay -----------------------------------------------------------------------------


def test_sweep_leaves_live_jobs_alone_and_rearms_lost_ones(events_app, drain):
    events = _publish_many(10, 10, [uuid.uuid4()])
    relay = Relay(events_app)
    assert relay.dispatch_outbox() == 10
    assert relay.sweep(older_than=0) == 0  # the job is queued: nothing to do
    connection = events_app.extensions["redis"]
    connection.flushdb()  # Redis lost everything (a restart without persistence)
    assert relay.sweep(older_than=0) == 10
    assert _undispatched() == 10
    drain()
    _assert_each_subscriber_once(events)


@pytest.mark.slow
def test_relay_killed_between_dispatch_and_mark_delivers_exactly_once(events_app, drain):
    events = _publish_many(60, 20, [uuid.uuid4() for _ in range(5)])
    crashed = _spawn("-m", "tests.events.crashing_relay")
    out, err = crashed.communicate(timeout=60)
    assert crashed.returncode == -signal.SIGKILL, err
    orphan_jobs = out.split()
    assert orphan_jobs, "the relay died before enqueueing"
    # The jobs reached Redis but the rows were never marked: they wait for the next relay.
    connection = events_app.extensions["redis"]
    assert sum(len(p) for p in _queued_positions(connection)) == 60
    assert _undispatched() == 60
    drain()
    _assert_each_subscriber_once(events)
    counts = db.session.execute(select(OutboxEvent.dispatch_count)).scalars().all()
    assert set(counts) == {1}  # dispatched again exactly once by the surviving relay


def _collect_lines(stream, into: list[str]) -> threading.Thread:  # type: ignore[no-untyped-def]
    """Read a child's output as it comes (job ids, one line per enqueue) until it closes."""
    thread = threading.Thread(target=lambda: into.extend(line.strip() for line in stream), daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
def test_two_relays_at_once_dispatch_each_event_once_in_aggregate_order(events_app):
    relays = [_spawn("-m", "tests.events.relay_process") for _ in range(2)]
    sent: list[list[str]] = [[], []]
    readers = []
    try:
        for relay in relays:  # both handle SIGTERM and poll before anything is published
            assert relay.stdout.readline().strip() == "ready", relay.stderr.read()
        readers = [_collect_lines(relay.stdout, lines) for relay, lines in zip(relays, sent, strict=True)]
        aggregates = [uuid.uuid4() for _ in range(25)]
        events: list[Pinged] = []
        # Publish until both relays have taken a share (at least 15 rounds): on a loaded machine one
        # relay can win every round for a while, which proves nothing about running two at once.
        deadline = time.monotonic() + 60
        rounds = 0
        while rounds < 15 or (not all(sent) and time.monotonic() < deadline):
            events += _publish_many(100, 25, aggregates)
            rounds += 1
            time.sleep(0.02)
        _wait_for(lambda: _undispatched() == 0, 60, "both relays to drain the outbox")
    finally:
        for relay in relays:
            relay.send_signal(signal.SIGTERM)
        errors = []
        for relay in relays:
            relay.wait(timeout=30)
            errors.append(relay.stderr.read())
        for reader in readers:
            reader.join(timeout=10)
    assert [r.returncode for r in relays] == [0, 0], errors  # SIGTERM: clean stop
    assert all(sent), f"both relays should have dispatched: {[len(lines) for lines in sent]} in {rounds} rounds"
    jobs = _queued_positions(events_app.extensions["redis"])
    dispatched = [p for job in jobs for p in job]
    assert len(dispatched) == len(set(dispatched)) == len(events)  # no double dispatch
    rows = db.session.execute(select(OutboxEvent.position, OutboxEvent.aggregate_id)).all()
    owner = {position: aggregate for position, aggregate in rows}
    seen: dict[str, int] = {}
    for position in dispatched:  # queue order respects each aggregate's commit order
        assert seen.get(owner[position], 0) < position
        seen[owner[position]] = position
    run_worker_burst(events_app)
    _assert_each_subscriber_once(events)


@pytest.mark.slow
def test_redis_restarted_mid_stream_loses_nothing_and_duplicates_nothing(app, make_app):
    server = start_redis()
    port = server.port
    bus_app = make_app(REDIS_URL=server.url, **FAST)
    handlers.reset()
    with bus_app.app_context():
        try:
            first = _publish_many(100, 20, [uuid.uuid4() for _ in range(7)])
            relay = Relay(bus_app)
            assert relay.dispatch_outbox() == 100
            server.stop()  # the 100 queued jobs die with it

            second = _publish_many(100, 20, [uuid.uuid4() for _ in range(7)])
            with pytest.raises(redis.RedisError):
                relay.dispatch_outbox()
            assert _undispatched() == 100  # rolled back: the rows wait

            loop = threading.Thread(target=relay.run, kwargs={"install_signals": False}, daemon=True)
            loop.start()
            time.sleep(0.5)
            assert loop.is_alive()  # the relay rides out the outage
            server = start_redis(port=port)
            _wait_for(lambda: relay.dispatched >= 300, 30, "the relay to re-send the lost batch and the new one")
            relay.stop()
            loop.join(10)
            assert not loop.is_alive()
            run_worker_burst(bus_app)
            _assert_each_subscriber_once(first + second)
        finally:
            server.stop()
            handlers.reset()
            db.session.remove()
            db.engine.dispose()


def test_the_relay_holds_back_while_delivery_jobs_wait_then_goes_on(events_app):
    from app.events.relay import MAX_HOLD_SECONDS

    relay = Relay(events_app)
    started = time.monotonic()
    relay._hold_while_backlogged()
    assert time.monotonic() - started < 0.1  # idle workers: no waiting
    for _ in range(2):  # two rounds, two jobs now wait in the queue
        _publish_many(1, 1, [uuid.uuid4()])
        assert relay.dispatch_outbox() == 1
    started = time.monotonic()
    relay._hold_while_backlogged()
    assert MAX_HOLD_SECONDS <= time.monotonic() - started < MAX_HOLD_SECONDS + 0.5  # held, but bounded
