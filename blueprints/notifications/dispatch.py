"""How a batch of deliveries reaches a worker: an RQ job now, and a durable timer as the safety net.

Every open delivery is covered by a timer of ``notifications.dispatch`` at all times: when created
(due at creation + lease, in case the immediate job is lost), when deferred (quiet hours, digest
window, retry backoff: due when it may go), and while a worker holds it (due when its lease ends,
in case the worker dies). A timer only enqueues ``send_batch``; the job sends what is due and not
held by a live worker, so an extra job is harmless.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from rq import Retry

from app.events.timers import cancel, schedule
from app.queues import get_queue

log = logging.getLogger(__name__)

DISPATCH_TIMER = "notifications.dispatch"
QUEUE = "notifications"
SEND_JOB = "blueprints.notifications.tasks.send_batch"
JOB_RETRY = Retry(max=3, interval=[5, 30, 120])


def arm(batch_id: uuid.UUID, when: datetime, tag: str) -> str:
    """Schedule (in the caller's transaction) a dispatch of ``batch_id`` at ``when``; returns the timer key."""
    key = f"{batch_id}:{tag}"
    schedule(DISPATCH_TIMER, when, {"batch": str(batch_id)}, key=key)
    return key


def disarm(batch_id: uuid.UUID, tag: str) -> None:
    cancel(DISPATCH_TIMER, f"{batch_id}:{tag}")


def enqueue_batch(batch_id: uuid.UUID | str) -> None:
    """Put ``send_batch(batch_id)`` on the notifications queue (after a commit: never inside one)."""
    get_queue(QUEUE).enqueue(SEND_JOB, str(batch_id), retry=JOB_RETRY, result_ttl=0, failure_ttl=7 * 24 * 3600)


def enqueue_quietly(batch_id: uuid.UUID | str) -> None:
    """Enqueue, logging a failure: the batch's timer sends it later if Redis is down now."""
    try:
        enqueue_batch(batch_id)
    except Exception:  # the durable timer is the fallback
        log.warning("could not enqueue notification batch %s; its timer will", batch_id, exc_info=True)
