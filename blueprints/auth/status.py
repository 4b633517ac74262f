"""Account status: an explicit transition table (active <-> suspended), every move recorded.

Each transition writes a ``UserStatusChange`` row (who, when, from, to, why), an audit record and the
event that announces it, in the caller's transaction. Suspension revokes every session at once.
"""

from __future__ import annotations

import uuid

from app import audit
from app.db import db, utcnow
from app.events import publish
from blueprints.auth import sessions
from blueprints.auth.accounts import get_user
from blueprints.auth.errors import AuthError, invalid_field
from blueprints.auth.events import UserReinstated, UserSuspended
from blueprints.auth.models import UserAccount, UserStatus, UserStatusChange

# (from, to) -> the event that announces it. Any pair not listed is refused.
STATUS_TRANSITIONS = {
    (UserStatus.ACTIVE, UserStatus.SUSPENDED): UserSuspended,
    (UserStatus.SUSPENDED, UserStatus.ACTIVE): UserReinstated,
}


def change_status(
    *, user_id: uuid.UUID, to_status: UserStatus, reason: str, actor_type: str, actor_id: str | None
) -> UserAccount:
    """Move an account along STATUS_TRANSITIONS, recorded (transition row + audit) and announced."""
    reason = (reason or "").strip()
    if not reason:
        raise invalid_field("reason", "A reason is required.")
    user = get_user(user_id, for_update=True)
    if user is None:
        raise AuthError(404, "No such account.", kind="not-found")
    from_status = UserStatus(user.status)
    event_class = STATUS_TRANSITIONS.get((from_status, to_status))
    if event_class is None:
        raise AuthError(409, f"An account that is {from_status} cannot become {to_status}.", kind="invalid-transition")
    now = utcnow()
    user.status = to_status
    user.suspended_at = now if to_status == UserStatus.SUSPENDED else None
    user.suspension_reason = reason if to_status == UserStatus.SUSPENDED else None
    db.session.add(
        UserStatusChange(
            user_id=user.id,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            actor_type=actor_type,
            actor_id=actor_id,
            occurred_at=now,
        )
    )
    revoked = 0
    if to_status == UserStatus.SUSPENDED:
        revoked = sessions.revoke_all_sessions(user_id=user.id, reason="suspended")
    action = "suspend" if to_status == UserStatus.SUSPENDED else "reinstate"
    audit.record(
        action=f"auth.{action}_user",
        target_type="auth.User",
        target_id=user.id,
        actor_type=actor_type,
        actor_id=actor_id,
        inputs={"reason": reason},
        result={"from": from_status, "to": to_status, "sessions_revoked": revoked},
    )
    actor = f"{actor_type}:{actor_id}" if actor_id else actor_type
    if event_class is UserSuspended:
        publish(
            UserSuspended(
                aggregate_id=user.id,
                actor=actor,
                user_id=user.id,
                email=user.email,
                reason=reason,
                suspended_at=now,
                sessions_revoked=revoked,
            )
        )
    else:
        publish(UserReinstated(aggregate_id=user.id, actor=actor, user_id=user.id, email=user.email, reason=reason))
    return user
