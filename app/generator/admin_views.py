"""Base classes of generated admin views: FK lookups, staff writes and actions with audit, the audit log.

Kept apart from :mod:`app.generator.admin` (which decides *what* a view offers from the policy) so
each file stays readable.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import Response, abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import AppBuilder, ModelView, expose, has_access
from werkzeug.exceptions import HTTPException

from app.audit import AuditRecord
from app.extensions import db
from app.generator.access import Actor
from app.generator.actions import record_refusal, run_action
from app.generator.admin_data import BazaarInterface, ExportCSVMixin
from app.generator.admin_forms import LOOKUP_PAGE_SIZE, action_form, form_inputs, label_column, schema_errors_to_form

TEMPLATES = str(Path(__file__).resolve().parent / "templates")


def staff_actor() -> Actor:
    return Actor.staff(getattr(g.user, "id", None))


class GeneratedModelView(ExportCSVMixin, ModelView):
    """Behaviour shared by every generated view; the subclass carries ``compiled`` and the columns."""

    compiled: Any = None
    template_folder = TEMPLATES
    list_template = "bazaar_generator/list.html"
    show_template = "bazaar_generator/show.html"
    page_size = 25

    def render_template(self, template: str, **kwargs: Any) -> Any:
        if template == self.show_template and "pk" in kwargs:
            kwargs["see_also"] = self.see_also(kwargs["pk"])
        return super().render_template(template, **kwargs)

    def see_also(self, pk: Any) -> list[tuple[str, str]]:
        """The declared links of the shown row (``AdminOptions.links``), placeholders filled from it."""
        links = self.compiled.resource.admin.links
        item = self.datamodel.get(pk, self._base_filters) if links else None
        if item is None:
            return []
        values = {prop.key: getattr(item, prop.key) for prop in sa.inspect(type(item)).column_attrs}
        return [(label, url.format(**values)) for label, url in links]

    @expose("/lookup/<column>")
    @has_access
    def lookup(self, column: str) -> Response:
        """select2 AJAX source: related rows matching ``term``, one page at a time."""
        rel = sa.inspect(self.datamodel.obj).relationships.get(column)
        if rel is None or rel.uselist:
            abort(404)
        target = rel.mapper.class_
        label = label_column(target)
        pk = sa.inspect(target).primary_key[0]
        page = max(request.args.get("page", 1, type=int) or 1, 1)
        stmt = sa.select(target)
        term = (request.args.get("term") or "").strip()[:100].replace("\x00", "")
        if term and label is not None:
            stmt = stmt.where(label.ilike("%" + term.replace("%", r"\%").replace("_", r"\_") + "%", escape="\\"))
        stmt = stmt.order_by(label if label is not None else pk).offset((page - 1) * LOOKUP_PAGE_SIZE)
        found = db.session.execute(stmt.limit(LOOKUP_PAGE_SIZE + 1)).scalars().all()
        results = [
            {"id": str(sa.inspect(o).identity[0]), "text": str(getattr(o, label.key)) if label is not None else str(o)}
            for o in found[:LOOKUP_PAGE_SIZE]
        ]
        return jsonify({"results": results, "pagination": {"more": len(found) > LOOKUP_PAGE_SIZE}})

    # --- writes: same schema and hooks as the API, plus an audit record -----------------------

    def _validate_like_api(self, item: Any, schema_cls: type[ma.Schema], changed: set[str]) -> None:
        plan = self.compiled.schemas.plan
        names = [n for n in plan.writable if set(plan.attrs_of[n]) & changed]
        data = self.compiled.dump_fn(names)(item) if names else {}
        errors = schema_cls().validate({k: v for k, v in data.items() if not (v is None and k not in changed)})
        if errors:
            raise ValueError("; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in errors.items()))

    def _changed(self, item: Any) -> dict[str, list[Any]]:
        state = sa.inspect(item)
        changes = {}
        for attr in self.compiled.column_types:
            history = state.attrs[attr].history
            if history.has_changes():
                before = history.deleted[0] if history.deleted else None
                after = history.added[0] if history.added else None
                changes[attr] = [before, after]
        return changes

    def _audit_write(self, verb: str, item: Any, changes: dict[str, list[Any]]) -> None:
        from app import audit
        from app.generator.actions import _json_safe

        actor = staff_actor()
        audit.record(
            action=f"{self.compiled.key}.{verb}",
            target_type=self.compiled.key,
            target_id=getattr(item, self.compiled.pk),
            actor_type=actor.type,
            actor_id=actor.id,
            inputs=_json_safe(changes),
        )

    def pre_add(self, item: Any) -> None:
        changes = self._changed(item)
        self._validate_like_api(item, self.compiled.schemas.create, set(changes))
        hook = self.compiled.resource.on_create
        if hook is not None:
            _call_hook(hook, obj=item, actor=staff_actor())
        if getattr(item, self.compiled.pk) is None:
            setattr(item, self.compiled.pk, uuid.uuid4())
        self._audit_write("create", item, changes)

    def pre_update(self, item: Any) -> None:
        changes = self._changed(item)
        self._validate_like_api(item, self.compiled.schemas.update, set(changes))
        hook = self.compiled.resource.on_update
        if hook is not None:
            _call_hook(hook, obj=item, actor=staff_actor(), changes={k: v[1] for k, v in changes.items()})
        self._audit_write("update", item, changes)

    def pre_delete(self, item: Any) -> None:
        self._audit_write("delete", item, {})

    def _delete(self, pk: Any) -> None:
        soft = self.compiled.resource.soft_delete
        if not soft:
            return super()._delete(pk)
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        from app.db import utcnow

        setattr(item, soft, utcnow())
        self._audit_write("delete", item, {soft: [None, getattr(item, soft)]})
        db.session.commit()
        flash(self.delete_row_message, "success")
        return None

    # --- actions ---------------------------------------------------------------------------------

    def _staff_action(self, name: str) -> Any:
        for act in self.compiled.resource.actions:
            if act.action_name == name and act.allow.admits_staff:
                return act
        abort(404)

    def run_one(self, act: Any, item: Any, inputs: dict[str, Any]) -> str | None:
        """Run ``act`` on ``item`` in its own transaction; returns the error text, or None on success."""
        actor = staff_actor()
        target_id = getattr(item, self.compiled.pk)
        try:
            locked = db.session.execute(
                sa.select(self.datamodel.obj)
                .where(getattr(self.datamodel.obj, self.compiled.pk) == target_id)
                .with_for_update()
            ).scalar_one()
            run_action(self.compiled, act, locked, inputs, actor)
            db.session.commit()
            return None
        except HTTPException as error:
            record_refusal(self.compiled, act, target_id, actor, inputs, error)
            return str(getattr(error, "data", {}).get("message") or error.description)

    def run_bulk_action(self, act: Any, items: Any) -> Response:
        items = items if isinstance(items, list) else [items]
        failures = [(item, err) for item in items if (err := self.run_one(act, item, {})) is not None]
        done = len(items) - len(failures)
        if done:
            flash(f"{act.action_name.replace('_', ' ').capitalize()}: {done} done.", "success")
        for item, err in failures:
            flash(f"{item}: {err}", "danger")
        return redirect(request.referrer or url_for(f"{self.endpoint}.list"))

    def redirect_to_action_form(self, act: Any, item: Any) -> Response:
        return redirect(
            url_for(f"{self.endpoint}.action_form", name=act.action_name, pk=getattr(item, self.compiled.pk))
        )

    @expose("/run/<name>/<pk>", methods=["GET", "POST"])
    @has_access
    def action_form(self, name: str, pk: str) -> Any:
        act = self._staff_action(name)
        item = self.datamodel.get(pk)
        if item is None:
            abort(404)
        form = action_form(act.input)(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            inputs = form_inputs(form)
            try:
                loaded = act.input().load(inputs)
            except ma.ValidationError as error:
                schema_errors_to_form(form, error)
            else:
                err = self.run_one(act, item, loaded)
                if err is None:
                    flash(f"{act.action_name.replace('_', ' ').capitalize()}: done.", "success")
                    return redirect(url_for(f"{self.endpoint}.show", pk=pk))
                flash(err, "danger")
        return self.render_template(
            "bazaar_generator/action_form.html",
            title=f"{act.action_name.replace('_', ' ').capitalize()}: {item}",
            form=form,
            summary=act.summary,
            back=url_for(f"{self.endpoint}.show", pk=pk),
        )


def _call_hook(hook: Any, **kwargs: Any) -> None:
    from app.generator.declarations import ServiceError

    try:
        hook(**kwargs)
    except ServiceError as error:  # FAB shows the message and keeps the form
        raise ValueError(error.message) from None


class AuditRecordAdmin(ExportCSVMixin, ModelView):
    """Read-only browser of the append-only audit log (who did what to which object)."""

    datamodel = BazaarInterface(AuditRecord)
    route_base = "/platform/audit"
    list_title = "Audit log"
    template_folder = TEMPLATES
    base_permissions = ["can_list", "can_show", "can_export_csv"]
    method_permission_name = {"export_csv": "export_csv"}
    list_template = "bazaar_generator/list.html"
    base_order = ("occurred_at", "desc")
    list_columns = ["occurred_at", "action", "outcome", "target_type", "target_id", "actor_type", "actor_id"]
    show_columns = [
        "occurred_at", "action", "outcome", "target_type", "target_id", "actor_type", "actor_id",
        "inputs", "result", "request_id",
    ]  # fmt: skip
    search_columns = ["action", "outcome", "target_type", "target_id", "actor_type", "actor_id", "request_id"]


def ensure_audit_view(appbuilder: AppBuilder) -> None:
    if not appbuilder.__dict__.get("bazaar_audit_view"):
        appbuilder.add_view(AuditRecordAdmin, "Audit log", category="Platform", icon="fa-history")
        appbuilder.__dict__["bazaar_audit_view"] = True


__all__ = ["AuditRecordAdmin", "BazaarInterface", "GeneratedModelView", "ensure_audit_view"]
