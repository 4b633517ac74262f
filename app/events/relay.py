"""The relay: moves committed outbox rows and due timers to the RQ workers, and never loses either.

One round, in one PostgreSQL transaction: claim up to ``EVENTS_RELAY_BATCH_SIZE`` undispatched rows
(``FOR UPDATE SKIP LOCKED``: several relays share the work, none takes a row another holds), keep
for each aggregate only the rows that come before any row held by another relay (so an aggregate's
events are dispatched in commit order), enqueue them as jobs of ``EVENTS_JOB_SIZE`` events (one
aggregate's events go to one job), mark the rows dispatched, commit.

Crashes: killed after enqueueing but before the commit, the rows stay undispatched and are sent
again (subscribers are idempotent). Redis down: enqueueing fails, the transaction rolls back, rows
wait and the relay backs off. Redis restarted empty: the sweeper finds dispatched rows that no job
settled and whose job is gone or failed, and makes them undispatched again. Timers go the same way.
Idle, the relay sleeps on ``LISTEN bazaar_outbox`` (sent at commit by ``publish``) or ``EVENTS_POLL_MS``.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
import redis
from flask import Flask
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from app.events.outbox import NOTIFY_CHANNEL
from app.events.relay_sql import (
    CLAIM_OUTBOX,
    CLAIM_TIMERS,
    MARK_DISPATCHED,
    MARK_TIMERS,
    PENDING_OF_AGGREGATES,
    PRUNE,
    RESET_OUTBOX_JOBS,
    RESET_TIMER_JOBS,
    STALE_OUTBOX_JOBS,
    STALE_TIMER_JOBS,
)

__all__ = ["Relay", "run_relay"]

log = logging.getLogger(__name__)

EVENTS_QUEUE, TIMERS_QUEUE = "events", "default"
DELIVER_JOB = "app.events.delivery.deliver_events"
TIMERS_JOB = "app.events.timers.run_timers"
TIMERS_PER_JOB = 20
JOB_TIMEOUT = 600
FAILURE_TTL = 7 * 24 * 3600
QUEUE_HIGH_WATER = 2  # delivery jobs waiting in Redis before the relay holds back and batches more
MAX_HOLD_SECONDS = 0.25
LIVE_STATUSES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def ordered_prefix(claimed: Sequence[Any], pending: Sequence[Any]) -> list[Any]:
    """The claimed rows that may go now: per aggregate, those before any pending row not claimed here."""
    mine = {row.position for row in claimed}
    blocked_from: dict[str, int] = {}
    for row in pending:  # ordered by aggregate, position
        if row.position not in mine and row.aggregate_id not in blocked_from:
            blocked_from[row.aggregate_id] = row.position
    return [row for row in claimed if row.position < blocked_from.get(row.aggregate_id, row.position + 1)]


def split_jobs(rows: Sequence[Any], job_size: int) -> list[list[int]]:
    """Positions grouped into jobs of about ``job_size``; all of one aggregate's rows in one job, in order."""
    count = max(1, -(-len(rows) // job_size))
    jobs: list[list[int]] = [[] for _ in range(count)]
    for row in rows:
        jobs[zlib.crc32(row.aggregate_id.encode()) % count].append(row.position)
    return [sorted(job) for job in jobs if job]


class Relay:
    """One relay process (or thread). ``run()`` loops until ``stop()``; each step is callable alone (tests)."""

    def __init__(
        self,
        app: Flask,
        *,
        after_enqueue: Callable[[list[str]], None] | None = None,
    ) -> None:
        config = app.config
        self.app = app
        self.batch_size: int = config["EVENTS_RELAY_BATCH_SIZE"]
        self.job_size: int = config["EVENTS_JOB_SIZE"]
        self.poll_seconds: float = config["EVENTS_POLL_MS"] / 1000
        self.linger_seconds: float = config["EVENTS_RELAY_LINGER_MS"] / 1000
        self.redispatch_after: int = config["EVENTS_REDISPATCH_AFTER_SECONDS"]
        self.retention_days: int = config["EVENTS_RETENTION_DAYS"]
        self.after_enqueue = after_enqueue  # test hook: called between enqueue and commit
        self.redis: redis.Redis = app.extensions["redis"]
        # Deliveries on `events`; timers (webhook HTTP attempts among them) on `default`, so a slow
        # integrator never holds up event delivery.
        self.events_queue = Queue(EVENTS_QUEUE, connection=self.redis)
        self.timers_queue = Queue(TIMERS_QUEUE, connection=self.redis)
        with app.app_context():
            from app.extensions import db

            self.engine: Engine = db.engine
        self._stop = threading.Event()
        self._listener: psycopg.Connection | None = None
        self.dispatched = 0

    # --- one step each -------------------------------------------------------------------------
    def dispatch_outbox(self) -> int:
        """One round: returns how many events were dispatched (0 = nothing to do now)."""
        with self.engine.begin() as conn:
            claimed = conn.execute(CLAIM_OUTBOX, {"limit": self.batch_size}).all()
            if not claimed:
                return 0
            pending = conn.execute(
                PENDING_OF_AGGREGATES,
                {"aggregates": sorted({r.aggregate_id for r in claimed}), "upto": claimed[-1].position},
            ).all()
            rows = ordered_prefix(claimed, pending)
            if not rows:
                return 0
            jobs = split_jobs(rows, self.job_size)
            job_ids = self._enqueue(self.events_queue, DELIVER_JOB, jobs)
            if self.after_enqueue is not None:
                self.after_enqueue(job_ids)
            positions = [p for job in jobs for p in job]
            owners = [job_id for job_id, job in zip(job_ids, jobs, strict=True) for _ in job]
            conn.execute(MARK_DISPATCHED, {"positions": positions, "job_ids": owners})
        self.dispatched += len(rows)
        return len(rows)

    def dispatch_timers(self) -> int:
        with self.engine.begin() as conn:
            ids = [str(r.id) for r in conn.execute(CLAIM_TIMERS, {"limit": self.batch_size})]
            if not ids:
                return 0
            jobs = [ids[i : i + TIMERS_PER_JOB] for i in range(0, len(ids), TIMERS_PER_JOB)]
            job_ids = self._enqueue(self.timers_queue, TIMERS_JOB, jobs)
            owners = [job_id for job_id, job in zip(job_ids, jobs, strict=True) for _ in job]
            conn.execute(MARK_TIMERS, {"ids": [i for job in jobs for i in job], "job_ids": owners})
        return len(ids)

    def _enqueue(self, queue: Queue, func: str, batches: list[list[Any]]) -> list[str]:
        datas = [
            Queue.prepare_data(
                func,
                args=(batch,),
                job_id=f"{func.rsplit('.', 1)[1]}-{uuid.uuid4().hex}",
                timeout=JOB_TIMEOUT,
                result_ttl=0,
                failure_ttl=FAILURE_TTL,
            )
            for batch in batches
        ]
        with self.redis.pipeline() as pipe:
            jobs = queue.enqueue_many(datas, pipeline=pipe)
            pipe.execute()
        return [job.id for job in jobs]

    def sweep(self, older_than: float | None = None) -> int:
        """Re-arm dispatched work whose job is gone (Redis lost it) or failed; returns rows re-armed."""
        age = self.redispatch_after if older_than is None else older_than
        for queue in (self.events_queue, self.timers_queue):
            StartedJobRegistry(queue=queue).cleanup()  # jobs of dead workers become failed now
        rearmed = 0
        with self.engine.begin() as conn:
            for select_stale, reset in ((STALE_OUTBOX_JOBS, RESET_OUTBOX_JOBS), (STALE_TIMER_JOBS, RESET_TIMER_JOBS)):
                job_ids = [r.job_id for r in conn.execute(select_stale, {"age": age}) if r.job_id]
                lost = self._lost(job_ids)
                if lost:
                    rearmed += conn.execute(reset, {"job_ids": lost}).rowcount
        if rearmed:
            log.warning("relay: re-armed %d rows whose jobs were lost or failed", rearmed)
        return rearmed

    def _lost(self, job_ids: list[str]) -> list[str]:
        lost = []
        for start in range(0, len(job_ids), 500):
            chunk = job_ids[start : start + 500]
            for job_id, job in zip(chunk, Job.fetch_many(chunk, connection=self.redis), strict=True):
                if job is None or job.get_status(refresh=False) not in LIVE_STATUSES:
                    lost.append(job_id)
        return lost

    def prune(self) -> int:
        with self.engine.begin() as conn:
            return sum(conn.execute(statement, {"days": self.retention_days}).rowcount for statement in PRUNE)

    # --- the loop ------------------------------------------------------------------------------
    def stop(self, *_args: Any) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, *, install_signals: bool = True) -> None:
        """Loop until stopped (SIGTERM/SIGINT finish the current round, then return)."""
        if install_signals and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        log.info("relay started (batch %d, job size %d)", self.batch_size, self.job_size)
        failures = 0
        next_sweep = next_prune = time.monotonic()
        while not self.stopping:
            try:
                self._hold_while_backlogged()
                busy = self.dispatch_outbox() > 0
                busy = self.dispatch_timers() > 0 or busy
                now = time.monotonic()
                if now >= next_sweep:
                    self.sweep()
                    next_sweep = now + max(1.0, min(self.redispatch_after / 2, 30.0))
                if now >= next_prune:
                    self.prune()
                    next_prune = now + 3600
                failures = 0
            except (redis.RedisError, DBAPIError, psycopg.Error) as exc:
                failures += 1
                delay = min(0.25 * 2**failures, 5.0)
                log.warning("relay: %s; retrying in %.1fs", exc.__class__.__name__, delay, exc_info=failures == 1)
                self._stop.wait(delay)
                continue
            if not busy and self._wait(self.poll_seconds) and self.linger_seconds:
                # Woken by a commit: let a few more arrive so a burst travels as one job, not dozens.
                self._stop.wait(self.linger_seconds)
        self._close_listener()
        log.info("relay stopped after dispatching %d events", self.dispatched)

    def _hold_while_backlogged(self) -> None:
        """Backpressure: while jobs already wait in the events queue, let rows accumulate (bounded by
        MAX_HOLD_SECONDS) so the next job carries many events; idle workers get events at once."""
        deadline = time.monotonic() + MAX_HOLD_SECONDS
        key = self.events_queue.key
        while not self.stopping and time.monotonic() < deadline and self.redis.llen(key) >= QUEUE_HIGH_WATER:
            self._stop.wait(0.005)

    def _wait(self, timeout: float) -> bool:
        """Sleep until a commit NOTIFYs the channel (True), the timeout passes, or stop() is called."""
        try:
            if self._listener is None or self._listener.closed:
                url = make_url(self.app.config["DATABASE_URL"]).set(drivername="postgresql")
                self._listener = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
                self._listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
            deadline = time.monotonic() + timeout
            while not self.stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                # Short slices so stop() is honoured quickly even without a notification.
                for _ in self._listener.notifies(timeout=min(left, 0.5), stop_after=1):
                    return True
        except psycopg.Error:
            self._close_listener()
            self._stop.wait(timeout)
        return False

    def _close_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(psycopg.Error):
                self._listener.close()
            self._listener = None


class RelayThread(threading.Thread):
    """The relay inside another process (the all-in-one worker): stops with it."""

    def __init__(self, app: Flask) -> None:
        super().__init__(name="bazaar-relay", daemon=True)
        self.relay = Relay(app)

    def run(self) -> None:
        self.relay.run(install_signals=False)

    def stop(self, timeout: float = 10) -> None:
        self.relay.stop()
        self.join(timeout)


def run_relay(app: Flask) -> None:
    """``bazaar relay``: the relay and the timer scheduler in this process until SIGTERM."""
    Relay(app).run()
