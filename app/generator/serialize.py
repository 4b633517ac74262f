"""A compiled dumper: the output schema's JSON, produced without marshmallow's per-field machinery.

List endpoints dump many rows per request; marshmallow resolves each field's accessor, validators
and hooks every time. This module reads the schema once and keeps, per field, the attribute to read
and a plain conversion. Its output is tested equal to ``Schema().dump`` for every field type used.
Fields of a type it does not know fall back to the marshmallow field itself, so nothing is lost.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import marshmallow as ma

from app.generator.fields import MoneyField

Converter = Callable[[Any], Any] | None


def _iso(value: Any) -> Any:
    return None if value is None else value.isoformat()


def _text(value: Any) -> Any:
    return None if value is None else str(value)


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


PLAIN = (ma.fields.String, ma.fields.Integer, ma.fields.Boolean, ma.fields.Float, ma.fields.Dict, ma.fields.Raw)


def _converter(schema_field: ma.fields.Field) -> Converter | str:
    """None = value as is; a callable = convert; "fallback" = let marshmallow serialize it."""
    if isinstance(schema_field, ma.fields.DateTime | ma.fields.Date | ma.fields.Time):
        fmt = getattr(schema_field, "format", None)
        return _iso if fmt in (None, "iso", "iso8601") else "fallback"
    if isinstance(schema_field, ma.fields.UUID):
        return _text
    if isinstance(schema_field, ma.fields.Enum):
        return _enum_value if schema_field.by_value else "fallback"
    if isinstance(schema_field, ma.fields.Decimal):
        return "fallback"
    if isinstance(schema_field, MoneyField | ma.fields.Pluck | ma.fields.Method | ma.fields.Function):
        return "fallback"
    if isinstance(schema_field, ma.fields.Mapping) and (schema_field.key_field or schema_field.value_field):
        return "fallback"
    if isinstance(schema_field, ma.fields.List):
        return _list_of(_converter(schema_field.inner))
    if isinstance(schema_field, ma.fields.Nested):
        nested = _nested(schema_field.schema)
        if nested == "fallback":
            return "fallback"
        return _list_of(nested) if schema_field.many else nested
    if isinstance(schema_field, PLAIN):
        return None
    return "fallback"


def _list_of(item: Converter | str) -> Converter | str:
    if item == "fallback":
        return "fallback"
    if item is None:
        return lambda values: None if values is None else list(values)
    return lambda values: None if values is None else [None if v is None else item(v) for v in values]  # type: ignore[operator]


def _nested(schema: ma.Schema) -> Converter | str:
    """A nested schema of convertible fields, read like marshmallow reads it (missing keys are left out)."""
    plans = []
    for name, schema_field in schema.dump_fields.items():
        converter = _converter(schema_field)
        if converter == "fallback":
            return "fallback"
        plans.append((schema_field.data_key or name, schema_field.attribute or name, converter))

    def dump(value: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        mapping = isinstance(value, dict)
        for key, attr, converter in plans:
            item = value.get(attr, _MISSING) if mapping else getattr(value, attr, _MISSING)
            if item is _MISSING:
                continue
            out[key] = item if converter is None or item is None else converter(item)
        return out

    return dump


_MISSING = object()


class Dumper:
    """Dumps rows or ORM objects (anything with attributes) to dicts of the output schema."""

    def __init__(self, schema: ma.Schema, names: Iterable[str]) -> None:
        self._plans: dict[str, tuple[str, Any, Any]] = {}
        for name in names:
            schema_field = schema.fields[name]
            key = schema_field.data_key or name
            if isinstance(schema_field, MoneyField):
                self._plans[name] = (key, "money", (schema_field.amount_attr, schema_field.currency_attr))
                continue
            converter = _converter(schema_field)
            attr = schema_field.attribute or name
            if converter == "fallback":
                self._plans[name] = (key, "field", schema_field)
            else:
                self._plans[name] = (key, attr, converter)

    def compile(self, names: Sequence[str], index: Mapping[str, int] | None = None) -> Callable[[Any], dict[str, Any]]:
        """A function dumping just ``names`` (sparse fieldsets), in the schema's order.

        With ``index`` (attribute -> position in a result row) values are read by position, which is
        what list endpoints do for every row; without it, by attribute (ORM objects, single rows).
        """
        wanted = set(names)
        plans = [self._plans[n] for n in self._plans if n in wanted]
        if index is not None and all(attr != "field" for _, attr, _ in plans):
            return _positional(plans, index)

        def dump(source: Any) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, attr, conv in plans:
                if attr == "money":
                    amount = getattr(source, conv[0])
                    out[key] = None if amount is None else {"amount": amount, "currency": getattr(source, conv[1])}
                elif attr == "field":
                    out[key] = conv.serialize(conv.attribute or conv.name, source)
                else:
                    value = getattr(source, attr)
                    out[key] = value if conv is None or value is None else conv(value)
            return out

        return dump


def _positional(plans: list[tuple[str, Any, Any]], index: Mapping[str, int]) -> Callable[[Any], dict[str, Any]]:
    steps = []
    for key, attr, conv in plans:
        if attr == "money":
            steps.append((key, "money", (index[conv[0]], index[conv[1]])))
        else:
            steps.append((key, index[attr], conv))

    def dump(row: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, position, conv in steps:
            if position == "money":
                amount = row[conv[0]]
                out[key] = None if amount is None else {"amount": amount, "currency": row[conv[1]]}
            else:
                value = row[position]
                out[key] = value if conv is None or value is None else conv(value)
        return out

    return dump
