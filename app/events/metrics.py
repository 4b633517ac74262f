"""Backlog figures of the bus: for the admin's flow page and Prometheus ``/metrics`` (read at scrape time).

Workers do not serve ``/metrics``, so the figures come from the database, which every web process
can read: what waits in the outbox and for how long, retrying and dead deliveries, pending and dead
timers, pending and failed webhooks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from flask import has_app_context
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text

from app.db import db

__all__ = ["bus_health", "register_collector"]

log = logging.getLogger(__name__)

HEALTH_SQL = text(
    """
    SELECT
      (SELECT count(*) FROM platform.outbox_events WHERE dispatched_at IS NULL) AS undispatched,
      (SELECT count(*) FROM platform.outbox_events WHERE dispatched_at IS NOT NULL AND settled_at IS NULL) AS in_flight,
      (SELECT coalesce(extract(epoch FROM now() - min(recorded_at)), 0) FROM platform.outbox_events
         WHERE dispatched_at IS NULL) AS oldest_undispatched_s,
      (SELECT count(*) FROM platform.event_deliveries WHERE status = 'retrying') AS retrying,
      (SELECT count(*) FROM platform.event_deliveries WHERE status = 'dead') AS dead_letters,
      (SELECT count(*) FROM platform.timers WHERE state IN ('scheduled', 'enqueued')) AS timers_pending,
      (SELECT count(*) FROM platform.timers WHERE state = 'dead') AS timers_dead,
      (SELECT count(*) FROM platform.webhook_deliveries WHERE status = 'pending') AS webhooks_pending,
      (SELECT count(*) FROM platform.webhook_deliveries WHERE status = 'failed') AS webhooks_failed
    """
)


def bus_health() -> dict[str, Any]:
    """The figures above, in the current app context's session (read-only)."""
    row = db.session.execute(HEALTH_SQL).one()._asdict()
    return {key: float(value) if key == "oldest_undispatched_s" else int(value) for key, value in row.items()}


class EventBusCollector:
    def collect(self) -> Iterator[GaugeMetricFamily]:
        if not has_app_context():
            return
        try:
            health = bus_health()
        except Exception:
            log.warning("metrics: event bus figures unavailable", exc_info=True)
            return
        finally:
            db.session.rollback()
        yield GaugeMetricFamily(
            "bazaar_events_undispatched", "Outbox events waiting for the relay", health["undispatched"]
        )
        yield GaugeMetricFamily("bazaar_events_in_flight", "Dispatched events not yet settled", health["in_flight"])
        yield GaugeMetricFamily(
            "bazaar_events_oldest_undispatched_seconds",
            "Age of the oldest event waiting for the relay",
            health["oldest_undispatched_s"],
        )
        deliveries = GaugeMetricFamily("bazaar_events_deliveries", "Subscriber deliveries not done", labels=["status"])
        deliveries.add_metric(["retrying"], health["retrying"])
        deliveries.add_metric(["dead"], health["dead_letters"])
        yield deliveries
        timers = GaugeMetricFamily("bazaar_timers", "Durable timers", labels=["state"])
        timers.add_metric(["pending"], health["timers_pending"])
        timers.add_metric(["dead"], health["timers_dead"])
        yield timers
        webhooks = GaugeMetricFamily("bazaar_webhook_deliveries", "Integrator webhook deliveries", labels=["status"])
        webhooks.add_metric(["pending"], health["webhooks_pending"])
        webhooks.add_metric(["failed"], health["webhooks_failed"])
        yield webhooks


_registered = False


def register_collector() -> None:
    """Add the bus figures to the platform's Prometheus registry (once per process)."""
    global _registered
    if _registered:
        return
    from app.metrics import REGISTRY

    REGISTRY.register(EventBusCollector())
    _registered = True
