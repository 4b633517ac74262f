"""Password hashing with argon2id (argon2-cffi), parameters from settings.

Defaults follow OWASP's Password Storage Cheat Sheet profile m=19 MiB, t=2, p=1 (about 25 ms per hash
on one core here): strong enough against GPU guessing while a 2-core web node still serves dozens of
logins per second. Stored hashes carry their own parameters, so raising the settings later takes
effect on each user's next login (:func:`needs_rehash`). ``bench/auth.py`` prints the measured cost.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app

HASH_LENGTH = 32
SALT_LENGTH = 16
# Verified against when the account does not exist, so a wrong email costs as much as a wrong password.
_DUMMY_PASSWORD = "bazaar-timing-equaliser"  # noqa: S105 - never matches a real account


def build_hasher(*, time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=parallelism,
        hash_len=HASH_LENGTH,
        salt_len=SALT_LENGTH,
        type=Type.ID,
    )


def hasher(app: Flask | None = None) -> PasswordHasher:
    """The app's hasher, built once from ARGON2_* settings."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("bazaar_password_hasher")
    if found is None:
        found = build_hasher(
            time_cost=app.config["ARGON2_TIME_COST"],
            memory_kib=app.config["ARGON2_MEMORY_KIB"],
            parallelism=app.config["ARGON2_PARALLELISM"],
        )
        app.extensions["bazaar_password_hasher"] = found
        app.extensions["bazaar_password_dummy"] = found.hash(_DUMMY_PASSWORD)
    return found


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; never raises on a wrong password or a malformed hash."""
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


def burn_verification(password: str) -> None:
    """Spend one verification's time on an unknown account (no user enumeration by timing)."""
    hasher()
    verify_password(current_app.extensions["bazaar_password_dummy"], password)
