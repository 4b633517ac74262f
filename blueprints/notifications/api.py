"""Hand-written endpoints under ``/notifications`` beside the generated list/read of notifications.

The bell (unread count, mark read, mark all read), preferences and settings of the signed-in user,
and the public one-click unsubscribe endpoint (RFC 8058: ``POST`` with the signed token in the URL;
``GET`` only shows a confirmation page, so link scanners never unsubscribe anyone).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from html import escape
from typing import Any, TypeVar

from flask import Response, request
from flask_smorest import Blueprint, abort

from app.db import db
from app.generator import ServiceError
from app.security import current_principal, login_required
from blueprints.notifications import service
from blueprints.notifications.schemas import (
    NotificationReadSchema,
    PreferencesPatchSchema,
    PreferencesSchema,
    ReadAllResultSchema,
    ReadAllSchema,
    SettingsPatchSchema,
    SettingsSchema,
    UnreadCountSchema,
    UnsubscribeArgsSchema,
    UnsubscribeResultSchema,
)

T = TypeVar("T")
BEARER = [{"bearerAuth": []}]

blp = Blueprint(
    "notifications_api",
    __name__,
    description="The bell (unread count, mark read), notification preferences and settings, unsubscribe links.",
)


def _call(func: Callable[..., T], /, **kwargs: Any) -> T:
    try:
        return func(**kwargs)
    except ServiceError as error:
        db.session.rollback()
        abort(error.status, message=error.message, errors=error.errors or None)


def _user_id() -> uuid.UUID:
    return current_principal().user_id  # type: ignore[return-value]


@blp.route("/unread-count", methods=["GET"])
@login_required
@blp.response(200, UnreadCountSchema)
@blp.doc(security=BEARER)
def unread_count() -> dict[str, int]:
    """How many of your in-app notifications are unread (the bell's badge)."""
    return {"unread": service.unread_count(user_id=_user_id())}


@blp.route("/<uuid:notification_id>/read", methods=["POST"])
@login_required
@blp.response(200, NotificationReadSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.doc(security=BEARER)
def mark_read(notification_id: uuid.UUID) -> Any:
    """Mark one of your notifications read (idempotent). Someone else's is a 404."""
    note = _call(service.mark_read, notification_id=notification_id, user_id=_user_id())
    db.session.commit()
    return note


@blp.route("/read-all", methods=["POST"])
@login_required
@blp.arguments(ReadAllSchema, required=False)
@blp.response(200, ReadAllResultSchema)
@blp.doc(security=BEARER)
def mark_all_read(data: dict[str, Any] | None = None) -> dict[str, int]:
    """Mark all your unread notifications read (optionally only those created up to ``up_to``)."""
    user_id = _user_id()
    marked = service.mark_all_read(user_id=user_id, up_to=(data or {}).get("up_to"))
    db.session.commit()
    return {"marked": marked, "unread": service.unread_count(user_id=user_id)}


@blp.route("/preferences", methods=["GET"])
@login_required
@blp.response(200, PreferencesSchema)
@blp.doc(security=BEARER)
def get_preferences() -> dict[str, Any]:
    """Every notification kind with, per channel: enabled, mandatory, default."""
    return {"preferences": service.get_preferences(user_id=_user_id())}


@blp.route("/preferences", methods=["PATCH"])
@login_required
@blp.arguments(PreferencesPatchSchema)
@blp.response(200, PreferencesSchema)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.doc(security=BEARER)
def change_preferences(data: dict[str, Any]) -> dict[str, Any]:
    """Switch (kind, channel) pairs on or off. Mandatory ones (security, payments) answer 422 naming the field."""
    result = _call(service.change_preferences, user_id=_user_id(), changes=data["preferences"])
    db.session.commit()
    return {"preferences": result}


@blp.route("/settings", methods=["GET"])
@login_required
@blp.response(200, SettingsSchema)
@blp.doc(security=BEARER)
def get_settings() -> Any:
    """Your language, time zone, quiet hours (push and SMS wait until they end) and SMS number."""
    return service.get_settings(user_id=_user_id())


@blp.route("/settings", methods=["PATCH"])
@login_required
@blp.arguments(SettingsPatchSchema)
@blp.response(200, SettingsSchema)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.doc(security=BEARER)
def change_settings(data: dict[str, Any]) -> Any:
    """Change some settings; quiet hours need both ends (local times in your time zone) or neither."""
    settings = _call(service.change_settings, user_id=_user_id(), changes=data)
    db.session.commit()
    return settings


@blp.route("/unsubscribe", methods=["GET"])
@blp.arguments(UnsubscribeArgsSchema, location="query")
@blp.doc(
    summary="Unsubscribe confirmation page",
    responses={"200": {"description": "An HTML page with the one-click button", "content": {"text/html": {}}}},
)
def unsubscribe_page(args: dict[str, Any]) -> Response:
    """The page an email's footer link opens: it checks the link, then asks for one click (a POST)."""
    _call(_check_token, token=args["token"])
    action = escape(request.full_path, quote=True)
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Unsubscribe</title></head>"
        "<body style='font-family: sans-serif; max-width: 480px; margin: 48px auto;'>"
        "<h1>Stop these emails?</h1><p>You can switch them on again in your notification settings.</p>"
        f"<form method='post' action='{action}'><input type='hidden' name='List-Unsubscribe' value='One-Click'>"
        "<button type='submit'>Unsubscribe</button></form></body></html>"
    )
    return Response(page, mimetype="text/html")


@blp.route("/unsubscribe", methods=["POST"])
@blp.arguments(UnsubscribeArgsSchema, location="query")
@blp.response(200, UnsubscribeResultSchema)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.doc(summary="One-click unsubscribe (RFC 8058)")
def unsubscribe(args: dict[str, Any]) -> dict[str, Any]:
    """Stop the kind of email the signed token names. No sign-in: the signature is the proof."""
    result = _call(service.unsubscribe, token=args["token"])
    db.session.commit()
    return result


def _check_token(*, token: str) -> None:
    from blueprints.notifications.unsubscribe import BadUnsubscribeToken, read_token

    try:
        read_token(token)
    except BadUnsubscribeToken as exc:
        raise ServiceError(str(exc), status=400, errors={"token": ["Invalid or tampered token."]}) from None
