"""Flask-AppBuilder staff tables

Revision ID: admin_0002
Revises: admin_0001
Create Date: 2026-11-26 05:32:45.747711
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "admin_0002"
down_revision: str | Sequence[str] | None = "admin_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ab_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=150), nullable=True),
        sa.Column("description", sa.String(length=512), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ab_group")),
        sa.UniqueConstraint("name", name=op.f("uq_ab_group_name")),
    )
    op.create_table(
        "ab_permission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ab_permission")),
        sa.UniqueConstraint("name", name=op.f("uq_ab_permission_name")),
    )
    op.create_table(
        "ab_register_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=64), nullable=False),
        sa.Column("last_name", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("password", sa.String(length=256), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("registration_date", sa.DateTime(), nullable=True),
        sa.Column("registration_hash", sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ab_register_user")),
        sa.UniqueConstraint("email", name=op.f("uq_ab_register_user_email")),
        sa.UniqueConstraint("username", name=op.f("uq_ab_register_user_username")),
    )
    op.create_table(
        "ab_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ab_role")),
        sa.UniqueConstraint("name", name=op.f("uq_ab_role_name")),
    )
    op.create_table(
        "ab_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=64), nullable=False),
        sa.Column("last_name", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("password", sa.String(length=256), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("last_login", sa.DateTime(), nullable=True),
        sa.Column("login_count", sa.Integer(), nullable=True),
        sa.Column("fail_login_count", sa.Integer(), nullable=True),
        sa.Column("created_on", sa.DateTime(), nullable=True),
        sa.Column("changed_on", sa.DateTime(), nullable=True),
        sa.Column("created_by_fk", sa.Integer(), nullable=True),
        sa.Column("changed_by_fk", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["changed_by_fk"], ["ab_user.id"], name=op.f("fk_ab_user_changed_by_fk_ab_user")),
        sa.ForeignKeyConstraint(["created_by_fk"], ["ab_user.id"], name=op.f("fk_ab_user_created_by_fk_ab_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ab_user")),
        sa.UniqueConstraint("email", name=op.f("uq_ab_user_email")),
        sa.UniqueConstraint("username", name=op.f("uq_ab_user_username")),
    )
    op.create_table(
        "ab_view_menu",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ab_view_menu")),
        sa.UniqueConstraint("name", name=op.f("uq_ab_view_menu_name")),
    )
    op.create_table(
        "ab_api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("key_hash", sa.String(length=256), nullable=False),
        sa.Column("lookup_hash", sa.String(length=256), nullable=True),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_on", sa.DateTime(), nullable=True),
        sa.Column("expires_on", sa.DateTime(), nullable=True),
        sa.Column("revoked_on", sa.DateTime(), nullable=True),
        sa.Column("last_used_on", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["ab_user.id"], name=op.f("fk_ab_api_key_user_id_ab_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ab_api_key")),
        sa.UniqueConstraint("lookup_hash", name=op.f("uq_ab_api_key_lookup_hash")),
        sa.UniqueConstraint("uuid", name=op.f("uq_ab_api_key_uuid")),
    )
    op.create_index("idx_api_key_lookup_hash", "ab_api_key", ["lookup_hash"], unique=True)
    op.create_index("idx_api_key_prefix", "ab_api_key", ["key_prefix"], unique=False)
    op.create_index("idx_api_key_user_id", "ab_api_key", ["user_id"], unique=False)
    op.create_table(
        "ab_group_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("role_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["ab_group.id"], name=op.f("fk_ab_group_role_group_id_ab_group"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["ab_role.id"], name=op.f("fk_ab_group_role_role_id_ab_role"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ab_group_role")),
        sa.UniqueConstraint("group_id", "role_id", name=op.f("uq_ab_group_role_group_id_role_id")),
    )
    op.create_index("idx_group_id", "ab_group_role", ["group_id"], unique=False)
    op.create_index("idx_group_role_id", "ab_group_role", ["role_id"], unique=False)
    op.create_table(
        "ab_permission_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("permission_id", sa.Integer(), nullable=False),
        sa.Column("view_menu_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["permission_id"], ["ab_permission.id"], name=op.f("fk_ab_permission_view_permission_id_ab_permission")
        ),
        sa.ForeignKeyConstraint(
            ["view_menu_id"], ["ab_view_menu.id"], name=op.f("fk_ab_permission_view_view_menu_id_ab_view_menu")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ab_permission_view")),
        sa.UniqueConstraint(
            "permission_id", "view_menu_id", name=op.f("uq_ab_permission_view_permission_id_view_menu_id")
        ),
    )
    op.create_index("idx_permission_id", "ab_permission_view", ["permission_id"], unique=False)
    op.create_index("idx_view_menu_id", "ab_permission_view", ["view_menu_id"], unique=False)
    op.create_table(
        "ab_user_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["ab_group.id"], name=op.f("fk_ab_user_group_group_id_ab_group"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["ab_user.id"], name=op.f("fk_ab_user_group_user_id_ab_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ab_user_group")),
        sa.UniqueConstraint("user_id", "group_id", name=op.f("uq_ab_user_group_user_id_group_id")),
    )
    op.create_index("idx_user_group_id", "ab_user_group", ["group_id"], unique=False)
    op.create_index("idx_user_id", "ab_user_group", ["user_id"], unique=False)
    op.create_table(
        "ab_user_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("role_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["role_id"], ["ab_role.id"], name=op.f("fk_ab_user_role_role_id_ab_role"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["ab_user.id"], name=op.f("fk_ab_user_role_user_id_ab_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ab_user_role")),
        sa.UniqueConstraint("user_id", "role_id", name=op.f("uq_ab_user_role_user_id_role_id")),
    )
    op.create_table(
        "ab_permission_view_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("permission_view_id", sa.Integer(), nullable=True),
        sa.Column("role_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["permission_view_id"],
            ["ab_permission_view.id"],
            name=op.f("fk_ab_permission_view_role_permission_view_id_ab_permission_view"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["ab_role.id"], name=op.f("fk_ab_permission_view_role_role_id_ab_role"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ab_permission_view_role")),
        sa.UniqueConstraint(
            "permission_view_id", "role_id", name=op.f("uq_ab_permission_view_role_permission_view_id_role_id")
        ),
    )
    op.create_index("idx_permission_view_id", "ab_permission_view_role", ["permission_view_id"], unique=False)
    op.create_index("idx_role_id", "ab_permission_view_role", ["role_id"], unique=False)


def downgrade() -> None:
    op.drop_index("idx_role_id", table_name="ab_permission_view_role")
    op.drop_index("idx_permission_view_id", table_name="ab_permission_view_role")
    op.drop_table("ab_permission_view_role")
    op.drop_table("ab_user_role")
    op.drop_index("idx_user_id", table_name="ab_user_group")
    op.drop_index("idx_user_group_id", table_name="ab_user_group")
    op.drop_table("ab_user_group")
    op.drop_index("idx_view_menu_id", table_name="ab_permission_view")
    op.drop_index("idx_permission_id", table_name="ab_permission_view")
    op.drop_table("ab_permission_view")
    op.drop_index("idx_group_role_id", table_name="ab_group_role")
    op.drop_index("idx_group_id", table_name="ab_group_role")
    op.drop_table("ab_group_role")
    op.drop_index("idx_api_key_user_id", table_name="ab_api_key")
    op.drop_index("idx_api_key_prefix", table_name="ab_api_key")
    op.drop_index("idx_api_key_lookup_hash", table_name="ab_api_key")
    op.drop_table("ab_api_key")
    op.drop_table("ab_view_menu")
    op.drop_table("ab_user")
    op.drop_table("ab_role")
    op.drop_table("ab_register_user")
    op.drop_table("ab_permission")
    op.drop_table("ab_group")
