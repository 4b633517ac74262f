"""Gateway identity: bearer JWT validation -> the current principal used by policies and sockets."""

from app.security.identity import (
    Principal,
    anonymous,
    current_principal,
    login_required,
)
from app.security.tokens import TokenError, decode_access_token, encode_access_token

__all__ = [
    "Principal",
    "TokenError",
    "anonymous",
    "current_principal",
    "decode_access_token",
    "encode_access_token",
    "login_required",
]
