"""Sending messages and reading history: the same functions serve REST, Socket.IO and other domains.

Send = lock the thread row, return the stored message if this ``client_id`` was seen (a resend after a
dropped connection), refuse blocked pairs, take the next ``seq``, store, publish ``MessageSent`` (and
``OffPlatformContactFlagged`` when the detector finds contact details) in the same transaction, and
push ``message.new`` once committed: persist first, then emit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from app.db import db, utcnow
from app.events import publish
from app.generator import Actor, ServiceError
from blueprints.messaging import attachments, blocks, detector, push
from blueprints.messaging.events import MessageSent, OffPlatformContactFlagged
from blueprints.messaging.models import MAX_BODY_CHARS, Attachment, Message, MessageKind, Thread
from blueprints.messaging.threads import NOT_FOUND, lock_for_participant, other_party, side_of, state_for

PREVIEW_CHARS = 140


@dataclass(frozen=True)
class SendResult:
    message: dict[str, Any]  # as clients see it (MessageSchema)
    duplicate: bool

    @property
    def id(self) -> str:
        return self.message["id"]


def send_message(
    *,
    thread_id: uuid.UUID,
    actor: Actor,
    client_id: str,
    body: str,
    attachment_ids: Sequence[uuid.UUID] = (),
) -> SendResult:
    """Store a participant's message once per ``client_id``; ``body`` is already trimmed (schemas)."""
    sender_id = actor.user_id
    thread = lock_for_participant(thread_id, sender_id)
    assert sender_id is not None
    existing = db.session.execute(
        select(Message).where(
            Message.thread_id == thread.id, Message.sender_id == sender_id, Message.client_id == client_id
        )
    ).scalar_one_or_none()
    if existing is not None:
        return SendResult(_replay(existing, body, attachment_ids), duplicate=True)
    recipient_id = other_party(thread, sender_id)
    blocks.check_can_contact(sender_id=sender_id, recipient_id=recipient_id)
    claimed = attachments.claim(thread_id=thread.id, sender_id=sender_id, attachment_ids=attachment_ids)
    signals = detector.signals(body)
    message = _append(
        thread,
        kind=MessageKind.TEXT,
        sender_id=sender_id,
        client_id=client_id,
        body=body,
        flags=signals,
        attachments=claimed,
        recipient_ids=[recipient_id],
    )
    if signals:
        publish(
            OffPlatformContactFlagged(
                aggregate_id=thread.id,
                actor=f"user:{sender_id}",
                thread_id=thread.id,
                message_id=message.id,
                listing_id=thread.listing_id,
                sender_id=sender_id,
                recipient_id=recipient_id,
                signals=signals,
            )
        )
    return SendResult(push.message_view(message, claimed), duplicate=False)


def _replay(existing: Message, body: str, attachment_ids: Sequence[uuid.UUID]) -> dict[str, Any]:
    """The stored message for a resend; a different message under a used ``client_id`` is a 409."""
    stored = attachments.for_messages([existing.id]).get(existing.id, [])
    if existing.body != body or [a.id for a in stored] != list(attachment_ids):
        raise ServiceError(
            "This client_id was already used for another message.",
            status=409,
            errors={"client_id": ["Already used for a different message."]},
        )
    return push.message_view(existing, stored)


def post_system_message(
    *, thread_id: uuid.UUID, code: str, text: str, key: str, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A platform note in a thread (e.g. ``offer.accepted``), idempotent per ``key``; ignores blocks."""
    if not 1 <= len(key) <= 64 or not 1 <= len(code) <= 64 or len(text) > MAX_BODY_CHARS:
        raise ValueError("system message: key and code of 1-64 characters, text within the body limit")
    thread = db.session.execute(select(Thread).where(Thread.id == thread_id).with_for_update()).scalar_one_or_none()
    if thread is None:
        raise ServiceError(NOT_FOUND, status=404)
    existing = db.session.execute(
        select(Message).where(Message.thread_id == thread.id, Message.sender_id.is_(None), Message.client_id == key)
    ).scalar_one_or_none()
    if existing is not None:
        return push.message_view(existing)
    message = _append(
        thread,
        kind=MessageKind.SYSTEM,
        sender_id=None,
        client_id=key,
        body=text,
        system_code=code,
        data=data or {},
        recipient_ids=[thread.buyer_id, thread.seller_id],
    )
    return push.message_view(message)


def _append(
    thread: Thread,
    *,
    kind: MessageKind,
    sender_id: uuid.UUID | None,
    client_id: str,
    body: str,
    recipient_ids: list[uuid.UUID],
    system_code: str | None = None,
    data: dict[str, Any] | None = None,
    flags: list[str] | None = None,
    attachments: Sequence[Attachment] = (),
) -> Message:
    """Take the thread's next seq (the row is locked), store the message, publish and schedule pushes."""
    now = utcnow()
    thread.last_seq += 1
    thread.last_activity_at = now
    thread.buyer_archived_at = thread.seller_archived_at = None  # a new message brings the thread back
    if sender_id is not None:
        setattr(thread, f"{side_of(thread, sender_id)}_read_seq", thread.last_seq)  # you read what you answer
    message = Message(
        id=uuid.uuid4(),
        thread_id=thread.id,
        seq=thread.last_seq,
        kind=kind,
        sender_id=sender_id,
        client_id=client_id,
        body=body,
        system_code=system_code,
        data=data or {},
        flags=flags or [],
        created_at=now,
    )
    db.session.add(message)
    if attachments:
        db.session.flush()  # the message row must exist before attachments point at it
        for attachment in attachments:
            attachment.message_id = message.id
    publish(
        MessageSent(
            aggregate_id=thread.id,
            actor=f"user:{sender_id}" if sender_id else "system",
            thread_id=thread.id,
            message_id=message.id,
            listing_id=thread.listing_id,
            seq=message.seq,
            kind=kind.value,
            sender_id=sender_id,
            recipient_ids=recipient_ids,
            preview=body[:PREVIEW_CHARS],
            attachment_count=len(attachments),
            system_code=system_code,
        )
    )
    view = push.message_view(message, attachments)
    push.after_commit(
        [("message.new", view, f"thread:{thread.id}")]
        + [push.to_user(user, state_for(thread, user, "message")) for user in (thread.buyer_id, thread.seller_id)]
    )
    return message


# ---- history ------------------------------------------------------------------------------------
def history(
    *, thread_id: uuid.UUID, user_id: uuid.UUID | None, before: int | None, after: int | None, limit: int
) -> dict[str, Any]:
    """A page of messages in thread order: the latest, those before ``before`` or after ``after`` (seqs).

    Seqs are contiguous (1..last_seq, assigned under the thread lock), so ``has_older``/``has_newer``
    follow from the page's ends. Three queries whatever the page size.
    """
    last_seq = db.session.execute(
        select(Thread.last_seq).where(
            Thread.id == thread_id, or_(Thread.buyer_id == user_id, Thread.seller_id == user_id)
        )
    ).scalar_one_or_none()
    if last_seq is None or user_id is None:
        raise ServiceError(NOT_FOUND, status=404)
    stmt = select(Message).where(Message.thread_id == thread_id)
    if after is not None:
        stmt = stmt.where(Message.seq > after).order_by(Message.seq.asc())
    elif before is not None:
        stmt = stmt.where(Message.seq < before).order_by(Message.seq.desc())
    else:
        stmt = stmt.order_by(Message.seq.desc())
    rows = list(db.session.execute(stmt.limit(limit)).scalars())
    if after is None:
        rows.reverse()
    files = attachments.for_messages([m.id for m in rows])
    items = [push.message_view(m, files.get(m.id, ())) for m in rows]
    first = rows[0].seq if rows else (after + 1 if after is not None else (before or last_seq + 1))
    last = rows[-1].seq if rows else first - 1
    return {
        "items": items,
        "older_than": first if first > 1 else None,
        "newer_than": last if last < last_seq else None,
    }
