"""Form fields of generated admin views: AJAX lookups for foreign keys, enum selects, JSON objects,
and the WTForms form of an action's marshmallow input schema.

Foreign keys never render a ``<select>`` of the whole related table: the widget asks the view's
``lookup`` endpoint for matching rows as staff type (select2 4 ``data-ajax--url``, bundled by FAB).
"""

from __future__ import annotations

import enum
import json
import uuid
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from markupsafe import Markup, escape
from wtforms import BooleanField, Field, Form, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional, ValidationError

from app.extensions import db

LOOKUP_PAGE_SIZE = 20


def label_column(model: type) -> sa.Column | None:
    """The column that names a row for staff (name, title, slug...), if the model has one."""
    columns = sa.inspect(model).columns
    for candidate in ("name", "title", "slug", "email", "code"):
        if candidate in columns:
            return columns[candidate]
    return None


def row_label(obj: Any) -> str:
    column = label_column(type(obj))
    return str(getattr(obj, column.key)) if column is not None else str(obj)


class LookupWidget:
    def __call__(self, field: LookupField, **kwargs: Any) -> Markup:
        current = field.data
        option = ""
        if current is not None:
            pk = sa.inspect(current).identity[0]
            option = f'<option value="{escape(pk)}" selected>{escape(row_label(current))}</option>'
        return Markup(  # noqa: S704 - every interpolated value is escaped
            f'<select id="{escape(field.id)}" name="{escape(field.name)}" class="my_select2 form-control" '
            f'data-ajax--url="{escape(field.lookup_url)}" data-ajax--delay="250" data-allow-clear="true" '
            f'data-placeholder="Type to search">{option}</select>'
        )


class LookupField(Field):
    """A many-to-one relationship picked by id through AJAX; the value is the related object."""

    widget = LookupWidget()

    def __init__(
        self, label: str | None = None, validators: Any = None, *, target: type, lookup_url: str, **kwargs: Any
    ):
        super().__init__(label, validators, **kwargs)
        self.target = target
        self.lookup_url = lookup_url

    def process_formdata(self, valuelist: list[str]) -> None:
        raw = valuelist[0] if valuelist else ""
        if not raw:
            self.data = None
            return
        try:
            self.data = db.session.get(self.target, uuid.UUID(raw))
        except ValueError:
            self.data = None
            raise ValueError("Not a valid id.") from None
        if self.data is None:
            raise ValueError(f"No such {self.target.__name__}.")


class EnumSelectField(SelectField):
    """Select of an enum stored by value (FAB's EnumField expects member names)."""

    def __init__(self, label: str | None = None, validators: Any = None, *, enum_class: type[enum.Enum], **kwargs: Any):
        choices = [SelectChoice(member.value, member.value) for member in enum_class]
        super().__init__(label, validators, choices=choices, coerce=self._coerce_to(enum_class), **kwargs)

    @staticmethod
    def _coerce_to(enum_class: type[enum.Enum]) -> Any:
        def coerce(value: Any) -> Any:
            if value is None or isinstance(value, enum_class):
                return value
            return enum_class(value)

        return coerce


class JSONObjectField(TextAreaField):
    """A JSON object edited as text; invalid JSON or a non-object is a form error, not a 500."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return json.dumps(self.data if self.data is not None else {}, indent=2, sort_keys=True)

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        try:
            value = json.loads(valuelist[0] or "{}")
        except ValueError:
            raise ValueError("Not valid JSON.") from None
        if not isinstance(value, dict | list):  # the API schema then checks the exact shape
            raise ValueError("Expected a JSON object or array.")
        self.data = value


class UUIDField(StringField):
    """A plain id (another domain's row, which no relationship may reach): typed as text, stored as UUID."""

    def process_formdata(self, valuelist: list[str]) -> None:
        raw = (valuelist[0] if valuelist else "").strip()
        if not raw:
            self.data = None
            return
        try:
            self.data = uuid.UUID(raw)
        except ValueError:
            self.data = None
            raise ValueError("Not a valid id (a UUID such as 0f8fad5b-d9cb-469f-a165-70867728950e).") from None

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)


class TextListField(StringField):
    """A short list of words (an ARRAY of strings), typed comma-separated."""

    def process_formdata(self, valuelist: list[str]) -> None:
        raw = valuelist[0] if valuelist else ""
        items = [item.strip() for item in raw.split(",") if item.strip()]
        self.data = items or None

    def _value(self) -> str:
        return ", ".join(self.data or ())


def action_form(schema: type[ma.Schema]) -> type[Form]:
    """A WTForms form with one field per input of ``schema`` (validated again by the schema)."""
    attrs: dict[str, Any] = {}
    for name, schema_field in schema().load_fields.items():
        validators = [DataRequired()] if schema_field.required else [Optional()]
        label = name.replace("_", " ").capitalize()
        description = schema_field.metadata.get("description", "")
        if isinstance(schema_field, ma.fields.Boolean):
            attrs[name] = BooleanField(label, description=description)
        elif isinstance(schema_field, ma.fields.Integer):
            attrs[name] = IntegerField(label, validators, description=description)
        elif isinstance(schema_field, ma.fields.Enum):
            attrs[name] = EnumSelectField(label, validators, enum_class=schema_field.enum, description=description)
        elif isinstance(schema_field, ma.fields.String) and not _is_long(schema_field):
            attrs[name] = StringField(label, validators, description=description)
        else:
            attrs[name] = TextAreaField(label, validators, description=description)
    return type(f"{schema.__name__}Form", (Form,), attrs)


def _is_long(schema_field: ma.fields.Field) -> bool:
    for validator in schema_field.validators:
        if isinstance(validator, ma.validate.Length) and validator.max is not None:
            return validator.max > 200
    return True


def form_inputs(form: Form) -> dict[str, Any]:
    """Form data as the action's input (enum members back to their values, blanks dropped)."""
    data: dict[str, Any] = {}
    for name, value in form.data.items():
        if value is None or value == "":
            continue
        data[name] = value.value if isinstance(value, enum.Enum) else value
    return data


def schema_errors_to_form(form: Form, error: ma.ValidationError) -> None:
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    for name, problems in messages.items():
        target = getattr(form, name, None)
        texts = problems if isinstance(problems, list) else [str(problems)]
        if target is not None:
            target.errors = list(target.errors) + [str(t) for t in texts]
        else:
            form.form_errors.extend(str(t) for t in texts)


__all__ = [
    "LOOKUP_PAGE_SIZE",
    "EnumSelectField",
    "JSONObjectField",
    "LookupField",
    "ValidationError",
    "action_form",
    "form_inputs",
    "label_column",
    "row_label",
    "schema_errors_to_form",
]
