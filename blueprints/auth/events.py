"""Events the auth domain publishes (payload version 1 each).

Mail-worthy events carry what the notifications domain needs to write the mail (email, display name,
and for verification / reset the raw single-use ``token`` and its expiry). The raw token exists only
here: the database keeps its SHA-256, and no response or log line contains it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from app.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class UserRegistered(DomainEvent):
    """A person created an account (email not verified yet)."""

    type = "auth.UserRegistered"
    version = 1
    personal = frozenset({"email", "display_name"})
    user_id: uuid.UUID
    email: str
    display_name: str
    roles: list[str]


@dataclass(frozen=True, kw_only=True)
class EmailVerificationRequested(DomainEvent):
    """Send ``token`` to ``email``; ``POST /auth/email/verify`` with it proves the address."""

    type = "auth.EmailVerificationRequested"
    version = 1
    internal = True  # the token takes over the address or the account: never sent to webhooks
    personal = frozenset({"email", "display_name"})
    user_id: uuid.UUID
    email: str
    display_name: str
    token: str
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class EmailVerified(DomainEvent):
    """The user proved they own their email address."""

    type = "auth.EmailVerified"
    version = 1
    personal = frozenset({"email"})
    user_id: uuid.UUID
    email: str


@dataclass(frozen=True, kw_only=True)
class PasswordResetRequested(DomainEvent):
    """Send ``token`` to ``email``; ``POST /auth/password/reset`` with it sets a new password."""

    type = "auth.PasswordResetRequested"
    version = 1
    internal = True  # the token takes over the address or the account: never sent to webhooks
    personal = frozenset({"email", "display_name"})
    user_id: uuid.UUID
    email: str
    display_name: str
    token: str
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class PasswordChanged(DomainEvent):
    """The password changed (``via`` change or reset); tell the owner in case it was not them."""

    type = "auth.PasswordChanged"
    version = 1
    personal = frozenset({"email", "display_name"})
    user_id: uuid.UUID
    email: str
    display_name: str
    via: str
    sessions_revoked: int


@dataclass(frozen=True, kw_only=True)
class NewLoginDetected(DomainEvent):
    """A sign-in from a device / address this account had not used before."""

    type = "auth.NewLoginDetected"
    version = 1
    personal = frozenset({"email", "display_name", "ip", "user_agent", "device_name"})
    user_id: uuid.UUID
    email: str
    display_name: str
    session_id: uuid.UUID
    ip: str | None
    user_agent: str | None
    device_name: str | None


@dataclass(frozen=True, kw_only=True)
class MfaChanged(DomainEvent):
    """``change``: enabled | disabled | recovery_codes_regenerated | recovery_code_used."""

    type = "auth.MfaChanged"
    version = 1
    personal = frozenset({"email", "display_name"})
    user_id: uuid.UUID
    email: str
    display_name: str
    change: str
    recovery_codes_left: int


@dataclass(frozen=True, kw_only=True)
class ProfileUpdated(DomainEvent):
    """Public profile fields changed (domains that show names or avatars may refresh copies)."""

    type = "auth.ProfileUpdated"
    version = 1
    user_id: uuid.UUID
    changed: list[str]


@dataclass(frozen=True, kw_only=True)
class UserSuspended(DomainEvent):
    """Staff suspended the account: it can no longer sign in and its sessions were revoked."""

    type = "auth.UserSuspended"
    version = 1
    personal = frozenset({"email", "reason"})
    user_id: uuid.UUID
    email: str
    reason: str
    suspended_at: datetime
    sessions_revoked: int


@dataclass(frozen=True, kw_only=True)
class UserReinstated(DomainEvent):
    """Staff lifted a suspension."""

    type = "auth.UserReinstated"
    version = 1
    personal = frozenset({"email", "reason"})
    user_id: uuid.UUID
    email: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class RefreshTokenReuseDetected(DomainEvent):
    """A rotated refresh token came back: likely stolen; the whole session was revoked (fraud signal)."""

    type = "auth.RefreshTokenReuseDetected"
    version = 1
    personal = frozenset({"ip", "user_agent"})
    user_id: uuid.UUID
    session_id: uuid.UUID
    ip: str | None
    user_agent: str | None
