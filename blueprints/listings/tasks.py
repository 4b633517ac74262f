"""RQ jobs of the listings domain (queue ``imports``); they take ids and run in an app context."""

from __future__ import annotations

import uuid


def run_import_job(job_id: str) -> str:
    """Run or resume a bulk import (idempotent: a finished job returns at once)."""
    from blueprints.listings.bulk.runner import run_import

    return run_import(uuid.UUID(job_id))
