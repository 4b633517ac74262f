"""Probes and metrics: ``/healthz`` (process up), ``/readyz`` (dependencies usable), ``/metrics``."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from app.extensions import db
from app.metrics import metrics_view
from app.migrate import pending_migrations

bp = Blueprint("platform", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready only when PostgreSQL and Redis answer and the schema is at the code's migration heads."""
    checks: dict[str, dict[str, str]] = {}
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            pending = pending_migrations(connection)
        checks["postgresql"] = {"status": "ok"}
        checks["migrations"] = (
            {"status": "ok"}
            if not pending
            else {
                "status": "failing",
                "reason": f"not migrated: run `bazaar db upgrade` ({len(pending)} head(s) pending)",
            }
        )
    except Exception as exc:  # noqa: BLE001 - any failure is a reason for the probe, never a stack trace
        checks["postgresql"] = {"status": "failing", "reason": type(exc).__name__ + ": " + str(exc).splitlines()[0]}
        checks["migrations"] = {"status": "unknown", "reason": "database unreachable"}
    try:
        current_app.extensions["redis"].ping()
        checks["redis"] = {"status": "ok"}
    except Exception as exc:  # noqa: BLE001 - any failure is a reason for the probe, never a stack trace
        checks["redis"] = {"status": "failing", "reason": type(exc).__name__ + ": " + str(exc).splitlines()[0]}
    ready = all(check["status"] == "ok" for check in checks.values())
    return jsonify(status="ok" if ready else "failing", checks=checks), 200 if ready else 503


bp.add_url_rule("/metrics", "metrics", metrics_view)
