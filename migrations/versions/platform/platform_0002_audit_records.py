"""audit records

Revision ID: platform_0002
Revises: platform_0001
Create Date: 2026-11-26 05:33:40.501380
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "platform_0002"
down_revision: str | Sequence[str] | None = "platform_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target_type", sa.String(length=100), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("inputs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_records")),
        schema="platform",
    )
    op.create_index(
        "ix_audit_records_actor",
        "audit_records",
        ["actor_type", "actor_id", "occurred_at"],
        unique=False,
        schema="platform",
    )
    op.create_index(
        "ix_audit_records_target",
        "audit_records",
        ["target_type", "target_id", "occurred_at"],
        unique=False,
        schema="platform",
    )
    op.create_index(
        op.f("ix_platform_audit_records_action"), "audit_records", ["action"], unique=False, schema="platform"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_platform_audit_records_action"), table_name="audit_records", schema="platform")
    op.drop_index("ix_audit_records_target", table_name="audit_records", schema="platform")
    op.drop_index("ix_audit_records_actor", table_name="audit_records", schema="platform")
    op.drop_table("audit_records", schema="platform")
