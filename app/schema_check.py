"""Checks that keep the schema honest: models vs migrations, and no foreign key across domains."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Table

from app.domain import import_all_models
from app.extensions import Model, db
from app.migrate import VERSION_TABLE_SCHEMA
from config import DOMAINS, PLATFORM_SCHEMAS

KNOWN_SCHEMAS = (set(DOMAINS) | set(PLATFORM_SCHEMAS)) - {"admin"}


def _include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    if type_ == "schema":
        return name is None or name in KNOWN_SCHEMAS
    if type_ == "table":
        return name != "alembic_version"
    return True


def schema_differences() -> list[Any]:
    """What autogenerate would write against the connected, migrated database (empty = in sync)."""
    import_all_models()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_schemas": True,
                "include_name": _include_name,
                "compare_type": True,
                "version_table_schema": VERSION_TABLE_SCHEMA,
                "target_metadata": Model.metadata,
            },
        )
        return list(compare_metadata(context, Model.metadata))


def table_schema(table: Table) -> str:
    return table.schema or "admin"


def cross_schema_foreign_keys() -> list[str]:
    """Foreign keys whose two ends live in different schemas: each is a broken seam."""
    import_all_models()
    broken = []
    for table in Model.metadata.tables.values():
        for fk in table.foreign_keys:
            target = fk.column.table
            if table_schema(table) != table_schema(target):
                broken.append(f"{table.fullname}.{fk.parent.name} -> {target.fullname}.{fk.column.name}")
    return broken


def tables_outside_known_schemas() -> list[str]:
    import_all_models()
    return [t.fullname for t in Model.metadata.tables.values() if table_schema(t) not in KNOWN_SCHEMAS | {"admin"}]
