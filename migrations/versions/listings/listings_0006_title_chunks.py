"""Title lexemes per chunk of 8,192 listings, so ``sort=relevance`` finds its candidates newest first.

A GIN index answers ``canon & camera`` by intersecting the two words' whole posting lists, so the
cost of the title index grows with the catalog even when 200 candidates are enough. Each listing now
gets ``search_chunk``, its insertion order divided by 8,192 (a sequence), and
``ix_listings_pub_title_chunks`` indexes its title lexemes prefixed with that number (``'17@canon'``):
a query over the newest few chunks (``title_chunk_query``) reads only their short posting lists.

This revision is quick (it holds the table's lock only for catalog changes): the sequence starts
after the listings already there, and new listings take their numbers from it at once. listings_0007
numbers the existing listings by age and builds the index, outside any long transaction.

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

CHUNK_ROWS = 8192  # blueprints.listings.models.catalog.CHUNK_ROWS (the 0007 backfill writes it too)
SEQUENCE = "listings.listings_search_chunk_seq"
# Each quoted lexeme of a tsvector's or tsquery's text form, quotes inside doubled: '((?:[^']|'')*)'.
PREFIXED = r"""
CREATE FUNCTION listings.chunk_prefixed(lexemes text, chunk integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN regexp_replace(lexemes, '''((?:[^'']|'''')*)''', '''' || chunk || '@\1''', 'g')
"""
# The title's lexemes prefixed with the chunk, plus the chunk's own marker '<chunk>@' (every listing
# of the chunk has it). Text round trips keep positions and need no escaping rules.
TITLE_CHUNK_VECTOR = """
CREATE FUNCTION listings.title_chunk_vector(vector tsvector, chunk integer) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (listings.chunk_prefixed(ts_filter(vector, '{a}'::"char"[])::text, chunk) || ' ' || quote_literal(chunk || '@'))::tsvector
"""
# A query matching, within chunks lo..hi, at least every title the query matches: one prefixed copy
# per chunk, ORed. It is only a way in (the search checks the title match on each row), so:
# - it asks only for what ``querytree`` keeps, the words a match must have: a negated part (``!``)
#   would narrow it (``!(a <-> b)`` as ``!(a & b)``) or match outside the range (``a | !b``);
# - phrase operators become ANDs: the index stores no positions, so a phrase made GIN recheck every
#   candidate by computing its prefixed vector again (lexemes hold no spaces, so ' <-> ' and ' <2> '
#   are always operators in the text form);
# - when no word is required (``-nikon``, ``leica or -nikon``) it asks for the chunks' markers;
# - a query without lexemes stays as it is (it matches nothing).
# PL/pgSQL keeps its statement's plan for the session: as a SQL function, each search planned it again.
TITLE_CHUNK_QUERY = """
CREATE FUNCTION listings.title_chunk_query(words tsquery, lo integer, hi integer) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    required text;
    copies text;
BEGIN
    IF numnode(words) = 0 THEN
        RETURN words;
    END IF;
    required := querytree(words);
    IF required = 'T' OR required = '' THEN
        SELECT string_agg(quote_literal(chunk || '@'), ' | ') INTO copies FROM generate_series(lo, hi) AS chunk;
        RETURN copies::tsquery;
    END IF;
    required := regexp_replace(required, ' <(-|[0-9]+)> ', ' & ', 'g');
    SELECT string_agg('(' || listings.chunk_prefixed(required, chunk) || ')', ' | ' ORDER BY chunk DESC)
    INTO copies FROM generate_series(lo, hi) AS chunk;
    RETURN copies::tsquery;
END
$$
"""


def upgrade() -> None:
    op.execute(f"CREATE SEQUENCE {SEQUENCE} AS bigint")
    op.execute("ALTER TABLE listings.listings ADD COLUMN search_chunk integer")
    # the existing listings keep numbers 1..count (listings_0007 gives them out by age)
    op.execute("SELECT setval('listings.listings_search_chunk_seq', count(*) + 1, false) FROM listings.listings")
    op.execute(
        "ALTER TABLE listings.listings ALTER COLUMN search_chunk "
        f"SET DEFAULT ((nextval('{SEQUENCE}') - 1) / {CHUNK_ROWS})::integer"
    )
    op.execute(f"ALTER SEQUENCE {SEQUENCE} OWNED BY listings.listings.search_chunk")
    op.execute(PREFIXED)
    op.execute(TITLE_CHUNK_VECTOR)
    op.execute(TITLE_CHUNK_QUERY)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS listings.ix_listings_pub_title_chunks")  # an invalid one a failed 0007 left
    op.execute("DROP FUNCTION IF EXISTS listings.title_chunk_query(tsquery, integer, integer)")
    op.execute("DROP FUNCTION IF EXISTS listings.title_chunk_vector(tsvector, integer)")
    op.execute("DROP FUNCTION IF EXISTS listings.chunk_prefixed(text, integer)")
    op.execute("ALTER TABLE listings.listings DROP COLUMN search_chunk")  # drops the owned sequence
