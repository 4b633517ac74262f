"""outbox aggregate index only for events in flight (written by hand: autogenerate ignores predicates)

Revision ID: platform_0007
Revises: platform_0006
Create Date: 2026-11-26 07:02:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "platform_0007"
down_revision: str | Sequence[str] | None = "platform_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_outbox_events_aggregate", table_name="outbox_events", schema="platform")
    op.create_index(
        "ix_outbox_events_aggregate",
        "outbox_events",
        ["aggregate_id", "position"],
        unique=False,
        schema="platform",
        postgresql_where=sa.text("settled_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_events_aggregate", table_name="outbox_events", schema="platform")
    op.create_index(
        "ix_outbox_events_aggregate", "outbox_events", ["aggregate_id", "position"], unique=False, schema="platform"
    )
