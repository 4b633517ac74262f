"""Number the listings that predate listings_0006 by age, then build ``ix_listings_pub_title_chunks``.

Everything here runs outside the migration's transaction (which commits first), each statement in
its own, so that listings stay readable and writable throughout:

- the backfill gives the listings still without a chunk the numbers 1..n that listings_0006 kept
  for them, oldest first by ``(created_at, id)`` (one UPDATE: row locks only);
- ``SET NOT NULL`` then holds the table's lock only for a scan;
- ``VACUUM (ANALYZE)``: the backfill left a dead version of every listing and its new entries in the
  GIN indexes' pending lists, which searches would otherwise scan until autovacuum came by (at a
  million listings, the relevance search took twice as long until then);
- the index is built ``CONCURRENTLY``; an invalid one left by a failed build is dropped first, so
  running the migration again resumes it.

Revision ID: listings_0007
Revises: listings_0006
Create Date: 2026-11-26 23:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "listings_0007"
down_revision: str | Sequence[str] | None = "listings_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(
            "UPDATE listings.listings AS l SET search_chunk = (n.rn - 1) / 8192 "
            "FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS rn "
            "FROM listings.listings WHERE search_chunk IS NULL) AS n "
            "WHERE l.id = n.id"
        )
        op.execute("ALTER TABLE listings.listings ALTER COLUMN search_chunk SET NOT NULL")
        op.execute("VACUUM (ANALYZE) listings.listings")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS listings.ix_listings_pub_title_chunks")
        op.execute(
            "CREATE INDEX CONCURRENTLY ix_listings_pub_title_chunks ON listings.listings "
            "USING gin (listings.title_chunk_vector(search_vector, search_chunk)) "
            "WHERE status = 'published' AND deleted_at IS NULL"
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS listings.ix_listings_pub_title_chunks")
        op.execute("ALTER TABLE listings.listings ALTER COLUMN search_chunk DROP NOT NULL")
