"""Profiles: what a user shows of themselves (public) and edits about themselves (private)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.db import db
from app.events import publish
from blueprints.auth.errors import AuthError, invalid_field
from blueprints.auth.events import ProfileUpdated
from blueprints.auth.models import MARKETPLACE_ROLES, Profile, UserAccount

# The only fields a user may change on their own profile (everything else is read-only to clients).
EDITABLE_FIELDS = ("display_name", "bio", "location", "country", "avatar", "roles")


@dataclass(frozen=True)
class PublicProfile:
    """What any domain or visitor may know about a user (no email, no security state)."""

    user_id: uuid.UUID
    display_name: str
    bio: str | None
    location: str | None
    country: str | None
    avatar: dict[str, Any] | None
    roles: tuple[str, ...]
    member_since: datetime
    active: bool


def to_public(user: UserAccount) -> PublicProfile:
    profile = user.profile
    return PublicProfile(
        user_id=user.id,
        display_name=profile.display_name,
        bio=profile.bio,
        location=profile.location,
        country=profile.country,
        avatar=profile.avatar,
        roles=tuple(profile.roles),
        member_since=user.created_at,
        active=user.is_active,
    )


def public_profiles(user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, PublicProfile]:
    """One query for any number of users (list pages must not query per row)."""
    ids = set(user_ids)
    if not ids:
        return {}
    users = db.session.scalars(select(UserAccount).where(UserAccount.id.in_(ids)))
    return {user.id: to_public(user) for user in users}


def update_profile(*, user_id: uuid.UUID, changes: Mapping[str, Any]) -> UserAccount:
    """Apply the caller's own edits; unknown or protected fields are refused, not ignored."""
    refused = set(changes) - set(EDITABLE_FIELDS)
    if refused:
        raise AuthError(
            422,
            "Some fields cannot be changed here.",
            kind="validation",
            errors={name: ["This field cannot be changed."] for name in sorted(refused)},
        )
    user = db.session.get(UserAccount, user_id, with_for_update=True)
    if user is None:
        raise AuthError(404, "No such account.", kind="not-found")
    if "display_name" in changes:
        if not changes["display_name"].strip():
            raise invalid_field("display_name", "A display name is required.")
        changes = {**changes, "display_name": changes["display_name"].strip()}
    if "roles" in changes:
        roles = sorted(set(changes["roles"] or ()))
        if not roles or set(roles) - set(MARKETPLACE_ROLES):
            raise invalid_field("roles", f"Choose at least one of {', '.join(MARKETPLACE_ROLES)}.")
        changes = {**changes, "roles": roles}
    profile: Profile = user.profile
    changed = [name for name, value in changes.items() if getattr(profile, name) != value]
    for name in changed:
        setattr(profile, name, changes[name])
    if changed:
        db.session.flush()
        publish(ProfileUpdated(aggregate_id=user.id, actor=f"user:{user.id}", user_id=user.id, changed=changed))
    return user
