"""One alembic environment for every schema; one version branch per domain (migrations/versions/<branch>).

Connections use ``search_path=admin`` (FAB's schema-less staff tables live there) and ``public`` stays
out of it. Autogenerate can be limited to one branch's schema: ``bazaar db revision <branch> -m ...``.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import engine_from_config, pool, text

from app.domain import import_all_models
from app.extensions import Model
from app.migrate import VERSION_TABLE_SCHEMA
from config import DOMAINS, PLATFORM_SCHEMAS

config = context.config
import_all_models()
target_metadata = Model.metadata

# The default schema (admin, via search_path) is reflected as None; never also by its own name.
KNOWN_SCHEMAS = set(DOMAINS) | set(PLATFORM_SCHEMAS) - {"admin"}
ONLY_SCHEMA: str | None = config.attributes.get("only_schema")


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    if type_ == "schema":
        if ONLY_SCHEMA is not None:
            return name == (None if ONLY_SCHEMA == "admin" else ONLY_SCHEMA)
        return name is None or name in KNOWN_SCHEMAS
    if type_ == "table":
        return name != "alembic_version"
    return True


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    if ONLY_SCHEMA is not None and type_ == "table":
        schema = obj.schema
        return schema == (None if ONLY_SCHEMA == "admin" else ONLY_SCHEMA)
    return True


def process_revision_directives(context_, revision, directives) -> None:  # type: ignore[no-untyped-def]
    """An autogenerate run that finds nothing writes no empty revision file."""
    if getattr(config.cmd_opts, "autogenerate", False) or config.attributes.get("autogenerate"):
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or os.environ["DATABASE_URL"]
    connectable = engine_from_config(
        {"sqlalchemy.url": url},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
        connect_args={"options": "-c search_path=admin -c timezone=UTC"},
    )
    with connectable.connect() as connection:
        # The version table's home must exist before alembic writes to it; each branch creates its own.
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {VERSION_TABLE_SCHEMA}"))
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_schemas=True,
            include_name=include_name,
            include_object=include_object,
            version_table_schema=VERSION_TABLE_SCHEMA,
            compare_type=True,
            compare_server_default=False,
            process_revision_directives=process_revision_directives,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported: run against a database")
run_migrations_online()
