"""Jobs the worker tests enqueue (importable by worker subprocesses)."""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import text

from app.extensions import db


def slow_job(key: str, seconds: float) -> str:
    """Marks start and end in Redis and reads the database: it needs the worker's app context."""
    redis = current_app.extensions["redis"]
    redis.set(f"{key}:started", "1")
    time.sleep(seconds)
    database = db.session.execute(text("SELECT current_database()")).scalar_one()
    redis.set(f"{key}:done", f"{current_app.name}:{database}")
    return database
