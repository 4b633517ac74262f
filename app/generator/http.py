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


class QueryArgs:
    """Parses a list's query string with a schema of just the parameters sent (plus defaults).

    A list declares dozens of filter parameters; marshmallow visits every declared field on each
    load. The subset schema per distinct set of parameter names is built once and reused, and an
    unknown parameter still fails (it is not in the subset either), with the same 422 as before.
    """

    MAX_SHAPES = 256

    def __init__(self, schema_cls: type[ma.Schema]) -> None:
        self._full = schema_cls()
        self._by_key = {(f.data_key or name): name for name, f in self._full.load_fields.items()}
        self._defaults = [name for name, f in self._full.load_fields.items() if f.load_default is not ma.missing]
        self._shapes: dict[frozenset[str], ma.Schema] = {}

    def parse(self) -> dict[str, Any]:
        sent = frozenset(request.args.keys())
        schema = self._shapes.get(sent)
        if schema is None:
            if not sent <= self._by_key.keys() or len(self._shapes) >= self.MAX_SHAPES:
                schema = self._full  # unknown names (the full schema names them) or too many shapes
            else:
                names = {self._by_key[key] for key in sent} | set(self._defaults)
                schema = self._shapes[sent] = self._full.__class__(only=names)
        return parse(schema, "query")


def document(blp: Blueprint, *, summary: str, auth: bool, errors: tuple[int, ...], **extra: Any) -> Callable:
    def decorate(view: Callable) -> Callable:
        for code in errors:
            view = blp.alt_response(code, response=http.HTTPStatus(code).name)(view)
        return blp.doc(summary=summary, security=openapi.security_for(auth), **extra)(view)

    return decorate
