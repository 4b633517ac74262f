"""The staff admin view of a compiled resource: a Flask-AppBuilder ModelView at /admin/<domain>/<model>.

The policy decides what staff can do, as it does for clients: add/edit/delete exist only when the
rule admits staff (``STAFF`` in it), read-only fields are shown but never in forms, and an action is
a button only when its ``allow`` admits staff. Every staff write is validated by the same generated
schema and domain hook as the API, and leaves an audit record. Permission names stay within what the
TrustSafety role's regexes grant (can_list, can_show, can_export_csv, can_run_action).
"""

from __future__ import annotations

from collections.abc import Callable
from string import Formatter
from typing import Any

import sqlalchemy as sa
from flask_appbuilder import AppBuilder, ModelView
from flask_appbuilder.actions import action
from markupsafe import Markup
from sqlalchemy.dialects.postgresql import TSVECTOR
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from app.generator.admin_forms import EnumSelectField, JSONObjectField, LookupField, TextListField, UUIDField
from app.generator.admin_views import BazaarInterface, GeneratedModelView, ensure_audit_view
from app.generator.compiled import Compiled
from app.generator.declarations import Action

ADMIN_VIEWS = "bazaar_admin_views"  # appbuilder attribute: model -> registered view instance


def _form_columns(compiled: Compiled, names: list[str]) -> list[str]:
    """API field names -> admin form columns (money split in two, foreign keys as relationships)."""
    mapper = sa.inspect(compiled.model)
    fk_to_relationship = {
        local.key: rel.key for rel in mapper.relationships if not rel.uselist for local, _ in rel.local_remote_pairs
    }
    columns: list[str] = []
    for name in names:
        for attr in compiled.schemas.plan.attrs_of[name]:
            columns.append(fk_to_relationship.get(attr, attr))
    return columns


def _extra_fields(compiled: Compiled, columns: list[str], route_base: str) -> dict:
    mapper = sa.inspect(compiled.model)
    fields = {}
    for column in columns:
        rel = mapper.relationships.get(column)
        if rel is not None:
            fields[column] = LookupField(
                column.replace("_", " ").capitalize(),
                target=rel.mapper.class_,
                lookup_url=f"/admin{route_base}/lookup/{column}",
            )
            continue
        data_type = mapper.columns[column].type
        if isinstance(data_type, sa.Enum) and data_type.enum_class is not None:
            fields[column] = EnumSelectField(column.replace("_", " ").capitalize(), enum_class=data_type.enum_class)
        elif isinstance(data_type, sa.JSON):
            fields[column] = JSONObjectField(column.replace("_", " ").capitalize())
        elif isinstance(data_type, sa.Uuid):
            required = [Optional()] if mapper.columns[column].nullable else [InputRequired()]
            fields[column] = UUIDField(column.replace("_", " ").capitalize(), required)
        elif isinstance(data_type, sa.ARRAY) and isinstance(data_type.item_type, sa.String):
            fields[column] = TextListField(column.replace("_", " ").capitalize(), [Optional()])
    return fields


def _machine_only(model: type, column: str) -> bool:
    """Columns kept for the database's sake (full-text vectors, ``info={"machine_only": True}``):
    nothing a person reads on a show page."""
    columns = sa.inspect(model).columns
    if column not in columns:
        return False
    return isinstance(columns[column].type, TSVECTOR) or bool(columns[column].info.get("machine_only"))


def _search_fields(mapper: sa.orm.Mapper, columns: list[str]) -> dict:
    """Search inputs FAB cannot build itself: UUIDs as text, enums stored by value as selects."""
    fields: dict = {}
    for column in columns:
        if column not in mapper.columns:
            continue
        data_type = mapper.columns[column].type
        label = column.replace("_", " ").capitalize()
        if isinstance(data_type, sa.Uuid):
            fields[column] = StringField(label)
        elif isinstance(data_type, sa.Enum) and data_type.enum_class is not None:
            fields[column] = SelectField(label, choices=[SelectChoice(m.value, m.value) for m in data_type.enum_class])
    return fields


def _bulk_action(act: Action) -> object:
    """A FAB action method (list bulk + show button) running ``act`` for each selected row."""

    def run(self, items):  # type: ignore[no-untyped-def]
        return self.run_bulk_action(act, items)

    text = act.action_name.replace("_", " ").capitalize()
    run.__name__ = f"action_{act.action_name}"
    return action(act.action_name, text, confirmation=act.confirm, icon="fa-bolt", multiple=True, single=True)(run)


def _form_action(act: Action) -> object:
    """A show-page button leading to the action's form (actions with inputs cannot run in bulk)."""

    def open_form(self, item):  # type: ignore[no-untyped-def]
        return self.redirect_to_action_form(act, item)

    text = act.action_name.replace("_", " ").capitalize() + "..."
    open_form.__name__ = f"action_{act.action_name}"
    return action(act.action_name, text, icon="fa-edit", multiple=False, single=True)(open_form)


def _check_links(model: type, links: Any, column_links: Any, columns: list[str]) -> None:
    """Fail at start, not on a staff member's click, when a link names a column the model lacks."""
    for label, url in links:
        unknown = {name for _, name, _, _ in Formatter().parse(url) if name} - set(columns)
        if unknown:
            raise TypeError(f"{model.__name__} admin link {label!r}: no column {', '.join(sorted(unknown))}")
    for column, url in column_links.items():  # one map may serve several models: absent columns are skipped
        if {name for _, name, _, _ in Formatter().parse(url) if name} != {"value"}:
            raise TypeError(f"{model.__name__} column link {column!r}: the URL needs {{value}} and nothing else")


def _link_formatter(url: str) -> Callable[[Any], Any]:
    """Render a column's value as a link to ``url`` (``{value}`` replaced, escaped); empty values stay text."""

    def link(value: Any) -> Any:
        if value is None or value == "":
            return value
        return Markup('<a class="bz-ref" href="{}">{}</a>').format(url.format(value=value), value)

    return link


def build_view_class(compiled: Compiled, domain_name: str) -> type[ModelView]:
    resource = compiled.resource
    policy = resource.policy
    options = resource.admin
    model = compiled.model
    route_base = f"/{domain_name}/{model.__name__.lower()}"
    plan = compiled.schemas.plan
    all_columns = [prop.key for prop in sa.inspect(model).column_attrs]
    writable = _form_columns(compiled, plan.writable)
    staff_actions = [a for a in resource.actions if a.allow.admits_staff]

    permissions = ["can_list", "can_show", "can_export_csv"]
    if policy.create.admits_staff:
        permissions.append("can_add")
    if policy.update.admits_staff:
        permissions.append("can_edit")
    if policy.delete.admits_staff:
        permissions.append("can_delete")
    method_permissions = {"export_csv": "export_csv", "lookup": "list"}
    attrs: dict = {
        "compiled": compiled,
        "datamodel": BazaarInterface(model),
        "route_base": route_base,
        # also the tab title of a related list on a parent's show page: say it in the domain's words
        "list_title": f"{options.label or model.__name__} ({domain_name})",
        "list_columns": list(options.list_columns or all_columns[:6]),
        "search_columns": list(options.search_columns or []),
        "show_columns": list(options.show_columns or [c for c in all_columns if not _machine_only(model, c)]),
        "add_columns": writable,
        "edit_columns": [c for c in writable if c not in _form_columns(compiled, list(plan.write_once))],
        "base_permissions": permissions,
        "related_views": [],
    }
    _check_links(model, options.links, options.column_links, all_columns)
    if options.column_links:
        attrs["formatters_columns"] = {col: _link_formatter(url) for col, url in options.column_links.items()}
    if resource.default_sort:
        column = resource.default_sort.lstrip("-")
        if column in all_columns:  # lists open in the resource's own order (a timeline oldest first...)
            attrs["base_order"] = (column, "desc" if resource.default_sort.startswith("-") else "asc")
    mapper = sa.inspect(model)
    attrs["search_form_extra_fields"] = _search_fields(mapper, attrs["search_columns"])
    extra = _extra_fields(compiled, writable, route_base)
    attrs["add_form_extra_fields"] = extra
    attrs["edit_form_extra_fields"] = dict(extra)
    for act in staff_actions:
        attrs[f"action_{act.action_name}"] = _form_action(act) if act.input else _bulk_action(act)
        method_permissions[f"action_{act.action_name}"] = "run_action"
    if staff_actions:
        permissions.append("can_run_action")
        method_permissions["action_form"] = "run_action"
    attrs["method_permission_name"] = method_permissions
    name = domain_name.title().replace("_", "") + model.__name__ + "Admin"
    return type(name, (GeneratedModelView,), attrs)


def register_admin_view(appbuilder: AppBuilder, compiled: Compiled, domain: object) -> ModelView:
    ensure_audit_view(appbuilder)
    domain_name = domain.name  # type: ignore[attr-defined]
    view_cls = build_view_class(compiled, domain_name)
    label = compiled.resource.admin.label or compiled.model.__name__
    view = appbuilder.add_view(view_cls, label, category=domain_name.title(), icon="fa-table")
    views: dict[type, ModelView] = appbuilder.__dict__.setdefault(ADMIN_VIEWS, {})
    views[compiled.model] = view
    # Related lists on show pages, whichever of parent and child was registered first.
    for model, other in views.items():
        related = getattr(other, "compiled", None)
        if related is None:
            continue
        if compiled.model in related.resource.admin.related and view not in other._related_views:
            other.related_views.append(type(view))
            other._related_views.append(view)
        if model in compiled.resource.admin.related and other not in view._related_views:
            view.related_views.append(type(other))
            view._related_views.append(other)
    return view
