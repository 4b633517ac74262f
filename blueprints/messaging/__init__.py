"""Chat threads and messages between buyers and sellers; the realtime (Socket.IO) side of chat.

Declared for the generator: threads (participant-only reads, archive/unarchive actions, staff admin
of thread metadata) and blocks (your own). Hand-written: opening a thread, sending, history, read
receipts, attachments (``api.py``), the socket events (``realtime.py``), the staff reader under an
access grant (``admin.py``) and the AsyncAPI description of ``/realtime`` (``asyncapi.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.domain import Domain
from app.generator import OWNER, PARTICIPANT, Action, AdminOptions, Policy, Resource
from blueprints.messaging import blocks, threads
from blueprints.messaging.models import Block, Thread

if TYPE_CHECKING:
    from flask import Flask
    from flask_appbuilder import AppBuilder

PARTICIPANTS = PARTICIPANT("buyer_id", "seller_id")
BLOCKER = OWNER("blocker_id")

thread_resource = Resource(
    Thread,
    path="/threads",
    description=(
        "Conversations you take part in (one per listing and buyer). Unread count for you: last_seq minus "
        "your read marker (buyer_read_seq or seller_read_seq); GET /messages/inbox computes it for you."
    ),
    policy=Policy(read=PARTICIPANTS, hidden=("buyer_archived_at", "seller_archived_at")),
    filters={"listing_id": ("eq",), "buyer_id": ("eq",), "seller_id": ("eq",), "last_activity_at": ("gte", "lt")},
    sort=("last_activity_at", "created_at"),
    default_sort="-last_activity_at",
    actions=[Action(threads.archive, allow=PARTICIPANTS), Action(threads.unarchive, allow=PARTICIPANTS)],
    admin=AdminOptions(
        list_columns=("listing_id", "buyer_id", "seller_id", "last_seq", "last_activity_at", "created_at"),
        search_columns=("listing_id", "buyer_id", "seller_id", "last_activity_at"),
        label="Threads",
    ),
)

block_resource = Resource(
    Block,
    path="/blocks",
    description="Users you blocked: they cannot message you (nor you them) until you delete the block.",
    policy=Policy(read=BLOCKER, create=BLOCKER, delete=BLOCKER, read_only=("created_at",)),
    filters={"blocked_id": ("eq",)},
    sort=("created_at",),
    default_sort="-created_at",
    on_create=blocks.validate_new_block,
    # No staff view yet: the generated admin form cannot edit a writable UUID column (blocked_id).
    admin=AdminOptions(enabled=False),
)


def _blueprints() -> list:  # type: ignore[type-arg]
    from blueprints.messaging import api

    return [api.blp]


def _admin(appbuilder: AppBuilder) -> None:
    from blueprints.messaging.admin import register_admin

    register_admin(appbuilder)


def _setup(app: Flask) -> None:
    """Attachment storage, the socket events and room authorizer, the realtime docs."""
    from blueprints.messaging import asyncapi, attachments, realtime

    attachments.init_storage(app)
    realtime.register(app)
    app.register_blueprint(asyncapi.bp)


domain = Domain(
    name="messaging",
    prefix="/messages",
    description="Chat threads and messages between buyers and sellers; the realtime side of chat.",
    resources=[thread_resource, block_resource],
    blueprints=_blueprints(),
    admin=_admin,
    setup=_setup,
)
