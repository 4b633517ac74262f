"""Accounts, sign-in, tokens, profile and sessions endpoints under ``/auth``.

Views parse, call the services, commit once and shape the answer. Brute-force targets (sign-up,
login, password reset) carry stricter rate limits keyed per IP and per target email.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from flask_smorest import abort

from app.db import db
from app.ratelimit import body_field_key, failed, ip_key, rate_limit
from app.security import current_principal, login_required
from app.security.stepup import require_recent_mfa
from blueprints.auth import accounts, profiles, sessions, signin
from blueprints.auth.models import AuthSession
from blueprints.auth.schemas import (
    EmailSchema,
    EmailVerifiedSchema,
    LoginResultSchema,
    LoginSchema,
    MfaLoginSchema,
    OneTimeTokenSchema,
    PasswordChangeSchema,
    PasswordResetSchema,
    PrivateProfileSchema,
    ProfilePatchSchema,
    PublicProfileSchema,
    RefreshSchema,
    RevokedSchema,
    SessionSchema,
    SignupResultSchema,
    SignupSchema,
    TokenSchema,
)
from blueprints.auth.web import (
    BEARER,
    auth_blueprint,
    client_info,
    current_user,
    mfa_attempt_key,
    private_view,
    problems,
    token_view,
)

blp = auth_blueprint("auth", "Sign-up, sign-in, tokens, profile and sessions of marketplace users.")


@blp.route("/signup", methods=["POST"])
@problems(blp, 409, 429)
@rate_limit("RATELIMIT_AUTH_SIGNUP", key=ip_key)
@blp.arguments(SignupSchema)
@blp.response(201, SignupResultSchema)
def signup(data: dict[str, Any]) -> dict[str, Any]:
    """Create an account and sign in; a verification token goes out in EmailVerificationRequested."""
    user = accounts.register_user(
        email=data["email"], password=data["password"], display_name=data["display_name"], roles=data["roles"]
    )
    tokens = sessions.start_session(user, client_info(data))
    db.session.commit()
    return {"user": private_view(user), "tokens": token_view(tokens)}


@blp.route("/login", methods=["POST"])
@problems(blp, 401, 403, 429)
@rate_limit("RATELIMIT_AUTH_LOGIN", key=ip_key, count_when=failed)
@rate_limit("RATELIMIT_AUTH_LOGIN_ACCOUNT", key=body_field_key("email"), count_when=failed)
@blp.arguments(LoginSchema)
@blp.response(200, LoginResultSchema)
def login(data: dict[str, Any]) -> dict[str, Any]:
    """Password step. MFA users get ``mfa_required`` and an mfa token for ``POST /auth/login/mfa``."""
    result = signin.login(email=data["email"], password=data["password"], client=client_info(data))
    db.session.commit()
    if result.mfa_required:
        return {"mfa_required": True, "mfa_token": result.mfa_token, "mfa_expires_in": result.mfa_expires_in}
    assert result.tokens is not None
    return {"mfa_required": False, **token_view(result.tokens)}


@blp.route("/login/mfa", methods=["POST"])
@problems(blp, 401, 403, 429)
@rate_limit("RATELIMIT_AUTH_MFA", key=ip_key, count_when=failed)
@rate_limit("RATELIMIT_AUTH_MFA", key=mfa_attempt_key, count_when=failed)
@blp.arguments(MfaLoginSchema)
@blp.response(200, TokenSchema)
def login_mfa(data: dict[str, Any]) -> dict[str, Any]:
    """Code step: a TOTP or recovery code with the mfa token opens the session."""
    tokens = signin.complete_mfa_login(mfa_token=data["mfa_token"], code=data["code"], client=client_info(data))
    db.session.commit()
    return token_view(tokens)


@blp.route("/token/refresh", methods=["POST"])
@problems(blp, 401)
@blp.arguments(RefreshSchema)
@blp.response(200, TokenSchema)
def refresh(data: dict[str, Any]) -> dict[str, Any]:
    """Rotate the refresh token. Presenting an already used one revokes the whole session."""
    tokens = sessions.refresh(refresh_token=data["refresh_token"], client=client_info())
    db.session.commit()
    return token_view(tokens)


@blp.route("/logout", methods=["POST"])
@problems(blp, 401)
@blp.doc(security=BEARER)
@login_required
@blp.response(204)
def logout() -> None:
    """Revoke this session: its refresh token and its access tokens stop working now."""
    principal = current_principal()
    if principal.session_id is not None:
        sessions.revoke_session(user_id=principal.user_id, session_id=principal.session_id)
    db.session.commit()


@blp.route("/email/verify", methods=["POST"])
@problems(blp, 400, 429)
@rate_limit("RATELIMIT_AUTH_PASSWORD", key=ip_key, count_when=failed)
@blp.arguments(OneTimeTokenSchema)
@blp.response(200, EmailVerifiedSchema)
def verify_email(data: dict[str, Any]) -> dict[str, Any]:
    """Prove the email address with the token of EmailVerificationRequested (single use)."""
    accounts.verify_email(token=data["token"])
    db.session.commit()
    return {"email_verified": True}


@blp.route("/email/verification", methods=["POST"])
@problems(blp, 401, 409, 429)
@blp.doc(security=BEARER)
@rate_limit("RATELIMIT_AUTH_PASSWORD")
@login_required
@blp.response(202)
def resend_verification() -> Response:
    """Send a new verification token (earlier ones stop working)."""
    accounts.request_email_verification(user=current_user())
    db.session.commit()
    return Response(status=202)


@blp.route("/password/change", methods=["POST"])
@problems(blp, 401, 429)
@blp.doc(security=BEARER)
@rate_limit("RATELIMIT_AUTH_PASSWORD", count_when=failed)
@login_required
@require_recent_mfa()
@blp.arguments(PasswordChangeSchema)
@blp.response(200, RevokedSchema)
def change_password(data: dict[str, Any]) -> dict[str, Any]:
    """Change the password (step-up for MFA users); every other session is revoked."""
    principal = current_principal()
    revoked = accounts.change_password(
        user_id=current_user().id,
        session_id=principal.session_id,
        current_password=data["current_password"],
        new_password=data["new_password"],
    )
    db.session.commit()
    return {"revoked": revoked}


@blp.route("/password/reset-request", methods=["POST"])
@problems(blp, 429)
@rate_limit("RATELIMIT_AUTH_PASSWORD", key=ip_key)
@rate_limit("RATELIMIT_AUTH_PASSWORD", key=body_field_key("email"))
@blp.arguments(EmailSchema)
@blp.response(202)
def request_password_reset(data: dict[str, Any]) -> Response:
    """Always 202: whether the account exists is not revealed. The token goes out in PasswordResetRequested."""
    accounts.request_password_reset(email=data["email"])
    db.session.commit()
    return Response(status=202)


@blp.route("/password/reset", methods=["POST"])
@problems(blp, 400, 403, 429)
@rate_limit("RATELIMIT_AUTH_PASSWORD", key=ip_key, count_when=failed)
@blp.arguments(PasswordResetSchema)
@blp.response(204)
def reset_password(data: dict[str, Any]) -> None:
    """Set a new password with a reset token (single use, expiring); all sessions are revoked."""
    accounts.reset_password(token=data["token"], new_password=data["new_password"])
    db.session.commit()


@blp.route("/me", methods=["GET"])
@problems(blp, 401)
@blp.doc(security=BEARER)
@login_required
@blp.response(200, PrivateProfileSchema)
def me() -> dict[str, Any]:
    """My account and profile, private fields included."""
    return private_view(current_user())


@blp.route("/me", methods=["PATCH"])
@problems(blp, 401)
@blp.doc(security=BEARER)
@login_required
@blp.arguments(ProfilePatchSchema)
@blp.response(200, PrivateProfileSchema)
def update_me(data: dict[str, Any]) -> dict[str, Any]:
    """Edit my profile. Email, status and security fields are not writable here."""
    user = profiles.update_profile(user_id=current_user().id, changes=data)
    db.session.commit()
    return private_view(user)


@blp.route("/users/<uuid:user_id>", methods=["GET"])
@problems(blp, 404)
@blp.response(200, PublicProfileSchema)
def public_profile(user_id: uuid.UUID) -> Any:
    """Anyone's public profile (no email, no security state); suspended accounts are hidden."""
    found = profiles.public_profiles([user_id]).get(user_id)
    if found is None or not found.active:
        abort(404, message="No such user.")
    return found


@blp.route("/sessions", methods=["GET"])
@problems(blp, 401)
@blp.doc(security=BEARER)
@login_required
@blp.response(200, SessionSchema(many=True))
def list_sessions() -> list[dict[str, Any]]:
    """My signed-in devices."""
    principal = current_principal()
    found = sessions.list_sessions(user_id=principal.user_id)
    return [{**_session_fields(s), "current": s.id == principal.session_id} for s in found]


def _session_fields(session: AuthSession) -> dict[str, Any]:
    names = ("id", "device_name", "user_agent", "ip", "created_at", "last_seen_at", "expires_at", "mfa_at")
    return {name: getattr(session, name) for name in names}


@blp.route("/sessions/<uuid:session_id>", methods=["DELETE"])
@problems(blp, 401, 404)
@blp.doc(security=BEARER)
@login_required
@blp.response(204)
def revoke_session(session_id: uuid.UUID) -> None:
    """Sign one of my devices out (another user's session is a 404)."""
    if not sessions.revoke_session(user_id=current_principal().user_id, session_id=session_id):
        abort(404, message="No such session.")
    db.session.commit()


@blp.route("/sessions/revoke-others", methods=["POST"])
@problems(blp, 401)
@blp.doc(security=BEARER)
@login_required
@blp.response(200, RevokedSchema)
def revoke_other_sessions() -> dict[str, int]:
    """Sign out every device but this one."""
    principal = current_principal()
    revoked = sessions.revoke_other_sessions(user_id=principal.user_id, keep_session_id=principal.session_id)
    db.session.commit()
    return {"revoked": revoked}
