"""Per-operation marshmallow schemas generated from a model and its policy.

``<Model>Schema`` (what clients read), ``<Model>CreateSchema`` and ``<Model>UpdateSchema`` (what they
may write), built with marshmallow-sqlalchemy's converter made strict: primary keys, server-computed
columns and the policy's read-only fields are never writable, and a body naming one is a 422 that
says so instead of silently dropping it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import validate
from marshmallow_sqlalchemy import ModelConverter
from sqlalchemy.orm import ColumnProperty, RelationshipProperty

from app.generator import rules
from app.generator.declarations import Money, Resource
from app.generator.fields import (
    INT_BOUNDS,
    MAX_TEXT_LENGTH,
    JSONObject,
    MoneyField,
    StorableText,
    StrictBoolean,
    StrictFloat,
)

READ_ONLY_MESSAGE = "Read-only field."
WRITE_ONCE_MESSAGE = "Cannot be changed after creation."


class StrictConverter(ModelConverter):
    """marshmallow-sqlalchemy's converter with JSON-strict types and the limits PostgreSQL enforces."""

    def _get_field_class_for_data_type(self, data_type: sa.types.TypeEngine) -> type[ma.fields.Field]:
        if isinstance(data_type, sa.Enum) and data_type.enum_class is not None:
            return ma.fields.Enum
        if isinstance(data_type, sa.JSON):
            return JSONObject
        if isinstance(data_type, sa.Boolean):
            return StrictBoolean
        if isinstance(data_type, sa.Integer):
            return ma.fields.Integer
        if isinstance(data_type, sa.Float):
            return StrictFloat
        if isinstance(data_type, sa.Uuid):
            return ma.fields.UUID
        if isinstance(data_type, sa.DateTime) and data_type.timezone:
            return ma.fields.AwareDateTime
        return super()._get_field_class_for_data_type(data_type)

    def _add_column_kwargs(self, kwargs: dict[str, Any], column: sa.Column) -> None:
        super()._add_column_kwargs(kwargs, column)
        data_type = column.type
        if isinstance(data_type, sa.Enum) and data_type.enum_class is not None:
            kwargs["by_value"] = True
        elif isinstance(data_type, sa.Integer):
            kwargs["strict"] = True
            low, high = INT_BOUNDS.get(type(data_type).__name__, INT_BOUNDS["BigInteger"])
            kwargs["validate"].append(validate.Range(min=low, max=high))
        elif isinstance(data_type, sa.String):
            if data_type.length is None:
                kwargs["validate"].append(validate.Length(max=MAX_TEXT_LENGTH))
            kwargs["validate"].append(StorableText())
        if column.comment:
            kwargs["metadata"]["description"] = column.comment


CONVERTER = StrictConverter()


def owner_columns(rule: rules.Rule) -> set[str]:
    """Columns the server stamps on create (``OWNER``): never writable by clients."""
    if isinstance(rule, rules.Owner):
        return {rule.column}
    if isinstance(rule, rules.Any_ | rules.All):
        return owner_columns(rule.left) | owner_columns(rule.right)
    return set()


def _server_computed(column: sa.Column) -> bool:
    default = column.server_default
    computed_default = default is not None and not isinstance(getattr(default, "arg", None), str)
    return bool(column.primary_key or column.onupdate is not None or column.computed is not None or computed_default)


@dataclass
class FieldPlan:
    """Which model attribute backs each API field, and who may write it."""

    output: dict[str, Any] = field(default_factory=dict)  # api name -> ColumnProperty | Money
    writable: list[str] = field(default_factory=list)
    read_only: set[str] = field(default_factory=set)
    hidden: set[str] = field(default_factory=set)
    write_once: set[str] = field(default_factory=set)
    attrs_of: dict[str, tuple[str, ...]] = field(default_factory=dict)  # api name -> model attrs


def plan_fields(resource: Resource) -> FieldPlan:
    model = resource.model
    mapper = sa.inspect(model)
    policy = resource.policy
    money_attrs = {m.amount: name for name, m in resource.money.items()}
    money_attrs.update({m.currency: name for name, m in resource.money.items()})
    hidden = set(policy.hidden) | ({resource.soft_delete} if resource.soft_delete else set())
    forced_read_only = set(policy.read_only) | owner_columns(policy.create)
    plan = FieldPlan(hidden=hidden, write_once=set(policy.write_once))
    known = {prop.key for prop in mapper.column_attrs} | set(resource.money)
    for name in hidden | forced_read_only | plan.write_once:
        if name not in known:
            raise ValueError(f"{model.__name__}: policy names unknown field {name!r}")
    for prop in mapper.column_attrs:
        key = prop.key
        if key in hidden:
            continue
        if key in money_attrs:
            money_name = money_attrs[key]
            if money_name not in plan.output:
                money = resource.money[money_name]
                plan.output[money_name] = money
                plan.attrs_of[money_name] = (money.amount, money.currency)
                if money_name in forced_read_only or money.amount in forced_read_only:
                    plan.read_only.add(money_name)
                else:
                    plan.writable.append(money_name)
            continue
        plan.output[key] = prop
        plan.attrs_of[key] = (key,)
        if key in forced_read_only or _server_computed(prop.columns[0]):
            plan.read_only.add(key)
        else:
            plan.writable.append(key)
    return plan


def _field_for(resource: Resource, name: str, backing: Any, *, required: bool | None) -> ma.fields.Field:
    if name in resource.fields:
        declared = copy.deepcopy(resource.fields[name])
        if required is not None:
            declared.required = required
        return declared
    if isinstance(backing, Money):
        column = sa.inspect(resource.model).columns[backing.amount]
        if required is None:
            required = not column.nullable and column.default is None and column.server_default is None
        kwargs: dict[str, Any] = {"allow_none": column.nullable, "required": required}
        return MoneyField(backing.amount, backing.currency, **kwargs)
    assert isinstance(backing, ColumnProperty)
    kwargs = {}
    if required is not None:
        kwargs["required"] = required
    return CONVERTER.property2field(backing, **kwargs)


class _StrictInput(ma.Schema):
    """Bodies name only writable fields: read-only and unknown ones are errors naming the field."""

    class Meta:
        unknown = ma.RAISE

    _read_only: frozenset[str] = frozenset()
    _write_once: frozenset[str] = frozenset()

    @ma.pre_load
    def _refuse_read_only(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            errors: dict[str, list[str]] = {}
            for key in data:
                if key in self._read_only:
                    errors[key] = [READ_ONLY_MESSAGE]
                elif key in self._write_once:
                    errors[key] = [WRITE_ONCE_MESSAGE]
            if errors:
                raise ma.ValidationError(errors)
        return data


@dataclass
class ResourceSchemas:
    output: type[ma.Schema]
    create: type[ma.Schema]
    update: type[ma.Schema]
    plan: FieldPlan
    embeds: dict[str, Any]


def build_schemas(resource: Resource, schema_name: str, embeds: dict[str, type[ma.Schema]]) -> ResourceSchemas:
    """``embeds`` maps each embeddable relationship to the output schema of its target resource."""
    plan = plan_fields(resource)
    out_fields: dict[str, ma.fields.Field] = {
        name: _field_for(resource, name, backing, required=False) for name, backing in plan.output.items()
    }
    for rel_name, target_schema in embeds.items():
        out_fields[rel_name] = ma.fields.Nested(
            target_schema,
            allow_none=True,
            metadata={"description": f"Present when requested with embed={rel_name}"},
        )
    output = ma.Schema.from_dict(out_fields, name=f"{schema_name}Schema")
    output.__doc__ = resource.description or f"A {resource.name} as clients see it."

    create_fields = {name: _field_for(resource, name, plan.output[name], required=None) for name in plan.writable}
    update_fields = {
        name: _field_for(resource, name, plan.output[name], required=False)
        for name in plan.writable
        if name not in plan.write_once
    }
    read_only = frozenset(plan.read_only)
    create = type(
        f"{schema_name}CreateSchema",
        (_StrictInput,),
        {**create_fields, "_read_only": read_only, "__doc__": f"Fields a client sets to create a {resource.name}."},
    )
    update = type(
        f"{schema_name}UpdateSchema",
        (_StrictInput,),
        {
            **update_fields,
            "_read_only": read_only,
            "_write_once": frozenset(plan.write_once),
            "__doc__": f"Fields a client may change on a {resource.name} (all optional).",
        },
    )
    return ResourceSchemas(output=output, create=create, update=update, plan=plan, embeds=dict(embeds))


def relationship_of(model: type, name: str) -> RelationshipProperty:
    prop = sa.inspect(model).relationships.get(name)
    if prop is None or prop.uselist:
        raise ValueError(f"{model.__name__}.{name}: embed needs a to-one relationship")
    return prop
