"""Roles staff grant and revoke (``integrator`` today), beside the marketplace roles users choose.

A grant is a row of its own, so a user editing their profile roles (buyer, seller) never drops it.
Access tokens carry both sets; a change takes effect when the user's next access token is minted,
at the next token refresh or sign-in, so within ``JWT_ACCESS_TTL_SECONDS`` at most. Every grant and
revocation writes an audit record naming the staff member (or the operator at the CLI).
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from app import audit
from app.db import db, utcnow
from blueprints.auth.errors import AuthError, invalid_field
from blueprints.auth.models import GRANTABLE_ROLES, MARKETPLACE_ROLES, RoleGrant, UserAccount


def granted_roles(user_id: uuid.UUID) -> list[str]:
    return list(db.session.scalars(select(RoleGrant.role).where(RoleGrant.user_id == user_id).order_by(RoleGrant.role)))


def token_roles(user: UserAccount) -> list[str]:
    """What an access token says the user may do: their chosen roles plus those staff granted."""
    return sorted(set(user.profile.roles) | set(granted_roles(user.id)))


def _check_role(role: str) -> str:
    role = (role or "").strip().lower()
    if role in MARKETPLACE_ROLES:
        raise invalid_field(
            "role", f"Users choose {role!r} themselves on their profile; staff grant only {', '.join(GRANTABLE_ROLES)}."
        )
    if role not in GRANTABLE_ROLES:
        raise invalid_field("role", f"Unknown role {role!r}: staff grant only {', '.join(GRANTABLE_ROLES)}.")
    return role


def resolve_user(*, user_id: uuid.UUID | None = None, email: str | None = None) -> UserAccount:
    # Queried here, not through accounts: accounts -> sessions -> grants would import in a circle.
    if user_id is not None:
        query = select(UserAccount).where(UserAccount.id == user_id).with_for_update(of=UserAccount)
    else:
        query = select(UserAccount).where(UserAccount.email == (email or "").strip().lower())
    user = db.session.scalars(query).first()
    if user is None:
        raise AuthError(404, "No such account.", kind="not-found")
    return user


def grant_role(*, user_id: uuid.UUID, role: str, actor_type: str, actor_id: str | None, reason: str = "") -> bool:
    """Give ``role`` to the user (idempotent); True when it was new. Audited in the caller's transaction."""
    role = _check_role(role)
    user = resolve_user(user_id=user_id)
    added = db.session.execute(
        insert(RoleGrant)
        .values(user_id=user.id, role=role, granted_by=_actor(actor_type, actor_id), granted_at=utcnow())
        .on_conflict_do_nothing()
        .returning(RoleGrant.role)
    ).first()
    _audit("grant_role", user, role, actor_type, actor_id, reason, changed=added is not None)
    return added is not None


def revoke_role(*, user_id: uuid.UUID, role: str, actor_type: str, actor_id: str | None, reason: str = "") -> bool:
    """Take ``role`` back (idempotent); True when the user had it. Audited in the caller's transaction."""
    role = _check_role(role)
    user = resolve_user(user_id=user_id)
    removed = db.session.execute(
        delete(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.role == role).returning(RoleGrant.role)
    ).first()
    _audit("revoke_role", user, role, actor_type, actor_id, reason, changed=removed is not None)
    return removed is not None


def _actor(actor_type: str, actor_id: str | None) -> str:
    return f"{actor_type}:{actor_id}" if actor_id else actor_type


def _audit(
    action: str, user: UserAccount, role: str, actor_type: str, actor_id: str | None, reason: str, *, changed: bool
) -> None:
    audit.record(
        action=f"auth.{action}",
        target_type="auth.User",
        target_id=user.id,
        actor_type=actor_type,
        actor_id=actor_id,
        inputs={"role": role, "reason": reason},
        result={"changed": changed, "roles": granted_roles(user.id)},
    )
