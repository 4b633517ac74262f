"""Hand-written messaging endpoints under ``/messages`` (thread reads, archive and blocks are generated).

Views parse, call the services (a ServiceError becomes its problem response), commit once and shape
the answer. Every thread route answers 404 to anyone but the thread's two participants.
"""

from __future__ import annotations

import http
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import Response, request, send_file
from flask_smorest import Blueprint, abort

from app.db import db
from app.generator import AUTHENTICATED, Actor
from app.generator.access import call_service, require_principal
from app.generator.http import json_response, one_transaction
from app.generator.openapi import security_for
from blueprints.messaging import attachments, sending, threads
from blueprints.messaging.schemas import (
    AttachmentCreateSchema,
    DownloadLinkSchema,
    HistoryQueryArgsSchema,
    InboxPageSchema,
    InboxQueryArgsSchema,
    MarkReadSchema,
    MessageCreateSchema,
    MessagePageSchema,
    MessageSchema,
    ReadResultSchema,
    ThreadOpenedSchema,
    ThreadOpenSchema,
    UploadTicketSchema,
)
from blueprints.messaging.storage import StorageError

blp = Blueprint(
    "messaging",
    __name__,
    description=(
        "Conversations between a buyer and a seller about a listing: open, send (idempotent per client_id), "
        "history with before/after cursors, read receipts, attachments via pre-signed URLs. The same "
        "actions exist on the Socket.IO namespace /realtime (see /docs/realtime)."
    ),
)


def documented(*codes: int, auth: bool = True) -> Callable[[Callable], Callable]:
    """Bearer security (or none) and the problem+json responses a route may answer."""

    def decorate(view: Callable) -> Callable:
        for code in codes:
            view = blp.alt_response(code, response=http.HTTPStatus(code).name)(view)
        return blp.doc(security=security_for(auth))(view)

    return decorate


def _actor() -> Actor:
    return Actor.from_principal(require_principal(AUTHENTICATED))


@blp.route("/threads", methods=["POST"])
@documented(401, 403, 422)
@blp.arguments(ThreadOpenSchema)
@blp.response(201, ThreadOpenedSchema)
@blp.alt_response(200, schema=ThreadOpenedSchema, description="You already had a thread about this listing")
@one_transaction
def open_thread(data: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Open the conversation about a published listing with its seller (the existing one if any)."""
    thread, created = call_service(threads.open_thread, listing_id=data["listing_id"], actor=_actor())
    body = {
        "id": thread.id,
        "listing_id": thread.listing_id,
        "buyer_id": thread.buyer_id,
        "seller_id": thread.seller_id,
        "created": created,
        "created_at": thread.created_at,
    }
    db.session.commit()
    return body, 201 if created else 200


@blp.route("/inbox", methods=["GET"])
@documented(400, 401, 422)
@blp.arguments(InboxQueryArgsSchema, location="query", unknown=ma.RAISE)
@blp.response(200, InboxPageSchema)
def inbox(args: dict[str, Any]) -> dict[str, Any]:
    """Your threads, latest activity first, with unread counts (``archived=true`` for archived ones)."""
    user_id = _actor().user_id
    page = call_service(
        threads.inbox, user_id=user_id, archived=args["archived"], limit=args["limit"], cursor=args.get("cursor")
    )
    next_link = None
    if page["next_cursor"]:
        query = {"archived": str(args["archived"]).lower(), "limit": args["limit"], "cursor": page["next_cursor"]}
        next_link = f"{request.path}?{urlencode(query)}"
    return {"items": page["items"], "links": {"next": next_link}, "unread_total": page["unread_total"]}


@blp.route("/threads/<uuid:thread_id>/messages", methods=["GET"])
@documented(401, 404, 422)
@blp.arguments(HistoryQueryArgsSchema, location="query", unknown=ma.RAISE)
@blp.response(200, MessagePageSchema)
def history(args: dict[str, Any], thread_id: uuid.UUID) -> Response:
    """Messages oldest first: the latest page, or ``before``/``after`` a seq (reconnect: ``after=<last seq>``)."""
    actor = _actor()
    page = call_service(
        sending.history,
        thread_id=thread_id,
        user_id=actor.user_id,
        before=args.get("before"),
        after=args.get("after"),
        limit=args["limit"],
    )
    limit = args["limit"]
    older, newer = page["older_than"], page["newer_than"]
    links = {
        "prev": f"{request.path}?{urlencode({'before': older, 'limit': limit})}" if older else None,
        "next": f"{request.path}?{urlencode({'after': newer, 'limit': limit})}" if newer is not None else None,
    }
    return json_response({"items": page["items"], "links": links})  # items are already dumped


@blp.route("/threads/<uuid:thread_id>/messages", methods=["POST"])
@documented(401, 403, 404, 409, 422)
@blp.arguments(MessageCreateSchema)
@blp.response(201, MessageSchema)
@blp.alt_response(200, schema=MessageSchema, description="A resend: the message stored for this client_id")
@one_transaction
def send(data: dict[str, Any], thread_id: uuid.UUID) -> Response:
    """Send a message; resending the same ``client_id`` returns the stored one (200), never a duplicate."""
    result = call_service(sending.send_message, thread_id=thread_id, actor=_actor(), **data)
    db.session.commit()
    return json_response(result.message, 200 if result.duplicate else 201)  # dumped once, as pushed


@blp.route("/threads/<uuid:thread_id>/read", methods=["POST"])
@documented(401, 404, 422)
@blp.arguments(MarkReadSchema)
@blp.response(200, ReadResultSchema)
@one_transaction
def mark_read(data: dict[str, Any], thread_id: uuid.UUID) -> Any:
    """Mark the thread read up to a message (markers never move back); the other side gets ``message.read``."""
    result = call_service(threads.mark_read, thread_id=thread_id, actor=_actor(), message_id=data["message_id"])
    db.session.commit()
    return result


@blp.route("/threads/<uuid:thread_id>/attachments", methods=["POST"])
@documented(401, 404, 422)
@blp.arguments(AttachmentCreateSchema)
@blp.response(201, UploadTicketSchema)
@one_transaction
def request_upload(data: dict[str, Any], thread_id: uuid.UUID) -> dict[str, Any]:
    """Declare a file (type, size, SHA-256) and get a pre-signed URL to upload it to."""
    attachment, ticket = call_service(attachments.request_upload, thread_id=thread_id, actor=_actor(), **data)
    db.session.commit()
    return {"attachment": attachment, "upload": ticket}


@blp.route("/threads/<uuid:thread_id>/attachments/<uuid:attachment_id>", methods=["GET"])
@documented(401, 404)
@blp.response(200, DownloadLinkSchema)
def download_link(thread_id: uuid.UUID, attachment_id: uuid.UUID) -> dict[str, Any]:
    """A short-lived download URL of an attachment of the thread."""
    url, expires_at = call_service(
        attachments.download_link, thread_id=thread_id, attachment_id=attachment_id, actor=_actor()
    )
    return {"url": url, "expires_at": expires_at}


# ---- the local-disk storage's own endpoints (the pre-signed URLs point here) ---------------------
@blp.route("/uploads/<token>", methods=["PUT"])
@documented(403, 422, auth=False)
@blp.doc(
    summary="Upload the bytes of an attachment (pre-signed URL; no bearer token needed)",
    requestBody={"required": True, "content": {"application/octet-stream": {"schema": {"type": "string"}}}},
)
@blp.response(204)
def receive_upload(token: str) -> Response:
    try:
        attachments.storage().receive(token, request.content_type, request.stream)  # type: ignore[attr-defined]
    except StorageError as error:
        abort(error.status, message=error.message, errors=error.errors or None)
    return Response(status=204)


@blp.route("/files/<token>", methods=["GET"])
@documented(403, 404, auth=False)
@blp.doc(summary="Download an attachment (pre-signed URL; no bearer token needed)")
@blp.response(200, description="The file, as an attachment")
def download(token: str) -> Response:
    try:
        found = attachments.storage().open(token)  # type: ignore[attr-defined]
    except StorageError as error:
        abort(error.status, message=error.message, errors=error.errors or None)
    response = send_file(
        found.path, mimetype=found.content_type, as_attachment=True, download_name=found.filename, max_age=300
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
