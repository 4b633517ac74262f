"""Title matches of the public catalog, newest first, from the chunk-prefixed title index.

A GIN index answers ``canon & camera`` by intersecting the two words' whole posting lists, so the
title index costs time in proportion to the catalog even when ``sort=relevance`` needs only 200
candidates. ``ix_listings_pub_title_chunks`` indexes each title's lexemes prefixed with the
listing's ``search_chunk`` (its publication order // ``CHUNK_ROWS``, from a sequence: migration
listings_0006; a draft takes a new number when first published, so it counts as new) and
``listings.title_chunk_query(q, lo, hi)`` asks for the query's words within a range of chunks, so
reading the newest listings' matches touches only short posting lists. That query is only a way in
(phrases become ANDs in it): the title match itself is checked on each row.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from blueprints.listings.models import Listing
from blueprints.listings.models.catalog import CHUNK_ROWS

T = Listing.__table__
# The newest chunk first, the one before, then 2 and 4 more (offsets back from the newest chunk:
# first, last of each step), before the older rest.
CHUNK_STEPS = ((0, 0), (1, 1), (3, 2), (7, 4))
RECENT_CHUNKS = CHUNK_STEPS[-1][0] + 1
# How long a process trusts the newest chunk it read (rows numbered after come from the rest).
NEWEST_CHUNK_TTL = 1.0
_SEQUENCE = sa.table("listings_search_chunk_seq", sa.column("last_value", sa.BigInteger), schema=T.schema)
_NEWEST_CHUNK = sa.select(sa.cast((_SEQUENCE.c.last_value - 1) // CHUNK_ROWS, sa.Integer))


class NewestChunk:
    """The newest ``search_chunk`` of the catalog, read from its sequence at most once a second per
    database: a listing took its number before the read, and a chunk holds 8,192 listings, so a
    second-old value misses at most the listings added since (``title_matches`` reads them apart)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read: dict[str, tuple[float, int]] = {}

    def of(self, connection: Any) -> int:
        key = connection.engine.url.render_as_string(hide_password=True)
        now = time.monotonic()
        with self._lock:
            cached = self._read.get(key)
        if cached is not None and now - cached[0] < NEWEST_CHUNK_TTL:
            return cached[1]
        newest = connection.execute(_NEWEST_CHUNK).scalar_one()
        with self._lock:
            self._read[key] = (now, newest)
        return newest

    def forget(self) -> None:
        with self._lock:
            self._read.clear()


newest_chunk = NewestChunk()


def title_matches(where: list[Any], in_title: Any, size: int, newest: int) -> list[sa.Select[Any]]:
    """Up to ``size`` listings passing ``where`` whose title matches (``in_title``: the title vector
    ``@@`` the query), newest first.

    The steps of ``CHUNK_STEPS`` each stop at ``size``; listings older than them, or numbered after
    ``newest`` was read, come last from the whole title index (``ix_listings_pub_title_vector``),
    read only when the steps found too few.

    The planner cannot estimate a chunk query, so offered the title or full-text index beside it,
    it would prefer the very intersection this avoids: in a step, conditions on ``search_vector`` are
    written as ``ts_match_vq`` calls (the function behind ``@@``, which no index serves). The steps
    are one subquery joined laterally to their chunk ranges, so the statement stays cheap to plan,
    and the ranges travel as two arrays (a VALUES list would make it uncacheable: compiled each time).
    """
    ctid = sa.literal_column("ctid")
    title, query = in_title.left, in_title.right  # reused as they are: cheaper to build and to key
    ints = postgresql.ARRAY(sa.Integer)
    ranges = (
        sa.func.unnest(
            # the first step also covers the chunk after: it may have begun since `newest` was read
            sa.literal([newest - back_lo for back_lo, _ in CHUNK_STEPS], ints),
            sa.literal([newest - back_hi + (1 if back_hi == 0 else 0) for _, back_hi in CHUNK_STEPS], ints),
        )
        .table_valued(sa.column("lo", sa.Integer), sa.column("hi", sa.Integer))
        .render_derived("chunk_steps")
    )
    chunk_query = sa.func.listings.title_chunk_query(query, ranges.c.lo, ranges.c.hi)
    in_chunks = sa.func.listings.title_chunk_vector(T.c.search_vector, T.c.search_chunk).op("@@")(chunk_query)
    unindexed = [_without_index(clause) for clause in where]
    step = (
        sa.select(ctid)
        .select_from(T)
        .where(in_chunks, *unindexed, sa.func.ts_match_vq(title, query))
        .limit(size)
        .correlate(ranges)
        .lateral("step")
    )
    steps = sa.select(step.c.ctid).select_from(ranges.join(step, sa.true()))
    rest = sa.or_(T.c.search_chunk < newest - CHUNK_STEPS[-1][0], T.c.search_chunk > newest + 1)
    older = sa.select(ctid).select_from(T).where(*where, in_title, rest).limit(size)
    return [steps, older.correlate(None)]


def _without_index(clause: Any) -> Any:
    """``search_vector @@ q`` as ``ts_match_vq(search_vector, q)``: the same test, served by no index."""
    if (
        isinstance(clause, sa.BinaryExpression)
        and clause.left is T.c.search_vector
        and getattr(clause.operator, "opstring", None) == "@@"
    ):
        return sa.func.ts_match_vq(clause.left, clause.right)
    return clause
