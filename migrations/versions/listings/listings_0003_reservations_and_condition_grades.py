"""Reservations (status ``reserved``, the holder's reference) and the six condition grades.

Revision ID: listings_0003
Revises: listings_0002
Create Date: 2026-11-26 06:07:38.603349
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "listings_0003"
down_revision: str | Sequence[str] | None = "listings_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("draft", "published", "reserved", "paused", "sold", "removed")
GRADES = ("new_with_tags", "new_without_tags", "like_new", "good", "fair", "for_parts")
OLD_STATUSES = ("draft", "published", "paused", "sold", "removed")
OLD_GRADES = ("new", "like_new", "good", "fair", "poor")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _replace_checks(statuses: Sequence[str], grades: Sequence[str]) -> None:
    op.drop_constraint("listing_status", "listings", schema="listings", type_="check")
    op.drop_constraint("listing_condition", "listings", schema="listings", type_="check")
    op.create_check_constraint("listing_status", "listings", _in("status", statuses), schema="listings")
    op.create_check_constraint("listing_condition", "listings", _in("condition", grades), schema="listings")


def upgrade() -> None:
    op.add_column(
        "listing_status_changes", sa.Column("reservation_ref", sa.String(length=100), nullable=True), schema="listings"
    )
    op.create_index(
        "ix_listing_status_changes_reservation",
        "listing_status_changes",
        ["listing_id", "reservation_ref"],
        unique=False,
        schema="listings",
        postgresql_where=sa.text("reservation_ref IS NOT NULL"),
    )
    op.add_column("listings", sa.Column("reservation_ref", sa.String(length=100), nullable=True), schema="listings")
    op.add_column("listings", sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=True), schema="listings")
    op.execute("UPDATE listings.listings SET condition = 'new_without_tags' WHERE condition = 'new'")
    op.execute("UPDATE listings.listings SET condition = 'for_parts' WHERE condition = 'poor'")
    _replace_checks(STATUSES, GRADES)


def downgrade() -> None:
    op.execute("UPDATE listings.listings SET status = 'published' WHERE status = 'reserved'")
    op.execute(
        "UPDATE listings.listings SET condition = 'new' WHERE condition IN ('new_with_tags', 'new_without_tags')"
    )
    op.execute("UPDATE listings.listings SET condition = 'poor' WHERE condition = 'for_parts'")
    _replace_checks(OLD_STATUSES, OLD_GRADES)
    op.drop_column("listings", "reserved_at", schema="listings")
    op.drop_column("listings", "reservation_ref", schema="listings")
    op.drop_index(
        "ix_listing_status_changes_reservation",
        table_name="listing_status_changes",
        schema="listings",
        postgresql_where=sa.text("reservation_ref IS NOT NULL"),
    )
    op.drop_column("listing_status_changes", "reservation_ref", schema="listings")
