"""HTTP plumbing shared by generated endpoints: parsing, JSON responses, docs, one transaction per write."""

from __future__ import annotations

import functools
import http
import json
import re
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import Response, request
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser

from app.extensions import db
from app.generator import openapi

PARSER = FlaskParser()
ETAG_HEADER = {"ETag": {"description": "Version of the returned object", "schema": {"type": "string"}}}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "description": "ETag of the version you read (428 without it, 412 when stale)",
    "schema": {"type": "string"},
}
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "description": "ETag you hold: 304 when unchanged",
    "schema": {"type": "string"},
}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def one_transaction(view: Callable[..., Response]) -> Callable[..., Response]:
    """Whatever fails inside a write leaves nothing behind: the session is rolled back at once."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise

    return wrapper


def parse(schema: ma.Schema, location: str) -> dict[str, Any]:
    return PARSER.parse(schema, request, location=location, unknown=ma.RAISE)


def document(blp: Blueprint, *, summary: str, auth: bool, errors: tuple[int, ...], **extra: Any) -> Callable:
    def decorate(view: Callable) -> Callable:
        for code in errors:
            view = blp.alt_response(code, response=http.HTTPStatus(code).name)(view)
        return blp.doc(summary=summary, security=openapi.security_for(auth), **extra)(view)

    return decorate
