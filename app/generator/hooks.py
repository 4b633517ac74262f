"""List hooks: a domain extends a generated list endpoint without writing a parallel one.

Some lists need more than column filters: full-text search ranked by relevance, filters computed from
several parameters (a radius around coordinates, a category subtree), facet counts. A resource
declares ``list_hooks=ListHooks(...)``; the generated ``GET`` list keeps its policy, parsing,
declared filters, keyset pagination and serialisation, and asks the hooks for:

- ``args``: extra query parameters (marshmallow fields, documented in OpenAPI, 422 on bad values);
- ``conditions(args, principal)``: extra SQL conditions from the parsed arguments;
- ``sorts``: computed sort keys by name (e.g. ``relevance``), each ``(expression(args), type)``;
  the expression is selected, ordered by and used for the cursor like a column. A sort may narrow
  the rows it orders to a bounded ``window`` (ranking every match would grow with the table; it may
  read the list's connection to choose them), and a condition may be a ``Cutoff``: a filter that
  holds for a prefix of an index-ordered sort (rows within a radius, nearest first), applied after
  the LIMIT so that the index walk stays bounded;
- ``extras(conditions, args, principal, connection)``: extra keys of the page body (e.g. ``facets``),
  given every condition of the page except the cursor's and the list's read connection;
- ``walk``: how far a page sorted by a column may walk its index filtering rows (``BoundedWalk``).
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
    #: rank only a bounded set of candidates (see Window); None ranks every match
    window: Window | None = None


@dataclass(frozen=True)
class Window:
    """The rows a computed sort ranks: ``candidates(conditions, args, connection)`` is a condition built
    from every condition of the list (policy, filters, hooks), e.g. ``ctid = ANY(ARRAY(<a subquery with
    a LIMIT>))``; the connection is the list's own, for what the statement's shape depends on."""

    candidates: Callable[[list[Any], Mapping[str, Any], Any], sa.ColumnElement[bool]]


@dataclass(frozen=True)
class Cutoff:
    """Conditions (``clauses``) equivalent, under the ascending sort ``sort``, to ``key <= bound``.

    Counts, extras and other sorts use ``clauses``. A page sorted by ``sort`` (ascending) instead walks
    the index's order without them and keeps the rows up to ``bound`` after its LIMIT: a filter during
    an index-ordered walk would make the walk read every remaining row once the matches run out."""

    sort: str
    clauses: list[Any]
    bound: Any


@dataclass(frozen=True)
class BoundedWalk:
    """How a page sorted by a column may walk its index: under the conditions ``scope(conditions)``
    returns (the sort index's own predicate; bounds on the sort column are kept too), filtered by the
    others, at most ``steps[-1]`` rows per row of the page, in steps (``steps[0]`` rows per row, then
    on to ``steps[1]``...); the matches beyond come from their own indexes (``app.generator.walks``).
    With ``after_ms`` the walk is a guard: the planner's own statement runs first, and the walk only
    when that one runs longer. An empty scope (a search the index does not cover) never walks."""

    steps: tuple[int, ...]
    scope: Callable[[list[Any]], list[Any]]
    #: the sort keys (columns, first key) an index under the scope serves: a walk of any other sort
    #: would sort the whole scope to find its first rows
    sorts: tuple[str, ...] = ()
    #: the plain statement runs first, and the walk only once it has run this long (None: walk at once)
    after_ms: int | None = None


@dataclass(frozen=True)
class ListHooks:
    args: Mapping[str, ma.fields.Field] = field(default_factory=dict)
    #: SQL conditions, or Cutoff items wrapping some of them
    conditions: Callable[[Mapping[str, Any], Any], list[Any]] | None = None
    sorts: Mapping[str, ComputedSort] = field(default_factory=dict)
    extras: Callable[[list[Any], Mapping[str, Any], Any, Any], dict[str, Any]] | None = None
    #: bound the index walk of pages sorted by a column (see BoundedWalk)
    walk: BoundedWalk | None = None


def cursor_types(resource: Any, column_types: Mapping[str, Any]) -> dict[str, Any]:
    """Types of every key a cursor may hold: the columns plus the resource's computed sorts."""
    hooks = resource.list_hooks
    return {**column_types, **({n: s.type for n, s in hooks.sorts.items()} if hooks is not None else {})}


@dataclass
class Hooked:
    """What the hooks add to one list request."""

    conditions: list[Any]  # every condition (cutoffs expanded): counts and extras use these
    used: dict[str, Any]  # arguments that select rows (the cursor fingerprint)
    cols: Any  # the columns namespace, with the computed sort keys
    cutoffs: list[Cutoff] = field(default_factory=list)


def apply_hooks(resource: Any, cols: Any, keys: Any, args: Mapping[str, Any], principal: Any) -> Hooked:
    hooks = resource.list_hooks
    if hooks is None:
        return Hooked([], {}, cols)
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
    conditions, cutoffs = [], []
    for condition in hooks.conditions(args, principal) if hooks.conditions is not None else ():
        if isinstance(condition, Cutoff):
            cutoffs.append(condition)
            conditions += condition.clauses
        else:
            conditions.append(condition)
    used = {name: args[name] for name in hooks.args if args.get(name) is not None}
    namespace = SimpleNamespace(**vars(cols), **computed) if computed else cols
    return Hooked(conditions, used, namespace, cutoffs)


def walk_plan(
    resource: Any,
    keys: Any,
    conditions: list[Any],
    hooked: Hooked,
    args: Mapping[str, Any],
    forward: bool,
    connection: Any,
) -> tuple[list[Any], Cutoff | None]:
    """The conditions of the page statement, and the cutoff to apply after its LIMIT (if any).

    The first sort key decides. Its window, built from every condition, replaces them (the candidates
    already satisfy them). A cutoff on it (ascending, next pages) leaves the walk and returns as
    ``key <= bound`` after the LIMIT; previous pages read backwards, which an index-ordered walk
    cannot, so they keep the cutoff's clauses.
    """
    sort = resource.list_hooks.sorts.get(keys[0].column) if resource.list_hooks is not None else None
    if sort is None:
        return conditions, None
    if sort.window is not None:
        return [sort.window.candidates(conditions, args, connection)], None
    cutoff = None
    if forward and not keys[0].descending:
        cutoff = next((c for c in hooked.cutoffs if c.sort == keys[0].column), None)
    if cutoff is None:
        return conditions, None
    return [c for c in conditions if not any(c is clause for clause in cutoff.clauses)], cutoff
