"""A worker SIGKILLed in the middle of an import: the rerun resumes at the checkpoint, no duplicates.

Process-spawning test (a real worker process, killed with SIGKILL); every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from blueprints.listings.models import Category, ImportJob, Listing
from tests.listings.factories import CAMERA_SCHEMA
from tests.listings.importing import csv_bytes, row, run, upload

ROWS = 6_000
pytestmark = pytest.mark.slow  # starts a worker process


def test_killed_worker_resumes_without_duplicates(app, client, seller) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        db.session.add(Category(name="Cameras", slug="cameras", attributes_schema=CAMERA_SCHEMA))
        db.session.commit()
    job_id = upload(client, seller.headers, csv_bytes([row(n) for n in range(1, ROWS + 1)])).json["id"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.listings.import_worker", job_id, "100"],
        cwd=os.getcwd(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    processed = 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            with app.app_context():
                processed = db.session.execute(
                    sa.select(ImportJob.processed_rows).where(ImportJob.id == job_id)
                ).scalar_one()
            if processed >= 500 or worker.poll() is not None:
                break
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(timeout=10)
    assert 0 < processed < ROWS, f"the worker should die mid-import (processed {processed})"
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        assert job.status == "running" and job.attempts == 1
        checkpoint = job.processed_rows
        written = db.session.execute(sa.select(sa.func.count()).select_from(Listing)).scalar_one()
        assert written == job.created_count == checkpoint  # batches commit with their checkpoint
    # the watchdog (or a retry) runs it again: it resumes after the checkpoint
    assert run(app, job_id, batch_size=500) == "succeeded"
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        assert (job.processed_rows, job.created_count, job.failed_count, job.attempts) == (ROWS, ROWS, 0, 2)
        total, distinct = db.session.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(Listing.sku))).where(Listing.seller_id == seller.id)
        ).one()
        assert total == distinct == ROWS
