"""The relay's SQL: claim with SKIP LOCKED, keep per-aggregate order, mark, re-arm lost work, prune."""

from __future__ import annotations

from sqlalchemy import BigInteger, String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

__all__ = [
    "CLAIM_OUTBOX",
    "CLAIM_TIMERS",
    "MARK_DISPATCHED",
    "MARK_TIMERS",
    "PENDING_OF_AGGREGATES",
    "PRUNE",
    "RESET_OUTBOX_JOBS",
    "RESET_TIMER_JOBS",
    "STALE_OUTBOX_JOBS",
    "STALE_TIMER_JOBS",
]

CLAIM_OUTBOX = text(
    """
    SELECT position, aggregate_id FROM platform.outbox_events
    WHERE dispatched_at IS NULL
    ORDER BY position
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
    """
)
# Every undispatched row (claimed by anyone) of the claimed aggregates, up to the last claimed position.
PENDING_OF_AGGREGATES = text(
    """
    SELECT aggregate_id, position FROM platform.outbox_events
    WHERE dispatched_at IS NULL AND aggregate_id = ANY(:aggregates) AND position <= :upto
    ORDER BY aggregate_id, position
    """
).bindparams(bindparam("aggregates", type_=ARRAY(String)))
MARK_DISPATCHED = text(
    """
    UPDATE platform.outbox_events AS o
    SET dispatched_at = now(), dispatch_count = o.dispatch_count + 1, job_id = d.job_id
    FROM unnest(CAST(:positions AS bigint[]), CAST(:job_ids AS text[])) AS d(position, job_id)
    WHERE o.position = d.position
    """
).bindparams(bindparam("positions", type_=ARRAY(BigInteger)), bindparam("job_ids", type_=ARRAY(String)))
CLAIM_TIMERS = text(
    """
    SELECT id FROM platform.timers
    WHERE state = 'scheduled' AND due_at <= now()
    ORDER BY due_at
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
    """
)
MARK_TIMERS = text(
    """
    UPDATE platform.timers AS t
    SET state = 'enqueued', enqueued_at = now(), job_id = d.job_id
    FROM unnest(CAST(:ids AS uuid[]), CAST(:job_ids AS text[])) AS d(id, job_id)
    WHERE t.id = d.id
    """
).bindparams(bindparam("ids", type_=ARRAY(String)), bindparam("job_ids", type_=ARRAY(String)))
STALE_OUTBOX_JOBS = text(
    """
    SELECT DISTINCT job_id FROM platform.outbox_events
    WHERE dispatched_at IS NOT NULL AND settled_at IS NULL AND dispatched_at < now() - make_interval(secs => :age)
    """
)
RESET_OUTBOX_JOBS = text(
    """
    UPDATE platform.outbox_events SET dispatched_at = NULL, job_id = NULL
    WHERE job_id = ANY(:job_ids) AND settled_at IS NULL
    """
).bindparams(bindparam("job_ids", type_=ARRAY(String)))
STALE_TIMER_JOBS = text(
    """
    SELECT DISTINCT job_id FROM platform.timers
    WHERE state = 'enqueued' AND enqueued_at < now() - make_interval(secs => :age)
    """
)
RESET_TIMER_JOBS = text(
    "UPDATE platform.timers SET state = 'scheduled', job_id = NULL WHERE job_id = ANY(:job_ids) AND state = 'enqueued'"
).bindparams(bindparam("job_ids", type_=ARRAY(String)))
PRUNE = (
    text(
        "DELETE FROM platform.event_deliveries WHERE status = 'done' "
        "AND created_at < now() - make_interval(days => :days)"
    ),
    text(
        "DELETE FROM platform.outbox_events WHERE settled_at IS NOT NULL "
        "AND settled_at < now() - make_interval(days => :days)"
    ),
    text(
        "DELETE FROM platform.timers WHERE state IN ('fired', 'cancelled') "
        "AND updated_at < now() - make_interval(days => :days)"
    ),
)
