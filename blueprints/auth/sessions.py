"""Sessions and tokens: a session is one sign-in on one device and the family of its refresh tokens.

Access tokens are short-lived JWTs (``app.security.tokens``) naming the session in ``sid``. Refresh
tokens are opaque, stored as SHA-256, and rotate on every use; a used one presented again means it
was copied, so the whole session is revoked (reuse detection). Revoking a session also denies its
``sid`` in Redis after commit, so its access tokens stop working before they expire.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select

from app.db import db, utcnow
from app.events import on_commit, publish
from app.security import encode_access_token
from app.security.identity import revoke_session_tokens
from blueprints.auth.credentials import digest, new_opaque_token
from blueprints.auth.errors import AuthError
from blueprints.auth.events import NewLoginDetected, RefreshTokenReuseDetected
from blueprints.auth.grants import token_roles
from blueprints.auth.models import AuthSession, RefreshToken, UserAccount


@dataclass(frozen=True)
class ClientInfo:
    """Where a sign-in comes from, as the API saw it."""

    ip: str | None = None
    user_agent: str | None = None
    device_name: str | None = None


@dataclass(frozen=True)
class IssuedTokens:
    session_id: uuid.UUID
    access_token: str
    expires_in: int
    refresh_token: str | None = None
    refresh_expires_in: int | None = None
    token_type: str = "Bearer"  # noqa: S105 - the OAuth scheme name


def _refresh_ttl() -> timedelta:
    return timedelta(seconds=current_app.config["JWT_REFRESH_TTL_SECONDS"])


def issue_access_token(user: UserAccount, session: AuthSession) -> IssuedTokens:
    token = encode_access_token(user_id=user.id, session_id=session.id, roles=token_roles(user), mfa_at=session.mfa_at)
    return IssuedTokens(
        session_id=session.id, access_token=token, expires_in=current_app.config["JWT_ACCESS_TTL_SECONDS"]
    )


def _issue_pair(user: UserAccount, session: AuthSession) -> IssuedTokens:
    raw, hashed = new_opaque_token()
    db.session.add(RefreshToken(session_id=session.id, token_hash=hashed, expires_at=session.expires_at))
    access = issue_access_token(user, session)
    return IssuedTokens(
        session_id=session.id,
        access_token=access.access_token,
        expires_in=access.expires_in,
        refresh_token=raw,
        refresh_expires_in=int((session.expires_at - utcnow()).total_seconds()),
    )


def _seen_before(user_id: uuid.UUID, client: ClientInfo) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    AuthSession.user_id == user_id,
                    AuthSession.user_agent.is_not_distinct_from(client.user_agent),
                    AuthSession.ip.is_not_distinct_from(client.ip),
                )
            )
        )
    )


def start_session(user: UserAccount, client: ClientInfo, *, mfa_at: datetime | None = None) -> IssuedTokens:
    """Open a session for a user who just proved who they are; returns its first token pair."""
    first_ever = user.last_login_at is None
    new_place = not first_ever and not _seen_before(user.id, client)
    now = utcnow()
    session = AuthSession(
        id=uuid.uuid4(),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + _refresh_ttl(),
        ip=client.ip,
        user_agent=(client.user_agent or "")[:512] or None,
        device_name=client.device_name,
        mfa_at=mfa_at,
    )
    db.session.add(session)
    user.last_login_at = now
    if new_place:
        publish(
            NewLoginDetected(
                aggregate_id=user.id,
                actor=f"user:{user.id}",
                user_id=user.id,
                email=user.email,
                display_name=user.profile.display_name,
                session_id=session.id,
                ip=client.ip,
                user_agent=session.user_agent,
                device_name=client.device_name,
            )
        )
    return _issue_pair(user, session)


def _revoke(session: AuthSession, reason: str) -> None:
    session.revoked_at = utcnow()
    session.revoke_reason = reason
    session_id = session.id
    on_commit(lambda: revoke_session_tokens(session_id))


def invalid_refresh(message: str = "The refresh token is invalid or expired.", **kwargs: object) -> AuthError:
    return AuthError(401, message, kind="invalid-refresh-token", **kwargs)  # type: ignore[arg-type]


def refresh(*, refresh_token: str, client: ClientInfo) -> IssuedTokens:
    """Rotate a refresh token. A token already rotated revokes its whole session (reuse detection)."""
    row = db.session.scalars(
        select(RefreshToken).where(RefreshToken.token_hash == digest(refresh_token)).with_for_update(of=RefreshToken)
    ).first()
    if row is None:
        raise invalid_refresh()
    session = row.session
    if session.revoked_at is not None:
        raise invalid_refresh("This session was signed out.")
    if row.used_at is not None:
        _revoke(session, "refresh_reuse")
        publish(
            RefreshTokenReuseDetected(
                aggregate_id=session.user_id,
                actor="system",
                user_id=session.user_id,
                session_id=session.id,
                ip=client.ip,
                user_agent=client.user_agent,
            )
        )
        raise invalid_refresh("This refresh token was already used; the session is now revoked.", keep_changes=True)
    now = utcnow()
    if row.expires_at <= now or session.expires_at <= now:
        raise invalid_refresh()
    user = db.session.get(UserAccount, session.user_id)
    if user is None or not user.is_active:
        raise invalid_refresh("This account cannot sign in.")
    row.used_at = now
    session.last_seen_at = now
    session.expires_at = now + _refresh_ttl()  # sliding: an idle session ends after the refresh TTL
    session.ip = client.ip or session.ip
    session.user_agent = (client.user_agent or "")[:512] or session.user_agent
    return _issue_pair(user, session)


def get_active_session(*, user_id: uuid.UUID, session_id: uuid.UUID) -> AuthSession | None:
    session = db.session.get(AuthSession, session_id)
    if session is None or session.user_id != user_id or not session.is_active:
        return None
    return session


def list_sessions(*, user_id: uuid.UUID) -> list[AuthSession]:
    """The user's live sessions, most recently used first."""
    return list(
        db.session.scalars(
            select(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None), AuthSession.expires_at > utcnow())
            .order_by(AuthSession.last_seen_at.desc())
        )
    )


def revoke_session(*, user_id: uuid.UUID, session_id: uuid.UUID, reason: str = "signed_out") -> bool:
    """Revoke one of the user's sessions; False when it is not theirs or not live (the API says 404)."""
    session = get_active_session(user_id=user_id, session_id=session_id)
    if session is None:
        return False
    _revoke(session, reason)
    return True


def _revoke_where(user_id: uuid.UUID, reason: str, keep: uuid.UUID | None = None) -> int:
    query = select(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None), AuthSession.expires_at > utcnow()
    )
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    found = list(db.session.scalars(query.with_for_update()))
    for session in found:
        _revoke(session, reason)
    return len(found)


def revoke_other_sessions(*, user_id: uuid.UUID, keep_session_id: uuid.UUID, reason: str = "signed_out") -> int:
    return _revoke_where(user_id, reason, keep=keep_session_id)


def revoke_all_sessions(*, user_id: uuid.UUID, reason: str) -> int:
    return _revoke_where(user_id, reason)
