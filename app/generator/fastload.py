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


# The loader is generated Python source: one function per schema, each field's checks inlined, so a
# row costs a few calls instead of several per field. ``_Source`` holds the lines and the constants.


class _Source:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.env: dict[str, Any] = {"Unsure": Unsure, "ValidationError": ma.ValidationError, "MISSING": missing,
                                    "UUID": uuid.UUID, "isfinite": math.isfinite}  # fmt: skip
        self.count = 0

    def const(self, value: Any, hint: str = "c") -> str:
        if value is None or type(value) in (int, bool):  # a literal: loading it is cheaper than a global
            return repr(value)
        self.count += 1
        name = f"{hint}_{self.count}"
        self.env[name] = value
        return name

    def var(self, hint: str = "v") -> str:
        self.count += 1
        return f"{hint}{self.count}"

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)


Emitter = Callable[[_Source, Any, str, str, int], None]  # (source, field, input var, output var, indent)


def _emit_string(src: _Source, field: Any, v: str, r: str, ind: int) -> None:
    src.emit(ind, f"if type({v}) is not str: raise Unsure")
    src.emit(ind, f"{r} = {v}")


def _emit_integer(src: _Source, field: Any, v: str, r: str, ind: int) -> None:
    src.emit(ind, f"if type({v}) is not int: raise Unsure")  # bool, float, text: marshmallow's rules decide
    src.emit(ind, f"{r} = {v}")


def _emit_float(src: _Source, field: Any, v: str, r: str, ind: int, types: tuple = (int, float, str)) -> None:
    src.emit(ind, f"if type({v}) not in {src.const(types, 'types')}: raise Unsure")
    src.emit(ind, "try:")
    src.emit(ind + 1, f"{r} = float({v})")
    src.emit(ind, "except (ValueError, OverflowError):")
    src.emit(ind + 1, "raise Unsure from None")
    if field.allow_nan is False:
        src.emit(ind, f"if not isfinite({r}): raise Unsure")


def _emit_strict_float(src: _Source, field: Any, v: str, r: str, ind: int) -> None:
    _emit_float(src, field, v, r, ind, types=(int, float))  # StrictFloat refuses text and booleans


def _emit_uuid(src: _Source, field: Any, v: str, r: str, ind: int) -> None:
    src.emit(ind, f"if type({v}) is UUID: {r} = {v}")
    src.emit(ind, f"elif type({v}) is str:")
    src.emit(ind + 1, "try:")
    src.emit(ind + 2, f"{r} = UUID({v})")
    src.emit(ind + 1, "except ValueError:")
    src.emit(ind + 2, "raise Unsure from None")
    src.emit(ind, "else: raise Unsure")


def _emit_boolean(src: _Source, field: Any, v: str, r: str, ind: int) -> None:
    src.emit(ind, f"if type({v}) is not bool: raise Unsure")
    src.emit(ind, f"{r} = {v}")


def _emit_raw(src: _Source, field: Any, v: str, r: str, ind: int) -> None:
    src.emit(ind, f"{r} = {v}")


def _emit_enum(src: _Source, field: Any, v: str, r: str, ind: int) -> None:
    inner = _emitter(field.field)
    if inner is None:
        raise NotCompilable(f"enum field {field.name}: inner field {type(field.field).__name__}")
    raw = src.var("e")
    inner(src, field.field, v, raw, ind)  # the inner field's core only, as Enum._deserialize does
    if field.by_value:
        src.emit(ind, "try:")
        src.emit(ind + 1, f"{r} = {src.const(field.enum, 'enum')}({raw})")
        src.emit(ind, "except ValueError:")
        src.emit(ind + 1, "raise Unsure from None")
    else:
        members = src.const(field.enum.__members__, "members")
        src.emit(ind, f"if type({raw}) is not str or {raw} not in {members}: raise Unsure")
        src.emit(ind, f"{r} = {members}[{raw}]")


def _emit_dict(src: _Source, field: Any, v: str, r: str, ind: int) -> None:
    if field.key_field is not None or field.value_field is not None or field.mapping_type is not dict:
        _emit_delegated(src, field, v, r, ind)
        return
    src.emit(ind, f"if type({v}) is not dict: raise Unsure")
    src.emit(ind, f"{r} = dict({v})")


def _emit_json_object(src: _Source, field: Any, v: str, r: str, ind: int) -> None:
    _emit_dict(src, field, v, r, ind)
    src.emit(ind, f"{src.const(_check_json, 'check_json')}({r})")  # its ValidationError declines


def _emit_list(src: _Source, field: Any, v: str, r: str, ind: int) -> None:
    item = src.const(_function(src, lambda s, x, y, i: _emit_field(s, field.inner, x, y, i)), "item")
    src.emit(ind, f"if type({v}) is not list: raise Unsure")
    src.emit(ind, f"{r} = [{item}(x) for x in {v}]")


def _emit_nested(src: _Source, field: Any, v: str, r: str, ind: int) -> None:
    schema = field.schema
    if field.many or schema.many:
        _emit_delegated(src, field, v, r, ind)
        return
    loader = src.const(_schema_function(src, schema, field.unknown), "nested")
    src.emit(ind, f"{r} = {loader}({v})")


def _emit_delegated(src: _Source, field: Any, v: str, r: str, ind: int) -> None:
    """Not reproduced: the field itself loads (with its validators), and any error declines."""
    src.emit(ind, f"{r} = {src.const(field.deserialize, 'deserialize')}({v})")


EMITTERS: dict[type, Emitter] = {
    ma.fields.String: _emit_string,
    ma.fields.UUID: _emit_uuid,
    ma.fields.Integer: _emit_integer,
    ma.fields.Float: _emit_float,
    ma.fields.Boolean: _emit_boolean,
    ma.fields.Enum: _emit_enum,
    ma.fields.Dict: _emit_dict,
    ma.fields.List: _emit_list,
    ma.fields.Nested: _emit_nested,
    ma.fields.Raw: _emit_raw,
    JSONObject: _emit_json_object,
    StrictBoolean: _emit_boolean,
    StrictFloat: _emit_strict_float,
}


def _emitter(field: ma.fields.Field) -> Emitter | None:
    return _registered(field, EMITTERS, _FIELD_HOOKS)


# Validators: the same objects' limits, checked inline (calling them costs more than the check).


def _check_length(src: _Source, check: validate.Length, r: str, ind: int) -> None:
    size = src.var("n")
    src.emit(ind, f"{size} = len({r})")
    if check.equal is not None:
        src.emit(ind, f"if {size} != {src.const(check.equal)}: raise Unsure")
        return
    if check.min is not None:
        src.emit(ind, f"if {size} < {src.const(check.min)}: raise Unsure")
    if check.max is not None:
        src.emit(ind, f"if {size} > {src.const(check.max)}: raise Unsure")


def _check_range(src: _Source, check: validate.Range, r: str, ind: int) -> None:
    if check.min is not None:
        src.emit(ind, f"if {r} {'<' if check.min_inclusive else '<='} {src.const(check.min)}: raise Unsure")
    if check.max is not None:
        src.emit(ind, f"if {r} {'>' if check.max_inclusive else '>='} {src.const(check.max)}: raise Unsure")


def _check_regexp(src: _Source, check: validate.Regexp, r: str, ind: int) -> None:
    src.emit(ind, f"if {src.const(check.regex.match, 'match')}({r}) is None: raise Unsure")


def _check_one_of(src: _Source, check: validate.OneOf, r: str, ind: int) -> None:
    src.emit(ind, f"if {r} not in {src.const(check.choices, 'choices')}: raise Unsure")


CHECKS: dict[type, Callable[[_Source, Any, str, int], None]] = {
    validate.Length: _check_length,
    validate.Range: _check_range,
    validate.Regexp: _check_regexp,
    validate.OneOf: _check_one_of,
}


def _emit_check(src: _Source, check: Callable[[Any], Any], r: str, ind: int) -> None:
    builder = _registered(check, CHECKS, _VALIDATOR_HOOKS)
    if builder is not None:
        builder(src, check, r, ind)
    elif isinstance(check, validate.Validator):  # anything else: the validator itself (its error declines)
        src.emit(ind, f"{src.const(check, 'validator')}({r})")
    else:  # a plain function may also refuse by returning False
        src.emit(ind, f"if {src.const(check, 'validator')}({r}) is False: raise Unsure")


def _emit_field(src: _Source, field: ma.fields.Field, v: str, r: str, ind: int) -> None:
    """``field.deserialize`` of a present value: None handling, the field's core, its validators."""
    emitter = _emitter(field)
    if emitter is None:
        _emit_delegated(src, field, v, r, ind)
        return
    src.emit(ind, f"if {v} is None:")
    src.emit(ind + 1, f"{r} = None" if field.allow_none else "raise Unsure")
    src.emit(ind, "else:")
    emitter(src, field, v, r, ind + 1)
    for check in field.validators:
        _emit_check(src, check, r, ind + 1)


def _function(src: _Source, body: Callable[[_Source, str, str, int], None]) -> Loader:
    """Compile one generated function ``f(value) -> loaded`` whose body ``body`` emits."""
    outer = src.lines
    src.lines = []
    name = src.var("load_")
    body(src, "value", "result", 1)
    code = "\n".join([f"def {name}(value):", *src.lines, "    return result"])
    src.lines = outer
    scope: dict[str, Any] = {}
    exec(compile(code, f"<fastload {name}>", "exec"), src.env, scope)  # noqa: S102 - source built above
    return scope[name]


def _hook_calls(schema: ma.Schema, tag: str) -> list[Callable[..., Any]]:
    calls = []
    for attr_name, pass_many, kwargs in schema._hooks[tag]:
        if pass_many or kwargs.get("pass_original"):
            raise NotCompilable(f"{type(schema).__name__}.{attr_name}: pass_many/pass_original hooks")
        calls.append(getattr(schema, attr_name))
    return calls


def _schema_function(src: _Source, schema: ma.Schema, unknown: str | None = None) -> Loader:
    if schema.many or schema.partial or schema._hooks["validates"]:
        raise NotCompilable(f"{type(schema).__name__}: many/partial schema or @validates hooks")
    if (unknown or schema.unknown) != ma.RAISE:
        raise NotCompilable(f"{type(schema).__name__}: unknown={unknown or schema.unknown}")
    if schema.dict_class is not dict:
        raise NotCompilable(f"{type(schema).__name__}: ordered schema")
    pre_load, checks, post_load = (_hook_calls(schema, t) for t in ("pre_load", "validates_schema", "post_load"))
    fields = []
    for attr_name, field in schema.load_fields.items():
        target = field.attribute or attr_name
        if "." in target:
            raise NotCompilable(f"{type(schema).__name__}.{attr_name}: dotted attribute")
        fields.append((field.data_key if field.data_key is not None else attr_name, target, field))
    known = src.const(frozenset(key for key, _, _ in fields), "known")

    def body(src: _Source, data: str, result: str, ind: int) -> None:
        src.emit(ind, f"if type({data}) is not dict: raise Unsure")
        src.emit(ind, "try:")
        ind += 1
        for hook in pre_load:
            src.emit(ind, f"{data} = {src.const(hook, 'pre_load')}({data}, many=False, partial=None)")
        src.emit(ind, f"if type({data}) is not dict or not {known}.issuperset({data}): raise Unsure")
        src.emit(ind, f"{result} = {{}}")
        for key, target, field in fields:
            v, r = src.var("v"), src.var("r")
            if field.required:  # a subscript (free try in 3.11) costs less than .get() and a test
                src.emit(ind, "try:")
                src.emit(ind + 1, f"{v} = {data}[{key!r}]")
                src.emit(ind, "except KeyError:")
                src.emit(ind + 1, "raise Unsure from None")
                _emit_field(src, field, v, r, ind)
                src.emit(ind, f"{result}[{target!r}] = {r}")
                continue
            src.emit(ind, f"{v} = {data}.get({key!r}, MISSING)")
            src.emit(ind, f"if {v} is MISSING:")
            default = field.load_default
            if default is missing:
                src.emit(ind + 1, "pass")
            else:
                call = "()" if callable(default) else ""
                src.emit(ind + 1, f"{result}[{target!r}] = {src.const(default, 'default')}{call}")
            src.emit(ind, "else:")
            _emit_field(src, field, v, r, ind + 1)
            src.emit(ind + 1, f"{result}[{target!r}] = {r}")
        for check in checks:
            src.emit(ind, f"{src.const(check, 'validates_schema')}({result}, many=False, partial=None)")
        for hook in post_load:
            src.emit(ind, f"{result} = {src.const(hook, 'post_load')}({result}, many=False, partial=None)")
        src.emit(ind - 1, "except ValidationError:")
        src.emit(ind, "raise Unsure from None")

    return _function(src, body)


def compile_schema(schema: ma.Schema, *, unknown: str | None = None) -> Loader:
    """A loader returning exactly ``schema.load(data)`` for data it is sure of; raises :class:`Unsure` otherwise."""
    return _schema_function(_Source(), schema, unknown)


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
