"""The current principal of a client request, resolved once per request from the bearer token.

Staff use Flask-AppBuilder's session login on ``/admin`` and never become a client principal:
client APIs trust only bearer tokens.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from flask_smorest import abort

from app.security.revocation import KEY as REVOCATION_KEY
from app.security.revocation import RevocationMirror, mirror_for, publish_revocation
from app.security.tokens import TokenError, decode_access_token

F = TypeVar("F", bound=Callable[..., Any])

REVOKED_SESSION_KEY = REVOCATION_KEY
# Staff admin (FAB session login), probes and docs never read a bearer token.
UNAUTHENTICATED_PREFIXES = ("/admin", "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json")


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID | None
    session_id: uuid.UUID | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    mfa_at: datetime | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def mfa_within(self, seconds: int) -> bool:
        return self.mfa_at is not None and (datetime.now(UTC) - self.mfa_at).total_seconds() <= seconds


anonymous = Principal(user_id=None)


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        user_id = uuid.UUID(claims["sub"])
        session_id = uuid.UUID(claims["sid"])
    except (KeyError, ValueError):
        raise TokenError("token subject or session is not a UUID") from None
    mfa = claims.get("mfa")
    return Principal(
        user_id=user_id,
        session_id=session_id,
        roles=frozenset(claims.get("roles") or ()),
        mfa_at=datetime.fromtimestamp(mfa, UTC) if isinstance(mfa, int) else None,
        claims=claims,
    )


def is_session_revoked(session_id: uuid.UUID) -> bool:
    """Revoked sessions (logout, suspension, refresh reuse) stop working before their tokens expire.

    Answered by this process's mirror of the Redis denylist when it is live, else by Redis itself.
    """
    known = revocations().is_revoked(str(session_id))
    if known is not None:
        return known
    redis = current_app.extensions["redis"]
    return bool(redis.exists(REVOKED_SESSION_KEY.format(sid=session_id)))


def revoke_session_tokens(session_id: uuid.UUID | str, ttl_seconds: int | None = None) -> None:
    """Deny every access token of a session for as long as one could still be valid, in every process."""
    ttl = ttl_seconds or current_app.config["JWT_ACCESS_TTL_SECONDS"] + 60
    revocations().add(str(session_id), ttl)
    publish_revocation(current_app.extensions["redis"], str(session_id), ttl)
    # Live sockets of the session leave every room now, not when their token expires.
    from app.realtime import disconnect_session

    if "bazaar_socketio" in current_app.extensions:
        disconnect_session(session_id)


def authenticate_token(token: str) -> Principal:
    """Validate a bearer token (HTTP or Socket.IO connect) into a principal, or raise TokenError."""
    principal = principal_from_claims(decode_access_token(token))
    if principal.session_id and is_session_revoked(principal.session_id):
        raise TokenError("session revoked")
    return principal


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("Authorization header must be 'Bearer <token>'")
    return token.strip()


def load_principal() -> None:
    """before_request: an invalid token is a 401 even on public routes (the client believes it is signed in)."""
    g.principal = anonymous
    if request.path.startswith(UNAUTHENTICATED_PREFIXES):
        return
    try:
        token = _bearer_token()
        if token:
            g.principal = authenticate_token(token)
    except TokenError as exc:
        abort(401, message=str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def current_principal() -> Principal:
    return getattr(g, "principal", anonymous)


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_principal().is_authenticated:
            abort(401, message="Authentication required.", headers={"WWW-Authenticate": "Bearer"})
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def revocations() -> RevocationMirror:
    return current_app.extensions["bazaar_revocations"]


def init_app(app: Flask) -> None:
    app.extensions["bazaar_revocations"] = mirror_for(app.config["REDIS_URL"])
    app.before_request(load_principal)
