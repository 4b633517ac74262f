"""Create schema verification (the verification branch's root).

Revision ID: verification_0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "verification_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("verification",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS verification")


def downgrade() -> None:
    op.execute("DROP SCHEMA IF EXISTS verification CASCADE")
