"""Signing in: the password step, then (for MFA users) the code step that opens the session.

The password step of an MFA user yields an "mfa pending" token: a JWT of its own type
(``typ: mfa_pending``) that the gateway refuses as a bearer token and only the code step accepts,
once, within ``AUTH_MFA_PENDING_TTL_SECONDS``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from app.db import db, utcnow
from app.redis import get_redis
from app.security import TokenError, decode_access_token, encode_access_token
from app.security.passwords import burn_verification, hash_password, needs_rehash, verify_password
from blueprints.auth import mfa
from blueprints.auth.accounts import find_user_by_email
from blueprints.auth.errors import AuthError, account_suspended, invalid_credentials
from blueprints.auth.models import UserAccount
from blueprints.auth.sessions import ClientInfo, IssuedTokens, start_session

MFA_PENDING = "mfa_pending"
USED_MFA_TOKEN_KEY = "auth:mfa-pending-used:{jti}"  # noqa: S105 - a Redis key pattern


@dataclass(frozen=True)
class LoginResult:
    tokens: IssuedTokens | None = None
    mfa_token: str | None = None
    mfa_expires_in: int | None = None

    @property
    def mfa_required(self) -> bool:
        return self.mfa_token is not None


def authenticate(*, email: str, password: str) -> UserAccount:
    """The password step; an unknown email costs one argon2 verification too (no timing oracle)."""
    user = find_user_by_email(email)
    if user is None:
        burn_verification(password)
        raise invalid_credentials()
    if not verify_password(user.password_hash, password):
        raise invalid_credentials()
    if not user.is_active:
        raise account_suspended()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)  # ARGON2_* settings were raised since
    return user


def login(*, email: str, password: str, client: ClientInfo) -> LoginResult:
    user = authenticate(email=email, password=password)
    if mfa.is_enabled(user.id):
        ttl = current_app.config["AUTH_MFA_PENDING_TTL_SECONDS"]
        token = encode_access_token(
            user_id=user.id,
            session_id=uuid.uuid4(),  # the session opens only after the code step
            ttl=timedelta(seconds=ttl),
            token_type=MFA_PENDING,
        )
        return LoginResult(mfa_token=token, mfa_expires_in=ttl)
    return LoginResult(tokens=start_session(user, client))


def _pending_claims(mfa_token: str) -> dict:  # type: ignore[type-arg]
    try:
        return decode_access_token(mfa_token, token_type=MFA_PENDING)
    except TokenError as exc:
        raise AuthError(
            401, f"The sign-in step expired or is invalid ({exc}); sign in again.", kind="invalid-mfa-token"
        ) from None


def mfa_token_subject(mfa_token: str) -> str | None:
    """The user an (authentic) mfa pending token names, for per-user rate limits."""
    try:
        return str(decode_access_token(mfa_token, token_type=MFA_PENDING)["sub"])
    except (TokenError, KeyError):
        return None


def complete_mfa_login(*, mfa_token: str, code: str, client: ClientInfo) -> IssuedTokens:
    """The code step: a TOTP or recovery code opens the session, with ``mfa`` set to now."""
    claims = _pending_claims(mfa_token)
    user = db.session.get(UserAccount, uuid.UUID(claims["sub"]))
    if user is None:
        raise AuthError(401, "Sign in again.", kind="invalid-mfa-token")
    if not user.is_active:
        raise account_suspended()
    try:
        mfa.check_second_factor(user=user, code=code)
    except AuthError as exc:
        raise AuthError(401, exc.message, kind="invalid-mfa-code", errors=exc.errors) from None
    ttl = max(1, int(claims["exp"] - utcnow().timestamp()) + 5)
    if not get_redis().set(USED_MFA_TOKEN_KEY.format(jti=claims["jti"]), "1", nx=True, ex=ttl):
        raise AuthError(401, "This sign-in step was already completed; sign in again.", kind="invalid-mfa-token")
    return start_session(user, client, mfa_at=utcnow())
