"""The import job: read the stored file, validate every row, write in batches, report progress.

Modes: ``dry_run`` validates only; ``create_valid`` writes the valid rows and reports the others;
``all_or_nothing`` validates everything first and writes only if no row failed, in one transaction.

Resumable: one run holds a session advisory lock on the job (a second worker leaves it alone; a
killed worker's lock dies with its connection). In ``create_valid`` and ``dry_run`` each batch
commits its rows, its report lines and the ``processed_rows`` checkpoint together, so a rerun
continues after the last committed batch; rows are keyed by (seller, sku), so nothing duplicates.
"""

from __future__ import annotations

import gc
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from app.db import db, utcnow
from blueprints.listings.bulk.ahead import validate_batch, validated_ahead
from blueprints.listings.bulk.reading import ImportFileError, iter_batches, read_file
from blueprints.listings.bulk.rows import Issue, RowValidator, ValidRow
from blueprints.listings.bulk.writing import Outcome, write_rows
from blueprints.listings.models import ImportFile, ImportIssue, ImportJob, ImportMode, ImportStatus

log = logging.getLogger(__name__)
BATCH_SIZE = 2_000
LOCK_SPACE = 6006  # advisory lock namespace of import jobs
GC_YOUNG = 50_000  # allocations between collections of the youngest generation during a job


def _notify(job: ImportJob) -> None:
    """Push the job's progress to its uploader's room (after the commit that recorded it)."""
    from app.realtime import emit_to_room

    kind, _, user_id = job.uploaded_by.partition(":")
    payload = progress_of(job)
    try:
        if kind == "user":
            emit_to_room("listings.import.progress", payload, room=f"user:{user_id}")
        if str(job.seller_id) != user_id:
            emit_to_room("listings.import.progress", payload, room=f"user:{job.seller_id}")
    except Exception:  # progress pushes are best effort; the job row is the truth
        log.warning("could not push import progress for %s", job.id, exc_info=True)


def progress_of(job: ImportJob) -> dict[str, Any]:
    return {
        "job_id": str(job.id),
        "status": ImportStatus(job.status).value,
        "processed_rows": job.processed_rows,
        "total_rows": job.total_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "skipped": job.skipped_count,
        "failed": job.failed_count,
    }


def _save_issues(job_id: uuid.UUID, issues: list[Issue]) -> None:
    if issues:
        db.session.execute(
            sa.insert(ImportIssue),
            [
                {
                    "id": uuid.uuid4(),
                    "job_id": job_id,
                    "row_number": i.row,
                    "sku": i.sku,
                    "field": i.field[:100],
                    "code": i.code,
                    "message": i.message,
                }
                for i in issues
            ],
        )


def _commit(job: ImportJob) -> None:
    job.updated_at = utcnow()
    db.session.commit()
    _notify(job)


@contextmanager
def _collector_spared() -> Iterator[None]:
    """Keep the cyclic GC from re-scanning the parsed file (up to 100,000 row dicts) all the import long.

    Objects alive on entry (the parsed rows) move to the permanent generation until the job ends: a full
    collection then walks only what the batches allocate (it cost a third of the validation time).
    Skipped if something else in the process already froze objects (it will unfreeze them itself).
    The youngest generation is also collected less often while the job runs (every ``GC_YOUNG``
    allocations instead of 700): a row's temporaries are freed by reference counting long before, and
    the frequent collections were still ~7 % of validation. Restored when the job ends.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], GC_YOUNG), *thresholds[1:])
    try:
        if gc.get_freeze_count():
            yield
            return
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
    finally:
        gc.set_threshold(*thresholds)


def run_import(job_id: uuid.UUID, *, batch_size: int = BATCH_SIZE) -> str:
    """Run (or resume) one import job; returns its final status, or ``busy`` if another run holds it."""
    with db.engine.connect() as lock:
        key = sa.func.hashtextextended(str(job_id), LOCK_SPACE)
        if not lock.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar():
            return "busy"
        try:
            return _run(job_id, batch_size)
        finally:
            db.session.rollback()
            lock.execute(sa.select(sa.func.pg_advisory_unlock(key)))
            lock.commit()


def _run(job_id: uuid.UUID, batch_size: int) -> str:
    job = db.session.get(ImportJob, job_id)
    if job is None:
        return "missing"
    if job.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED):
        return ImportStatus(job.status).value
    content = db.session.execute(sa.select(ImportFile.content).where(ImportFile.job_id == job_id)).scalar_one()
    try:
        parsed = read_file(content, job.file_format)
    except ImportFileError as error:
        db.session.execute(sa.delete(ImportIssue).where(ImportIssue.job_id == job_id))
        _save_issues(job_id, [Issue(0, "file", error.code, error.message)])
        job.status, job.error, job.finished_at = ImportStatus.FAILED, error.message, utcnow()
        _commit(job)
        return job.status.value
    with _collector_spared():
        return _run_rows(job, parsed.rows, batch_size)


def _run_rows(job: ImportJob, rows: list, batch_size: int) -> str:
    job_id = job.id
    job.status, job.total_rows, job.attempts = ImportStatus.RUNNING, len(rows), job.attempts + 1
    job.started_at = job.started_at or utcnow()
    if job.mode == ImportMode.ALL_OR_NOTHING:
        job.processed_rows = job.created_count = job.updated_count = job.skipped_count = job.failed_count = 0
    db.session.execute(
        sa.delete(ImportIssue).where(ImportIssue.job_id == job_id, ImportIssue.row_number > job.processed_rows)
    )
    _commit(job)
    validator = RowValidator(seller_id=job.seller_id, is_csv=job.file_format == "csv")
    if job.mode == ImportMode.ALL_OR_NOTHING:
        return _all_or_nothing(job, rows, validator, batch_size)
    write = job.mode == ImportMode.CREATE_VALID
    with validated_ahead(rows, job.processed_rows, batch_size, validator, write=write) as ahead:  # in a child
        for batch, valid, issues in ahead:
            if write:
                outcome = write_rows(job.seller_id, valid, issues)
                ahead.created(outcome.created > 0)
                _count(job, outcome)
            _finish_batch(job, batch, issues)
    return _close(job)


def _count(job: ImportJob, outcome: Outcome) -> None:
    job.created_count += outcome.created
    job.updated_count += outcome.updated
    job.skipped_count += outcome.skipped


def _finish_batch(job: ImportJob, batch: list, issues: list[Issue]) -> None:
    _save_issues(job.id, issues)
    job.failed_count += len({i.row for i in issues})
    job.processed_rows = batch[-1][0] if batch else job.processed_rows
    job.processed_rows = min(job.processed_rows, job.total_rows or job.processed_rows)
    _commit(job)


def _close(job: ImportJob) -> str:
    job.status, job.finished_at = ImportStatus.SUCCEEDED, utcnow()
    job.processed_rows = job.total_rows or job.processed_rows
    _commit(job)
    return job.status.value


def _all_or_nothing(job: ImportJob, rows: list, validator: RowValidator, batch_size: int) -> str:
    seen: dict[str, int] = {}
    valid_rows: list[ValidRow] = []
    for batch in iter_batches(rows, 0, batch_size):
        valid, issues = validate_batch(batch, validator, seen)
        valid_rows.extend(valid)
        _finish_batch(job, batch, issues)
    if job.failed_count:
        job.status, job.finished_at = ImportStatus.FAILED, utcnow()
        job.error = f"{job.failed_count} rows failed validation; nothing was imported (all_or_nothing)."
        _commit(job)
        return job.status.value
    outcome, issues = Outcome(), []
    for offset in range(0, len(valid_rows), batch_size):  # one transaction: all rows or none
        part = write_rows(job.seller_id, valid_rows[offset : offset + batch_size], issues)
        outcome.created, outcome.updated = outcome.created + part.created, outcome.updated + part.updated
        outcome.skipped += part.skipped
    if issues:
        db.session.rollback()
        job = db.session.get(ImportJob, job.id)
        _save_issues(job.id, issues)
        job.failed_count = len({i.row for i in issues})
        job.status, job.finished_at = ImportStatus.FAILED, utcnow()
        job.error = "Some rows could not be applied; nothing was imported (all_or_nothing)."
        _commit(job)
        return job.status.value
    _count(job, outcome)
    return _close(job)
