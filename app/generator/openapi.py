"""OpenAPI pieces shared by every generated (and hand-written) endpoint.

- Error responses are documented as ``application/problem+json`` with the problem schema, which is
  what ``app.errors`` sends, so response validation (schemathesis) holds for every error path.
- One schema-name resolver: a schema used with modifiers (``only``, ``exclude``, ``partial``...) gets
  a distinct, stable name instead of apispec's "Multiple schemas resolved to the name" warning.
"""

from __future__ import annotations

import http
from typing import Any

import marshmallow as ma
from apispec.ext.marshmallow.common import resolve_schema_cls

from app.errors import PROBLEM_JSON

BEARER = "bearerAuth"
REQUIRED_AUTH: list[dict[str, list[str]]] = [{BEARER: []}]
OPTIONAL_AUTH: list[dict[str, list[str]]] = [{}, {BEARER: []}]

_MODIFIERS = ("only", "exclude", "load_only", "dump_only", "partial")


_NAME_OF: dict[type, str] = {}  # one name per schema class for the whole process (every app agrees)
_CLASS_OF: dict[str, type] = {}


def _class_name(cls: type) -> str:
    """``FooSchema`` -> ``Foo``; a second class called Foo (another domain) -> ``PaymentsFoo``."""
    known = _NAME_OF.get(cls)
    if known is not None:
        return known
    base = cls.__name__
    if base.endswith("Schema") and len(base) > len("Schema"):
        base = base[: -len("Schema")]
    name = base
    parts = [p for p in cls.__module__.split(".") if p not in ("blueprints", "app", "schemas", "api")]
    while name in _CLASS_OF and _CLASS_OF[name] is not cls:
        if not parts:
            name = f"{name}{len(_CLASS_OF)}"
            break
        name = parts.pop(0).title().replace("_", "") + name
    _NAME_OF[cls] = name
    _CLASS_OF[name] = cls
    return name


def schema_name_resolver(schema: Any) -> str:
    """One stable component name per schema class; schemas used with modifiers get a suffix."""
    cls = resolve_schema_cls(schema)
    name = _class_name(cls)
    if isinstance(schema, ma.Schema):
        for modifier in _MODIFIERS:
            value = getattr(schema, modifier, None)
            if value is True:
                name += modifier.title().replace("_", "")
            elif value:
                name += modifier.title().replace("_", "") + "".join(
                    str(part).title().replace("_", "") for part in sorted(value)
                )
    return name


def register_problem_responses(api: Any) -> None:
    """Replace smorest's error responses (application/json) with problem+json ones, same names."""
    from app.errors import ProblemSchema

    for status in http.HTTPStatus:
        response: dict[str, Any] = {"description": status.phrase}
        if status >= 400:
            response["content"] = {PROBLEM_JSON: {"schema": ProblemSchema}}
        api.spec.components.response(status.name, response, lazy=True)
    api.spec.components.response(
        "DEFAULT_ERROR",
        {"description": "Error (RFC 9457 problem)", "content": {PROBLEM_JSON: {"schema": ProblemSchema}}},
        lazy=True,
    )


def security_for(requires_auth: bool) -> list[dict[str, list[str]]]:
    """Operations open to anonymous callers still accept a token (they may see more with one)."""
    return REQUIRED_AUTH if requires_auth else OPTIONAL_AUTH
