"""Entry points of the background processes: ``bazaar worker`` and ``bazaar relay``.

Workers are RQ ``SimpleWorker``s (no fork per job: 250-440 jobs/s here against ~85 for the forking
worker, and event jobs are batches anyway) that push a fresh app context around every job, so jobs
use ``db.session`` and ``current_app`` like a request does and never leak a session into the next job.
SIGTERM/SIGINT is a warm shutdown: the current job finishes, then the process exits (a second signal
stops at once). The relay (``app.events.relay``) moves outbox events and due timers to the queues.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from flask import Flask, current_app
from rq import Queue, SimpleWorker
from rq.job import Job

from app.queues import QUEUE_NAMES

__all__ = ["AppWorker", "parse_queues", "run_relay", "run_worker"]

log = logging.getLogger(__name__)


class AppWorker(SimpleWorker):
    """A SimpleWorker whose jobs each run inside their own app context of ``app``."""

    def __init__(self, *args, app: Flask, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.app = app

    def execute_job(self, job: Job, queue: Queue) -> None:
        with self.app.app_context():
            super().execute_job(job, queue)


def parse_queues(queues: Sequence[str] | str) -> list[str]:
    """Queue names from a list or "a,b" text, checked against DESIGN.md section 6's queues."""
    names = [q.strip() for q in (queues.split(",") if isinstance(queues, str) else queues) for q in q.split(",")]
    names = [q for q in names if q]
    unknown = [q for q in names if q not in QUEUE_NAMES]
    if unknown or not names:
        raise ValueError(f"unknown queue(s) {', '.join(unknown) or '(none)'}; known: {', '.join(QUEUE_NAMES)}")
    return list(dict.fromkeys(names))


def build_worker(app: Flask, queues: Sequence[str] | str) -> AppWorker:
    connection = app.extensions["redis"]
    names = parse_queues(queues)
    return AppWorker([Queue(name, connection=connection) for name in names], connection=connection, app=app)


def run_worker(
    queues: Sequence[str] | str,
    burst: bool = False,
    scheduler: bool = True,
    *,
    relay: bool = False,
    app: Flask | None = None,
) -> bool:
    """Work ``queues`` in priority order until SIGTERM (or until empty with ``burst``).

    ``scheduler`` runs RQ's scheduler too (delayed jobs and ``Retry`` intervals of ``app.queues``);
    ``relay`` also runs the event relay and timer scheduler in a thread (one-process deployments;
    normally ``bazaar relay`` is its own process). Returns whether any job ran.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    worker = build_worker(app, queues)
    relay_thread = None
    if relay and not burst:
        from app.events.relay import RelayThread

        relay_thread = RelayThread(app)
        relay_thread.start()
    try:
        return worker.work(burst=burst, with_scheduler=scheduler, logging_level=app.config.get("LOG_LEVEL", "INFO"))
    finally:
        if relay_thread is not None:
            relay_thread.stop()


def run_relay(app: Flask | None = None) -> None:
    """The outbox relay and the timer scheduler in this process until SIGTERM/SIGINT."""
    from app.events.relay import Relay

    Relay(app or current_app._get_current_object()).run()  # type: ignore[attr-defined]
