"""Create schema shipping (the shipping branch's root).

Revision ID: shipping_0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "shipping_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("shipping",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS shipping")


def downgrade() -> None:
    op.execute("DROP SCHEMA IF EXISTS shipping CASCADE")
