"""Search indexes for bounded relevance ranking and exact nearest-first walks.

- ``ix_listings_pub_title_vector``: GIN over the title lexemes of ``search_vector``
  (``ts_filter(search_vector, '{a}')``), from which ``sort=relevance`` takes its title candidates.
- ``ix_listings_pub_earth``: GiST over the listing's point on the unit sphere, a 3-D ``cube``
  (extension ``cube``, installed in the ``listings`` schema, contrib of both PostgreSQL builds we run).
  ``cube <->`` (straight-line distance) orders points exactly as great-circle distance does, so
  ``sort=distance`` walks this index nearest first (KNN) and stops at the page's end, whatever the
  planner thinks of the radius's bounding box (it cannot estimate ``<@ box``: a constant 0.1 %).

Revision ID: listings_0005
Revises: listings_0004
Create Date: 2026-11-26 09:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "listings_0005"
down_revision: str | Sequence[str] | None = "listings_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHED_WITH_PLACE = "status = 'published' AND deleted_at IS NULL AND latitude IS NOT NULL"
UNIT_VECTOR = (
    "listings.cube(ARRAY[cos(radians(latitude)) * cos(radians(longitude)), "
    "cos(radians(latitude)) * sin(radians(longitude)), sin(radians(latitude))])"
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS cube WITH SCHEMA listings")
    op.execute(
        "CREATE INDEX ix_listings_pub_title_vector ON listings.listings "
        "USING gin (ts_filter(search_vector, '{a}'::\"char\"[])) "
        "WHERE status = 'published' AND deleted_at IS NULL"
    )
    op.execute(
        f"CREATE INDEX ix_listings_pub_earth ON listings.listings USING gist ({UNIT_VECTOR}) "
        f"WHERE {PUBLISHED_WITH_PLACE}"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS listings.ix_listings_pub_earth")
    op.execute("DROP INDEX IF EXISTS listings.ix_listings_pub_title_vector")
    op.execute("DROP EXTENSION IF EXISTS cube")
