"""FAB data access for generated views: native UUID keys and filters, and the CSV export of a list.

FAB's SQLAlchemy interface knows sqlalchemy-utils' UUIDType, not SQLAlchemy 2's native ``Uuid``: keys
arrive as strings and UUID columns get no filters. These classes fill that gap; a mistyped id in a
filter matches nothing instead of failing the page.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import Response, stream_with_context
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.filters import BaseFilter, SQLAFilterConverter, get_field_setup_query
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.urltools import get_filter_args
from sqlalchemy.dialects.postgresql import TSVECTOR

from app.extensions import db

EXPORT_BATCH = 1000


class UUIDFilterEqual(BaseFilter):
    name = "Equal to"
    arg_name = "eq"

    def apply(self, query: Any, value: Any) -> Any:
        query, field = get_field_setup_query(query, self.model, self.column_name)
        try:
            return query.filter(field == uuid.UUID(str(value).strip()))
        except ValueError:  # a mistyped id matches nothing instead of failing the page
            return query.filter(sa.false())


class UUIDFilterNotEqual(BaseFilter):
    name = "Not Equal to"
    arg_name = "neq"

    def apply(self, query: Any, value: Any) -> Any:
        query, field = get_field_setup_query(query, self.model, self.column_name)
        try:
            return query.filter(field != uuid.UUID(str(value).strip()))
        except ValueError:
            return query


class BazaarFilterConverter(SQLAFilterConverter):
    conversion_table = (
        ("is_uuid", [UUIDFilterEqual, UUIDFilterNotEqual]),
        ("is_unsearchable", []),  # known, deliberately without filters (FAB would warn at every start)
        *SQLAFilterConverter.conversion_table,
    )


class BazaarInterface(SQLAInterface):
    """FAB's SQLA interface that understands native UUID primary keys and columns."""

    filter_converter_class = BazaarFilterConverter

    def is_uuid(self, col_name: str) -> bool:
        column = self.list_columns.get(col_name)
        return column is not None and isinstance(column.type, sa.Uuid)

    def is_unsearchable(self, col_name: str) -> bool:
        """Full-text vectors and arrays: no admin filter searches them (the REST API does)."""
        column = self.list_columns.get(col_name)
        return column is not None and isinstance(column.type, TSVECTOR | sa.ARRAY)

    def get_search_columns_list(self) -> list[str]:
        return [name for name in super().get_search_columns_list() if not self.is_unsearchable(name)]

    def is_nullable(self, col_name: str) -> bool:
        """A text column with a default may be left empty in a form (FAB would demand input)."""
        column = self.list_columns.get(col_name)
        text_with_default = (
            column is not None
            and isinstance(column.type, sa.String)
            and not isinstance(column.type, sa.Enum)
            and (column.default is not None or column.server_default is not None)
        )
        return text_with_default or super().is_nullable(col_name)

    def get(self, id: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(self.list_columns[self.get_pk_name()].type, sa.Uuid) and not isinstance(id, uuid.UUID):
            try:
                id = uuid.UUID(str(id))
            except ValueError:
                return None
        return super().get(id, *args, **kwargs)


class ExportCSVMixin:
    """``/export_csv/``: the list's current filters, every column, streamed in batches."""

    @expose("/export_csv/")
    @has_access
    def export_csv(self) -> Response:
        model = self.datamodel.obj
        columns = [prop.key for prop in sa.inspect(model).column_attrs]
        filters = self.datamodel.get_filters(self.search_columns)
        get_filter_args(filters)
        query = self.datamodel.apply_filters(db.session.query(model), filters)
        query = self.datamodel.apply_filters(query, self._base_filters)
        pk = getattr(model, self.datamodel.get_pk_name())
        statement = query.with_entities(*(getattr(model, c) for c in columns)).order_by(pk).statement

        def rows() -> Iterator[str]:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(columns)
            # Its own connection, streamed in batches: released when the download ends or is dropped.
            with db.engine.connect() as connection:
                result = connection.execution_options(yield_per=EXPORT_BATCH).execute(statement)
                for index, row in enumerate(result):
                    writer.writerow([_csv_value(value) for value in row])
                    if index % EXPORT_BATCH == 0:
                        yield buffer.getvalue()
                        buffer.seek(0)
                        buffer.truncate()
            yield buffer.getvalue()

        filename = f"{model.__tablename__}.csv"
        return Response(
            stream_with_context(rows()),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, str | int | float):
        return value.value
    text = str(value)
    # Spreadsheet formula injection: a cell must never start with a formula character.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
