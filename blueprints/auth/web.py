"""Plumbing shared by the auth API blueprints: errors, the caller, client info, rate-limit keys."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from flask import Response, request
from flask_smorest import Blueprint, abort

from app.db import db
from app.errors import problem_response
from app.ratelimit import client_key, ip_key
from app.security import current_principal
from blueprints.auth import mfa
from blueprints.auth.errors import AuthError
from blueprints.auth.grants import granted_roles
from blueprints.auth.models import UserAccount
from blueprints.auth.profiles import to_public
from blueprints.auth.sessions import ClientInfo, IssuedTokens
from blueprints.auth.signin import mfa_token_subject

BEARER = [{"bearerAuth": []}]
F = TypeVar("F", bound=Callable[..., Any])


def problems(blp: Blueprint, *statuses: int) -> Callable[[F], F]:
    """Document the problem+json answers a view may give besides validation errors."""

    def document(view: F) -> F:
        for status in statuses:
            view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return document


def handle_auth_error(error: AuthError) -> Response:
    """problem+json for a refused auth operation, here or in a domain that called the auth service."""
    if error.keep_changes:
        db.session.commit()
    else:
        db.session.rollback()
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None  # RFC 9110: 401 names the scheme
    return problem_response(
        error.status, detail=error.message, errors=error.errors or None, type_=error.problem_type, headers=headers
    )


def no_store(response: Response) -> Response:
    """Token and account responses are never cached by browsers or proxies."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def auth_blueprint(name: str, description: str) -> Blueprint:
    blp = Blueprint(name, __name__, description=description)
    blp.register_error_handler(AuthError, handle_auth_error)
    blp.after_request(no_store)
    return blp


def client_info(data: dict[str, Any] | None = None) -> ClientInfo:
    agent = "".join(char for char in request.user_agent.string if char.isprintable())[:512]
    return ClientInfo(ip=request.remote_addr, user_agent=agent or None, device_name=(data or {}).get("device_name"))


def current_user() -> UserAccount:
    """The signed-in marketplace user (a valid token for an account that no longer exists is a 401)."""
    principal = current_principal()
    if not principal.is_authenticated:
        abort(401, message="Authentication required.", headers={"WWW-Authenticate": "Bearer"})
    user = db.session.get(UserAccount, principal.user_id)
    if user is None or not user.is_active:
        abort(401, message="This account cannot use the API.", headers={"WWW-Authenticate": "Bearer"})
    return user


def private_view(user: UserAccount) -> dict[str, Any]:
    public = to_public(user)
    return {
        **public.__dict__,
        "email": user.email,
        "email_verified": user.email_verified_at is not None,
        "mfa_enabled": mfa.is_enabled(user.id),
        "status": user.status,
        "granted_roles": granted_roles(user.id),
    }


def token_view(tokens: IssuedTokens) -> dict[str, Any]:
    return {key: value for key, value in tokens.__dict__.items() if value is not None}


def mfa_attempt_key() -> str:
    """MFA code attempts count per user: the signed-in one, or the one an mfa pending token names."""
    body = request.get_json(silent=True)
    token = body.get("mfa_token") if isinstance(body, dict) else None
    if isinstance(token, str):
        subject = mfa_token_subject(token)
        if subject:
            return f"user:{subject}"
        return ip_key()
    return client_key()
