"""Schema-per-domain: models match the migrations, and no foreign key crosses a domain's schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from app.extensions import Model, db
from app.schema_check import cross_schema_foreign_keys, schema_differences, tables_outside_known_schemas
from config import DOMAINS

ROOT = Path(__file__).resolve().parents[2]


def test_autogenerate_finds_no_difference_against_migrated_database(app_ctx):
    assert schema_differences() == []


def test_every_domain_and_platform_schema_exists_and_public_is_empty(app_ctx):
    schemas = set(db.session.execute(text("SELECT nspname FROM pg_namespace")).scalars())
    assert set(DOMAINS) | {"admin", "platform"} <= schemas
    public_tables = db.session.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar_one()
    assert public_tables == 0


def test_flask_appbuilder_tables_live_in_admin_schema(app_ctx):
    found = db.session.execute(text("SELECT schemaname FROM pg_tables WHERE tablename = 'ab_user'")).scalars().all()
    assert found == ["admin"]


def test_no_foreign_key_crosses_schemas(app_ctx):
    assert cross_schema_foreign_keys() == []
    rows = (
        db.session.execute(
            text(
                """
            SELECT con.conname FROM pg_constraint con
            JOIN pg_class src ON src.oid = con.conrelid
            JOIN pg_class dst ON dst.oid = con.confrelid
            WHERE con.contype = 'f' AND src.relnamespace <> dst.relnamespace
            """
            )
        )
        .scalars()
        .all()
    )
    assert rows == [], f"foreign keys across schemas in the database: {rows}"


def test_every_model_declares_a_known_schema():
    assert tables_outside_known_schemas() == []
    for table in Model.metadata.tables.values():
        if not table.name.startswith("ab_"):
            assert table.schema, f"{table.name} has no schema"


def test_domain_seams_hold(tmp_path):
    """import-linter contracts of pyproject.toml: domains use each other's service/events only."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
