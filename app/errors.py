"""Errors as RFC 9457 ``application/problem+json`` on API routes, HTML in the admin.

Every 4xx/5xx raised anywhere (``abort``, webargs validation, an unhandled exception, an integrity
violation) goes through :func:`problem_response`, so clients see one shape with per-field ``errors``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import Flask, Response, g, json, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Conflict, HTTPException, InternalServerError

from app.extensions import db

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
ADMIN_PREFIX = "/admin"
PROBLEM_TYPE_BASE = "https://bazaar.dev/problems/"


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, with Bazaar's per-field ``errors``."""

    class Meta:
        unknown = ma.INCLUDE  # RFC 9457 extension members (e.g. ``constraint`` on a 409) are allowed

    type = ma.fields.String(metadata={"example": "https://bazaar.dev/problems/validation"})
    title = ma.fields.String(metadata={"example": "Unprocessable Entity"})
    status = ma.fields.Integer(metadata={"example": 422})
    detail = ma.fields.String(metadata={"example": "The request body has invalid fields."})
    instance = ma.fields.String(metadata={"example": "/listings/"})
    request_id = ma.fields.String()
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={"description": "Messages per field (dotted path for nested fields)"},
    )


def is_api_request() -> bool:
    """API routes answer problem+json; the staff admin keeps its HTML pages."""
    return not request.path.startswith(ADMIN_PREFIX)


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """``{"json": {"price": {"amount": ["x"]}}}`` -> ``{"price.amount": ["x"]}``.

    webargs nests messages by location then by field; clients want one flat map of field paths.
    """
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if not prefix and key in {"json", "query", "querystring", "headers", "form", "files", "view_args"}:
                flat.update(flatten_errors(value, ""))
                continue
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, path))
    elif isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list | tuple):
        for index, value in enumerate(messages):
            flat.update(flatten_errors(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def problem_response(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    errors: Mapping[str, Any] | None = None,
    type_: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    from werkzeug.http import HTTP_STATUS_CODES

    body: dict[str, Any] = {
        "type": type_ or "about:blank",
        "title": title or HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    request_id = getattr(g, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    if errors:
        body["errors"] = flatten_errors(errors)
    if extra:
        body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def handle_http_exception(error: HTTPException) -> Response:
    if not is_api_request():
        return error.get_response()
    data = getattr(error, "data", None) or {}
    code = error.code or 500
    if code >= 500:
        original = getattr(error, "original_exception", None)
        log.error("unhandled error", exc_info=original or error)
        detail = "An unexpected error occurred; it has been logged."
    else:
        detail = data.get("message") or error.description
    errors = data.get("errors") or data.get("messages")
    headers = dict(data.get("headers") or {})
    # werkzeug attaches e.g. Allow / WWW-Authenticate / Retry-After to its own exceptions.
    for key, value in error.get_headers():
        if key.lower() != "content-type":
            headers.setdefault(key, value)
    type_ = data.get("type")
    if type_ is None and errors and code in (400, 422):
        type_ = PROBLEM_TYPE_BASE + "validation"
        detail = data.get("message") or "The request has invalid fields; see errors."
    return problem_response(
        code,
        title=error.name,
        detail=detail,
        errors=errors,
        type_=type_,
        headers=headers,
        extra=data.get("extra"),
    )


def handle_integrity_error(error: IntegrityError) -> Response:
    """A constraint violation is a conflict with existing data (409), never a 500."""
    db.session.rollback()
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    log.info("integrity error: %s", constraint or error.orig)
    if not is_api_request():
        return Conflict().get_response()
    return problem_response(
        409,
        detail="The change conflicts with existing data.",
        type_=PROBLEM_TYPE_BASE + "conflict",
        extra={"constraint": constraint} if constraint else None,
    )


def handle_unexpected(error: Exception) -> Response:
    db.session.rollback()
    wrapped = InternalServerError(original_exception=error)
    return handle_http_exception(wrapped)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    if not app.config.get("PROPAGATE_EXCEPTIONS"):
        app.register_error_handler(Exception, handle_unexpected)
