"""Access-token signing and verification with PyJWT (HS256 or RS256, ``kid`` for key rotation).

Verification pins the configured algorithm, so ``alg: none`` and HS/RS confusion are rejected by
construction: a token is only checked with a key of the configured kind, looked up by its ``kid``.

A verified token's claims are cached per app (a token is immutable; expiry and type are still
checked on every use): a client sends the same token for up to 15 minutes, and re-verifying it on
each request was a measurable share of the gateway's cost (``bench/auth.py``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from flask import current_app


class TokenError(Exception):
    """The token is missing, malformed, expired, forged or revoked (always a 401)."""


def _parse_pairs(raw: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        kid, _, value = item.partition("=")
        if not value:
            raise TokenError(f"malformed key pair {item!r}: expected kid=value")
        pairs[kid.strip()] = value.strip()
    return pairs


def _read_pem(value: str) -> str:
    return value if value.startswith("-----BEGIN") else Path(value).read_text()


def verification_keys(config: Mapping[str, Any]) -> dict[str, Any]:
    """kid -> key accepted for verification (current key plus retired ones during rotation)."""
    if config["JWT_ALGORITHM"] == "HS256":
        keys = {config["JWT_KID"]: config["JWT_SECRET"]}
        keys.update(_parse_pairs(config.get("JWT_PREVIOUS_SECRETS", "")))
        return keys
    return {kid: _read_pem(pem) for kid, pem in _parse_pairs(config["JWT_PUBLIC_KEYS"]).items()}


def signing_key(config: Mapping[str, Any]) -> Any:
    if config["JWT_ALGORITHM"] == "HS256":
        return config["JWT_SECRET"]
    if not config.get("JWT_PRIVATE_KEY"):
        raise TokenError("JWT_PRIVATE_KEY is not configured: this process cannot issue RS256 tokens")
    return _read_pem(config["JWT_PRIVATE_KEY"])


def encode_access_token(
    *,
    user_id: uuid.UUID | str,
    session_id: uuid.UUID | str,
    roles: Iterable[str] = (),
    mfa_at: datetime | None = None,
    ttl: timedelta | None = None,
    token_type: str = "access",  # noqa: S107 - a claim value, not a secret
    extra: Mapping[str, Any] | None = None,
) -> str:
    config = current_app.config
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": config["JWT_ISSUER"],
        "aud": config["JWT_AUDIENCE"],
        "sub": str(user_id),
        "sid": str(session_id),
        "roles": sorted(set(roles)),
        "typ": token_type,
        "iat": now,
        "nbf": now,
        "exp": now + (ttl or timedelta(seconds=config["JWT_ACCESS_TTL_SECONDS"])),
        "jti": uuid.uuid4().hex,
    }
    if mfa_at is not None:
        claims["mfa"] = int(mfa_at.timestamp())
    claims.update(extra or {})
    return jwt.encode(
        claims, signing_key(config), algorithm=config["JWT_ALGORITHM"], headers={"kid": config["JWT_KID"]}
    )


LEEWAY_SECONDS = 5
_CACHE_SIZE = 10_000


def _app_verification_keys() -> dict[str, Any]:
    keys = current_app.extensions.get("bazaar_jwt_keys")
    if keys is None:
        keys = current_app.extensions["bazaar_jwt_keys"] = verification_keys(current_app.config)
    return keys


def decode_access_token(token: str, *, token_type: str = "access") -> dict[str, Any]:  # noqa: S107
    """Verified claims of ``token`` (signature, algorithm, kid, iss, aud, exp, typ) or TokenError."""
    cache: dict[str, dict[str, Any]] = current_app.extensions.setdefault("bazaar_token_cache", {})
    claims = cache.get(token)
    if claims is None or claims["exp"] + LEEWAY_SECONDS <= time.time():
        claims = _verify(token)
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[token] = claims
    if claims.get("typ", "access") != token_type:
        raise TokenError(f"a {claims.get('typ')!r} token cannot be used here")
    return dict(claims)


def _verify(token: str) -> dict[str, Any]:
    config = current_app.config
    algorithm = config["JWT_ALGORITHM"]
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenError(f"malformed token: {exc}") from None
    if header.get("alg") != algorithm:
        raise TokenError(f"algorithm {header.get('alg')!r} is not accepted")
    key = _app_verification_keys().get(header.get("kid", ""))
    if key is None:
        raise TokenError("unknown signing key (kid)")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=config["JWT_AUDIENCE"],
            issuer=config["JWT_ISSUER"],
            options={"require": ["exp", "iat", "sub", "sid"]},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token expired") from None
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid token: {exc}") from None
    return claims
