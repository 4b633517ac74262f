"""event deliveries and timers

Revision ID: platform_0004
Revises: platform_0003
Create Date: 2026-11-26 05:49:38.527648
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "platform_0004"
down_revision: str | Sequence[str] | None = "platform_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subscriber", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("event_position", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_deliveries")),
        sa.UniqueConstraint("subscriber", "event_id", name=op.f("uq_event_deliveries_subscriber_event_id")),
        schema="platform",
    )
    op.create_index("ix_event_deliveries_created", "event_deliveries", ["created_at"], unique=False, schema="platform")
    op.create_index(
        "ix_event_deliveries_open",
        "event_deliveries",
        ["status", "updated_at"],
        unique=False,
        schema="platform",
        postgresql_where=sa.text("status <> 'done'"),
    )
    op.create_table(
        "timers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timers")),
        sa.UniqueConstraint("name", "key", name=op.f("uq_timers_name_key")),
        schema="platform",
    )
    op.create_index(
        "ix_timers_due",
        "timers",
        ["due_at"],
        unique=False,
        schema="platform",
        postgresql_where=sa.text("state = 'scheduled'"),
    )
    op.create_index(
        "ix_timers_enqueued",
        "timers",
        ["enqueued_at"],
        unique=False,
        schema="platform",
        postgresql_where=sa.text("state = 'enqueued'"),
    )
    op.create_index("ix_timers_state_name", "timers", ["state", "name"], unique=False, schema="platform")


def downgrade() -> None:
    op.drop_index("ix_timers_state_name", table_name="timers", schema="platform")
    op.drop_index(
        "ix_timers_enqueued", table_name="timers", schema="platform", postgresql_where=sa.text("state = 'enqueued'")
    )
    op.drop_index(
        "ix_timers_due", table_name="timers", schema="platform", postgresql_where=sa.text("state = 'scheduled'")
    )
    op.drop_table("timers", schema="platform")
    op.drop_index(
        "ix_event_deliveries_open",
        table_name="event_deliveries",
        schema="platform",
        postgresql_where=sa.text("status <> 'done'"),
    )
    op.drop_index("ix_event_deliveries_created", table_name="event_deliveries", schema="platform")
    op.drop_table("event_deliveries", schema="platform")
