"""A fast "certainly valid" check of a row's attributes against its category's JSON Schema.

Running ``jsonschema`` on every row of a 100,000-row import costs more than the rest of the row's
validation. Category schemas are small (typed properties with enums, lengths, bounds, required
keys), so this compiles that subset into plain comparisons that only ever say "no error for
certain". Anything else, or any doubt (a float where an integer is expected, a schema keyword it
does not know), answers False and the row goes through :func:`check_attributes`, which writes the
messages. It never accepts what jsonschema refuses: ``tests/listings/test_import_fastpath.py``
compares the two on generated attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]
_ANNOTATIONS = frozenset({"title", "description", "$comment", "examples", "default"})
_OBJECT_KEYWORDS = frozenset({"type", "properties", "required", "additionalProperties", "$schema"}) | _ANNOTATIONS
_VALUE_KEYWORDS = frozenset({"type", "enum", "minLength", "maxLength", "minimum", "maximum",
                             "exclusiveMinimum", "exclusiveMaximum"}) | _ANNOTATIONS  # fmt: skip
_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,)}


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _value_check(schema: Any) -> Check | None:
    """A check of one property's value, or None when the subset cannot vouch for this schema."""
    if not isinstance(schema, Mapping) or not _VALUE_KEYWORDS.issuperset(schema) or schema.get("type") not in _TYPES:
        return None
    types = _TYPES[schema["type"]]  # exact types: bools are not numbers, 1.0 is not vouched for as an integer
    enum = schema.get("enum")
    if enum is not None and not isinstance(enum, list):
        return None
    choices = [(type(choice), choice) for choice in enum] if enum is not None else None
    low_len, high_len = schema.get("minLength"), schema.get("maxLength")
    bounds = [schema.get(k) for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")]
    if any(b is not None and not _is_number(b) for b in bounds) or any(
        n is not None and type(n) is not int for n in (low_len, high_len)
    ):
        return None
    low, high, low_ex, high_ex = bounds

    def check(value: Any) -> bool:
        if type(value) not in types:
            return False
        if choices is not None and (type(value), value) not in choices:
            return False
        if type(value) is str:
            if (low_len is not None and len(value) < low_len) or (high_len is not None and len(value) > high_len):
                return False
        elif type(value) is not bool:
            if (low is not None and value < low) or (high is not None and value > high):
                return False
            if (low_ex is not None and value <= low_ex) or (high_ex is not None and value >= high_ex):
                return False
        return True

    return check


def compile_attributes_check(schema: Any, *, complete: bool) -> Check | None:
    """``check(attributes)`` -> True only if jsonschema would report nothing; None if the schema is outside the subset.

    ``complete`` applies ``required`` (publishing); drafts are checked without it, as :func:`check_attributes` does.
    """
    if not schema:
        return lambda attributes: isinstance(attributes, dict)
    if not isinstance(schema, Mapping) or not _OBJECT_KEYWORDS.issuperset(schema) or schema.get("type") != "object":
        return None
    properties = schema.get("properties", {})
    others_allowed = schema.get("additionalProperties", True)
    required = schema.get("required", []) if complete else []
    if not isinstance(properties, Mapping) or not isinstance(required, list) or not isinstance(others_allowed, bool):
        return None
    checks: dict[str, Check] = {}
    for name, sub in properties.items():
        check = _value_check(sub)
        if check is None:
            return None
        checks[name] = check
    needed = tuple(required)

    def check_object(attributes: Any) -> bool:
        if type(attributes) is not dict:
            return False
        for key in needed:
            if key not in attributes:
                return False
        for key, value in attributes.items():
            check = checks.get(key)
            if check is None:
                if not others_allowed:
                    return False
            elif not check(value):
                return False
        return True

    return check_object
