"""The messaging domain's public functions: the only messaging code other domains may call.

Writes work in the caller's ``db.session`` and never commit (one request, one transaction); realtime
pushes go out once that transaction commits. Reads answer plain values, never ORM rows.

- offers, payments, shipping: :func:`post_system_message` ("offer accepted", "parcel shipped"), after
  finding the thread with :func:`find_thread` or opening it with :func:`open_thread`;
- disputes, fraud: :func:`get_thread` to validate a reference, :func:`grant_staff_access` when a case
  about a thread opens (staff may then read it in the admin, audited) and :func:`close_staff_access`
  when it is settled;
- anyone: :func:`emit_to_room` of ``app.realtime`` for ``offer.updated`` / ``notification.new``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.db import db
from app.generator import Actor
from blueprints.messaging import access, threads
from blueprints.messaging.access import Grant
from blueprints.messaging.models import Thread
from blueprints.messaging.sending import SendResult, post_system_message, send_message
from blueprints.messaging.threads import archive, mark_read, unarchive

__all__ = [
    "Grant",
    "SendResult",
    "ThreadSummary",
    "archive",
    "close_staff_access",
    "find_thread",
    "get_thread",
    "grant_staff_access",
    "is_participant",
    "mark_read",
    "open_thread",
    "post_system_message",
    "send_message",
    "unarchive",
]


@dataclass(frozen=True)
class ThreadSummary:
    """What other domains may know of a thread."""

    id: uuid.UUID
    listing_id: uuid.UUID
    buyer_id: uuid.UUID
    seller_id: uuid.UUID
    last_seq: int
    created_at: datetime


def _summary(thread: Thread) -> ThreadSummary:
    return ThreadSummary(
        thread.id, thread.listing_id, thread.buyer_id, thread.seller_id, thread.last_seq, thread.created_at
    )


def get_thread(*, thread_id: uuid.UUID) -> ThreadSummary | None:
    thread = db.session.get(Thread, thread_id)
    return _summary(thread) if thread is not None else None


def find_thread(*, listing_id: uuid.UUID, buyer_id: uuid.UUID) -> ThreadSummary | None:
    """The conversation of ``buyer_id`` about ``listing_id``, if they have one."""
    thread = db.session.execute(
        select(Thread).where(Thread.listing_id == listing_id, Thread.buyer_id == buyer_id)
    ).scalar_one_or_none()
    return _summary(thread) if thread is not None else None


def open_thread(*, listing_id: uuid.UUID, actor: Actor) -> tuple[ThreadSummary, bool]:
    """The buyer's (``actor``) thread about a published listing, created if needed: ``(thread, created)``."""
    thread, created = threads.open_thread(listing_id=listing_id, actor=actor)
    return _summary(thread), created


def is_participant(*, thread_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    return threads.is_participant(thread_id, user_id)


def grant_staff_access(*, thread_id: uuid.UUID, case_type: str, case_id: uuid.UUID, reason: str, actor: Actor) -> Grant:
    """A dispute (``case_type="dispute"``) or fraud review (``"fraud_review"``) references the thread."""
    return access.grant_staff_access(
        thread_id=thread_id, case_type=case_type, case_id=case_id, reason=reason, actor=actor
    )


def close_staff_access(*, case_type: str, case_id: uuid.UUID, actor: Actor) -> int:
    return access.close_staff_access(case_type=case_type, case_id=case_id, actor=actor)
