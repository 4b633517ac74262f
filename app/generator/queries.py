"""The SQL of list and get: Core selects of just the needed columns, one statement per page.

Rows are read as tuples (no ORM identity map) and dumped by the compiled dumper. Embedded to-one
relations cost one more statement each, whatever the page size: ``WHERE pk IN (...)`` on the target,
under the target resource's own visibility rule.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import request
from sqlalchemy.engine import Connection

from app.extensions import db
from app.generator.access import visibility
from app.generator.compiled import Compiled
from app.generator.filtering import SortKey, filter_clause, parse_sort
from app.generator.hooks import Cutoff, apply_hooks, cursor_types, walk_plan
from app.generator.pagination import NEXT, PREV, CursorCodec, keyset_clause, order_by, query_fingerprint
from app.generator.rules import as_sql
from app.generator.walks import bounded_candidates, plain_first, walk_split
from app.security import Principal

LIST_META = ("limit", "cursor", "fields", "embed", "count")


def etag_of(document: Mapping[str, Any]) -> str:
    return hashlib.sha1(json.dumps(document, sort_keys=True).encode(), usedforsecurity=False).hexdigest()


@contextmanager
def reading() -> Iterator[Connection]:
    """List and get read on their own autocommit connection: no BEGIN/ROLLBACK round trips per request."""
    with db.engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def base_select(compiled: Compiled, attrs: Sequence[str]) -> sa.Select[Any]:
    """The cached ``SELECT <attrs>`` of the resource, to which a request adds its WHERE/ORDER/LIMIT."""
    return compiled.select_of(tuple(attrs))


def fetch_embeds(
    compiled: Compiled, rows: Sequence[Any], embed: Sequence[str], principal: Principal, connection: Connection
) -> dict[str, dict]:
    """For each embed, target id -> dumped target (only targets the principal may read)."""
    found: dict[str, dict] = {}
    for name in embed:
        spec = compiled.embeds[name]
        ids = {getattr(row, spec.local_column) for row in rows} - {None}
        if not ids:
            found[name] = {}
            continue
        target = spec.target
        pk_column = getattr(target.cols, target.pk)
        attrs = tuple(target.attrs_for(target.output_names))
        stmt = base_select(target, attrs).where(
            pk_column.in_(ids), *visibility(target, target.resource.policy.read, principal)
        )
        dump = target.dump_fn(None, attrs)
        found[name] = {getattr(row, target.pk): dump(row) for row in connection.execute(stmt)}
    return found


def get_one(compiled: Compiled, obj_id: Any, principal: Principal, connection: Connection) -> Any:
    """The row (all output columns) if the principal may read it, else None."""
    stmt = base_select(compiled, compiled.attrs_for(compiled.output_names)).where(
        getattr(compiled.cols, compiled.pk) == obj_id, *visibility(compiled, compiled.resource.policy.read, principal)
    )
    return connection.execute(stmt).first()


def _filter_conditions(compiled: Compiled, args: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    conditions: list[Any] = []
    used: dict[str, Any] = {}
    for flt in compiled.filters:
        if flt.attr in args:
            value = args[flt.attr]
            conditions.append(filter_clause(compiled.cols, flt, value))
            used[flt.param] = value
    search = compiled.resource.search
    if search is not None and args.get("q"):
        conditions.append(search(compiled.model, args["q"]))
        used["q"] = args["q"]
    return conditions, used


def _link(direction: str, codec: CursorCodec, keys: Sequence[SortKey], row: Any, fingerprint: str) -> str:
    params = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
    params.append(("cursor", codec.encode(direction, keys, row, fingerprint)))
    return f"{request.path}?{urlencode(params)}"


def cut_walk(stmt: sa.Select[Any], sort_cols: Any, keys: Sequence[SortKey], cutoff: Cutoff, n: int) -> sa.Select[Any]:
    """The first ``n`` rows in the order of ``keys`` whose first key is at most ``cutoff.bound``.

    The inner select orders by the first key alone (an index-ordered walk, e.g. GiST KNN, can serve
    that and nothing longer), stops after ``n`` rows plus any tied with the last, so that the outer
    order (with the tie-breaking keys) and the cutoff see every row that could belong to the page."""
    first = getattr(sort_cols, keys[0].column)
    walked = stmt.order_by(first).fetch(n, with_ties=True).subquery("walked")
    return (
        sa.select(*walked.c)
        .where(walked.c[keys[0].column] <= cutoff.bound)
        .order_by(*order_by(walked.c, keys, NEXT))
        .limit(n)
    )


def list_page(compiled: Compiled, args: Mapping[str, Any], principal: Principal, codec: CursorCodec) -> dict[str, Any]:
    """One page of rows the principal may list, with next/prev links and an optional total."""
    resource = compiled.resource
    cols = compiled.cols
    keys = parse_sort(resource, args.get("sort"))
    conditions = visibility(compiled, resource.policy.list_rule, principal)
    filter_conditions, used = _filter_conditions(compiled, args)
    conditions += filter_conditions
    for name, choices in resource.scopes.items():
        chosen = args.get(f"scope__{name}")
        if chosen is not None:
            conditions.append(as_sql(choices[chosen].clause(cols, principal)))
            used[name] = chosen
    hooked = apply_hooks(resource, cols, keys, args, principal)
    sort_cols = hooked.cols
    conditions += hooked.conditions
    used.update(hooked.used)
    fingerprint = query_fingerprint({"filters": used, "sort": [(k.column, k.descending) for k in keys]})

    direction = NEXT
    cursor = args.get("cursor")
    keyset = []
    if cursor:
        direction, values = codec.decode(cursor, keys, fingerprint)
        types = cursor_types(resource, compiled.column_types)
        typed = [sa.literal(v, types[k.column]) for k, v in zip(keys, values, strict=True)]
        keyset.append(keyset_clause(sort_cols, keys, typed, direction))

    names = args.get("fields") or compiled.output_names
    embed = args.get("embed") or ()
    attrs = compiled.attrs_for(names)
    computed = [getattr(sort_cols, k.column) for k in keys if k.column not in compiled.column_types]
    for extra in [k.column for k in keys if k.column in compiled.column_types] + [
        compiled.embeds[e].local_column for e in embed
    ]:
        if extra not in attrs:
            attrs.append(extra)
    limit = args["limit"]
    with reading() as connection:
        walk, cutoff = walk_plan(resource, keys, conditions, hooked, args, direction == NEXT, connection)
        page = base_select(compiled, attrs).add_columns(*computed)
        if cutoff is None:
            stmt = page.where(*walk, *keyset).order_by(*order_by(sort_cols, keys, direction)).limit(limit + 1)
        else:
            stmt = cut_walk(page.where(*walk, *keyset), sort_cols, keys, cutoff, limit + 1)
        bounded = resource.list_hooks.walk if resource.list_hooks is not None else None
        split = None
        if bounded is not None and cutoff is None and all(k.column in compiled.column_types for k in keys):
            split = walk_split(bounded, walk, sort_cols, keys)
        if bounded is None or split is None:
            rows = connection.execute(stmt).all()
        else:

            def walked() -> sa.Select[Any]:
                size = limit + 1
                candidates = bounded_candidates(
                    compiled.table, bounded, split, walk, keyset, sort_cols, keys, direction, size
                )
                return page.where(candidates).order_by(*order_by(sort_cols, keys, direction)).limit(size)

            rows = plain_first(connection, stmt, walked, bounded.after_ms)
        more = len(rows) > limit
        rows = rows[:limit]
        if direction == PREV:
            rows.reverse()
        dump = compiled.dump_fn(names, tuple(attrs))  # reads rows by position
        items = [dump(row) for row in rows]
        if embed:
            embedded = fetch_embeds(compiled, rows, embed, principal, connection)
            for item, row in zip(items, rows, strict=True):
                for name in embed:
                    item[name] = embedded[name].get(getattr(row, compiled.embeds[name].local_column))
        if args.get("count"):
            count_stmt = sa.select(sa.func.count()).select_from(compiled.table).where(*conditions)
            total = connection.execute(count_stmt).scalar_one()
        hooks = resource.list_hooks
        extras = hooks.extras(conditions, args, principal, connection) if hooks and hooks.extras else {}

    has_next = more if direction == NEXT else bool(cursor)
    has_prev = bool(cursor) if direction == NEXT else more
    links = {
        "next": _link(NEXT, codec, keys, rows[-1], fingerprint) if rows and has_next else None,
        "prev": _link(PREV, codec, keys, rows[0], fingerprint) if rows and has_prev else None,
    }
    body: dict[str, Any] = {"items": items, "links": links, **extras}
    if args.get("count"):
        body["total"] = total
    return body
