"""Attachments: metadata checked here, bytes sent by the client straight to storage via a pre-signed URL.

Flow: ``request_upload`` (participant, allowed type, size limit, SHA-256) -> the client ``PUT``s the
bytes -> ``claim`` when a message names the attachment: it must be the sender's, of this thread, not
sent yet, and present in storage with the declared size and checksum.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.db import db
from app.generator import Actor, ServiceError
from blueprints.messaging.models import Attachment
from blueprints.messaging.storage import LocalDiskStorage, Storage, UploadTicket
from blueprints.messaging.threads import NOT_FOUND, is_participant

STORAGE_KEY = "messaging_storage"


def init_storage(app) -> None:  # type: ignore[no-untyped-def]
    """The app's attachment storage (local disk; swap for an S3 adapter with the same protocol)."""
    app.extensions[STORAGE_KEY] = LocalDiskStorage(
        root=app.config["MESSAGING_STORAGE_DIR"],
        secret=app.config["SECRET_KEY"],
        base_url=app.config["PUBLIC_BASE_URL"],
        ttl_seconds=int(app.config["MESSAGING_UPLOAD_URL_TTL_SECONDS"]),
    )


def storage() -> Storage:
    return current_app.extensions[STORAGE_KEY]


def request_upload(
    *, thread_id: uuid.UUID, actor: Actor, filename: str, content_type: str, size: int, checksum: str
) -> tuple[Attachment, UploadTicket]:
    """Register an attachment of a thread you take part in and get its pre-signed upload URL."""
    if not is_participant(thread_id, actor.user_id):
        raise ServiceError(NOT_FOUND, status=404)
    limit = int(current_app.config["MESSAGING_ATTACHMENT_MAX_BYTES"])
    if size > limit:
        raise ServiceError("The file is too large.", status=422, errors={"size": [f"At most {limit} bytes."]})
    attachment_id = uuid.uuid4()
    attachment = Attachment(
        id=attachment_id,
        thread_id=thread_id,
        uploader_id=actor.user_id,
        filename=filename,
        content_type=content_type,
        size=size,
        checksum=checksum,
        storage_key=f"threads/{thread_id}/{attachment_id}",
    )
    db.session.add(attachment)
    ticket = storage().presign_upload(
        key=attachment.storage_key, content_type=content_type, size=size, checksum=checksum
    )
    return attachment, ticket


def claim(*, thread_id: uuid.UUID, sender_id: uuid.UUID, attachment_ids: Sequence[uuid.UUID]) -> list[Attachment]:
    """The attachments a new message may carry (locked), in the order named, or a 422 naming each problem."""
    rows = {
        a.id: a
        for a in db.session.execute(
            select(Attachment)
            .where(Attachment.id.in_(attachment_ids), Attachment.thread_id == thread_id)
            .where(Attachment.uploader_id == sender_id)
            .with_for_update()
        ).scalars()
    }
    problems: list[str] = []
    store = storage()
    for attachment_id in attachment_ids:
        attachment = rows.get(attachment_id)
        if attachment is None:
            problems.append(f"{attachment_id}: no such attachment of yours in this thread.")
        elif attachment.message_id is not None:
            problems.append(f"{attachment_id}: already sent with another message.")
        else:
            stored = store.stat(attachment.storage_key)
            if stored is None or stored.size != attachment.size or stored.checksum != attachment.checksum:
                problems.append(f"{attachment_id}: not uploaded yet.")
    if problems:
        raise ServiceError("Some attachments cannot be sent.", status=422, errors={"attachment_ids": problems})
    return [rows[i] for i in attachment_ids]


def for_messages(message_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Attachment]]:
    """Attachments of many messages in one query, by message id."""
    found: dict[uuid.UUID, list[Attachment]] = {}
    if not message_ids:
        return found
    for attachment in db.session.execute(
        select(Attachment).where(Attachment.message_id.in_(message_ids)).order_by(Attachment.created_at)
    ).scalars():
        found.setdefault(attachment.message_id, []).append(attachment)  # type: ignore[arg-type]
    return found


def download_link(*, thread_id: uuid.UUID, attachment_id: uuid.UUID, actor: Actor) -> tuple[str, datetime]:
    """A short-lived download URL of a sent attachment (or of your own upload), for participants only."""
    if not is_participant(thread_id, actor.user_id):
        raise ServiceError(NOT_FOUND, status=404)
    attachment = db.session.execute(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.thread_id == thread_id)
    ).scalar_one_or_none()
    if attachment is None or (attachment.message_id is None and attachment.uploader_id != actor.user_id):
        raise ServiceError("No such attachment.", status=404)
    if storage().stat(attachment.storage_key) is None:
        raise ServiceError("The file has not been uploaded.", status=404)
    return storage().presign_download(
        key=attachment.storage_key, filename=attachment.filename, content_type=attachment.content_type
    )
