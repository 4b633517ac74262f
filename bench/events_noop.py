"""The no-op subscriber of bench/events.py (imported by its worker processes via EVENTS_SUBSCRIBER_MODULES).

It does nothing, except for probe events of the latency phase, whose handling time it writes to
Redis (one HSET) so the benchmark can compute commit-to-handler latency.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app

from app.events import DomainEvent, subscribe


@dataclass(frozen=True, kw_only=True)
class BenchPinged(DomainEvent):
    """Benchmark event."""

    type = "bench.Pinged"
    version = 1
    n: int
    probe: bool = False


@subscribe("bench.Pinged", name="bench.noop")
def noop(event: BenchPinged) -> None:
    if event.probe:
        current_app.extensions["redis"].hset("bench:handled", str(event.id), repr(time.time()))
