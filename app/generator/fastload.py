"""A fast loader compiled from a marshmallow schema, for hot paths that load many inputs (bulk import).

It only ever answers "certainly valid, and this is exactly what ``schema.load`` returns", or declines
(:class:`Unsure`). A declined input goes through the real schema, which alone writes error messages,
so every message stays the schema's own. The loader is derived from the same field and validator
objects (limits, regexes, choices, defaults): it cannot drift from the schema, and anything it does
not know exactly (an unknown field class, a subclass overriding how it loads, a custom validator
returning a value) is delegated to marshmallow itself, never guessed.

Each check is written to be at most as permissive as marshmallow: where marshmallow converts
(``"12"`` for a non-strict Integer, bytes for a String, tuples for a List) the loader declines.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from marshmallow import validate
from marshmallow.utils import missing

from app.generator.fields import JSONObject, StrictBoolean, StrictFloat, _check_json

Loader = Callable[[Any], Any]

# Methods through which a field or validator subclass could change what loading accepts or returns.
_FIELD_HOOKS = frozenset({"deserialize", "_deserialize", "_validated", "_validate", "_validate_missing", "_load",
                          "_test_collection", "_format_num", "_validate_all", "schema"})  # fmt: skip
_VALIDATOR_HOOKS = frozenset({"__call__"})


class Unsure(Exception):
    """The fast loader cannot vouch for this input: ask the marshmallow schema."""


class NotCompilable(Exception):
    """The schema uses something the fast loader does not reproduce exactly (use the schema alone)."""


def _registered(obj: object, registry: dict[type, Any], hooks: frozenset[str]) -> Any:
    """The builder of the nearest registered class of ``obj``, if no class in between overrides a hook."""
    for klass in type(obj).__mro__:
        if klass in registry:
            return registry[klass]
        if hooks & set(vars(klass)):
            return None
    return None


# Field cores: the field's own ``_deserialize``, for values that are not missing and not None.


def _string(field: ma.fields.String) -> Loader:
    def load(value: Any) -> str:
        if type(value) is not str:
            raise Unsure
        return value

    return load


def _uuid(field: ma.fields.UUID) -> Loader:
    def load(value: Any) -> uuid.UUID:
        if type(value) is uuid.UUID:
            return value
        if type(value) is not str:
            raise Unsure
        try:
            return uuid.UUID(value)
        except ValueError:
            raise Unsure from None

    return load


def _integer(field: ma.fields.Integer) -> Loader:
    def load(value: Any) -> int:
        if type(value) is not int:  # bool, float, text: marshmallow's own rules decide
            raise Unsure
        return value

    return load


def _float(field: ma.fields.Float) -> Loader:
    refuse_special = field.allow_nan is False

    def load(value: Any) -> float:
        if type(value) not in (int, float, str):
            raise Unsure
        try:
            number = float(value)
        except (ValueError, OverflowError):
            raise Unsure from None
        if refuse_special and not math.isfinite(number):
            raise Unsure
        return number

    return load


def _boolean(field: ma.fields.Boolean) -> Loader:
    def load(value: Any) -> bool:
        if type(value) is not bool:
            raise Unsure
        return value

    return load


def _raw(field: ma.fields.Raw) -> Loader:
    return lambda value: value


def _strict_float(field: StrictFloat) -> Loader:
    plain = _float(field)

    def load(value: Any) -> float:
        if type(value) not in (int, float):  # StrictFloat refuses text and booleans
            raise Unsure
        return plain(value)

    return load


def _enum(field: ma.fields.Enum) -> Loader:
    inner = _core(field.field)
    if inner is None:
        raise NotCompilable(f"enum field {field.name}: inner field {type(field.field).__name__}")
    enum, by_value, members = field.enum, field.by_value, field.enum.__members__

    def load(value: Any) -> Any:
        raw = inner(value)
        if by_value:
            try:
                return enum(raw)
            except ValueError:
                raise Unsure from None
        if type(raw) is not str or raw not in members:
            raise Unsure
        return members[raw]

    return load


def _plain_dict(field: ma.fields.Dict) -> Loader | None:
    if field.key_field is not None or field.value_field is not None or field.mapping_type is not dict:
        return None

    def load(value: Any) -> dict:
        if type(value) is not dict:
            raise Unsure
        return dict(value)

    return load


def _json_object(field: JSONObject) -> Loader | None:
    plain = _plain_dict(field)
    if plain is None:
        return None

    def load(value: Any) -> dict:
        result = plain(value)
        _check_json(result)  # its ValidationError declines
        return result

    return load


def _list(field: ma.fields.List) -> Loader:
    inner = field_loader(field.inner)

    def load(value: Any) -> list:
        if type(value) is not list:
            raise Unsure
        return [inner(item) for item in value]

    return load


def _nested(field: ma.fields.Nested) -> Loader | None:
    schema = field.schema
    if field.many or schema.many:
        return None
    return compile_schema(schema, unknown=field.unknown)


FIELD_CORES: dict[type, Callable[[Any], Loader | None]] = {
    ma.fields.String: _string,
    ma.fields.UUID: _uuid,
    ma.fields.Integer: _integer,
    ma.fields.Float: _float,
    ma.fields.Boolean: _boolean,
    ma.fields.Enum: _enum,
    ma.fields.Dict: _plain_dict,
    ma.fields.List: _list,
    ma.fields.Nested: _nested,
    ma.fields.Raw: _raw,
    JSONObject: _json_object,
    StrictBoolean: _boolean,
    StrictFloat: _strict_float,
}


def _core(field: ma.fields.Field) -> Loader | None:
    builder = _registered(field, FIELD_CORES, _FIELD_HOOKS)
    return builder(field) if builder is not None else None


# Validators: the same objects' limits, checked inline (calling them costs more than the check).


def _length(check: validate.Length) -> Callable[[Any], None]:
    low, high, equal = check.min, check.max, check.equal

    def run(value: Any) -> None:
        size = len(value)
        if equal is not None:
            if size != equal:
                raise Unsure
            return
        if (low is not None and size < low) or (high is not None and size > high):
            raise Unsure

    return run


def _range(check: validate.Range) -> Callable[[Any], None]:
    low, high, low_in, high_in = check.min, check.max, check.min_inclusive, check.max_inclusive

    def run(value: Any) -> None:
        if low is not None and (value < low if low_in else value <= low):
            raise Unsure
        if high is not None and (value > high if high_in else value >= high):
            raise Unsure

    return run


def _regexp(check: validate.Regexp) -> Callable[[Any], None]:
    match = check.regex.match

    def run(value: Any) -> None:
        if match(value) is None:
            raise Unsure

    return run


def _one_of(check: validate.OneOf) -> Callable[[Any], None]:
    choices = check.choices

    def run(value: Any) -> None:
        if value not in choices:
            raise Unsure

    return run


VALIDATORS: dict[type, Callable[[Any], Callable[[Any], None]]] = {
    validate.Length: _length,
    validate.Range: _range,
    validate.Regexp: _regexp,
    validate.OneOf: _one_of,
}


def _checker(check: Callable[[Any], Any]) -> Callable[[Any], None]:
    builder = _registered(check, VALIDATORS, _VALIDATOR_HOOKS)
    if builder is not None:
        return builder(check)
    is_validator = isinstance(check, validate.Validator)

    def run(value: Any) -> None:  # anything else: the validator itself (a ValidationError declines)
        if check(value) is False and not is_validator:
            raise Unsure

    return run


def field_loader(field: ma.fields.Field) -> Loader:
    """``field.deserialize`` for a present value: None handling, the field's core, its validators."""
    core = _core(field)
    if core is None:  # not reproduced: the field itself loads, and any error declines
        deserialize = field.deserialize

        def delegated(value: Any) -> Any:
            try:
                return deserialize(value)
            except ma.ValidationError:
                raise Unsure from None

        return delegated
    checks = [_checker(v) for v in field.validators]
    allow_none = field.allow_none

    def load(value: Any) -> Any:
        if value is None:
            if allow_none:
                return None
            raise Unsure
        result = core(value)
        for check in checks:
            check(result)
        return result

    return load


def _hook_calls(schema: ma.Schema, tag: str) -> list[Callable[..., Any]]:
    calls = []
    for attr_name, pass_many, kwargs in schema._hooks[tag]:
        if pass_many or kwargs.get("pass_original"):
            raise NotCompilable(f"{type(schema).__name__}.{attr_name}: pass_many/pass_original hooks")
        calls.append(getattr(schema, attr_name))
    return calls


def compile_schema(schema: ma.Schema, *, unknown: str | None = None) -> Loader:
    """A loader returning exactly ``schema.load(data)`` for data it is sure of; raises :class:`Unsure` otherwise."""
    if schema.many or schema.partial or schema._hooks["validates"]:
        raise NotCompilable(f"{type(schema).__name__}: many/partial schema or @validates hooks")
    if (unknown or schema.unknown) != ma.RAISE:
        raise NotCompilable(f"{type(schema).__name__}: unknown={unknown or schema.unknown}")
    pre_load, checks, post_load = (_hook_calls(schema, t) for t in ("pre_load", "validates_schema", "post_load"))
    if schema.dict_class is not dict:
        raise NotCompilable(f"{type(schema).__name__}: ordered schema")
    plan = []
    for attr_name, field in schema.load_fields.items():
        key = field.data_key if field.data_key is not None else attr_name
        target = field.attribute or attr_name
        if "." in target:
            raise NotCompilable(f"{type(schema).__name__}.{attr_name}: dotted attribute")
        plan.append((key, target, field_loader(field), field.required, field.load_default))
    known = frozenset(key for key, *_ in plan)

    def load(data: Any) -> dict[str, Any]:
        if type(data) is not dict:
            raise Unsure
        try:
            for hook in pre_load:
                data = hook(data, many=False, partial=None)
            if type(data) is not dict or not known.issuperset(data):
                raise Unsure
            result: dict[str, Any] = {}
            for key, attr_name, loader, required, default in plan:
                value = data.get(key, missing)
                if value is missing:
                    if required:
                        raise Unsure
                    if default is not missing:
                        result[attr_name] = default() if callable(default) else default
                    continue
                result[attr_name] = loader(value)
            for check in checks:
                check(result, many=False, partial=None)
            for hook in post_load:
                result = hook(result, many=False, partial=None)
        except ma.ValidationError:
            raise Unsure from None
        return result

    return load


class FastLoader:
    """``load(data)``: the schema's result, taking the compiled path when it can vouch for the data.

    ``fast(data)`` returns the loaded dict, or None when the schema must decide (and report).
    """

    def __init__(self, schema: ma.Schema) -> None:
        self.schema = schema
        try:
            self._compiled: Loader | None = compile_schema(schema)
        except NotCompilable:
            self._compiled = None

    @property
    def compiled(self) -> bool:
        return self._compiled is not None

    def fast(self, data: Any) -> dict[str, Any] | None:
        if self._compiled is None:
            return None
        try:
            return self._compiled(data)
        except Exception:  # noqa: BLE001 - Unsure or anything odd: the schema decides, and raises what it raises
            return None
