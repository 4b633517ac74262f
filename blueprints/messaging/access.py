"""Staff access to conversations: only while a dispute or a fraud review references the thread.

The domain that owns the case (disputes, fraud) calls :func:`grant_staff_access` when it opens one
about a thread, vouching that the case exists, and :func:`close_staff_access` when it is settled. The
admin shows message bodies only under an open grant, and every read (or refused attempt) leaves an
audit record naming the staff member, the thread and the case.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from app import audit
from app.db import db, utcnow
from app.generator import Actor, ServiceError
from blueprints.messaging import attachments, push
from blueprints.messaging.models import CaseType, Message, StaffAccessGrant, Thread

TARGET = "messaging.Thread"
STAFF_READ_LIMIT = 500


@dataclass(frozen=True)
class Grant:
    id: uuid.UUID
    thread_id: uuid.UUID
    case_type: str
    case_id: uuid.UUID
    reason: str
    granted_by: str
    created_at: datetime
    closed_at: datetime | None


def _grant(row: StaffAccessGrant) -> Grant:
    return Grant(
        row.id,
        row.thread_id,
        CaseType(row.case_type).value,
        row.case_id,
        row.reason,
        row.granted_by,
        row.created_at,
        row.closed_at,
    )


def _case_type(value: str) -> CaseType:
    try:
        return CaseType(value)
    except ValueError:
        raise ServiceError(
            "Unknown case type.", status=422, errors={"case_type": [f"One of: {', '.join(CaseType)}."]}
        ) from None


def _who(actor: Actor) -> str:
    return f"{actor.type}:{actor.id}"


def grant_staff_access(*, thread_id: uuid.UUID, case_type: str, case_id: uuid.UUID, reason: str, actor: Actor) -> Grant:
    """Let staff read ``thread_id`` while case ``case_type``/``case_id`` is open (re-opens a closed grant)."""
    kind = _case_type(case_type)
    if not reason.strip():
        raise ServiceError("A reason is required.", status=422, errors={"reason": ["Required."]})
    if db.session.get(Thread, thread_id) is None:
        raise ServiceError("No such thread.", status=404)
    stmt = insert(StaffAccessGrant).values(
        id=uuid.uuid4(),
        thread_id=thread_id,
        case_type=kind.value,
        case_id=case_id,
        reason=reason.strip(),
        granted_by=_who(actor),
        created_at=utcnow(),
    )
    grant_id = db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["thread_id", "case_type", "case_id"],
            set_={"closed_at": None, "reason": stmt.excluded.reason},
        ).returning(StaffAccessGrant.id)
    ).scalar_one()
    audit.record(
        action="messaging.grant_staff_access",
        target_type=TARGET,
        target_id=thread_id,
        actor_type=actor.type,
        actor_id=actor.id,
        inputs={"case_type": kind.value, "case_id": str(case_id), "reason": reason.strip()},
    )
    row = db.session.execute(
        select(StaffAccessGrant).where(StaffAccessGrant.id == grant_id).execution_options(populate_existing=True)
    ).scalar_one()
    return _grant(row)


def close_staff_access(*, case_type: str, case_id: uuid.UUID, actor: Actor) -> int:
    """The case is settled: staff lose access to every thread it referenced. Returns grants closed."""
    kind = _case_type(case_type)
    closed = db.session.execute(
        update(StaffAccessGrant)
        .where(StaffAccessGrant.case_type == kind.value, StaffAccessGrant.case_id == case_id)
        .where(StaffAccessGrant.closed_at.is_(None))
        .values(closed_at=utcnow())
        .returning(StaffAccessGrant.thread_id)
    ).scalars()
    threads = list(closed)
    for thread_id in threads:
        audit.record(
            action="messaging.close_staff_access",
            target_type=TARGET,
            target_id=thread_id,
            actor_type=actor.type,
            actor_id=actor.id,
            inputs={"case_type": kind.value, "case_id": str(case_id)},
        )
    return len(threads)


def grants_for(*, thread_id: uuid.UUID, open_only: bool = False) -> list[Grant]:
    stmt = select(StaffAccessGrant).where(StaffAccessGrant.thread_id == thread_id)
    if open_only:
        stmt = stmt.where(StaffAccessGrant.closed_at.is_(None))
    return [_grant(g) for g in db.session.execute(stmt.order_by(StaffAccessGrant.created_at.desc())).scalars()]


def read_as_staff(*, thread_id: uuid.UUID, grant_id: uuid.UUID | None, staff_id: str) -> dict[str, Any] | None:
    """The thread's messages under an open grant, audited; None (audited as denied) without one.

    The caller commits in both cases, so a refused attempt is on record too.
    """
    grant = None
    if grant_id is not None:
        grant = db.session.execute(
            select(StaffAccessGrant).where(
                StaffAccessGrant.id == grant_id,
                StaffAccessGrant.thread_id == thread_id,
                StaffAccessGrant.closed_at.is_(None),
            )
        ).scalar_one_or_none()
    if grant is None:
        audit.record(
            action="messaging.staff_read",
            target_type=TARGET,
            target_id=thread_id,
            actor_type="staff",
            actor_id=staff_id,
            inputs={"grant_id": str(grant_id) if grant_id else None},
            outcome="denied",
            result={"detail": "no open dispute or fraud review references this thread"},
        )
        return None
    rows = list(
        db.session.execute(
            select(Message).where(Message.thread_id == thread_id).order_by(Message.seq.desc()).limit(STAFF_READ_LIMIT)
        ).scalars()
    )
    rows.reverse()
    files = attachments.for_messages([m.id for m in rows])
    messages = [{**push.message_view(m, files.get(m.id, ())), "flags": list(m.flags)} for m in rows]
    audit.record(
        action="messaging.staff_read",
        target_type=TARGET,
        target_id=thread_id,
        actor_type="staff",
        actor_id=staff_id,
        inputs={"grant_id": str(grant.id), "case_type": CaseType(grant.case_type).value, "case_id": str(grant.case_id)},
        result={"messages": len(messages), "seqs": [rows[0].seq, rows[-1].seq] if rows else []},
    )
    return {"grant": _grant(grant), "messages": messages}
