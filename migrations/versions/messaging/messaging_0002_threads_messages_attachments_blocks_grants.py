"""Threads, messages, attachments, blocks and staff access grants (schema messaging).

Revision ID: messaging_0002
Revises: messaging_0001
Create Date: 2026-11-26 06:18:16.359593
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "messaging_0002"
down_revision: str | Sequence[str] | None = "messaging_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blocks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("blocker_id", sa.Uuid(), nullable=False),
        sa.Column("blocked_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("blocker_id <> blocked_id", name=op.f("ck_blocks_not_self")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocks")),
        sa.UniqueConstraint("blocker_id", "blocked_id", name=op.f("uq_blocks_blocker_id_blocked_id")),
        schema="messaging",
    )
    op.create_index("ix_blocks_blocked", "blocks", ["blocked_id"], unique=False, schema="messaging")
    op.create_table(
        "threads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("buyer_read_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("seller_read_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("buyer_archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seller_archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("buyer_id <> seller_id", name=op.f("ck_threads_buyer_is_not_seller")),
        sa.CheckConstraint(
            "buyer_read_seq <= last_seq AND seller_read_seq <= last_seq", name=op.f("ck_threads_read_within_thread")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threads")),
        sa.UniqueConstraint("listing_id", "buyer_id", name=op.f("uq_threads_listing_id_buyer_id")),
        schema="messaging",
    )
    op.create_index(
        "ix_threads_buyer_activity", "threads", ["buyer_id", "last_activity_at", "id"], unique=False, schema="messaging"
    )
    op.create_index(
        "ix_threads_seller_activity",
        "threads",
        ["seller_id", "last_activity_at", "id"],
        unique=False,
        schema="messaging",
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("text", "system", name="message_kind", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("sender_id", sa.Uuid(), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("system_code", sa.String(length=64), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("flags", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(kind = 'system') = (sender_id IS NULL)", name=op.f("ck_messages_system_has_no_sender")),
        sa.CheckConstraint("char_length(body) <= 4000", name=op.f("ck_messages_body_length")),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["messaging.threads.id"], name=op.f("fk_messages_thread_id_threads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint(
            "thread_id",
            "sender_id",
            "client_id",
            name=op.f("uq_messages_thread_id_sender_id_client_id"),
            postgresql_nulls_not_distinct=True,
        ),
        sa.UniqueConstraint("thread_id", "seq", name=op.f("uq_messages_thread_id_seq")),
        schema="messaging",
    )
    op.create_table(
        "staff_access_grants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column(
            "case_type",
            sa.Enum("dispute", "fraud_review", name="case_type", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["messaging.threads.id"],
            name=op.f("fk_staff_access_grants_thread_id_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_access_grants")),
        sa.UniqueConstraint(
            "thread_id", "case_type", "case_id", name=op.f("uq_staff_access_grants_thread_id_case_type_case_id")
        ),
        schema="messaging",
    )
    op.create_index(
        "ix_staff_access_grants_case", "staff_access_grants", ["case_type", "case_id"], unique=False, schema="messaging"
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column("uploader_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("checksum ~ '^[0-9a-f]{64}$'", name=op.f("ck_attachments_checksum_sha256_hex")),
        sa.CheckConstraint("size > 0", name=op.f("ck_attachments_size_positive")),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messaging.messages.id"],
            name=op.f("fk_attachments_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["messaging.threads.id"], name=op.f("fk_attachments_thread_id_threads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_attachments_storage_key")),
        schema="messaging",
    )
    op.create_index("ix_attachments_message", "attachments", ["message_id"], unique=False, schema="messaging")
    op.create_index(
        "ix_attachments_thread_uploader", "attachments", ["thread_id", "uploader_id"], unique=False, schema="messaging"
    )


def downgrade() -> None:
    op.drop_index("ix_attachments_thread_uploader", table_name="attachments", schema="messaging")
    op.drop_index("ix_attachments_message", table_name="attachments", schema="messaging")
    op.drop_table("attachments", schema="messaging")
    op.drop_index("ix_staff_access_grants_case", table_name="staff_access_grants", schema="messaging")
    op.drop_table("staff_access_grants", schema="messaging")
    op.drop_table("messages", schema="messaging")
    op.drop_index("ix_threads_seller_activity", table_name="threads", schema="messaging")
    op.drop_index("ix_threads_buyer_activity", table_name="threads", schema="messaging")
    op.drop_table("threads", schema="messaging")
    op.drop_index("ix_blocks_blocked", table_name="blocks", schema="messaging")
    op.drop_table("blocks", schema="messaging")
