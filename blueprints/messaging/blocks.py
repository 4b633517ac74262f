"""Blocks: a user refuses messages from another, in every thread, until they unblock.

A blocked sender learns only that the conversation does not accept their messages (a 403 without who,
when or why); the blocker is told they blocked the other user, since that is their own doing.
"""

from __future__ import annotations

import uuid

from sqlalchemy import and_, or_, select

from app.db import db
from app.generator import Actor, ServiceError
from blueprints.auth import service as auth
from blueprints.messaging.models import Block

NOT_ACCEPTED = "You cannot send messages in this conversation."
YOU_BLOCKED = "You blocked this user; unblock them to write to them."


def check_can_contact(*, sender_id: uuid.UUID, recipient_id: uuid.UUID) -> None:
    """Raise a 403 ServiceError when either user blocked the other."""
    blockers = set(
        db.session.execute(
            select(Block.blocker_id).where(
                or_(
                    and_(Block.blocker_id == recipient_id, Block.blocked_id == sender_id),
                    and_(Block.blocker_id == sender_id, Block.blocked_id == recipient_id),
                )
            )
        ).scalars()
    )
    if recipient_id in blockers:
        raise ServiceError(NOT_ACCEPTED, status=403)
    if sender_id in blockers:
        raise ServiceError(YOU_BLOCKED, status=403)


def validate_new_block(*, obj: Block, actor: Actor) -> None:
    """Generated ``POST /messages/blocks`` hook: you block someone else, who must exist."""
    if obj.blocked_id == actor.user_id:
        raise ServiceError("You cannot block yourself.", status=422, errors={"blocked_id": ["That is you."]})
    if not auth.user_exists(user_id=obj.blocked_id):
        raise ServiceError("No such user.", status=422, errors={"blocked_id": ["No such user."]})
