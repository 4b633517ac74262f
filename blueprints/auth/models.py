"""Accounts, profiles, sessions, refresh tokens, one-time tokens and MFA credentials (schema ``auth``).

Secrets never rest in clear: passwords are argon2id hashes, refresh / one-time tokens and recovery
codes are stored as SHA-256 (HMAC for codes) digests, TOTP secrets are encrypted with a server key.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, Timestamps, UUIDPk, utcnow

SCHEMA = "auth"
MARKETPLACE_ROLES = ("buyer", "seller")
# Roles only staff give (CLI ``bazaar auth grant-role`` or the users admin), never chosen at sign-up.
GRANTABLE_ROLES = ("integrator",)


class UserStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name, not a secret


def _ts(*, nullable: bool = True, **kwargs: Any) -> Any:
    return mapped_column(DateTime(timezone=True), nullable=nullable, **kwargs)


class UserAccount(UUIDPk, Timestamps, Model):
    """A marketplace account (never a staff member: staff live in FAB's ``admin`` schema)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended')", name="status"),
        CheckConstraint("email = lower(email)", name="email_lower"),
        {"schema": SCHEMA},
    )

    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=UserStatus.ACTIVE, nullable=False)
    email_verified_at: Mapped[datetime | None] = _ts()
    password_changed_at: Mapped[datetime | None] = _ts()
    last_login_at: Mapped[datetime | None] = _ts()
    suspended_at: Mapped[datetime | None] = _ts()
    suspension_reason: Mapped[str | None] = mapped_column(Text)

    profile: Mapped[Profile] = relationship(
        f"{__name__}.Profile", back_populates="user", uselist=False, lazy="joined", innerjoin=True
    )

    @property
    def is_active(self) -> bool:
        return self.status == UserStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<UserAccount {self.id} {self.status}>"


class Profile(Timestamps, Model):
    """What a user shows of themselves; ``roles`` are the marketplace roles they chose."""

    __tablename__ = "profiles"
    __table_args__ = (
        CheckConstraint("roles <@ ARRAY['buyer', 'seller']::varchar[]", name="roles_known"),
        {"schema": SCHEMA},
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth.users.id", ondelete="CASCADE"), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(80), nullable=False)
    bio: Mapped[str | None] = mapped_column(String(500))
    location: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    # Metadata of an image stored elsewhere: {url, content_type, width, height, size_bytes}.
    avatar: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    roles: Mapped[list[str]] = mapped_column(
        ARRAY(String(16)), default=lambda: ["buyer"], server_default=text("ARRAY['buyer']::varchar[]"), nullable=False
    )

    user: Mapped[UserAccount] = relationship(f"{__name__}.UserAccount", back_populates="profile")


class RoleGrant(Model):
    """A role staff granted to a user (beside the marketplace roles they chose); revoking deletes the row,
    the audit log keeps the history."""

    __tablename__ = "role_grants"
    __table_args__ = (
        CheckConstraint("role IN ('integrator')", name="role_grantable"),
        {"schema": SCHEMA},
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth.users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(80), nullable=False)  # staff:<id> | cli:<os user>
    granted_at: Mapped[datetime] = _ts(nullable=False, default=utcnow)


class UserStatusChange(UUIDPk, Model):
    """One row per account status transition: who, when, from, to, why."""

    __tablename__ = "user_status_changes"
    __table_args__ = (Index("ix_user_status_changes_user", "user_id", "occurred_at"), {"schema": SCHEMA})

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth.users.id", ondelete="CASCADE"), nullable=False)
    from_status: Mapped[str] = mapped_column(String(16), nullable=False)
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    actor_type: Mapped[str] = mapped_column(String(16), nullable=False)  # staff | system
    actor_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = _ts(nullable=False, default=utcnow)


class AuthSession(UUIDPk, Model):
    """One sign-in on one device: the family of its rotating refresh tokens; its id is the ``sid`` claim."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_user_active", "user_id", "revoked_at"), {"schema": SCHEMA})

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth.users.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = _ts(nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime] = _ts(nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = _ts(nullable=False)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    device_name: Mapped[str | None] = mapped_column(String(100))
    mfa_at: Mapped[datetime | None] = _ts()  # last TOTP / recovery-code check in this session
    revoked_at: Mapped[datetime | None] = _ts()
    revoke_reason: Mapped[str | None] = mapped_column(String(32))

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > utcnow()


class RefreshToken(UUIDPk, Model):
    """An opaque refresh token (SHA-256 stored); ``used_at`` set on rotation makes a replay detectable."""

    __tablename__ = "refresh_tokens"
    __table_args__ = {"schema": SCHEMA}

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth.sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = _ts(nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = _ts(nullable=False)
    used_at: Mapped[datetime | None] = _ts()

    session: Mapped[AuthSession] = relationship(f"{__name__}.AuthSession", lazy="joined", innerjoin=True)


class OneTimeToken(UUIDPk, Model):
    """Email verification and password reset tokens: single use, expiring, stored as SHA-256."""

    __tablename__ = "one_time_tokens"
    __table_args__ = (
        CheckConstraint("purpose IN ('verify_email', 'reset_password')", name="purpose"),
        Index("ix_one_time_tokens_user_purpose", "user_id", "purpose"),
        {"schema": SCHEMA},
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth.users.id", ondelete="CASCADE"), nullable=False)
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = _ts(nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = _ts(nullable=False)
    used_at: Mapped[datetime | None] = _ts()


class TotpCredential(Model):
    """A user's TOTP secret (encrypted); ``confirmed_at`` null while enrolment awaits its first code."""

    __tablename__ = "totp_credentials"
    __table_args__ = {"schema": SCHEMA}

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth.users.id", ondelete="CASCADE"), primary_key=True)
    secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _ts(nullable=False, default=utcnow)
    confirmed_at: Mapped[datetime | None] = _ts()
    # Highest accepted time step: a code is never accepted twice (replay within its window).
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(UUIDPk, Model):
    """One of the ten single-use MFA recovery codes, stored as an HMAC digest."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user", "user_id", "code_hash", unique=True), {"schema": SCHEMA})

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth.users.id", ondelete="CASCADE"), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = _ts(nullable=False, default=utcnow)
    used_at: Mapped[datetime | None] = _ts()
