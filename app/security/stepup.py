"""Step-up authentication: actions that move money or change credentials need a fresh MFA check.

A user with MFA enrolled must have passed a TOTP / recovery-code check within ``seconds`` (the ``mfa``
claim of the access token, refreshed by ``POST /auth/mfa/step-up``); users without MFA pass. The
answer follows RFC 9470: 401 with ``WWW-Authenticate: Bearer error="insufficient_user_authentication"``
and ``max_age``, as problem+json of type ``step-up-required``.

Whether a user has MFA is asked live of the auth domain (it registers the lookup at start), so a
token minted before enrolment cannot skip the check. Without a registered lookup every user is
treated as enrolled: the check fails closed.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g
from flask_smorest import abort

from app.errors import PROBLEM_TYPE_BASE
from app.security.identity import Principal, current_principal

F = TypeVar("F", bound=Callable[..., Any])

STEP_UP_PROBLEM = PROBLEM_TYPE_BASE + "step-up-required"
DEFAULT_MAX_AGE = 600
MfaLookup = Callable[[uuid.UUID], bool]


def register_mfa_lookup(app: Flask, lookup: MfaLookup) -> None:
    """Called by the auth domain: ``lookup(user_id)`` says whether the user has MFA enrolled."""
    app.extensions["bazaar_mfa_enrolled"] = lookup


def mfa_enrolled(user_id: uuid.UUID) -> bool:
    cache: dict[uuid.UUID, bool] = g.setdefault("_bazaar_mfa_enrolled", {})
    if user_id not in cache:
        lookup: MfaLookup | None = current_app.extensions.get("bazaar_mfa_enrolled")
        cache[user_id] = True if lookup is None else bool(lookup(user_id))
    return cache[user_id]


def ensure_recent_mfa(principal: Principal | None = None, seconds: int = DEFAULT_MAX_AGE) -> None:
    """Abort (401 problem+json) unless the principal may perform a sensitive action now."""
    principal = principal or current_principal()
    if not principal.is_authenticated or principal.user_id is None:
        abort(401, message="Authentication required.", headers={"WWW-Authenticate": "Bearer"})
    if principal.mfa_within(seconds) or not mfa_enrolled(principal.user_id):
        return
    abort(
        401,
        message=f"This action needs a multi-factor check within the last {seconds} seconds: "
        "POST /auth/mfa/step-up with a current code, then retry with the new access token.",
        type=STEP_UP_PROBLEM,
        extra={"max_age": seconds},
        headers={
            "WWW-Authenticate": 'Bearer error="insufficient_user_authentication", '
            f'error_description="A recent multi-factor check is required", max_age={seconds}'
        },
    )


def require_recent_mfa(seconds: int = DEFAULT_MAX_AGE) -> Callable[[F], F]:
    """Decorator for views (and actions) that move money or change credentials."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ensure_recent_mfa(seconds=seconds)
            return view(*args, **kwargs)

        wrapper._bazaar_step_up = seconds  # type: ignore[attr-defined] - the generator may document it
        return wrapper  # type: ignore[return-value]

    return decorator
