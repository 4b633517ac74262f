"""Catalog fields, condition rubrics, listing history, saved searches, bulk imports and search indexes.

``search_vector`` is maintained by a trigger because the text search configuration is per row (the
listing's ``language``), which a generated column cannot use (regconfig casts are not immutable).

Revision ID: listings_0004
Revises: listings_0003
Create Date: 2026-11-26 06:21:47.962164
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "listings_0004"
down_revision: str | Sequence[str] | None = "listings_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


LANGUAGES = ("english", "french", "german", "spanish", "italian", "dutch", "portuguese", "simple")
CHECKS = {
    "latitude_range": "latitude BETWEEN -90 AND 90",
    "longitude_range": "longitude BETWEEN -180 AND 180",
    "coordinates_together": "(latitude IS NULL) = (longitude IS NULL)",
    "photos_array": "jsonb_typeof(photos) = 'array' AND jsonb_array_length(photos) <= 12",
    "language_known": f"language IN ({', '.join(repr(lang) for lang in LANGUAGES)})",
}
# Weighted, language-aware document: title (A), brand attribute (B), description (C).
SEARCH_VECTOR_FUNCTION = """
CREATE OR REPLACE FUNCTION listings.listing_search_vector() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    cfg regconfig := NEW.language::regconfig;
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector(cfg, coalesce(NEW.title, '')), 'A')
        || setweight(to_tsvector(cfg, coalesce(NEW.attributes ->> 'brand', '')), 'B')
        || setweight(to_tsvector(cfg, coalesce(NEW.description, '')), 'C');
    RETURN NEW;
END
$$
"""
SEARCH_VECTOR_TRIGGER = """
CREATE TRIGGER listings_search_vector
BEFORE INSERT OR UPDATE OF title, description, attributes, language ON listings.listings
FOR EACH ROW EXECUTE FUNCTION listings.listing_search_vector()
"""


def upgrade() -> None:
    op.create_table(
        "condition_rubrics",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "grade",
            sa.Enum(
                "new_with_tags",
                "new_without_tags",
                "like_new",
                "good",
                "fair",
                "for_parts",
                name="rubric_grade",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("min_photos", sa.SmallInteger(), server_default="1", nullable=False),
        sa.Column("base_score", sa.SmallInteger(), nullable=False),
        sa.Column("disclosures", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("jsonb_typeof(disclosures) = 'array'", name=op.f("ck_condition_rubrics_disclosures_array")),
        sa.CheckConstraint("base_score BETWEEN 0 AND 100", name=op.f("ck_condition_rubrics_base_score_range")),
        sa.CheckConstraint("min_photos BETWEEN 1 AND 12", name=op.f("ck_condition_rubrics_min_photos_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_condition_rubrics")),
        sa.UniqueConstraint("grade", name=op.f("uq_condition_rubrics_grade")),
        schema="listings",
    )
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=80), nullable=False),
        sa.Column("filename", sa.String(length=255), server_default="", nullable=False),
        sa.Column(
            "file_format",
            sa.Enum("csv", "jsonl", name="import_format", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column(
            "mode",
            sa.Enum(
                "dry_run",
                "create_valid",
                "all_or_nothing",
                name="import_mode",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "succeeded",
                "failed",
                name="import_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        sa.Column("processed_rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("skipped_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "processed_rows >= 0 AND created_count >= 0 AND failed_count >= 0", name=op.f("ck_import_jobs_counters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
        schema="listings",
    )
    op.create_index(
        "ix_import_jobs_seller_created", "import_jobs", ["seller_id", "created_at"], unique=False, schema="listings"
    )
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("q", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=20), server_default="english", nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("price_min", sa.BigInteger(), nullable=True),
        sa.Column("price_max", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("conditions", sa.ARRAY(sa.String(length=20)), nullable=True),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("radius_km", sa.Float(), nullable=True),
        sa.Column("last_matched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "language IN ('english', 'french', 'german', 'spanish', 'italian', 'dutch', 'portuguese', 'simple')",
            name=op.f("ck_saved_searches_language_known"),
        ),
        sa.CheckConstraint(
            "(latitude IS NULL AND longitude IS NULL AND radius_km IS NULL) OR (latitude IS NOT NULL AND longitude IS NOT NULL AND radius_km > 0)",
            name=op.f("ck_saved_searches_place_complete"),
        ),
        sa.CheckConstraint(
            "price_max IS NULL OR price_min IS NULL OR price_max >= price_min",
            name=op.f("ck_saved_searches_price_range"),
        ),
        sa.CheckConstraint(
            "price_min IS NULL OR price_min >= 0", name=op.f("ck_saved_searches_price_min_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
        schema="listings",
    )
    op.create_index(
        "ix_saved_searches_user", "saved_searches", ["user_id", "created_at"], unique=False, schema="listings"
    )
    op.create_table(
        "import_files",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["listings.import_jobs.id"], name=op.f("fk_import_files_job_id_import_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_import_files")),
        schema="listings",
    )
    op.create_table(
        "import_issues",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["listings.import_jobs.id"],
            name=op.f("fk_import_issues_job_id_import_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_issues")),
        schema="listings",
    )
    op.create_index(
        "ix_import_issues_job_row", "import_issues", ["job_id", "row_number"], unique=False, schema="listings"
    )
    op.create_table(
        "listing_price_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_amount", sa.BigInteger(), nullable=False),
        sa.Column("new_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.listings.id"],
            name=op.f("fk_listing_price_changes_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_price_changes")),
        schema="listings",
    )
    op.create_index(
        "ix_listing_price_changes_listing",
        "listing_price_changes",
        ["listing_id", "occurred_at"],
        unique=False,
        schema="listings",
    )
    op.create_table(
        "listing_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.listings.id"],
            name=op.f("fk_listing_versions_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_versions")),
        sa.UniqueConstraint("listing_id", "version", name=op.f("uq_listing_versions_listing_id_version")),
        schema="listings",
    )
    op.add_column(
        "listings",
        sa.Column("condition_answers", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        schema="listings",
    )
    op.add_column("listings", sa.Column("condition_score", sa.SmallInteger(), nullable=True), schema="listings")
    op.add_column(
        "listings",
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        schema="listings",
    )
    op.add_column(
        "listings",
        sa.Column("photos", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        schema="listings",
    )
    op.add_column(
        "listings",
        sa.Column("shipping_options", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        schema="listings",
    )
    op.add_column("listings", sa.Column("location_label", sa.String(length=120), nullable=True), schema="listings")
    op.add_column("listings", sa.Column("country", sa.String(length=2), nullable=True), schema="listings")
    op.add_column("listings", sa.Column("latitude", sa.Float(), nullable=True), schema="listings")
    op.add_column("listings", sa.Column("longitude", sa.Float(), nullable=True), schema="listings")
    op.add_column(
        "listings",
        sa.Column("language", sa.String(length=20), server_default="english", nullable=False),
        schema="listings",
    )
    op.add_column("listings", sa.Column("sku", sa.String(length=100), nullable=True), schema="listings")
    op.add_column("listings", sa.Column("version", sa.Integer(), server_default="1", nullable=False), schema="listings")
    op.add_column("listings", sa.Column("search_vector", postgresql.TSVECTOR(), nullable=True), schema="listings")
    for name, condition in CHECKS.items():
        op.create_check_constraint(name, "listings", condition, schema="listings")
    op.execute(SEARCH_VECTOR_FUNCTION)
    op.execute(SEARCH_VECTOR_TRIGGER)
    op.execute("UPDATE listings.listings SET language = language")  # fills search_vector of existing rows
    op.create_index(
        "ix_listings_pub_attributes",
        "listings",
        ["attributes"],
        unique=False,
        schema="listings",
        postgresql_using="gin",
        postgresql_ops={"attributes": "jsonb_path_ops"},
        postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
    )
    op.create_index(
        "ix_listings_pub_category_created",
        "listings",
        ["category_id", "created_at", "id"],
        unique=False,
        schema="listings",
        postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
    )
    op.create_index(
        "ix_listings_pub_created",
        "listings",
        ["created_at", "id"],
        unique=False,
        schema="listings",
        postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
    )
    op.create_index(
        "ix_listings_pub_geo",
        "listings",
        [sa.literal_column("point(longitude, latitude)")],
        unique=False,
        schema="listings",
        postgresql_using="gist",
        postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL AND latitude IS NOT NULL"),
    )
    op.create_index(
        "ix_listings_pub_price",
        "listings",
        ["price_amount", "id"],
        unique=False,
        schema="listings",
        postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
    )
    op.create_index(
        "ix_listings_search_vector",
        "listings",
        ["search_vector"],
        unique=False,
        schema="listings",
        postgresql_using="gin",
        postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
    )
    op.create_unique_constraint(op.f("uq_listings_seller_id_sku"), "listings", ["seller_id", "sku"], schema="listings")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS listings_search_vector ON listings.listings")
    op.execute("DROP FUNCTION IF EXISTS listings.listing_search_vector()")
    for name in CHECKS:
        op.drop_constraint(name, "listings", schema="listings", type_="check")
    op.drop_constraint(op.f("uq_listings_seller_id_sku"), "listings", schema="listings", type_="unique")
    op.drop_index(
        "ix_listings_search_vector",
        table_name="listings",
        schema="listings",
        postgresql_using="gin",
        postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
    )
    op.drop_index(
        "ix_listings_pub_price",
        table_name="listings",
        schema="listings",
        postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
    )
    op.drop_index(
        "ix_listings_pub_geo",
        table_name="listings",
        schema="listings",
        postgresql_using="gist",
        postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL AND latitude IS NOT NULL"),
    )
    op.drop_index(
        "ix_listings_pub_created",
        table_name="listings",
        schema="listings",
        postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
    )
    op.drop_index(
        "ix_listings_pub_category_created",
        table_name="listings",
        schema="listings",
        postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
    )
    op.drop_index(
        "ix_listings_pub_attributes",
        table_name="listings",
        schema="listings",
        postgresql_using="gin",
        postgresql_ops={"attributes": "jsonb_path_ops"},
        postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
    )
    op.drop_column("listings", "search_vector", schema="listings")
    op.drop_column("listings", "version", schema="listings")
    op.drop_column("listings", "sku", schema="listings")
    op.drop_column("listings", "language", schema="listings")
    op.drop_column("listings", "longitude", schema="listings")
    op.drop_column("listings", "latitude", schema="listings")
    op.drop_column("listings", "country", schema="listings")
    op.drop_column("listings", "location_label", schema="listings")
    op.drop_column("listings", "shipping_options", schema="listings")
    op.drop_column("listings", "photos", schema="listings")
    op.drop_column("listings", "attributes", schema="listings")
    op.drop_column("listings", "condition_score", schema="listings")
    op.drop_column("listings", "condition_answers", schema="listings")
    op.drop_table("listing_versions", schema="listings")
    op.drop_index("ix_listing_price_changes_listing", table_name="listing_price_changes", schema="listings")
    op.drop_table("listing_price_changes", schema="listings")
    op.drop_index("ix_import_issues_job_row", table_name="import_issues", schema="listings")
    op.drop_table("import_issues", schema="listings")
    op.drop_table("import_files", schema="listings")
    op.drop_index("ix_saved_searches_user", table_name="saved_searches", schema="listings")
    op.drop_table("saved_searches", schema="listings")
    op.drop_index("ix_import_jobs_seller_created", table_name="import_jobs", schema="listings")
    op.drop_table("import_jobs", schema="listings")
    op.drop_table("condition_rubrics", schema="listings")
