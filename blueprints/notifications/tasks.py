"""RQ jobs of the notifications queue (they take ids; the worker gives each its own app context)."""

from __future__ import annotations

import uuid

from blueprints.notifications.sender import BatchSender


def send_batch(batch_id: uuid.UUID | str) -> dict[str, int]:
    """Send what is due in one delivery batch over one connection per provider.

    Safe to run twice or concurrently: rows are claimed with SKIP LOCKED under a lease, and a delivery
    whose outcome was recorded is never sent again (see :mod:`blueprints.notifications.sender`).
    """
    return BatchSender(uuid.UUID(str(batch_id))).run()
