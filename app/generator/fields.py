"""marshmallow fields the generator uses, strict enough that bad input is a 422 and never a 500.

PostgreSQL refuses NUL characters in text and JSON, out-of-range integers and lone surrogates: each
would surface as a database error. These fields reject such values first, and document the limits in
the OpenAPI schema so clients (and schemathesis) know them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from marshmallow import validate

# Text PostgreSQL can store: no NUL, no lone surrogate (they cannot be encoded to UTF-8).
STORABLE_TEXT = re.compile(r"^[^\x00\ud800-\udfff]*$")
MAX_TEXT_LENGTH = 100_000
INT_BOUNDS = {
    "SmallInteger": (-(2**15), 2**15 - 1),
    "Integer": (-(2**31), 2**31 - 1),
    "BigInteger": (-(2**63), 2**63 - 1),
}
MAX_JSON_DEPTH = 20


class StorableText(validate.Regexp):
    """Documented as a ``pattern``; the message names the problem instead of quoting the regex."""

    def __init__(self) -> None:
        super().__init__(STORABLE_TEXT, error="Text must not contain NUL characters or lone surrogates.")


_NUMBER_LIMIT = 2**63
_TEXT_ERROR = "Text must not contain NUL characters or lone surrogates."
_storable = STORABLE_TEXT.match


def _check_json(value: Any, depth: int = 0) -> None:
    """Refuse what PostgreSQL's JSON cannot store; the first problem found (depth first) is the message.

    Plain dicts and lists check their scalar members inline (a call per member cost most of an
    import row's check); anything else takes the general path below, with the same order and rules.
    """
    if depth > MAX_JSON_DEPTH:
        raise ma.ValidationError(f"Nested deeper than {MAX_JSON_DEPTH} levels.")
    kind = type(value)
    if kind is dict:
        if value and depth == MAX_JSON_DEPTH:  # its members sit one level deeper
            raise ma.ValidationError(f"Nested deeper than {MAX_JSON_DEPTH} levels.")
        for key, item in value.items():
            if type(key) is not str:
                _check_json(key, depth + 1)
            elif not _storable(key):
                raise ma.ValidationError(_TEXT_ERROR)
            _check_member(item, depth + 1)
    elif kind is list:
        if value and depth == MAX_JSON_DEPTH:
            raise ma.ValidationError(f"Nested deeper than {MAX_JSON_DEPTH} levels.")
        for item in value:
            _check_member(item, depth + 1)
    elif isinstance(value, str):
        if not _storable(value):
            raise ma.ValidationError(_TEXT_ERROR)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_json(key, depth + 1)
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _NUMBER_LIMIT:
        raise ma.ValidationError("Integers in JSON documents must fit in 64 bits.")


def _check_member(item: Any, depth: int) -> None:
    """``_check_json(item, depth)`` for a member at most ``MAX_JSON_DEPTH`` deep, scalars without a call."""
    kind = type(item)
    if kind is str:
        if not _storable(item):
            raise ma.ValidationError(_TEXT_ERROR)
    elif kind is int:
        if abs(item) >= _NUMBER_LIMIT:
            raise ma.ValidationError("Integers in JSON documents must fit in 64 bits.")
    elif kind is not bool and kind is not float and item is not None:
        _check_json(item, depth)


class JSONObject(ma.fields.Dict):
    """A JSON object stored in a JSON/JSONB column, checked for what PostgreSQL cannot store."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        result = super()._deserialize(value, attr, data, **kwargs)
        _check_json(result)
        return result


class StrictBoolean(ma.fields.Boolean):
    """JSON booleans only: ``"yes"`` or ``1`` in a body are type errors, not silently converted."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class StrictFloat(ma.fields.Float):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class MoneySchema(ma.Schema):
    """An amount in integer minor units of an ISO 4217 currency (``{"amount": 1999, "currency": "EUR"}``)."""

    class Meta:
        unknown = ma.RAISE

    amount = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=INT_BOUNDS["BigInteger"][1]),
        metadata={"description": "Minor units (cents)", "example": 1999},
    )
    currency = ma.fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Z]{3}$", error="Expected an ISO 4217 code such as EUR."),
        metadata={"description": "ISO 4217 code", "example": "EUR"},
    )


class MoneyField(ma.fields.Nested):
    """Two model columns (amount, currency) shown and written as one Money object."""

    def __init__(self, amount_attr: str, currency_attr: str, **kwargs: Any) -> None:
        super().__init__(MoneySchema, **kwargs)
        self.amount_attr = amount_attr
        self.currency_attr = currency_attr

    def serialize(self, attr: str, obj: Any, accessor: Any = None, **kwargs: Any) -> Any:
        amount = getattr(obj, self.amount_attr, None)
        if amount is None:
            return None
        return {"amount": amount, "currency": getattr(obj, self.currency_attr)}
