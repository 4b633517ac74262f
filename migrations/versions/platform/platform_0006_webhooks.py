"""webhooks (endpoints, deliveries, attempts) and the outbox time index of the admin chart

Revision ID: platform_0006
Revises: platform_0005
Create Date: 2026-11-26 06:01:43.950751
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "platform_0006"
down_revision: str | Sequence[str] | None = "platform_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.String(length=100)), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
        schema="platform",
    )
    op.create_index(
        "ix_webhook_endpoints_owner", "webhook_endpoints", ["owner_id", "created_at"], unique=False, schema="platform"
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["platform.webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("endpoint_id", "event_id", name=op.f("uq_webhook_deliveries_endpoint_id_event_id")),
        schema="platform",
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint",
        "webhook_deliveries",
        ["endpoint_id", "created_at"],
        unique=False,
        schema="platform",
    )
    op.create_index(
        "ix_webhook_deliveries_status", "webhook_deliveries", ["status", "created_at"], unique=False, schema="platform"
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        sa.Column("replay", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["platform.webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
        schema="platform",
    )
    op.create_index(
        "ix_webhook_attempts_delivery",
        "webhook_attempts",
        ["delivery_id", "attempted_at"],
        unique=False,
        schema="platform",
    )
    op.create_index(
        "ix_webhook_attempts_failed",
        "webhook_attempts",
        ["attempted_at"],
        unique=False,
        schema="platform",
        postgresql_where=sa.text("outcome <> 'delivered'"),
    )
    op.drop_index(op.f("ix_outbox_events_type_time"), table_name="outbox_events", schema="platform")
    op.create_index(
        "ix_outbox_events_occurred", "outbox_events", ["occurred_at", "type"], unique=False, schema="platform"
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_events_occurred", table_name="outbox_events", schema="platform")
    op.create_index(
        op.f("ix_outbox_events_type_time"), "outbox_events", ["type", "occurred_at"], unique=False, schema="platform"
    )
    op.drop_index(
        "ix_webhook_attempts_failed",
        table_name="webhook_attempts",
        schema="platform",
        postgresql_where=sa.text("outcome <> 'delivered'"),
    )
    op.drop_index("ix_webhook_attempts_delivery", table_name="webhook_attempts", schema="platform")
    op.drop_table("webhook_attempts", schema="platform")
    op.drop_index("ix_webhook_deliveries_status", table_name="webhook_deliveries", schema="platform")
    op.drop_index("ix_webhook_deliveries_endpoint", table_name="webhook_deliveries", schema="platform")
    op.drop_table("webhook_deliveries", schema="platform")
    op.drop_index("ix_webhook_endpoints_owner", table_name="webhook_endpoints", schema="platform")
    op.drop_table("webhook_endpoints", schema="platform")
