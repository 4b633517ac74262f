"""Threads: one per (listing, buyer), who takes part, read markers, per-participant archive, the inbox.

A thread's participants and listing never change after it is opened, so this process caches them:
joining a thread room, relaying ``typing`` or building a send's events asks no database once the
thread has been seen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, case, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from app.db import db, utcnow
from app.events import publish
from app.generator import Actor, ServiceError
from blueprints.listings import service as listings
from blueprints.messaging import blocks, push
from blueprints.messaging.events import ThreadOpened
from blueprints.messaging.models import Message, Thread

NOT_FOUND = "No such thread."


class ThreadFacts(NamedTuple):
    """What never changes once a thread is opened."""

    buyer_id: uuid.UUID
    seller_id: uuid.UUID
    listing_id: uuid.UUID


_FACTS: dict[uuid.UUID, ThreadFacts] = {}
_CACHE_MAX = 100_000


def facts(thread_id: uuid.UUID) -> ThreadFacts | None:
    """Buyer, seller and listing of a thread (cached in this process), or None when it does not exist."""
    found = _FACTS.get(thread_id)
    if found is None:
        row = db.session.execute(
            select(Thread.buyer_id, Thread.seller_id, Thread.listing_id).where(Thread.id == thread_id)
        ).first()
        if row is None:
            return None
        if len(_FACTS) >= _CACHE_MAX:
            _FACTS.clear()
        found = _FACTS[thread_id] = ThreadFacts(*row)
    return found


def participants(thread_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(buyer_id, seller_id) of a thread, or None when it does not exist."""
    found = facts(thread_id)
    return None if found is None else (found.buyer_id, found.seller_id)


def is_participant(thread_id: uuid.UUID, user_id: uuid.UUID | None) -> bool:
    pair = participants(thread_id)
    return pair is not None and user_id in pair


def side_of(thread: Thread, user_id: uuid.UUID) -> str:
    return "buyer" if thread.buyer_id == user_id else "seller"


def other_party(thread: Thread, user_id: uuid.UUID) -> uuid.UUID:
    return thread.seller_id if thread.buyer_id == user_id else thread.buyer_id


def lock_for_participant(thread_id: uuid.UUID, user_id: uuid.UUID | None) -> Thread:
    """The thread, row-locked until commit; a 404 for anyone but its two participants."""
    thread = db.session.execute(
        select(Thread)
        .where(Thread.id == thread_id, or_(Thread.buyer_id == user_id, Thread.seller_id == user_id))
        .with_for_update()
    ).scalar_one_or_none()
    if thread is None or user_id is None:
        raise ServiceError(NOT_FOUND, status=404)
    return thread


def state_for(thread: Thread, user_id: uuid.UUID, reason: str) -> dict[str, Any]:
    """``thread.updated`` payload from ``user_id``'s side."""
    side = side_of(thread, user_id)
    read_seq = getattr(thread, f"{side}_read_seq")
    return push.thread_updated(
        thread_id=thread.id,
        reason=reason,
        last_seq=thread.last_seq,
        last_activity_at=thread.last_activity_at,
        read_seq=read_seq,
        unread_count=thread.last_seq - read_seq,
        archived=getattr(thread, f"{side}_archived_at") is not None,
    )


# ---- opening ------------------------------------------------------------------------------------
def open_thread(*, listing_id: uuid.UUID, actor: Actor) -> tuple[Thread, bool]:
    """The buyer's thread about a listing, created on first contact; ``(thread, created)``.

    An existing thread is returned whatever the listing became (sold, paused): the conversation goes
    on. A new one needs a published listing of someone else, and a seller who has not blocked you.
    """
    buyer_id = actor.user_id
    if buyer_id is None:
        raise ServiceError("Only marketplace users take part in conversations.", status=403)
    existing = db.session.execute(
        select(Thread).where(Thread.listing_id == listing_id, Thread.buyer_id == buyer_id)
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    listing = listings.get_listing_summary(listing_id=listing_id)
    if listing is not None and listing.seller_id == buyer_id:
        raise ServiceError(
            "You cannot open a conversation about your own listing.",
            status=422,
            errors={"listing_id": ["This is your own listing."]},
        )
    if listing is None or listing.status != "published":
        # Drafts, paused or removed listings are invisible to buyers: same answer as no listing at all.
        raise ServiceError(
            "No published listing with this id.", status=422, errors={"listing_id": ["No published listing."]}
        )
    blocks.check_can_contact(sender_id=buyer_id, recipient_id=listing.seller_id)
    now = utcnow()
    inserted = db.session.execute(
        insert(Thread)
        .values(
            id=uuid.uuid4(),
            listing_id=listing_id,
            buyer_id=buyer_id,
            seller_id=listing.seller_id,
            last_activity_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["listing_id", "buyer_id"])
        .returning(Thread.id)
    ).scalar_one_or_none()
    thread = db.session.execute(
        select(Thread).where(Thread.listing_id == listing_id, Thread.buyer_id == buyer_id)
    ).scalar_one()
    if inserted is None:  # a concurrent request opened it first
        return thread, False
    publish(
        ThreadOpened(
            aggregate_id=thread.id,
            actor=f"user:{buyer_id}",
            thread_id=thread.id,
            listing_id=listing_id,
            buyer_id=buyer_id,
            seller_id=listing.seller_id,
        )
    )
    return thread, True


# ---- read markers and archive -------------------------------------------------------------------
@dataclass(frozen=True)
class ReadResult:
    thread_id: uuid.UUID
    user_id: uuid.UUID
    read_seq: int
    message_id: uuid.UUID
    read_at: datetime
    unread_count: int


def mark_read(*, thread_id: uuid.UUID, actor: Actor, message_id: uuid.UUID) -> ReadResult:
    """Everything up to ``message_id`` is read (markers only move forward); pushes ``message.read``."""
    user_id = actor.user_id
    thread = lock_for_participant(thread_id, user_id)
    assert user_id is not None
    seq = db.session.execute(
        select(Message.seq).where(Message.id == message_id, Message.thread_id == thread.id)
    ).scalar_one_or_none()
    if seq is None:
        raise ServiceError(
            "No such message in this thread.", status=422, errors={"message_id": ["Not a message of this thread."]}
        )
    side = side_of(thread, user_id)
    moved = seq > getattr(thread, f"{side}_read_seq")
    if moved:
        setattr(thread, f"{side}_read_seq", seq)
    read_seq = getattr(thread, f"{side}_read_seq")
    result = ReadResult(thread.id, user_id, read_seq, message_id, utcnow(), thread.last_seq - read_seq)
    if moved:
        receipt = push.read_receipt(result)
        push.after_commit(
            [
                ("message.read", receipt, f"thread:{thread.id}"),
                push.to_user(user_id, state_for(thread, user_id, "read")),
            ]
        )
    return result


def set_archived(*, thread_id: uuid.UUID, actor: Actor, archived: bool) -> Thread:
    thread = lock_for_participant(thread_id, actor.user_id)
    assert actor.user_id is not None
    column = f"{side_of(thread, actor.user_id)}_archived_at"
    if (getattr(thread, column) is not None) != archived:
        setattr(thread, column, utcnow() if archived else None)
        reason = "archive" if archived else "unarchive"
        push.after_commit([push.to_user(actor.user_id, state_for(thread, actor.user_id, reason))])
    return thread


def archive(*, thread_id: uuid.UUID, actor: Actor) -> Thread:
    """Hide the thread from your inbox (only yours); a new message brings it back."""
    return set_archived(thread_id=thread_id, actor=actor, archived=True)


def unarchive(*, thread_id: uuid.UUID, actor: Actor) -> Thread:
    """Bring an archived thread back to your inbox."""
    return set_archived(thread_id=thread_id, actor=actor, archived=False)


# ---- inbox --------------------------------------------------------------------------------------
def _cursor_codec() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="bazaar.messaging.inbox")


def inbox(*, user_id: uuid.UUID, archived: bool, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of the user's threads, latest activity first, with unread counts (two queries)."""

    def archived_on(column: Any) -> Any:
        return column.isnot(None) if archived else column.is_(None)

    mine_as_buyer = and_(Thread.buyer_id == user_id, archived_on(Thread.buyer_archived_at))
    mine_as_seller = and_(Thread.seller_id == user_id, archived_on(Thread.seller_archived_at))
    stmt = select(Thread).where(or_(mine_as_buyer, mine_as_seller))
    if cursor:
        try:
            at, last_id, cursor_archived = _cursor_codec().loads(cursor)
            position = (datetime.fromisoformat(at), uuid.UUID(last_id))
        except (BadSignature, ValueError, TypeError):
            raise ServiceError("The cursor is not valid.", status=400, errors={"cursor": ["Invalid cursor."]}) from None
        if cursor_archived != archived:
            raise ServiceError("The cursor belongs to another query.", status=400, errors={"cursor": ["Mismatch."]})
        stmt = stmt.where(tuple_(Thread.last_activity_at, Thread.id) < position)
    rows = (
        db.session.execute(stmt.order_by(Thread.last_activity_at.desc(), Thread.id.desc()).limit(limit + 1))
        .scalars()
        .all()
    )
    page = rows[:limit]
    items = []
    for thread in page:
        side = side_of(thread, user_id)
        other = "seller" if side == "buyer" else "buyer"
        read_seq = getattr(thread, f"{side}_read_seq")
        items.append(
            {
                "id": thread.id,
                "listing_id": thread.listing_id,
                "role": side,
                "other_party_id": other_party(thread, user_id),
                "last_seq": thread.last_seq,
                "last_activity_at": thread.last_activity_at,
                "read_seq": read_seq,
                "other_read_seq": getattr(thread, f"{other}_read_seq"),
                "unread_count": thread.last_seq - read_seq,
                "archived": archived,
                "created_at": thread.created_at,
            }
        )
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = _cursor_codec().dumps([last.last_activity_at.isoformat(), str(last.id), archived])
    unread = case(
        (Thread.buyer_id == user_id, Thread.last_seq - Thread.buyer_read_seq),
        else_=Thread.last_seq - Thread.seller_read_seq,
    )
    total = db.session.execute(
        select(func.coalesce(func.sum(unread), 0)).where(or_(Thread.buyer_id == user_id, Thread.seller_id == user_id))
    ).scalar_one()
    return {"items": items, "next_cursor": next_cursor, "unread_total": int(total)}
