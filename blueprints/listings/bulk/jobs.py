"""Starting import jobs, their watchdog, and the report (row, field, code, message) as CSV.

The upload is stored with the job (``import_files``) and the job is enqueued on the ``imports``
queue once the transaction commits. A durable watchdog timer checks running jobs: one whose
progress stopped (its worker died) is enqueued again and resumes from its last checkpoint.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import timedelta

import sqlalchemy as sa

from app.db import db, utcnow
from app.events import FiredTimer, on_commit, on_timer, schedule
from app.generator import Actor, ServiceError
from blueprints.listings.bulk.reading import MAX_BYTES
from blueprints.listings.models import ImportFile, ImportFormat, ImportIssue, ImportJob, ImportMode, ImportStatus

WATCHDOG = "listings.import_watchdog"
WATCHDOG_EVERY = timedelta(minutes=2)
STALE_AFTER = timedelta(minutes=2)
REPORT_COLUMNS = ("row", "sku", "field", "code", "message")


def _enqueue(job_id: uuid.UUID) -> None:
    from app.queues import enqueue
    from blueprints.listings.tasks import run_import_job

    enqueue("imports", run_import_job, str(job_id), job_timeout=3600)


def start_import(
    *, seller_id: uuid.UUID, actor: Actor, filename: str, content: bytes, file_format: str, mode: str
) -> ImportJob:
    """Store the upload as a queued job; the worker picks it up after the caller commits."""
    errors: dict[str, list[str]] = {}
    if file_format not in {f.value for f in ImportFormat}:
        errors["format"] = ["Must be one of: csv, jsonl."]
    if mode not in {m.value for m in ImportMode}:
        errors["mode"] = ["Must be one of: dry_run, create_valid, all_or_nothing."]
    if not content:
        errors["file"] = ["The file is empty."]
    elif len(content) > MAX_BYTES:
        errors["file"] = [f"Larger than {MAX_BYTES // (1024 * 1024)} MB."]
    if errors:
        raise ServiceError("The upload cannot be imported.", status=422, errors=errors)
    job = ImportJob(
        id=uuid.uuid4(),
        seller_id=seller_id,
        uploaded_by=f"{actor.type}:{actor.id}",
        filename=filename[:255],
        file_format=ImportFormat(file_format),
        mode=ImportMode(mode),
        status=ImportStatus.QUEUED,
        size_bytes=len(content),
    )
    db.session.add(job)
    db.session.flush()  # the file row references the job
    db.session.add(ImportFile(job_id=job.id, content=content))
    schedule(WATCHDOG, utcnow() + WATCHDOG_EVERY, {"job_id": str(job.id)}, key=str(job.id))
    job_id = job.id
    on_commit(lambda: _enqueue(job_id))
    return job


@on_timer(WATCHDOG)
def watch_import(timer: FiredTimer) -> None:
    """Re-enqueue a job whose worker stopped making progress; keep watching until it finishes."""
    job = db.session.get(ImportJob, uuid.UUID(timer.payload["job_id"]))
    if job is None or job.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED):
        return
    if job.updated_at < utcnow() - STALE_AFTER:
        job_id = job.id
        on_commit(lambda: _enqueue(job_id))
    schedule(WATCHDOG, utcnow() + WATCHDOG_EVERY, {"job_id": str(job.id)}, key=str(job.id))


def report_rows(*, job_id: uuid.UUID) -> Iterator[tuple]:
    """The report lines of a job, by row number (row 0 is a problem with the whole file)."""
    stmt = (
        sa.select(ImportIssue.row_number, ImportIssue.sku, ImportIssue.field, ImportIssue.code, ImportIssue.message)
        .where(ImportIssue.job_id == job_id)
        .order_by(ImportIssue.row_number, ImportIssue.field)
        .execution_options(yield_per=5_000)
    )
    yield from db.session.execute(stmt).tuples()


def report_csv(*, job_id: uuid.UUID) -> Iterator[str]:
    """The report as CSV text, streamed in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REPORT_COLUMNS)
    for count, line in enumerate(report_rows(job_id=job_id), 1):
        writer.writerow(["" if v is None else v for v in line])
        if count % 2_000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
