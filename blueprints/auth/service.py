"""The auth domain's public functions: the only auth code other domains may call.

Reads answer with plain dataclasses (never ORM rows), so callers cannot reach auth tables. Writes
work in the caller's ``db.session`` and do not commit (one request, one transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists, select

from app.db import db
from blueprints.auth import accounts, grants, mfa, status
from blueprints.auth.errors import AuthError
from blueprints.auth.grants import granted_roles
from blueprints.auth.models import UserAccount, UserStatus
from blueprints.auth.profiles import PublicProfile, public_profiles, to_public

__all__ = [
    "AuthError",
    "Contact",
    "PublicProfile",
    "find_user_id",
    "get_contact",
    "get_public_profile",
    "get_public_profiles",
    "grant_role",
    "has_role",
    "is_active",
    "mfa_enabled",
    "register_user",
    "reinstate_user",
    "revoke_role",
    "suspend_user",
    "user_exists",
]


@dataclass(frozen=True)
class Contact:
    """How to reach a user (for the notifications domain only: the email is private)."""

    user_id: uuid.UUID
    email: str
    email_verified: bool
    display_name: str
    active: bool


def user_exists(*, user_id: uuid.UUID) -> bool:
    """Whether the id names an account, suspended or not (validate cross-domain references)."""
    return bool(db.session.scalar(select(exists().where(UserAccount.id == user_id))))


def is_active(*, user_id: uuid.UUID) -> bool:
    """Whether the account exists and may act (not suspended)."""
    return bool(
        db.session.scalar(select(exists().where(UserAccount.id == user_id, UserAccount.status == UserStatus.ACTIVE)))
    )


def get_public_profile(*, user_id: uuid.UUID) -> PublicProfile | None:
    user = db.session.get(UserAccount, user_id)
    return to_public(user) if user is not None else None


def get_public_profiles(*, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, PublicProfile]:
    """Profiles of many users in one query, keyed by id (unknown ids are absent)."""
    return public_profiles(user_ids)


def has_role(*, user_id: uuid.UUID, role: str) -> bool:
    """Whether an active user holds ``role``, chosen (buyer, seller) or granted by staff (integrator)."""
    profile = get_public_profile(user_id=user_id)
    return profile is not None and profile.active and (role in profile.roles or role in granted_roles(user_id))


def grant_role(*, email: str, role: str, actor_type: str, actor_id: str | None) -> bool:
    """Give a staff-granted role to the account of ``email`` (audited); True when it was new."""
    return grants.grant_role(
        user_id=grants.resolve_user(email=email).id, role=role, actor_type=actor_type, actor_id=actor_id
    )


def revoke_role(*, email: str, role: str, actor_type: str, actor_id: str | None) -> bool:
    """Take a staff-granted role back (audited); True when the account had it."""
    return grants.revoke_role(
        user_id=grants.resolve_user(email=email).id, role=role, actor_type=actor_type, actor_id=actor_id
    )


def get_contact(*, user_id: uuid.UUID) -> Contact | None:
    user = db.session.get(UserAccount, user_id)
    if user is None:
        return None
    return Contact(
        user_id=user.id,
        email=user.email,
        email_verified=user.email_verified_at is not None,
        display_name=user.profile.display_name,
        active=user.is_active,
    )


def mfa_enabled(*, user_id: uuid.UUID) -> bool:
    return mfa.is_enabled(user_id)


def register_user(
    *, email: str, password: str, display_name: str, roles: Iterable[str] = ("buyer",), verified: bool = False
) -> uuid.UUID:
    """Create an account (seeds, imports); publishes UserRegistered. ``verified`` skips the email step."""
    user = accounts.register_user(
        email=email, password=password, display_name=display_name, roles=roles, verified=verified
    )
    return user.id


def find_user_id(*, email: str) -> uuid.UUID | None:
    """The account registered with ``email`` (any case), if any: lets seeds and imports run twice."""
    user = accounts.find_user_by_email(email)
    return user.id if user is not None else None


def suspend_user(*, user_id: uuid.UUID, reason: str, actor_type: str, actor_id: str | None) -> None:
    """Suspend an account (staff, or the fraud domain as ``system``): sign-in refused, sessions revoked."""
    status.change_status(
        user_id=user_id, to_status=UserStatus.SUSPENDED, reason=reason, actor_type=actor_type, actor_id=actor_id
    )


def reinstate_user(*, user_id: uuid.UUID, reason: str, actor_type: str, actor_id: str | None) -> None:
    status.change_status(
        user_id=user_id, to_status=UserStatus.ACTIVE, reason=reason, actor_type=actor_type, actor_id=actor_id
    )
