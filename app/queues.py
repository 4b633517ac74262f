"""RQ queues of DESIGN.md §6 and the helpers to enqueue onto them."""

from __future__ import annotations

from typing import Any

from flask import current_app
from rq import Queue, Retry

QUEUE_NAMES: tuple[str, ...] = ("events", "notifications", "imports", "payouts", "default")

# Backoff for jobs that talk to the outside world: 10 s, 1 min, 5 min, 30 min, 2 h.
DEFAULT_RETRY = Retry(max=5, interval=[10, 60, 300, 1800, 7200])


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}; known: {', '.join(QUEUE_NAMES)}")
    return Queue(name, connection=current_app.extensions["redis"])


def enqueue(queue: str, func: Any, *args: Any, retry: Retry | None = DEFAULT_RETRY, **kwargs: Any):
    """Enqueue ``func`` (an importable function taking ids, never ORM objects)."""
    return get_queue(queue).enqueue(func, *args, retry=retry, **kwargs)


def queue_depths() -> dict[str, int]:
    redis = current_app.extensions["redis"]
    with redis.pipeline() as pipe:
        for name in QUEUE_NAMES:
            pipe.llen(f"rq:queue:{name}")
        counts = pipe.execute()
    return dict(zip(QUEUE_NAMES, counts, strict=True))
