"""Prometheus ``/metrics``: request counts and latency per route, DB pool, RQ queue depths.

Request metrics use the multiprocess-safe default registry of prometheus-client; pool and queue
figures are read at scrape time by a custom collector, so they are always current.
"""

from __future__ import annotations

import time

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from app.extensions import db

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("bazaar_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram(
    "bazaar_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)


class RuntimeCollector:
    """Reads pool and queue gauges from the app that serves the scrape."""

    def __init__(self) -> None:
        self.app: Flask | None = None

    def collect(self):  # type: ignore[no-untyped-def]
        app = self.app
        if app is None:
            return
        pool = GaugeMetricFamily("bazaar_db_pool_connections", "SQLAlchemy pool", labels=["state"])
        with app.app_context():
            engine_pool = db.engine.pool
            for state, getter in (("checked_out", "checkedout"), ("idle", "checkedin"), ("size", "size")):
                value = getattr(engine_pool, getter, None)
                if callable(value):
                    pool.add_metric([state], value())
            yield pool
            queues = GaugeMetricFamily("bazaar_rq_queue_depth", "Jobs waiting per RQ queue", labels=["queue"])
            try:
                from app.queues import queue_depths

                for name, depth in queue_depths().items():
                    queues.add_metric([name], depth)
            except Exception:
                app.logger.warning("metrics: queue depths unavailable", exc_info=True)
            yield queues


_collector = RuntimeCollector()
REGISTRY.register(_collector)


def init_app(app: Flask) -> None:
    @app.before_request
    def start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def observe(response):  # type: ignore[no-untyped-def]
        started = getattr(g, "metrics_started", None)
        if started is not None and request.endpoint != "platform.metrics":
            route = request.url_rule.rule if request.url_rule else "unmatched"
            LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
            REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        return response


def metrics_view() -> Response:
    _collector.app = current_app._get_current_object()  # type: ignore[attr-defined]
    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)
