"""The SQL of a delivery batch's life: claim under a lease, renew the lease, scrub secrets when done."""

from __future__ import annotations

from sqlalchemy import String, Uuid, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

CLAIM = text(
    """
    WITH picked AS (
        SELECT id, status AS old_status FROM notifications.deliveries
        WHERE batch_id = :batch AND (
            (status IN ('pending', 'retrying') AND (not_before IS NULL OR not_before <= now()))
            OR (status IN ('claimed', 'sending') AND lease_until < now()))
        ORDER BY created_at, id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE notifications.deliveries AS d
    SET status = 'claimed', claim_token = :token, lease_until = now() + make_interval(secs => :lease),
        updated_at = now()
    FROM picked WHERE d.id = picked.id
    RETURNING d.id, d.notification_id, d.user_id, d.event_id, d.kind, d.channel, d.attempts, d.digest_key,
              d.address, d.resends, d.created_at, d.lease_until, picked.old_status
    """
)
RENEW = text(
    """
    UPDATE notifications.deliveries SET lease_until = now() + make_interval(secs => :lease)
    WHERE batch_id = :batch AND claim_token = :token AND status IN ('claimed', 'sending')
    RETURNING lease_until
    """
)
SCRUB = text(
    """
    UPDATE notifications.notifications AS n SET data = n.data - CAST(:fields AS text[])
    WHERE n.id = ANY(:ids) AND NOT EXISTS (
        SELECT 1 FROM notifications.deliveries AS d
        WHERE d.notification_id = n.id AND d.status IN ('pending', 'retrying', 'claimed', 'sending'))
    """
).bindparams(bindparam("fields", type_=ARRAY(String)), bindparam("ids", type_=ARRAY(Uuid)))
