"""Two-step verification endpoints under ``/auth/mfa``: enrol, confirm, step up, recovery codes, disable.

Every endpoint that checks a code is rate limited per IP and per user (6-digit codes are guessable
without a limit).
"""

from __future__ import annotations

from typing import Any

from app.db import db
from app.ratelimit import failed, ip_key, rate_limit
from app.security import current_principal, login_required
from app.security.stepup import require_recent_mfa
from blueprints.auth import mfa, sessions
from blueprints.auth.models import AuthSession
from blueprints.auth.schemas import (
    CodeSchema,
    MfaDisableSchema,
    RecoveryCodesSchema,
    StepUpSchema,
    TotpEnrolmentSchema,
)
from blueprints.auth.web import BEARER, auth_blueprint, current_user, problems

blp = auth_blueprint("auth_mfa", "Two-step verification (TOTP) of marketplace users.")


def _fresh_access_token() -> dict[str, Any]:
    """An access token for the current session carrying its (just updated) ``mfa`` claim."""
    session = db.session.get(AuthSession, current_principal().session_id)
    if session is None:  # a token minted outside a session (tests, tools): nothing to refresh
        return {}
    issued = sessions.issue_access_token(current_user(), session)
    return {"token_type": issued.token_type, "access_token": issued.access_token, "expires_in": issued.expires_in}


@blp.route("/mfa/totp", methods=["POST"])
@problems(blp, 401, 409)
@blp.doc(security=BEARER)
@login_required
@blp.response(201, TotpEnrolmentSchema)
def enrol_totp() -> dict[str, str]:
    """Start enrolment: a secret and its otpauth URI. MFA turns on once a code confirms it."""
    secret, uri = mfa.begin_enrolment(user=current_user())
    db.session.commit()
    return {"secret": secret, "otpauth_uri": uri}


@blp.route("/mfa/totp/confirm", methods=["POST"])
@problems(blp, 401, 409, 429)
@blp.doc(security=BEARER)
@rate_limit("RATELIMIT_AUTH_MFA", key=ip_key, count_when=failed)
@rate_limit("RATELIMIT_AUTH_MFA", count_when=failed)
@login_required
@blp.arguments(CodeSchema)
@blp.response(200, RecoveryCodesSchema)
def confirm_totp(data: dict[str, Any]) -> dict[str, Any]:
    """Turn MFA on with a first code; returns ten recovery codes, shown this once."""
    user = current_user()
    codes = mfa.confirm_enrolment(user=user, session_id=current_principal().session_id, code=data["code"])
    db.session.flush()
    answer = {"recovery_codes": codes, **_fresh_access_token()}
    db.session.commit()
    return answer


@blp.route("/mfa/step-up", methods=["POST"])
@problems(blp, 401, 409, 429)
@blp.doc(security=BEARER)
@rate_limit("RATELIMIT_AUTH_MFA", key=ip_key, count_when=failed)
@rate_limit("RATELIMIT_AUTH_MFA", count_when=failed)
@login_required
@blp.arguments(CodeSchema)
@blp.response(200, StepUpSchema)
def step_up(data: dict[str, Any]) -> dict[str, Any]:
    """Prove the second factor again; the new access token passes ``require_recent_mfa`` for 10 min."""
    at = mfa.step_up(user=current_user(), session_id=current_principal().session_id, code=data["code"])
    db.session.flush()
    answer = {"mfa_at": at, **_fresh_access_token()}
    db.session.commit()
    return answer


@blp.route("/mfa/recovery-codes", methods=["POST"])
@problems(blp, 401, 409)
@blp.doc(security=BEARER)
@login_required
@require_recent_mfa()
@blp.response(200, RecoveryCodesSchema)
def regenerate_recovery_codes() -> dict[str, Any]:
    """Ten new recovery codes (the old ones stop working); needs a recent step-up."""
    codes = mfa.regenerate_recovery_codes(user=current_user())
    db.session.commit()
    return {"recovery_codes": codes}


@blp.route("/mfa/totp/disable", methods=["POST"])
@problems(blp, 401, 409, 429)
@blp.doc(security=BEARER)
@rate_limit("RATELIMIT_AUTH_MFA", key=ip_key, count_when=failed)
@rate_limit("RATELIMIT_AUTH_MFA", count_when=failed)
@login_required
@blp.arguments(MfaDisableSchema)
@blp.response(204)
def disable_totp(data: dict[str, Any]) -> None:
    """Turn MFA off with the password and a current code (or a recovery code)."""
    mfa.disable(user=current_user(), password=data["password"], code=data["code"])
    db.session.commit()
