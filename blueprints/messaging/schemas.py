"""marshmallow schemas of the messaging API and of the Socket.IO events (one source for both, and docs).

Inputs are strict (unknown fields are errors). Message text is trimmed and kept as plain text: nothing
here (or anywhere in Bazaar) renders it as HTML, so it is stored exactly as typed, minus outer spaces.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from app.generator.fields import StorableText
from blueprints.messaging.models import MAX_BODY_CHARS

MAX_ATTACHMENTS = 10
# Images and PDFs only: nothing a browser would execute (no HTML, SVG or scripts).
ATTACHMENT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "application/pdf")
CLIENT_ID = validate.Regexp(r"^[A-Za-z0-9._:-]{1,64}$", error="1-64 letters, digits or . _ : -")
FILENAME = validate.Regexp(r"^[^/\\\x00-\x1f\x7f]{1,255}$", error="A file name without slashes or control characters.")


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class MessageText(ma.fields.String):
    """Trimmed plain text, at most ``MAX_BODY_CHARS`` characters once trimmed (CRLF counted as one)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).replace("\r\n", "\n").strip()
        if len(text) > MAX_BODY_CHARS:
            raise ma.ValidationError(f"At most {MAX_BODY_CHARS} characters.")
        return text


# ---- threads ------------------------------------------------------------------------------------
class ThreadOpenSchema(Strict):
    """Open the conversation about a listing with its seller (or get the one you already have)."""

    listing_id = ma.fields.UUID(required=True)


class ThreadOpenedSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    listing_id = ma.fields.UUID(required=True)
    buyer_id = ma.fields.UUID(required=True)
    seller_id = ma.fields.UUID(required=True)
    created = ma.fields.Boolean(required=True, metadata={"description": "False when the thread existed"})
    created_at = ma.fields.AwareDateTime(required=True)


class InboxQueryArgsSchema(Strict):
    archived = ma.fields.Boolean(load_default=False, metadata={"description": "List archived threads instead"})
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100), strict=False)
    cursor = ma.fields.String(validate=validate.Length(max=500))


class InboxThreadSchema(ma.Schema):
    """A thread as one participant sees it in their inbox."""

    id = ma.fields.UUID(required=True)
    listing_id = ma.fields.UUID(required=True)
    role = ma.fields.String(required=True, validate=validate.OneOf(("buyer", "seller")))
    other_party_id = ma.fields.UUID(required=True)
    last_seq = ma.fields.Integer(required=True, metadata={"description": "seq of the latest message (0: none)"})
    last_activity_at = ma.fields.AwareDateTime(required=True)
    read_seq = ma.fields.Integer(required=True, metadata={"description": "Your read marker"})
    other_read_seq = ma.fields.Integer(required=True, metadata={"description": "The other party's read marker"})
    unread_count = ma.fields.Integer(required=True)
    archived = ma.fields.Boolean(required=True)
    created_at = ma.fields.AwareDateTime(required=True)


class InboxLinksSchema(ma.Schema):
    next = ma.fields.String(allow_none=True, required=True)


class InboxPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(InboxThreadSchema), required=True)
    links = ma.fields.Nested(InboxLinksSchema, required=True)
    unread_total = ma.fields.Integer(required=True, metadata={"description": "Unread messages in all your threads"})


# ---- messages -----------------------------------------------------------------------------------
class AttachmentSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    filename = ma.fields.String(required=True)
    content_type = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True)
    checksum = ma.fields.String(required=True, metadata={"description": "SHA-256 of the bytes, hex"})


class MessageSchema(ma.Schema):
    """A stored message. ``message.new`` carries the same object to the thread room and to both
    participants' user rooms (each socket once)."""

    id = ma.fields.UUID(required=True)
    thread_id = ma.fields.UUID(required=True)
    seq = ma.fields.Integer(required=True, metadata={"description": "Position in the thread: 1, 2, 3..."})
    kind = ma.fields.String(required=True, validate=validate.OneOf(("text", "system")))
    sender_id = ma.fields.UUID(allow_none=True, required=True, metadata={"description": "null for system messages"})
    client_id = ma.fields.String(required=True)
    body = ma.fields.String(required=True, metadata={"description": "Plain text: render it escaped"})
    system_code = ma.fields.String(allow_none=True, metadata={"description": "System messages: e.g. offer.accepted"})
    data = ma.fields.Dict(metadata={"description": "System messages: details for clients to render"})
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema), required=True)
    created_at = ma.fields.AwareDateTime(required=True)


class MessageCreateSchema(Strict):
    """A message to send. Resending with the same ``client_id`` returns the stored message, never a copy."""

    client_id = ma.fields.String(required=True, validate=CLIENT_ID)
    body = MessageText(load_default="", validate=StorableText())
    attachment_ids = ma.fields.List(ma.fields.UUID(), load_default=list, validate=validate.Length(max=MAX_ATTACHMENTS))

    @ma.validates_schema
    def _not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("body") and not data.get("attachment_ids"):
            raise ma.ValidationError("Write something or attach a file.", "body")
        if len(set(data.get("attachment_ids") or ())) != len(data.get("attachment_ids") or ()):
            raise ma.ValidationError("Each attachment once.", "attachment_ids")


class HistoryQueryArgsSchema(Strict):
    before = ma.fields.Integer(validate=validate.Range(min=1, max=2**62), strict=False)
    after = ma.fields.Integer(validate=validate.Range(min=0, max=2**62), strict=False)
    limit = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=200), strict=False)

    @ma.validates_schema
    def _one_direction(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "before" in data and "after" in data:
            raise ma.ValidationError("Use before or after, not both.", "before")


class HistoryLinksSchema(ma.Schema):
    prev = ma.fields.String(allow_none=True, required=True, metadata={"description": "Older messages"})
    next = ma.fields.String(allow_none=True, required=True, metadata={"description": "Newer messages"})


class MessagePageSchema(ma.Schema):
    """Messages in thread order (oldest first), with links to older and newer ones."""

    items = ma.fields.List(ma.fields.Nested(MessageSchema), required=True)
    links = ma.fields.Nested(HistoryLinksSchema, required=True)


class MarkReadSchema(Strict):
    message_id = ma.fields.UUID(required=True, metadata={"description": "Everything up to it counts as read"})


class ReadReceiptSchema(ma.Schema):
    """``message.read``: a participant has read the thread up to ``read_seq``."""

    thread_id = ma.fields.UUID(required=True)
    user_id = ma.fields.UUID(required=True)
    read_seq = ma.fields.Integer(required=True)
    message_id = ma.fields.UUID(required=True)
    read_at = ma.fields.AwareDateTime(required=True)


class ReadResultSchema(ReadReceiptSchema):
    unread_count = ma.fields.Integer(required=True)


# ---- attachments --------------------------------------------------------------------------------
class AttachmentCreateSchema(Strict):
    filename = ma.fields.String(required=True, validate=FILENAME)
    content_type = ma.fields.String(required=True, validate=validate.OneOf(ATTACHMENT_TYPES))
    size = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**62))
    checksum = ma.fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-f]{64}$", error="SHA-256 as 64 lowercase hex digits."),
    )


class UploadInstructionsSchema(ma.Schema):
    url = ma.fields.String(required=True)
    method = ma.fields.String(required=True)
    headers = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)
    expires_at = ma.fields.AwareDateTime(required=True)


class UploadTicketSchema(ma.Schema):
    """Send the bytes with ``upload``; then name ``attachment.id`` in a message's ``attachment_ids``."""

    attachment = ma.fields.Nested(AttachmentSchema, required=True)
    upload = ma.fields.Nested(UploadInstructionsSchema, required=True)


class DownloadLinkSchema(ma.Schema):
    url = ma.fields.String(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)


# ---- Socket.IO only -----------------------------------------------------------------------------
class SocketMessageSendSchema(MessageCreateSchema):
    """``message.send``: the REST body plus the thread."""

    thread_id = ma.fields.UUID(required=True)


class SocketMarkReadSchema(MarkReadSchema):
    """``message.read`` from a client."""

    thread_id = ma.fields.UUID(required=True)


class SocketTypingSchema(Strict):
    """``typing`` from a client (throttled: at most one per user and thread every 2 s is relayed)."""

    thread_id = ma.fields.UUID(required=True)
    typing = ma.fields.Boolean(load_default=True)


class TypingEventSchema(ma.Schema):
    thread_id = ma.fields.UUID(required=True)
    user_id = ma.fields.UUID(required=True)
    typing = ma.fields.Boolean(required=True)


class ThreadUpdatedSchema(ma.Schema):
    """``thread.updated`` to ``user:<id>``: you read, archived or unarchived a thread (any of your devices).

    New messages come as ``message.new`` (to your user room too): unread = its seq minus your read_seq."""

    thread_id = ma.fields.UUID(required=True)
    reason = ma.fields.String(required=True, validate=validate.OneOf(("read", "archive", "unarchive")))
    last_seq = ma.fields.Integer(required=True)
    last_activity_at = ma.fields.AwareDateTime(required=True)
    read_seq = ma.fields.Integer(required=True)
    unread_count = ma.fields.Integer(required=True)
    archived = ma.fields.Boolean(required=True)


class MessageSendAckSchema(ma.Schema):
    ok = ma.fields.Boolean(required=True)
    duplicate = ma.fields.Boolean(required=True, metadata={"description": "True for a resend of a stored message"})
    id = ma.fields.UUID(required=True, metadata={"description": "The stored message's id"})
    message = ma.fields.Nested(MessageSchema, required=True)


class OkAckSchema(ma.Schema):
    ok = ma.fields.Boolean(required=True)
    throttled = ma.fields.Boolean(metadata={"description": "typing: dropped by the throttle"})


class ErrorBodySchema(ma.Schema):
    status = ma.fields.Integer(required=True, metadata={"description": "As in HTTP: 401, 403, 404, 409, 422..."})
    title = ma.fields.String(required=True)
    errors = ma.fields.Dict(keys=ma.fields.String(), metadata={"description": "Messages per field"})


class ErrorAckSchema(ma.Schema):
    """Any handler's answer when the event was refused; the socket stays connected."""

    error = ma.fields.Nested(ErrorBodySchema, required=True)
