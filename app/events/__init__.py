"""Domain events: transactional outbox, relay, idempotent subscribers, durable timers, webhooks.

Public API for domains (the only names they need)::

    from app.events import DomainEvent, publish, subscribe, on_commit, schedule, cancel, on_timer

- declare events as dataclasses in ``blueprints/<domain>/events.py`` (see :mod:`app.events.catalog`);
- ``publish(event)`` inside the transaction of the change (see :mod:`app.events.outbox`);
- ``@subscribe("offers.OfferAccepted")`` handlers in the consuming domain's ``events.py``
  (see :mod:`app.events.subscribers`); each domain's ``events`` module is imported at app start;
- ``schedule(name, due_at, payload, key=...)`` / ``cancel(name, key)`` durable timers handled by
  ``@on_timer(name)`` (see :mod:`app.events.timers`).
"""

from __future__ import annotations

from app.events.catalog import DomainEvent, RecordedEvent
from app.events.outbox import NOTIFY_CHANNEL, OUTBOX_COLUMNS, OutboxEvent, outbox_values, publish
from app.events.subscribers import on_commit, subscribe
from app.events.timers import FiredTimer, cancel, on_timer, schedule

__all__ = [
    "NOTIFY_CHANNEL",
    "OUTBOX_COLUMNS",
    "DomainEvent",
    "FiredTimer",
    "OutboxEvent",
    "RecordedEvent",
    "cancel",
    "on_commit",
    "on_timer",
    "outbox_values",
    "publish",
    "schedule",
    "subscribe",
]
