"""Refuse NUL characters in JSON bodies: PostgreSQL text cannot store them, and no client needs them.

Checked once for every API request, so no domain answers a 500 when a string carries ``\\u0000``;
the problem names each offending field.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_smorest import abort

MESSAGE = "Text must not contain NUL (\\u0000) characters."


def nul_fields(value: Any, path: str = "") -> list[str]:
    """Dotted paths of every string (or object key) holding a NUL character."""
    if isinstance(value, str):
        return [path or "_schema"] if "\x00" in value else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                found.append(child)
            found.extend(nul_fields(item, child))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(nul_fields(item, f"{path}.{index}" if path else str(index)))
    return found


def refuse_nul_characters() -> None:
    if request.path.startswith("/admin") or not request.is_json:
        return
    fields = nul_fields(request.get_json(silent=True))
    if fields:
        abort(422, message="The request has invalid fields; see errors.", errors={f: [MESSAGE] for f in fields})


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
