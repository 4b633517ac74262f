"""Categories (staff-managed tree), listings owned by sellers, and the listing status history.

Revision ID: listings_0002
Revises: listings_0001
Create Date: 2026-11-26 05:43:12.109419
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "listings_0002"
down_revision: str | Sequence[str] | None = "listings_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("attributes_schema", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("ck_categories_slug_format")),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["listings.categories.id"],
            name=op.f("fk_categories_parent_id_categories"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_categories_slug")),
        schema="listings",
    )
    op.create_index(
        op.f("ix_listings_categories_parent_id"), "categories", ["parent_id"], unique=False, schema="listings"
    )
    op.create_table(
        "listings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=140), nullable=False),
        sa.Column("description", sa.String(length=5000), server_default="", nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("quantity", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "condition",
            sa.Enum(
                "new",
                "like_new",
                "good",
                "fair",
                "poor",
                name="listing_condition",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "published",
                "paused",
                "sold",
                "removed",
                name="listing_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            server_default="draft",
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_listings_currency_iso_4217")),
        sa.CheckConstraint("price_amount >= 0", name=op.f("ck_listings_price_amount_not_negative")),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_listings_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["listings.categories.id"],
            name=op.f("fk_listings_category_id_categories"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
        schema="listings",
    )
    op.create_index("ix_listings_created_at_id", "listings", ["created_at", "id"], unique=False, schema="listings")
    op.create_index(
        op.f("ix_listings_listings_category_id"), "listings", ["category_id"], unique=False, schema="listings"
    )
    op.create_index(op.f("ix_listings_listings_status"), "listings", ["status"], unique=False, schema="listings")
    op.create_index(
        "ix_listings_seller_created_at", "listings", ["seller_id", "created_at"], unique=False, schema="listings"
    )
    op.create_table(
        "listing_status_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transition", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.listings.id"],
            name=op.f("fk_listing_status_changes_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_status_changes")),
        schema="listings",
    )
    op.create_index(
        "ix_listing_status_changes_listing",
        "listing_status_changes",
        ["listing_id", "occurred_at"],
        unique=False,
        schema="listings",
    )


def downgrade() -> None:
    op.drop_index("ix_listing_status_changes_listing", table_name="listing_status_changes", schema="listings")
    op.drop_table("listing_status_changes", schema="listings")
    op.drop_index("ix_listings_seller_created_at", table_name="listings", schema="listings")
    op.drop_index(op.f("ix_listings_listings_status"), table_name="listings", schema="listings")
    op.drop_index(op.f("ix_listings_listings_category_id"), table_name="listings", schema="listings")
    op.drop_index("ix_listings_created_at_id", table_name="listings", schema="listings")
    op.drop_table("listings", schema="listings")
    op.drop_index(op.f("ix_listings_categories_parent_id"), table_name="categories", schema="listings")
    op.drop_table("categories", schema="listings")
