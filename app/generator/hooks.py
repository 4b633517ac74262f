"""List hooks: a domain extends a generated list endpoint without writing a parallel one.

Some lists need more than column filters: full-text search ranked by relevance, filters computed from
several parameters (a radius around coordinates, a category subtree), facet counts. A resource
declares ``list_hooks=ListHooks(...)``; the generated ``GET`` list keeps its policy, parsing,
declared filters, keyset pagination and serialisation, and asks the hooks for:

- ``args``: extra query parameters (marshmallow fields, documented in OpenAPI, 422 on bad values);
- ``conditions(args, principal)``: extra SQL conditions from the parsed arguments;
- ``sorts``: computed sort keys by name (e.g. ``relevance``), each ``(expression(args), type)``;
  the expression is selected, ordered by and used for the cursor like a column;
- ``extras(conditions, args, principal, connection)``: extra keys of the page body (e.g. ``facets``),
  given every condition of the page except the cursor's and the list's read connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
import sqlalchemy as sa


@dataclass(frozen=True)
class ComputedSort:
    """A sort key computed by SQL from the query's arguments (NULL-free, so keysets stay total)."""

    expression: Callable[[Mapping[str, Any]], sa.ColumnElement[Any]]
    type: sa.types.TypeEngine[Any] = field(default_factory=sa.Float)
    #: query parameters the sort needs (a 422 naming them when missing)
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListHooks:
    args: Mapping[str, ma.fields.Field] = field(default_factory=dict)
    conditions: Callable[[Mapping[str, Any], Any], list[Any]] | None = None
    sorts: Mapping[str, ComputedSort] = field(default_factory=dict)
    extras: Callable[[list[Any], Mapping[str, Any], Any, Any], dict[str, Any]] | None = None


def cursor_types(resource: Any, column_types: Mapping[str, Any]) -> dict[str, Any]:
    """Types of every key a cursor may hold: the columns plus the resource's computed sorts."""
    hooks = resource.list_hooks
    return {**column_types, **({n: s.type for n, s in hooks.sorts.items()} if hooks is not None else {})}


def apply_hooks(resource: Any, cols: Any, keys: Any, args: Mapping[str, Any], principal: Any) -> tuple[list, dict, Any]:
    """(extra conditions, arguments that select rows, columns namespace with the computed sort keys)."""
    hooks = resource.list_hooks
    if hooks is None:
        return [], {}, cols
    from types import SimpleNamespace

    from flask_smorest import abort

    computed = {}
    for key in keys:
        sort = hooks.sorts.get(key.column)
        if sort is None:
            continue
        missing = [name for name in sort.requires if args.get(name) in (None, "", [])]
        if missing:
            abort(
                422,
                message=f"Sorting by {key.column} needs {', '.join(missing)}.",
                errors={"sort": [f"{key.column} needs {', '.join(missing)}."]},
            )
        computed[key.column] = sort.expression(args).label(key.column)
    conditions = list(hooks.conditions(args, principal)) if hooks.conditions is not None else []
    used = {name: args[name] for name in hooks.args if args.get(name) is not None}
    namespace = SimpleNamespace(**vars(cols), **computed) if computed else cols
    return conditions, used, namespace
