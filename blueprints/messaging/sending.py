"""Sending messages and reading history: the same functions serve REST, Socket.IO and other domains.

A text message is sent in ONE statement (``SEND``): lock the thread row for a participant (reading
any block between the two), insert the message as the thread's next ``seq`` unless this
``(sender, client_id)`` is already stored (a resend after a dropped connection: the stored message
is then looked up and returned), move the thread forward, write ``MessageSent`` (and
``OffPlatformContactFlagged`` when the detector finds contact details) to the outbox and wake the
relay. Socket.IO runs it on its own autocommit connection (:func:`send_text_now`: one round trip,
committed when it returns, then ``message.new`` is pushed); REST and other domains run it inside
their transaction (:func:`send_message`, pushed after their commit). Persist, then emit.
Messages with attachments and system messages lock the thread first, then store (two statements).
That one push goes to the thread room and both participants' user rooms (inboxes update from it:
unread = its ``seq`` minus your read marker, which your own messages move).
It is the hot path of chat, so it uses driver SQL and plain dicts (no ORM rows, no marshmallow).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import or_, select, update

from app import pool
from app.db import db, utcnow
from app.events import NOTIFY_CHANNEL, OUTBOX_COLUMNS, DomainEvent, outbox_values
from app.generator import Actor, ServiceError
from blueprints.messaging import attachments, blocks, detector, push, threads
from blueprints.messaging.events import MessageSent, OffPlatformContactFlagged
from blueprints.messaging.models import MAX_BODY_CHARS, Attachment, Message, MessageKind, Thread
from blueprints.messaging.threads import NOT_FOUND

log = logging.getLogger(__name__)
PREVIEW_CHARS = 140
ATTACHMENTS = Attachment.__table__  # Core: ORM-enabled DML would synchronise the session for nothing

# Store a message as the thread's next seq, move the thread forward, write its events to the outbox
# and wake the relay, in one round trip (the thread row is locked by the statement before). Written
# as driver SQL because it is chat's hot path (SQLAlchemy recompiled PostgreSQL INSERT .. ON CONFLICT
# constructs on every send, and processes every parameter and row in Python); the outbox rows and
# the NOTIFY are the ones ``publish`` would write at flush and commit, two round trips more. A
# (sender, client_id) already stored inserts nothing, so nothing moves and nothing is published.
_STORE = """
WITH stored AS (
    INSERT INTO messaging.messages
        (id, thread_id, seq, kind, sender_id, client_id, body, system_code, data, flags, created_at)
    VALUES (%(id)s, %(thread_id)s, %(seq)s, %(kind)s, %(sender_id)s, %(client_id)s, %(body)s, %(system_code)s,
            %(data)s, %(flags)s, %(now)s)
    ON CONFLICT (thread_id, sender_id, client_id) DO NOTHING
    RETURNING seq
), moved AS (
    UPDATE messaging.threads AS t
    SET last_seq = stored.seq, last_activity_at = %(now)s, updated_at = %(now)s,
        buyer_archived_at = NULL, seller_archived_at = NULL /* the sender's read marker */
    FROM stored
    WHERE t.id = %(thread_id)s AND t.last_seq + 1 = stored.seq
    RETURNING t.last_seq
), published AS (
    INSERT INTO platform.outbox_events ({columns})
    {events}
)
SELECT moved.last_seq, pg_notify(%(channel)s, '') FROM moved
"""
MAX_EVENTS = 2  # MessageSent, and OffPlatformContactFlagged when the detector found something


def _store_statement(side: str | None, events: int) -> str:
    rows = "\n    UNION ALL ".join(
        f"SELECT {', '.join(f'%(e{n}_{column})s' for column in OUTBOX_COLUMNS)} FROM moved"  # noqa: S608 (constants)
        for n in range(events)
    )
    return _STORE.format(columns=", ".join(OUTBOX_COLUMNS), events=rows).replace(
        "/* the sender's read marker */", f", {side}_read_seq = stored.seq" if side else ""
    )


STORE = {
    (side, events): _store_statement(side, events)
    for side in ("buyer", "seller", None)
    for events in range(1, MAX_EVENTS + 1)
}


# A participant's text message in one statement. The thread row is locked first (FOR UPDATE in a
# CTE: under READ COMMITTED a concurrent sender's committed update is waited for and its row version
# returned, so ``last_seq`` is the latest); the message takes ``last_seq + 1``, or nothing is inserted
# when this (sender, client_id) is stored already (ON CONFLICT sees committed rows whatever the
# snapshot) or a block stands; only an inserted message moves the thread (its UPDATE re-checks the
# row it locked), is published and wakes the relay, so a resend never uses up a seq. Data-modifying
# CTEs all run to completion whether or not the final SELECT reads them.
_SEND = """
WITH thread AS MATERIALIZED (
    SELECT t.id, t.last_seq,
           (SELECT array_agg(b.blocker_id) FROM messaging.blocks AS b
            WHERE (b.blocker_id = t.buyer_id AND b.blocked_id = t.seller_id)
               OR (b.blocker_id = t.seller_id AND b.blocked_id = t.buyer_id)) AS blockers
    FROM messaging.threads AS t
    WHERE t.id = %(thread_id)s AND t.{side}_id = %(sender_id)s
    FOR UPDATE OF t
), stored AS (
    INSERT INTO messaging.messages
        (id, thread_id, seq, kind, sender_id, client_id, body, system_code, data, flags, created_at)
    SELECT %(id)s, thread.id, thread.last_seq + 1, 'text', %(sender_id)s, %(client_id)s, %(body)s, NULL,
           '{{}}'::jsonb, %(flags)s, %(now)s
    FROM thread
    WHERE thread.blockers IS NULL
    ON CONFLICT (thread_id, sender_id, client_id) DO NOTHING
    RETURNING seq
), moved AS (
    UPDATE messaging.threads AS t
    SET last_seq = stored.seq, last_activity_at = %(now)s, updated_at = %(now)s,
        buyer_archived_at = NULL, seller_archived_at = NULL, {side}_read_seq = stored.seq
    FROM stored
    WHERE t.id = %(thread_id)s
    RETURNING t.last_seq
), published AS (
    INSERT INTO platform.outbox_events ({columns})
    {events}
)
SELECT thread.blockers, woken.last_seq
FROM thread LEFT JOIN (SELECT moved.last_seq, pg_notify(%(channel)s, '') FROM moved) AS woken ON true
"""


def _send_statement(side: str, events: int) -> str:
    # The first event is MessageSent: its seq is the one the statement assigned.
    rows = "\n    UNION ALL ".join(
        "SELECT "  # noqa: S608 (constants)
        + ", ".join(
            f"%(e{n}_payload)s || jsonb_build_object('seq', moved.last_seq)"
            if (n, column) == (0, "payload")
            else f"%(e{n}_{column})s"
            for column in OUTBOX_COLUMNS
        )
        + " FROM moved"
        for n in range(events)
    )
    return _SEND.format(side=side, columns=", ".join(OUTBOX_COLUMNS), events=rows)


SEND = {(side, events): _send_statement(side, events) for side in ("buyer", "seller") for events in (1, 2)}


@dataclass(frozen=True)
class SendResult:
    message: dict[str, Any]  # as clients see it (MessageSchema)
    duplicate: bool

    @property
    def id(self) -> str:
        return self.message["id"]


# The thread row, locked until commit, with who blocked whom between its two participants. Sent
# as driver SQL, like the store: SQLAlchemy's per-execution work on a built select (cache key,
# parameter and result processing) cost more CPU than PostgreSQL spent running it.
_LOCK = """
SELECT t.id, t.listing_id, t.buyer_id, t.seller_id, t.last_seq,
       (SELECT array_agg(b.blocker_id) FROM messaging.blocks AS b
        WHERE (b.blocker_id = t.buyer_id AND b.blocked_id = t.seller_id)
           OR (b.blocker_id = t.seller_id AND b.blocked_id = t.buyer_id)) AS blockers
FROM messaging.threads AS t
WHERE t.id = %(thread_id)s {participant}
FOR UPDATE OF t
"""
LOCK_FOR_PARTICIPANT = _LOCK.format(participant="AND (t.buyer_id = %(user_id)s OR t.seller_id = %(user_id)s)")
LOCK_FOR_SYSTEM = _LOCK.format(participant="")


def _lock(thread_id: uuid.UUID, participant: uuid.UUID | None, *, system: bool = False) -> Any:
    """The thread row locked until commit (plus blockers), or a 404 for non-participants."""
    connection = db.session.connection()
    if system:
        row = connection.exec_driver_sql(LOCK_FOR_SYSTEM, {"thread_id": thread_id}).first()
    elif participant is None:
        row = None
    else:
        row = connection.exec_driver_sql(LOCK_FOR_PARTICIPANT, {"thread_id": thread_id, "user_id": participant}).first()
    if row is None:
        raise ServiceError(NOT_FOUND, status=404)
    return row


def send_message(
    *,
    thread_id: uuid.UUID,
    actor: Actor,
    client_id: str,
    body: str,
    attachment_ids: Sequence[uuid.UUID] = (),
) -> SendResult:
    """Store a participant's message once per ``client_id`` in the caller's transaction (``message.new``
    is pushed after its commit); ``body`` is already trimmed (schemas)."""
    if not attachment_ids:
        return _send_text(_in_session, thread_id=thread_id, actor=actor, client_id=client_id, body=body)
    sender_id = actor.user_id
    thread = _lock(thread_id, sender_id)
    assert sender_id is not None
    # a resend must not trip over its own, already claimed, attachments
    existing = _existing(thread.id, sender_id, client_id)
    if existing is not None:
        return SendResult(_replay(existing, body, attachment_ids), duplicate=True)
    recipient_id = thread.seller_id if thread.buyer_id == sender_id else thread.buyer_id
    _refuse_blocked(thread.blockers, sender_id=sender_id, recipient_id=recipient_id)
    claimed = attachments.claim(thread_id=thread.id, sender_id=sender_id, attachment_ids=attachment_ids)
    signals = detector.signals(body)
    message_id = uuid.uuid4()
    message = _append(
        thread,
        message_id=message_id,
        kind=MessageKind.TEXT,
        sender_id=sender_id,
        client_id=client_id,
        body=body,
        flags=signals,
        attachments=claimed,
        recipient_ids=[recipient_id],
        also_publish=_flagged(
            signals,
            thread_id=thread.id,
            message_id=message_id,
            listing_id=thread.listing_id,
            sender_id=sender_id,
            recipient_id=recipient_id,
        ),
    )
    if message is None:  # (sender, client_id) already stored: this is a resend
        existing = _existing(thread.id, sender_id, client_id)
        assert existing is not None
        return SendResult(_replay(existing, body, attachment_ids), duplicate=True)
    return SendResult(message, duplicate=False)


def send_text_now(*, thread_id: uuid.UUID, actor: Actor, client_id: str, body: str) -> SendResult:
    """A participant's text message stored and committed in one autocommit statement of its own (not in
    ``db.session``'s transaction), then pushed at once: Socket.IO's ``message.send``."""
    return _send_text(_autocommit, thread_id=thread_id, actor=actor, client_id=client_id, body=body)


Run = Callable[[str, dict[str, Any]], Any]  # runs SEND, returns its one row (or None)


def _in_session(statement: str, parameters: dict[str, Any]) -> Any:
    return db.session.connection().exec_driver_sql(statement, parameters).first()


def _autocommit(statement: str, parameters: dict[str, Any]) -> Any:
    with pool.autocommit() as conn:
        return conn.execute(statement, parameters, prepare=True).fetchone()  # type: ignore[arg-type]


def _send_text(run: Run, *, thread_id: uuid.UUID, actor: Actor, client_id: str, body: str) -> SendResult:
    sender_id = actor.user_id
    thread = threads.facts(thread_id)
    if thread is None or sender_id is None or sender_id not in (thread.buyer_id, thread.seller_id):
        raise ServiceError(NOT_FOUND, status=404)
    side, recipient_id = ("buyer", thread.seller_id) if sender_id == thread.buyer_id else ("seller", thread.buyer_id)
    signals = detector.signals(body)
    message_id = uuid.uuid4()
    now = utcnow()
    sent = MessageSent(
        aggregate_id=thread_id,
        actor=f"user:{sender_id}",
        thread_id=thread_id,
        message_id=message_id,
        listing_id=thread.listing_id,
        seq=0,  # SEND writes the seq it assigned into the outbox payload
        kind=MessageKind.TEXT.value,
        sender_id=sender_id,
        recipient_ids=[recipient_id],
        preview=body[:PREVIEW_CHARS],
    )
    events = [
        sent,
        *_flagged(
            signals,
            thread_id=thread_id,
            message_id=message_id,
            listing_id=thread.listing_id,
            sender_id=sender_id,
            recipient_id=recipient_id,
        ),
    ]
    row = run(
        SEND[side, len(events)],
        {
            **_outbox_parameters(events),
            "channel": NOTIFY_CHANNEL,
            "id": message_id,
            "thread_id": thread_id,
            "sender_id": sender_id,
            "client_id": client_id,
            "body": body,
            "flags": Jsonb(signals),
            "now": now,
        },
    )
    if row is None:  # the thread is gone (threads are never deleted while in use; as for a stranger)
        raise ServiceError(NOT_FOUND, status=404)
    blockers, seq = row
    _refuse_blocked(blockers, sender_id=sender_id, recipient_id=recipient_id)
    if seq is None:  # (sender, client_id) already stored: this is a resend
        existing = _existing(thread_id, sender_id, client_id)
        assert existing is not None
        return SendResult(_replay(existing, body, ()), duplicate=True)
    view = push.message_dict(
        id=message_id,
        thread_id=thread_id,
        seq=seq,
        kind=MessageKind.TEXT.value,
        sender_id=sender_id,
        client_id=client_id,
        body=body,
        system_code=None,
        data={},
        attachments=(),
        created_at=now,
    )
    emits: list[push.Emit] = [("message.new", view, _rooms(thread_id, thread.buyer_id, thread.seller_id))]
    if run is _autocommit:
        try:
            push.now(emits)  # committed already
        except Exception:  # as after a commit: the message is stored, clients catch up with ?after=
            log.exception("message.new for %s not pushed", message_id)
    else:
        push.after_commit(emits)
    return SendResult(view, duplicate=False)


def _refuse_blocked(blockers: Sequence[uuid.UUID] | None, *, sender_id: uuid.UUID, recipient_id: uuid.UUID) -> None:
    if blockers and recipient_id in blockers:
        raise ServiceError(blocks.NOT_ACCEPTED, status=403)
    if blockers and sender_id in blockers:
        raise ServiceError(blocks.YOU_BLOCKED, status=403)


def _flagged(signals: list[str], **fields: Any) -> list[DomainEvent]:
    """``OffPlatformContactFlagged`` when the detector found contact details in the message."""
    if not signals:
        return []
    return [
        OffPlatformContactFlagged(
            aggregate_id=fields["thread_id"], actor=f"user:{fields['sender_id']}", signals=signals, **fields
        )
    ]


def _outbox_parameters(events: Sequence[DomainEvent]) -> dict[str, Any]:
    """The outbox rows of ``events`` as statement parameters ``e<n>_<column>`` (what ``publish`` writes)."""
    outbox = {f"e{n}_{column}": value for n, e in enumerate(events) for column, value in outbox_values(e).items()}
    for n in range(len(events)):
        outbox[f"e{n}_payload"] = Jsonb(outbox[f"e{n}_payload"])
    return outbox


def _rooms(thread_id: uuid.UUID, buyer_id: uuid.UUID, seller_id: uuid.UUID) -> list[str]:
    # One push reaches the thread room and every socket of both participants (their inbox), each once.
    return [f"thread:{thread_id}", f"user:{buyer_id}", f"user:{seller_id}"]


def _existing(thread_id: uuid.UUID, sender_id: uuid.UUID | None, client_id: str) -> Message | None:
    sender = Message.sender_id.is_(None) if sender_id is None else Message.sender_id == sender_id
    return db.session.execute(
        select(Message).where(Message.thread_id == thread_id, sender, Message.client_id == client_id)
    ).scalar_one_or_none()


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
    thread = _lock(thread_id, None, system=True)
    message = _append(
        thread,
        message_id=uuid.uuid4(),
        kind=MessageKind.SYSTEM,
        sender_id=None,
        client_id=key,
        body=text,
        system_code=code,
        data=data or {},
        recipient_ids=[thread.buyer_id, thread.seller_id],
    )
    if message is None:
        existing = _existing(thread.id, None, key)
        assert existing is not None
        return push.message_view(existing)
    return message


def _append(
    thread: Any,
    *,
    message_id: uuid.UUID,
    kind: MessageKind,
    sender_id: uuid.UUID | None,
    client_id: str,
    body: str,
    recipient_ids: list[uuid.UUID],
    system_code: str | None = None,
    data: dict[str, Any] | None = None,
    flags: list[str] | None = None,
    attachments: Sequence[Attachment] = (),
    also_publish: Sequence[DomainEvent] = (),
) -> dict[str, Any] | None:
    """Store the message as the thread's next seq (row locked), move the thread forward and publish
    ``MessageSent`` (plus ``also_publish``), in one statement; schedule the push. None when
    ``(sender, client_id)`` is already stored (then nothing is written)."""
    now = utcnow()
    seq = thread.last_seq + 1
    sender_side = {thread.buyer_id: "buyer", thread.seller_id: "seller"}.get(sender_id)  # None: system
    events = [
        MessageSent(
            aggregate_id=thread.id,
            actor=f"user:{sender_id}" if sender_id else "system",
            thread_id=thread.id,
            message_id=message_id,
            listing_id=thread.listing_id,
            seq=seq,
            kind=kind.value,
            sender_id=sender_id,
            recipient_ids=recipient_ids,
            preview=body[:PREVIEW_CHARS],
            attachment_count=len(attachments),
            system_code=system_code,
        ),
        *also_publish,
    ]
    outbox = _outbox_parameters(events)
    advanced = (
        db.session.connection()
        .exec_driver_sql(
            STORE[sender_side, len(events)],
            {
                **outbox,
                "channel": NOTIFY_CHANNEL,
                "id": message_id,
                "thread_id": thread.id,
                "seq": seq,
                "kind": kind.value,
                "sender_id": sender_id,
                "client_id": client_id,
                "body": body,
                "system_code": system_code,
                "data": Jsonb(data or {}),
                "flags": Jsonb(flags or []),
                "now": now,
            },
        )
        .scalar_one_or_none()
    )
    if advanced is None:
        return None
    if attachments:
        db.session.execute(
            update(ATTACHMENTS).where(ATTACHMENTS.c.id.in_([a.id for a in attachments])).values(message_id=message_id)
        )
    view = push.message_dict(
        id=message_id,
        thread_id=thread.id,
        seq=seq,
        kind=kind.value,
        sender_id=sender_id,
        client_id=client_id,
        body=body,
        system_code=system_code,
        data=data or {},
        attachments=attachments,
        created_at=now,
    )
    push.after_commit([("message.new", view, _rooms(thread.id, thread.buyer_id, thread.seller_id))])
    return view


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
