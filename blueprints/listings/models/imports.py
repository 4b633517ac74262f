"""Bulk imports: the job (mode, progress, outcome), its uploaded file, and the per-row report.

The worker checkpoints ``processed_rows`` with each committed batch, so a killed worker resumes
where the last batch ended; rows are keyed by ``(seller_id, sku)``, so even a replayed batch never
duplicates a listing.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.db import Model, Timestamps, UUIDPk
from blueprints.listings.models.catalog import SCHEMA, _enum


class ImportMode(enum.StrEnum):
    DRY_RUN = "dry_run"
    CREATE_VALID = "create_valid"
    ALL_OR_NOTHING = "all_or_nothing"


class ImportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ImportFormat(enum.StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class ImportJob(UUIDPk, Timestamps, Model):
    """One uploaded file being imported for a seller; counters are the progress clients see."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        CheckConstraint("processed_rows >= 0 AND created_count >= 0 AND failed_count >= 0", name="counters"),
        Index("ix_import_jobs_seller_created", "seller_id", "created_at"),
        {"schema": SCHEMA},
    )

    seller_id: Mapped[uuid.UUID] = mapped_column(nullable=False)  # whose listings the rows become
    uploaded_by: Mapped[str] = mapped_column(String(80), nullable=False)  # "user:<id>" or "staff:<id>"
    filename: Mapped[str] = mapped_column(String(255), default="", server_default="", nullable=False)
    file_format: Mapped[ImportFormat] = mapped_column(_enum(ImportFormat, "import_format"), nullable=False)
    mode: Mapped[ImportMode] = mapped_column(_enum(ImportMode, "import_mode"), nullable=False)
    status: Mapped[ImportStatus] = mapped_column(
        _enum(ImportStatus, "import_status"), default=ImportStatus.QUEUED, nullable=False
    )
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total_rows: Mapped[int | None] = mapped_column(Integer)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    created_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    updated_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    failed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    error: Mapped[str | None] = mapped_column(Text)  # a file-level problem (encoding, columns, not CSV...)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __str__(self) -> str:
        return f"{self.filename or 'import'} ({self.status})"


class ImportFile(Model):
    """The uploaded bytes, kept with the job so any worker (on any host) can read and resume it."""

    __tablename__ = "import_files"
    __table_args__ = {"schema": SCHEMA}

    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.import_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))


class ImportIssue(UUIDPk, Model):
    """One line of the report: a row (1 = the first data row), the field, a code and the message."""

    __tablename__ = "import_issues"
    __table_args__ = (Index("ix_import_issues_job_row", "job_id", "row_number"), {"schema": SCHEMA})

    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.import_jobs.id", ondelete="CASCADE"), nullable=False
    )
    row_number: Mapped[int] = mapped_column(Integer, nullable=False)
    sku: Mapped[str | None] = mapped_column(String(100))
    field: Mapped[str] = mapped_column(String(100), nullable=False)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
