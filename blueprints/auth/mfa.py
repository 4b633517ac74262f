"""TOTP multi-factor authentication (pyotp) with ten single-use recovery codes.

A code is accepted for the current 30 s step and one step either side (clock drift), and never twice:
the highest accepted step is stored, so a code seen over a shoulder cannot be replayed, even within
its window. Recovery codes are HMAC digests; each works once.
"""

from __future__ import annotations

import hmac
import re
import uuid
from datetime import datetime

import pyotp
from flask import current_app
from sqlalchemy import delete, func, select

from app.db import db, utcnow
from app.events import publish
from app.security.passwords import verify_password
from blueprints.auth.credentials import (
    decrypt_totp_secret,
    encrypt_totp_secret,
    new_recovery_codes,
    recovery_code_digest,
)
from blueprints.auth.errors import AuthError, invalid_field
from blueprints.auth.events import MfaChanged
from blueprints.auth.models import AuthSession, RecoveryCode, TotpCredential, UserAccount

TOTP_PATTERN = re.compile(r"^\d{6}$")
DRIFT_STEPS = 1


def is_enabled(user_id: uuid.UUID) -> bool:
    confirmed = db.session.scalar(select(TotpCredential.confirmed_at).where(TotpCredential.user_id == user_id))
    return confirmed is not None


def _credential(user_id: uuid.UUID) -> TotpCredential | None:
    return db.session.scalars(select(TotpCredential).where(TotpCredential.user_id == user_id).with_for_update()).first()


def _codes_left(user_id: uuid.UUID) -> int:
    return (
        db.session.scalar(select(func.count()).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)))
        or 0
    )


def _announce(user: UserAccount, change: str) -> None:
    publish(
        MfaChanged(
            aggregate_id=user.id,
            actor=f"user:{user.id}",
            user_id=user.id,
            email=user.email,
            display_name=user.profile.display_name,
            change=change,
            recovery_codes_left=_codes_left(user.id),
        )
    )


def begin_enrolment(*, user: UserAccount) -> tuple[str, str]:
    """A new secret and its ``otpauth://`` URI (for a QR code); MFA is on only once a code confirms it."""
    credential = _credential(user.id)
    if credential is not None and credential.confirmed_at is not None:
        raise AuthError(409, "Two-step verification is already on.", kind="mfa-already-enabled")
    secret = pyotp.random_base32()
    if credential is None:
        credential = TotpCredential(user_id=user.id, secret_encrypted="")
        db.session.add(credential)
    credential.secret_encrypted = encrypt_totp_secret(secret)
    credential.created_at = utcnow()
    credential.last_used_step = None
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=current_app.config["AUTH_TOTP_ISSUER"])
    return secret, uri


def _accept_totp(credential: TotpCredential, code: str, now: datetime) -> bool:
    totp = pyotp.TOTP(decrypt_totp_secret(credential.secret_encrypted))
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if credential.last_used_step is not None and step <= credential.last_used_step:
            continue  # this code (or an older one) was already used
        if hmac.compare_digest(totp.generate_otp(step), code):
            credential.last_used_step = step
            return True
    return False


def _replace_recovery_codes(user_id: uuid.UUID) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = new_recovery_codes()
    db.session.add_all(RecoveryCode(user_id=user_id, code_hash=recovery_code_digest(code)) for code in codes)
    return codes


def _mark_session(session_id: uuid.UUID | None, when: datetime) -> None:
    if session_id is not None:
        session = db.session.get(AuthSession, session_id)
        if session is not None:
            session.mfa_at = when


def confirm_enrolment(*, user: UserAccount, session_id: uuid.UUID | None, code: str) -> list[str]:
    """Turn MFA on with a first valid code; returns the ten recovery codes (shown once)."""
    credential = _credential(user.id)
    if credential is None:
        raise AuthError(409, "Start enrolment first (POST /auth/mfa/totp).", kind="mfa-not-enrolling")
    if credential.confirmed_at is not None:
        raise AuthError(409, "Two-step verification is already on.", kind="mfa-already-enabled")
    now = utcnow()
    if not TOTP_PATTERN.match(code) or not _accept_totp(credential, code, now):
        raise invalid_field("code", "The code is not valid. Check the time on your device.")
    credential.confirmed_at = now
    codes = _replace_recovery_codes(user.id)
    _mark_session(session_id, now)
    db.session.flush()
    _announce(user, "enabled")
    return codes


def check_second_factor(*, user: UserAccount, code: str) -> str:
    """True second-factor check: a TOTP code or an unused recovery code. Returns which one worked.

    Raises ``AuthError`` (422 on ``code``) when it fails; callers in the login flow turn that into 401.
    """
    credential = _credential(user.id)
    if credential is None or credential.confirmed_at is None:
        raise AuthError(409, "Two-step verification is not on.", kind="mfa-not-enabled")
    code = code.strip()
    if TOTP_PATTERN.match(code):
        if _accept_totp(credential, code, utcnow()):
            return "totp"
        raise invalid_field("code", "The code is not valid or was already used.")
    recovery = db.session.scalars(
        select(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == recovery_code_digest(code))
        .with_for_update()
    ).first()
    if recovery is None or recovery.used_at is not None:
        raise invalid_field("code", "The code is not valid or was already used.")
    recovery.used_at = utcnow()
    db.session.flush()
    _announce(user, "recovery_code_used")
    return "recovery_code"


def step_up(*, user: UserAccount, session_id: uuid.UUID, code: str) -> datetime:
    """Record a fresh second-factor check on the session (the ``mfa`` claim of its next tokens)."""
    check_second_factor(user=user, code=code)
    now = utcnow()
    _mark_session(session_id, now)
    return now


def disable(*, user: UserAccount, password: str, code: str) -> None:
    """Turn MFA off: needs the password and a current code (or a recovery code)."""
    if not verify_password(user.password_hash, password):
        raise invalid_field("password", "The password is incorrect.")
    check_second_factor(user=user, code=code)
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id))
    _announce(user, "disabled")


def regenerate_recovery_codes(*, user: UserAccount) -> list[str]:
    """Ten new codes; the old ones stop working (the caller must have passed step-up)."""
    if not is_enabled(user.id):
        raise AuthError(409, "Two-step verification is not on.", kind="mfa-not-enabled")
    codes = _replace_recovery_codes(user.id)
    db.session.flush()
    _announce(user, "recovery_codes_regenerated")
    return codes
