"""Declared filters and sort orders of a list endpoint, as typed query parameters and SQL.

A filter ``price: ("gte", "lte")`` becomes the parameters ``price[gte]`` and ``price[lte]``; ``eq``
is the bare name (``status=published``). Each parameter is a marshmallow field typed like its column,
so a wrong type, an unknown field or an unknown operator is a 422 naming the parameter (the query
schema raises on unknown keys). ``in`` takes a comma separated list; ``is_null`` takes true/false;
``like``/``ilike`` take a pattern where ``*`` is the wildcard (``%`` and ``_`` are literal).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import validate
from sqlalchemy.orm import ColumnProperty
from webargs.fields import DelimitedList

from app.generator.declarations import Money, Resource
from app.generator.fields import StorableText
from app.generator.schemas import CONVERTER

MAX_IN_VALUES = 100
MAX_PATTERN_LENGTH = 200


@dataclass(frozen=True)
class FilterParam:
    param: str  # query parameter name, e.g. "price[gte]"
    attr: str  # key in the parsed arguments
    column: str  # model attribute compared
    op: str


@dataclass(frozen=True)
class SortKey:
    column: str
    descending: bool


def _value_field(prop: ColumnProperty) -> ma.fields.Field:
    """The column's field for a query string value (strings are converted, so not strict)."""
    value_field = CONVERTER.property2field(prop, required=False)
    if isinstance(value_field, ma.fields.Integer):
        value_field.strict = False
    if isinstance(value_field, ma.fields.Boolean):
        value_field = ma.fields.Boolean()
    value_field.allow_none = False
    return value_field


def _op_field(op: str, prop: ColumnProperty, name: str) -> ma.fields.Field:
    description = f"{name} {op.replace('_', ' ')}"
    if op == "is_null":
        return ma.fields.Boolean(metadata={"description": f"{name} is (true) or is not (false) null"})
    if op in ("like", "ilike"):
        return ma.fields.String(
            validate=[validate.Length(min=1, max=MAX_PATTERN_LENGTH), StorableText()],
            metadata={
                "description": f"{name} matches the pattern (* = any text)" + (", any case" if op == "ilike" else "")
            },
        )
    value_field = _value_field(prop)
    if op == "in":
        return DelimitedList(
            value_field,
            validate=validate.Length(min=1, max=MAX_IN_VALUES),
            metadata={"description": f"{name} is one of these comma separated values"},
        )
    value_field.metadata = {**value_field.metadata, "description": description}
    return value_field


def filter_params(resource: Resource) -> tuple[list[FilterParam], dict[str, ma.fields.Field]]:
    mapper = sa.inspect(resource.model)
    params: list[FilterParam] = []
    schema_fields: dict[str, ma.fields.Field] = {}
    hidden = set(resource.policy.hidden)
    for name, ops in resource.filters.items():
        target = resource.money.get(name)
        column = target.amount if isinstance(target, Money) else name
        prop = mapper.column_attrs.get(column)
        if prop is None or name in hidden or column in hidden:
            raise ValueError(f"{resource.name}: cannot filter on {name!r} (not a visible column)")
        for op in ops:
            param = name if op == "eq" else f"{name}[{op}]"
            attr = f"filter__{name}__{op}"
            field = _op_field(op, prop, name)
            field.data_key = param
            schema_fields[attr] = field
            params.append(FilterParam(param=param, attr=attr, column=column, op=op))
    return params, schema_fields


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def filter_clause(model: type, flt: FilterParam, value: Any) -> sa.ColumnElement[bool]:
    column = getattr(model, flt.column)
    op = flt.op
    if op == "eq":
        return column == value
    if op == "ne":
        return column != value
    if op == "lt":
        return column < value
    if op == "lte":
        return column <= value
    if op == "gt":
        return column > value
    if op == "gte":
        return column >= value
    if op == "in":
        return column.in_(value)
    if op == "is_null":
        return column.is_(None) if value else column.is_not(None)
    if op == "like":
        return column.like(_like_pattern(value), escape="\\")
    if op == "ilike":
        return column.ilike(_like_pattern(value), escape="\\")
    raise ValueError(op)


def sort_choices(resource: Resource) -> list[str]:
    mapper = sa.inspect(resource.model)
    choices = []
    for name in resource.sort:
        target = resource.money.get(name)
        column = target.amount if isinstance(target, Money) else name
        prop = mapper.column_attrs.get(column)
        if prop is None or name in resource.policy.hidden:
            raise ValueError(f"{resource.name}: cannot sort on {name!r} (not a visible column)")
        if prop.columns[0].nullable:
            raise ValueError(f"{resource.name}: cannot sort on nullable {name!r} (keyset pagination needs NOT NULL)")
        choices.extend([name, f"-{name}"])
    for name in resource.list_hooks.sorts if resource.list_hooks is not None else ():
        choices.extend([name, f"-{name}"])
    return choices


def parse_sort(resource: Resource, requested: Sequence[str] | None) -> tuple[SortKey, ...]:
    """Sort keys for SQL, always ending with the primary key so the order is total (keyset needs it)."""
    tokens = list(requested or ([resource.default_sort] if resource.default_sort else []))
    keys: list[SortKey] = []
    seen: set[str] = set()
    for token in tokens:
        name = token.lstrip("-")
        if name in seen:
            continue
        seen.add(name)
        target = resource.money.get(name)
        column = target.amount if isinstance(target, Money) else name
        keys.append(SortKey(column=column, descending=token.startswith("-")))
    pk = sa.inspect(resource.model).primary_key[0].key
    if pk not in {k.column for k in keys}:
        keys.append(SortKey(column=pk, descending=keys[-1].descending if keys else False))
    return tuple(keys)


def query_fields(
    resource: Resource,
    *,
    output_names: Sequence[str],
    embeds: Sequence[str],
    filters: Mapping[str, ma.fields.Field],
) -> dict[str, ma.fields.Field]:
    """The list endpoint's query parameters (one schema: documented and parsed alike)."""
    schema_fields: dict[str, ma.fields.Field] = {
        "limit": ma.fields.Integer(
            load_default=resource.default_limit,
            validate=validate.Range(min=1, max=resource.max_limit),
            metadata={"description": f"Page size (at most {resource.max_limit})"},
        ),
        "cursor": ma.fields.String(
            validate=validate.Length(min=1, max=2000),
            metadata={"description": "Opaque cursor from a previous page's links (next or prev)"},
        ),
    }
    choices = sort_choices(resource)
    if choices:
        schema_fields["sort"] = DelimitedList(
            ma.fields.String(validate=validate.OneOf(choices)),
            validate=validate.Length(min=1, max=len(choices) // 2),
            metadata={"description": "Comma separated sort keys; a leading - sorts descending"},
        )
    schema_fields.update(sparse_fields(output_names, embeds))
    if resource.allow_count:
        schema_fields["count"] = ma.fields.Boolean(
            load_default=False, metadata={"description": "Include the total number of matching rows"}
        )
    if resource.search is not None:
        schema_fields["q"] = ma.fields.String(
            validate=[validate.Length(min=1, max=MAX_PATTERN_LENGTH), StorableText()],
            metadata={"description": "Search text"},
        )
    for attr, flt_field in filters.items():
        schema_fields[attr] = copy.deepcopy(flt_field)
    if resource.list_hooks is not None:
        schema_fields.update(copy.deepcopy(dict(resource.list_hooks.args)))
    for name, choices in resource.scopes.items():
        schema_fields[f"scope__{name}"] = ma.fields.String(
            data_key=name,
            validate=validate.OneOf(sorted(choices)),
            metadata={"description": f"Only rows where you are the {' or '.join(sorted(choices))}"},
        )
    return schema_fields


def sparse_fields(output_names: Sequence[str], embeds: Sequence[str]) -> dict[str, ma.fields.Field]:
    schema_fields: dict[str, ma.fields.Field] = {
        "fields": DelimitedList(
            ma.fields.String(validate=validate.OneOf(list(output_names))),
            validate=validate.Length(min=1, max=len(output_names)),
            metadata={"description": "Comma separated fields to return (default: all)"},
        )
    }
    if embeds:
        schema_fields["embed"] = DelimitedList(
            ma.fields.String(validate=validate.OneOf(list(embeds))),
            validate=validate.Length(min=1, max=len(embeds)),
            metadata={"description": "Comma separated related objects to inline"},
        )
    return schema_fields
