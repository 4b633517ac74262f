"""Title lexemes per chunk of 8,192 listings, so ``sort=relevance`` finds its candidates newest first.

A GIN index answers ``canon & camera`` by intersecting the two words' whole posting lists, so the
cost of the title index grows with the catalog even when 200 candidates are enough. Each listing now
gets ``search_chunk``, its insertion order divided by 8,192 (a sequence), and
``ix_listings_pub_title_chunks`` indexes its title lexemes prefixed with that number (``'17@canon'``):
a query over the newest few chunks (``title_chunk_query``) reads only their short posting lists.
The index itself comes in listings_0007 (built concurrently).

The backfill numbers existing listings by ``(created_at, id)``; it rewrites every row once.

Revision ID: listings_0006
Revises: listings_0005
Create Date: 2026-11-26 23:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "listings_0006"
down_revision: str | Sequence[str] | None = "listings_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK_ROWS = 8192  # search.CHUNK_ROWS
SEQUENCE = "listings.listings_search_chunk_seq"
# Each quoted lexeme of a tsvector's or tsquery's text form, quotes inside doubled: '((?:[^']|'')*)'.
PREFIXED = r"""
CREATE FUNCTION listings.chunk_prefixed(lexemes text, chunk integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN regexp_replace(lexemes, '''((?:[^'']|'''')*)''', '''' || chunk || '@\1''', 'g')
"""
# Text round trips keep positions (phrase queries recheck against them) and need no escaping rules.
TITLE_CHUNK_VECTOR = """
CREATE FUNCTION listings.title_chunk_vector(vector tsvector, chunk integer) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN listings.chunk_prefixed(ts_filter(vector, '{a}'::"char"[])::text, chunk)::tsvector
"""
# One prefixed copy of the query per chunk from lo to hi, ORed; a query without lexemes stays as it is.
# Phrase operators become ANDs: the index stores no positions, so a phrase made GIN recheck every
# candidate by computing its prefixed vector again, and the search checks the phrase itself anyway
# (lexemes hold no spaces, so ' <-> ' and ' <2> ' are always operators in the text form).
# PL/pgSQL keeps its statement's plan for the session: as a SQL function, each search planned it again.
TITLE_CHUNK_QUERY = """
CREATE FUNCTION listings.title_chunk_query(words tsquery, lo integer, hi integer) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    copies text;
BEGIN
    IF numnode(words) = 0 THEN
        RETURN words;
    END IF;
    SELECT string_agg('(' || listings.chunk_prefixed(unordered, chunk) || ')', ' | ' ORDER BY chunk DESC)
    INTO copies FROM generate_series(lo, hi) AS chunk,
        regexp_replace(words::text, ' <(-|[0-9]+)> ', ' & ', 'g') AS unordered;
    RETURN copies::tsquery;
END
$$
"""


def upgrade() -> None:
    op.execute(f"CREATE SEQUENCE {SEQUENCE} AS bigint")
    op.execute("ALTER TABLE listings.listings ADD COLUMN search_chunk integer")
    op.execute(
        "UPDATE listings.listings AS l SET search_chunk = (n.rn - 1) / 8192 "
        "FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS rn FROM listings.listings) AS n "
        "WHERE l.id = n.id"
    )
    op.execute("SELECT setval('listings.listings_search_chunk_seq', count(*) + 1, false) FROM listings.listings")
    op.execute(
        "ALTER TABLE listings.listings ALTER COLUMN search_chunk "
        f"SET DEFAULT ((nextval('{SEQUENCE}') - 1) / {CHUNK_ROWS})::integer, "
        "ALTER COLUMN search_chunk SET NOT NULL"
    )
    op.execute(f"ALTER SEQUENCE {SEQUENCE} OWNED BY listings.listings.search_chunk")
    op.execute(PREFIXED)
    op.execute(TITLE_CHUNK_VECTOR)
    op.execute(TITLE_CHUNK_QUERY)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS listings.title_chunk_query(tsquery, integer, integer)")
    op.execute("DROP FUNCTION IF EXISTS listings.title_chunk_vector(tsvector, integer)")
    op.execute("DROP FUNCTION IF EXISTS listings.chunk_prefixed(text, integer)")
    op.execute("ALTER TABLE listings.listings DROP COLUMN search_chunk")  # drops the owned sequence
