"""Create schema pricing (the pricing branch's root).

Revision ID: pricing_0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "pricing_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("pricing",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS pricing")


def downgrade() -> None:
    op.execute("DROP SCHEMA IF EXISTS pricing CASCADE")
