"""Alembic from code: the config the CLI, tests and /readyz share, and the head check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from config import DOMAINS, PLATFORM_SCHEMAS

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"
VERSION_TABLE_SCHEMA = "platform"
BRANCHES: tuple[str, ...] = PLATFORM_SCHEMAS + DOMAINS


def alembic_config(database_url: str | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("version_locations", " ".join(str(MIGRATIONS / "versions" / branch) for branch in BRANCHES))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if database_url:
        cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), revision)


def script_heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def database_heads(connection: Connection) -> set[str]:
    context = MigrationContext.configure(connection, opts={"version_table_schema": VERSION_TABLE_SCHEMA})
    return set(context.get_current_heads())


def pending_migrations(connection: Connection) -> set[str]:
    """Heads of the code that the database has not reached (empty = at head)."""
    return script_heads() - database_heads(connection)
