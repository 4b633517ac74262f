"""Secret material of the auth domain: opaque tokens, recovery codes, TOTP secrets.

Opaque tokens carry 256 random bits, so a plain SHA-256 is a safe lookup key (no guessing, no
rainbow table). Recovery codes are shorter (50 bits) and get an HMAC keyed with a server secret,
so a database leak alone cannot brute-force them. TOTP secrets must be readable to check codes:
they are encrypted with Fernet under a key derived (HKDF) from ``SECRET_KEY`` - rotating
``SECRET_KEY`` therefore requires users to re-enrol MFA.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper


def new_opaque_token() -> tuple[str, str]:
    """A fresh token and the digest to store: ``(raw, sha256_hex)``."""
    raw = secrets.token_urlsafe(32)
    return raw, digest(raw)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _derived_key(purpose: bytes) -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"bazaar-auth:" + purpose).derive(secret)


def new_recovery_codes() -> list[str]:
    """Ten codes like ``k7mq2-x9hfa`` (50 bits each)."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{chars[:5]}-{chars[5:]}")
    return codes


def normalize_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def recovery_code_digest(code: str) -> str:
    key = _derived_key(b"recovery-codes")
    return hmac.new(key, normalize_recovery_code(code).encode(), hashlib.sha256).hexdigest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derived_key(b"totp-secrets")))


def encrypt_totp_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_totp_secret(encrypted: str) -> str:
    try:
        return _fernet().decrypt(encrypted.encode()).decode()
    except InvalidToken:
        raise RuntimeError("TOTP secret cannot be decrypted: was SECRET_KEY rotated?") from None
