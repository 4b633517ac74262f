"""Events the messaging domain publishes (payload version 1 each); ``aggregate_id`` is the thread.

- ``messaging.ThreadOpened``: a buyer started a conversation about a listing.
- ``messaging.MessageSent``: a message was stored (notifications email recipients who are offline).
- ``messaging.OffPlatformContactFlagged``: a message looks like an attempt to deal outside Bazaar
  (the fraud domain reviews it; the message itself was delivered unchanged).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ThreadOpened(DomainEvent):
    """A buyer opened a conversation with the seller of a listing."""

    type = "messaging.ThreadOpened"
    version = 1

    thread_id: uuid.UUID
    listing_id: uuid.UUID
    buyer_id: uuid.UUID
    seller_id: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class MessageSent(DomainEvent):
    """A message was stored in a thread; ``recipient_ids`` are the participants who did not write it.

    ``sender_id`` is null for system messages (then both participants are recipients). ``preview`` is
    the start of the text (at most 140 characters), for notifications.
    """

    type = "messaging.MessageSent"
    version = 1
    personal = frozenset({"preview"})

    thread_id: uuid.UUID
    message_id: uuid.UUID
    listing_id: uuid.UUID
    seq: int
    kind: str
    sender_id: uuid.UUID | None
    recipient_ids: list[uuid.UUID]
    preview: str
    attachment_count: int = 0
    system_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class OffPlatformContactFlagged(DomainEvent):
    """A participant's message carries contact or payment details (``signals``: phone, email,
    payment_handle, payment_link). The message was delivered as written; staff may read the thread once
    a fraud review references it."""

    type = "messaging.OffPlatformContactFlagged"
    version = 1

    thread_id: uuid.UUID
    message_id: uuid.UUID
    listing_id: uuid.UUID
    sender_id: uuid.UUID
    recipient_id: uuid.UUID
    signals: list[str]
