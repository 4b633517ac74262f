"""outbox events

Revision ID: platform_0003
Revises: platform_0002
Create Date: 2026-11-26 05:43:53.329571
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "platform_0003"
down_revision: str | Sequence[str] | None = "platform_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("version", sa.SmallInteger(), nullable=False),
        sa.Column("aggregate_id", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispatch_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
        sa.UniqueConstraint("position", name=op.f("uq_outbox_events_position")),
        schema="platform",
    )
    op.create_index(
        "ix_outbox_events_aggregate", "outbox_events", ["aggregate_id", "position"], unique=False, schema="platform"
    )
    op.create_index(
        "ix_outbox_events_type_time", "outbox_events", ["type", "occurred_at"], unique=False, schema="platform"
    )
    op.create_index(
        "ix_outbox_events_undispatched",
        "outbox_events",
        ["position"],
        unique=False,
        schema="platform",
        postgresql_where=sa.text("dispatched_at IS NULL"),
    )
    op.create_index(
        "ix_outbox_events_unsettled",
        "outbox_events",
        ["dispatched_at"],
        unique=False,
        schema="platform",
        postgresql_where=sa.text("dispatched_at IS NOT NULL AND settled_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_outbox_events_unsettled",
        table_name="outbox_events",
        schema="platform",
        postgresql_where=sa.text("dispatched_at IS NOT NULL AND settled_at IS NULL"),
    )
    op.drop_index(
        "ix_outbox_events_undispatched",
        table_name="outbox_events",
        schema="platform",
        postgresql_where=sa.text("dispatched_at IS NULL"),
    )
    op.drop_index("ix_outbox_events_type_time", table_name="outbox_events", schema="platform")
    op.drop_index("ix_outbox_events_aggregate", table_name="outbox_events", schema="platform")
    op.drop_table("outbox_events", schema="platform")
