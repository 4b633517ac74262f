"""Bounded walks: a page sorted by a column never walks the whole sort index looking for matches.

Under ``ORDER BY created_at DESC LIMIT 21`` the planner walks the sort's index and filters the rows,
expecting to meet 21 matches early because it takes the filters to be spread evenly over time. When
they are not (``q=camera`` in a clothing category: words and category never meet), the walk reads
every row of the index before it returns an empty page, which took seconds at 10^6 listings.

A resource that declares a ``BoundedWalk`` (``ListHooks.walk``) runs such a page's plain statement
first, under a statement timeout of ``after_ms``: the planner is right nearly always, and the walk
below costs a few milliseconds more to build and to plan, and up to five times more than the
planner's choice for filters of middling selectivity. Once the plain statement runs past its time,
it is cancelled and the page takes its candidates from branches of one ``UNION ALL`` under the
page's LIMIT, each running only when those before it found too few:

1. the steps of the walk: the rows of the sort's order under the walk's own conditions (those the
   domain's ``scope`` names, typically the sort index's partial predicate, and bounds on the sort
   column), up to ``steps[0]`` rows per row of the page, then on to ``steps[1]`` per row..., each
   kept when it passes every other condition;
2. the matches beyond the walk's last row, read as a set through the conditions' own indexes (a
   materialised CTE hides the order from the planner, so it cannot pick the same walk again), then
   sorted.

A page then costs at most ``after_ms``, the walk and the matches beyond it, never the whole index;
pages whose plain statement is quick (the usual case) cost what they did, plus the two round trips
that set and reset the timeout. The walk grows with the page, so that a long page of
common matches does not fall back to reading every match; its steps keep a filter that matches one
row in a few hundred to the walk, where reading every match would cost more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql import visitors

from app.generator.filtering import SortKey
from app.generator.hooks import BoundedWalk
from app.generator.pagination import keyset_clause, order_by

log = logging.getLogger(__name__)


def walk_split(
    walk: BoundedWalk, conditions: list[Any], sort_cols: Any, keys: Sequence[SortKey]
) -> tuple[list[Any], list[Any]] | None:
    """The conditions the walk keeps and those it tests on each walked row, or None when no index
    serves the sort, the domain's scope does not apply (it names none of the conditions) or the walk
    would test nothing (every condition is one it keeps): the plain statement is then as good."""
    if keys[0].column not in walk.sorts:
        return None
    scope = walk.scope(conditions)
    if not scope:
        return None
    sort_column = getattr(sort_cols, keys[0].column)
    kept = [c for c in conditions if any(c is s for s in scope) or _only_on(c, sort_column)]
    filters = [c for c in conditions if not any(c is k for k in kept)]
    return (kept, filters) if filters else None


def plain_first(
    connection: Connection, plain: sa.Select[Any], walked: Callable[[], sa.Select[Any]], after_ms: int | None
) -> list[Any]:
    """The page's rows: from the plain statement, unless it runs past ``after_ms`` (the planner
    misjudged the filters), then from the bounded walk's (``walked()``, built only then); None
    walks at once. The planner's plan is the better one nearly always, and the walk costs a few
    milliseconds more to build and to plan: it is the guard, not the rule."""
    if after_ms is None:
        return connection.execute(walked()).all()
    connection.exec_driver_sql(f"SET statement_timeout = {int(after_ms)}")
    try:
        return connection.execute(plain).all()
    except sa.exc.OperationalError as error:
        if not isinstance(error.orig, psycopg.errors.QueryCanceled):
            raise
    finally:
        connection.exec_driver_sql("RESET statement_timeout")
    log.info("list statement ran past %d ms: taking the bounded walk", after_ms)
    return connection.execute(walked()).all()


def bounded_candidates(
    table: sa.Table,
    walk: BoundedWalk,
    split: tuple[list[Any], list[Any]],
    conditions: list[Any],
    keyset: list[Any],
    sort_cols: Any,
    keys: Sequence[SortKey],
    direction: str,
    size: int,
) -> sa.ColumnElement[bool]:
    """``ctid = ANY(ARRAY(<the first size rows of the page, by the walk's steps, then the rest>))``,
    for the conditions ``walk_split`` split into those the walk keeps and those it tests."""
    kept, filters = split
    ctid = sa.literal_column("ctid")
    key_columns = [getattr(sort_cols, k.column) for k in keys]
    walked = sa.select(ctid.label("row_tid"), *key_columns).select_from(table).where(*kept, *keyset)
    walked = walked.order_by(*order_by(sort_cols, keys, direction))
    reach = [rows_per_item * size for rows_per_item in walk.steps]  # how far each step walks
    steps = [
        _walk_step(table, walked, filters, keys, direction, size, begin, stop, n)
        for n, (begin, stop) in enumerate(zip([0, *reach], reach, strict=False))
    ]
    # the walk's last row, when it went the whole way (else it reached the end and nothing is beyond)
    end = walked.with_only_columns(*key_columns).offset(reach[-1] - 1).limit(1).cte("walk_end")
    matches = (
        sa.select(ctid.label("row_tid"), *key_columns)
        .select_from(table)
        .where(*conditions, *keyset)
        .cte("matches")
        .prefix_with("MATERIALIZED")
    )
    # past the walk's end: a filter on the matches (as an index condition, the planner would take it
    # for a selective range when it is nearly the whole table)
    beyond = keyset_clause(matches.c, keys, [sa.select(end.c[k.column]).scalar_subquery() for k in keys], direction)
    after_walk = sa.select(matches.c.row_tid).where(beyond).order_by(*order_by(matches.c, keys, direction)).limit(size)
    both = sa.union_all(*steps, after_walk).subquery("candidates")
    chosen = sa.select(both.c.row_tid).limit(size).scalar_subquery()
    return ctid == sa.any_(sa.func.array(chosen))


def _walk_step(
    table: sa.Table,
    walked: sa.Select[Any],
    filters: list[Any],
    keys: Sequence[SortKey],
    direction: str,
    size: int,
    begin: int,
    stop: int,
    n: int,
) -> sa.Select[Any]:
    """The first ``size`` rows passing ``filters`` among the walk's rows ``begin`` to ``stop``.

    Each walked row is tested where it lies (a TID lookup of a page just read), so the conditions stay
    as they are written: adapting them to the subquery cost more than the lookups. The LIMIT keeps
    the planner from flattening the test into a join of every match, which would not stop early."""
    stretch = walked.offset(begin).limit(stop - begin).subquery(f"walked_{n}")
    passes = (
        sa.select(sa.literal(1))
        .select_from(table)
        .where(sa.literal_column("ctid") == stretch.c.row_tid, *filters)
        .limit(1)
        .correlate(stretch)
        .lateral(f"passes_{n}")
    )
    return (
        sa.select(stretch.c.row_tid)
        .select_from(stretch.join(passes, sa.true()))
        .order_by(*order_by(stretch.c, keys, direction))
        .limit(size)
    )


def _only_on(condition: Any, column: Any) -> bool:
    """Whether ``condition`` reads ``column`` and no other: a bound on the sort key, which narrows the
    walk through the index rather than filtering it."""
    columns = [element for element in visitors.iterate(condition) if isinstance(element, sa.Column)]
    return bool(columns) and all(c is column for c in columns)
