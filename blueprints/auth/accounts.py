"""Accounts: sign-up, email verification, password change and reset.

Functions work in ``db.session`` and never commit: the caller (API view, admin view, seed) commits
once, so a change and its events commit together. Each is keyword-only and called alike from all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.db import db, utcnow
from app.events import publish
from app.security.passwords import hash_password, verify_password
from blueprints.auth import sessions
from blueprints.auth.credentials import digest, new_opaque_token
from blueprints.auth.errors import AuthError, invalid_field
from blueprints.auth.events import (
    EmailVerificationRequested,
    EmailVerified,
    PasswordChanged,
    PasswordResetRequested,
    UserRegistered,
)
from blueprints.auth.models import (
    MARKETPLACE_ROLES,
    OneTimeToken,
    Profile,
    TokenPurpose,
    UserAccount,
)

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 256


def normalize_email(email: str) -> str:
    return email.strip().lower()


def get_user(user_id: uuid.UUID, *, for_update: bool = False) -> UserAccount | None:
    query = select(UserAccount).where(UserAccount.id == user_id)
    if for_update:
        query = query.with_for_update(of=UserAccount)
    return db.session.scalars(query).first()


def find_user_by_email(email: str) -> UserAccount | None:
    return db.session.scalars(select(UserAccount).where(UserAccount.email == normalize_email(email))).first()


def check_password_policy(password: str, *, email: str, field: str = "password") -> None:
    """Length rules of NIST SP 800-63B (no composition rules), and never the email itself."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise invalid_field(field, f"Use at least {PASSWORD_MIN_LENGTH} characters.")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise invalid_field(field, f"Use at most {PASSWORD_MAX_LENGTH} characters.")
    if password.strip().lower() in {normalize_email(email), normalize_email(email).split("@")[0]}:
        raise invalid_field(field, "The password must not be your email address.")


def register_user(
    *, email: str, password: str, display_name: str, roles: Iterable[str] = ("buyer",), verified: bool = False
) -> UserAccount:
    """Create the account and its profile; publishes UserRegistered and (unless ``verified``) a
    verification request."""
    email = normalize_email(email)
    check_password_policy(password, email=email)
    if not display_name.strip():
        raise invalid_field("display_name", "A display name is required.")
    roles = sorted(set(roles))
    unknown = set(roles) - set(MARKETPLACE_ROLES)
    if unknown or not roles:
        raise invalid_field("roles", f"Choose among {', '.join(MARKETPLACE_ROLES)}.")
    if db.session.scalar(select(UserAccount.id).where(UserAccount.email == email)) is not None:
        raise AuthError(
            409,
            "An account with this email already exists.",
            kind="email-taken",
            errors={"email": ["An account with this email already exists."]},
        )
    now = utcnow()
    user = UserAccount(
        id=uuid.uuid4(),
        email=email,
        password_hash=hash_password(password),
        password_changed_at=now,
        email_verified_at=now if verified else None,
    )
    user.profile = Profile(display_name=display_name.strip(), roles=roles)
    db.session.add(user)
    db.session.flush()
    publish(
        UserRegistered(
            aggregate_id=user.id,
            actor=f"user:{user.id}",
            user_id=user.id,
            email=email,
            display_name=user.profile.display_name,
            roles=roles,
        )
    )
    if not verified:
        request_email_verification(user=user)
    return user


def _new_one_time_token(user: UserAccount, purpose: TokenPurpose, ttl_seconds: int) -> tuple[str, OneTimeToken]:
    """Issue a token and retire the user's earlier unused ones of the same purpose."""
    now = utcnow()
    db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.user_id == user.id, OneTimeToken.purpose == purpose, OneTimeToken.used_at.is_(None))
        .values(used_at=now)
    )
    raw, hashed = new_opaque_token()
    row = OneTimeToken(
        user_id=user.id, purpose=purpose, token_hash=hashed, expires_at=now + timedelta(seconds=ttl_seconds)
    )
    db.session.add(row)
    return raw, row


def _consume_one_time_token(raw: str, purpose: TokenPurpose) -> OneTimeToken:
    row = db.session.scalars(
        select(OneTimeToken)
        .where(OneTimeToken.token_hash == digest(raw), OneTimeToken.purpose == purpose)
        .with_for_update()
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise invalid_field("token", "This link is invalid, already used or expired.", status=400, kind="invalid-token")
    row.used_at = utcnow()
    return row


def request_email_verification(*, user: UserAccount) -> None:
    if user.email_verified_at is not None:
        raise AuthError(409, "The email address is already verified.", kind="already-verified")
    raw, row = _new_one_time_token(user, TokenPurpose.VERIFY_EMAIL, current_app.config["AUTH_VERIFY_EMAIL_TTL_SECONDS"])
    publish(
        EmailVerificationRequested(
            aggregate_id=user.id,
            user_id=user.id,
            email=user.email,
            display_name=user.profile.display_name,
            token=raw,
            expires_at=row.expires_at,
        )
    )


def verify_email(*, token: str) -> UserAccount:
    row = _consume_one_time_token(token, TokenPurpose.VERIFY_EMAIL)
    user = get_user(row.user_id)
    assert user is not None  # the foreign key guarantees it
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        publish(EmailVerified(aggregate_id=user.id, actor=f"user:{user.id}", user_id=user.id, email=user.email))
    return user


def request_password_reset(*, email: str) -> None:
    """Publish a reset token for an active account; silent otherwise (no account enumeration)."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    raw, row = _new_one_time_token(
        user, TokenPurpose.RESET_PASSWORD, current_app.config["AUTH_RESET_PASSWORD_TTL_SECONDS"]
    )
    publish(
        PasswordResetRequested(
            aggregate_id=user.id,
            user_id=user.id,
            email=user.email,
            display_name=user.profile.display_name,
            token=raw,
            expires_at=row.expires_at,
        )
    )


def _set_password(user: UserAccount, password: str, *, field: str) -> None:
    check_password_policy(password, email=user.email, field=field)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


def reset_password(*, token: str, new_password: str) -> UserAccount:
    """Set a new password from a reset token; every session of the account is revoked."""
    row = _consume_one_time_token(token, TokenPurpose.RESET_PASSWORD)
    user = get_user(row.user_id, for_update=True)
    assert user is not None
    if not user.is_active:
        raise AuthError(403, "This account is suspended. Contact support.", kind="account-suspended")
    _set_password(user, new_password, field="new_password")
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the reset link reached the inbox: the address is proven
    revoked = sessions.revoke_all_sessions(user_id=user.id, reason="password_reset")
    publish(
        PasswordChanged(
            aggregate_id=user.id,
            actor=f"user:{user.id}",
            user_id=user.id,
            email=user.email,
            display_name=user.profile.display_name,
            via="reset",
            sessions_revoked=revoked,
        )
    )
    return user


def change_password(*, user_id: uuid.UUID, session_id: uuid.UUID, current_password: str, new_password: str) -> int:
    """Change a known password; other sessions are revoked, this one stays. Returns the count revoked."""
    user = get_user(user_id, for_update=True)
    if user is None:
        raise AuthError(404, "No such account.", kind="not-found")
    if not verify_password(user.password_hash, current_password):
        raise invalid_field("current_password", "The current password is incorrect.")
    if current_password == new_password:
        raise invalid_field("new_password", "Choose a password different from the current one.")
    _set_password(user, new_password, field="new_password")
    revoked = sessions.revoke_other_sessions(user_id=user.id, keep_session_id=session_id, reason="password_change")
    publish(
        PasswordChanged(
            aggregate_id=user.id,
            user_id=user.id,
            email=user.email,
            display_name=user.profile.display_name,
            via="change",
            sessions_revoked=revoked,
        )
    )
    return revoked
