"""Notifications, per-channel deliveries (dedup key), the delivery log, preferences, settings, push devices.

Revision ID: notifications_0002
Revises: notifications_0001
Create Date: 2026-11-26 06:10:22.820246
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "notifications_0002"
down_revision: str | Sequence[str] | None = "notifications_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("event_id", "user_id", name="uq_notifications_event_user"),
        schema="notifications",
    )
    op.create_index(
        "ix_notifications_unread",
        "notifications",
        ["user_id"],
        unique=False,
        schema="notifications",
        postgresql_where=sa.text("in_app AND read_at IS NULL"),
    )
    op.create_index(
        "ix_notifications_user_created",
        "notifications",
        ["user_id", "created_at"],
        unique=False,
        schema="notifications",
        postgresql_where=sa.text("in_app"),
    )
    op.create_table(
        "preferences",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preferences")),
        sa.UniqueConstraint("user_id", "kind", "channel", name="uq_preferences_user_kind_channel"),
        schema="notifications",
    )
    op.create_table(
        "push_devices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token", sa.String(length=512), nullable=False),
        sa.Column("platform", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_devices")),
        sa.UniqueConstraint("token", name="uq_push_devices_token"),
        schema="notifications",
    )
    op.create_index("ix_push_devices_user", "push_devices", ["user_id"], unique=False, schema="notifications")
    op.create_table(
        "settings",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("locale", sa.String(length=20), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("quiet_start", sa.Time(), nullable=True),
        sa.Column("quiet_end", sa.Time(), nullable=True),
        sa.Column("sms_number", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_settings")),
        schema="notifications",
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.Uuid(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digest_key", sa.String(length=120), nullable=True),
        sa.Column("digest_of", sa.Uuid(), nullable=True),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("provider", sa.String(length=20), nullable=True),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("resends", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["digest_of"],
            ["notifications.deliveries.id"],
            name=op.f("fk_deliveries_digest_of_deliveries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.notifications.id"],
            name=op.f("fk_deliveries_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("event_id", "user_id", "channel", name="uq_deliveries_dedup"),
        schema="notifications",
    )
    op.create_index(
        "ix_deliveries_batch_open",
        "deliveries",
        ["batch_id"],
        unique=False,
        schema="notifications",
        postgresql_where=sa.text("status IN ('pending','retrying','claimed','sending')"),
    )
    op.create_index(
        "ix_deliveries_digest_open",
        "deliveries",
        ["user_id", "digest_key"],
        unique=False,
        schema="notifications",
        postgresql_where=sa.text("status = 'pending' AND digest_key IS NOT NULL"),
    )
    op.create_index(
        "ix_deliveries_notification", "deliveries", ["notification_id"], unique=False, schema="notifications"
    )
    op.create_index(
        "ix_deliveries_status_updated", "deliveries", ["status", "updated_at"], unique=False, schema="notifications"
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=True),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["notifications.deliveries.id"],
            name=op.f("fk_delivery_attempts_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
        schema="notifications",
    )
    op.create_index(
        "ix_delivery_attempts_created", "delivery_attempts", ["created_at"], unique=False, schema="notifications"
    )
    op.create_index(
        "ix_delivery_attempts_delivery", "delivery_attempts", ["delivery_id"], unique=False, schema="notifications"
    )
    op.create_index(
        "ix_delivery_attempts_provider_id",
        "delivery_attempts",
        ["provider_message_id"],
        unique=False,
        schema="notifications",
    )
    op.create_index(
        "ix_delivery_attempts_user",
        "delivery_attempts",
        ["user_id", "created_at"],
        unique=False,
        schema="notifications",
    )


def downgrade() -> None:
    op.drop_index("ix_delivery_attempts_user", table_name="delivery_attempts", schema="notifications")
    op.drop_index("ix_delivery_attempts_provider_id", table_name="delivery_attempts", schema="notifications")
    op.drop_index("ix_delivery_attempts_delivery", table_name="delivery_attempts", schema="notifications")
    op.drop_index("ix_delivery_attempts_created", table_name="delivery_attempts", schema="notifications")
    op.drop_table("delivery_attempts", schema="notifications")
    op.drop_index("ix_deliveries_status_updated", table_name="deliveries", schema="notifications")
    op.drop_index("ix_deliveries_notification", table_name="deliveries", schema="notifications")
    op.drop_index(
        "ix_deliveries_digest_open",
        table_name="deliveries",
        schema="notifications",
        postgresql_where=sa.text("status = 'pending' AND digest_key IS NOT NULL"),
    )
    op.drop_index(
        "ix_deliveries_batch_open",
        table_name="deliveries",
        schema="notifications",
        postgresql_where=sa.text("status IN ('pending','retrying','claimed','sending')"),
    )
    op.drop_table("deliveries", schema="notifications")
    op.drop_table("settings", schema="notifications")
    op.drop_index("ix_push_devices_user", table_name="push_devices", schema="notifications")
    op.drop_table("push_devices", schema="notifications")
    op.drop_table("preferences", schema="notifications")
    op.drop_index(
        "ix_notifications_user_created",
        table_name="notifications",
        schema="notifications",
        postgresql_where=sa.text("in_app"),
    )
    op.drop_index(
        "ix_notifications_unread",
        table_name="notifications",
        schema="notifications",
        postgresql_where=sa.text("in_app AND read_at IS NULL"),
    )
    op.drop_table("notifications", schema="notifications")
