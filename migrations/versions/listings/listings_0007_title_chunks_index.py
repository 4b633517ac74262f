"""``ix_listings_pub_title_chunks``: GIN over the chunk-prefixed title lexemes (see listings_0006).

Built ``CONCURRENTLY`` (outside the migration's transaction, which commits first) so that listings
stay writable while it builds; an invalid index left by a failed build is dropped and built again.
First a ``VACUUM (ANALYZE)``: the backfill left a dead version of every listing and its new entries in
the GIN indexes' pending lists, which searches would otherwise scan until autovacuum came by (at a
million listings, the relevance search took twice as long until then).

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
