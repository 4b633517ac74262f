"""Staff admin of marketplace users at ``/admin/auth/users``: list, search, show, suspend, reinstate,
grant and revoke roles.

Hand-written with Flask-AppBuilder until the generator can declare it (a read-only resource with
actions that take a required reason). Suspending and reinstating go through the auth service, which
records the transition, the audit record and the event; the permission is ``can_moderate``, which the
TrustSafety role holds. Granting roles (``integrator``) needs ``can_grant_roles``: Admin only, since
an integrator receives every marketplace event. It reaches the user's tokens at their next refresh.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import AppBuilder, ModelView, expose
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_appbuilder.widgets import FormWidget
from flask_login import current_user
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.db import db
from app.generator.admin_data import BazaarInterface
from blueprints.auth import grants, service
from blueprints.auth.errors import AuthError
from blueprints.auth.models import GRANTABLE_ROLES, UserAccount, UserStatus

MODERATE = "moderate"
GRANT_ROLES = "grant_roles"
TARGETS = {"suspended": ("Suspend", service.suspend_user), "active": ("Reinstate", service.reinstate_user)}
ROLE_CHANGES = {"grant": ("Grant", grants.grant_role), "revoke": ("Revoke", grants.revoke_role)}


class ReasonForm(DynamicForm):
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired(), Length(max=2000)],
        widget=BS3TextAreaFieldWidget(),
        description="Required. Kept in the audit log and sent with the event.",
    )


class RoleForm(ReasonForm):
    role = SelectField("Role", choices=[(role, role) for role in GRANTABLE_ROLES], validators=[DataRequired()])


class MarketplaceUserView(ModelView):
    """Marketplace accounts (not staff: those are under Security)."""

    route_base = "/auth/users"
    datamodel = BazaarInterface(UserAccount)
    base_permissions = ["can_list", "can_show"]
    method_permission_name = {
        "moderate": MODERATE,
        "suspend_action": MODERATE,
        "reinstate_action": MODERATE,
        "roles": GRANT_ROLES,
        "grant_role_action": GRANT_ROLES,
        "revoke_role_action": GRANT_ROLES,
    }
    list_title = "Marketplace users"
    show_title = "Marketplace user"
    list_columns = ["email", "status", "email_verified_at", "last_login_at", "created_at"]
    search_columns = ["email", "status", "created_at", "last_login_at"]
    show_columns = [
        "id",
        "email",
        "status",
        "suspension_reason",
        "suspended_at",
        "email_verified_at",
        "last_login_at",
        "password_changed_at",
        "created_at",
        "updated_at",
    ]
    label_columns = {"email_verified_at": "Email verified", "last_login_at": "Last sign-in"}
    base_order = ("created_at", "desc")
    page_size = 50

    def _moderate_url(self, item: UserAccount, to: str) -> str:
        return url_for(f"{self.endpoint}.moderate", pk=str(item.id), to=to)

    @action("suspend_action", "Suspend", icon="fa-ban", multiple=False, single=True)
    def suspend_action(self, items):  # type: ignore[no-untyped-def]
        item = items[0] if isinstance(items, list) else items
        return redirect(self._moderate_url(item, UserStatus.SUSPENDED))

    @action("reinstate_action", "Reinstate", icon="fa-undo", multiple=False, single=True)
    def reinstate_action(self, items):  # type: ignore[no-untyped-def]
        item = items[0] if isinstance(items, list) else items
        return redirect(self._moderate_url(item, UserStatus.ACTIVE))

    @action("grant_role_action", "Grant role", icon="fa-key", multiple=False, single=True)
    def grant_role_action(self, items):  # type: ignore[no-untyped-def]
        item = items[0] if isinstance(items, list) else items
        return redirect(url_for(f"{self.endpoint}.roles", pk=str(item.id), change="grant"))

    @action("revoke_role_action", "Revoke role", icon="fa-lock", multiple=False, single=True)
    def revoke_role_action(self, items):  # type: ignore[no-untyped-def]
        item = items[0] if isinstance(items, list) else items
        return redirect(url_for(f"{self.endpoint}.roles", pk=str(item.id), change="revoke"))

    @expose("/roles/<pk>", methods=["GET", "POST"])
    @has_access
    @permission_name(GRANT_ROLES)
    def roles(self, pk: str):  # type: ignore[no-untyped-def]
        """Grant (``?change=grant``) or revoke (``?change=revoke``) a role, with a reason; audited."""
        change = request.args.get("change", "")
        if change not in ROLE_CHANGES:
            abort(400)
        user = self._user_or_404(pk)
        verb, apply = ROLE_CHANGES[change]
        form = RoleForm()
        if request.method == "POST" and form.validate_on_submit():
            try:
                changed = apply(
                    user_id=user.id,
                    role=form.role.data,
                    reason=form.reason.data,
                    actor_type="staff",
                    actor_id=str(current_user.id),
                )
                db.session.commit()
                outcome = "done" if changed else "nothing to change"
                flash(
                    f"{verb} {form.role.data} for {user.email}: {outcome} (effective at their next token refresh).",
                    "success",
                )
            except AuthError as exc:
                db.session.rollback()
                flash(exc.message, "danger")
            return redirect(url_for(f"{self.endpoint}.show", pk=str(user.id)))
        widgets = {"edit": FormWidget(form=form, include_cols=["role", "reason"], exclude_cols=[], fieldsets=[])}
        return self.render_template(
            "appbuilder/general/model/edit.html",
            title=f"{verb} a role for {user.email}",
            widgets=widgets,
            appbuilder=self.appbuilder,
        )

    def _user_or_404(self, pk: str) -> UserAccount:
        user = self.datamodel.get(pk)  # BazaarInterface: a malformed id finds nothing
        if user is None:
            abort(404)
        return user

    @expose("/moderate/<pk>", methods=["GET", "POST"])
    @has_access
    @permission_name(MODERATE)
    def moderate(self, pk: str):  # type: ignore[no-untyped-def]
        """Suspend (``?to=suspended``) or reinstate (``?to=active``) one account, with a reason."""
        to = request.args.get("to", "")
        if to not in TARGETS:
            abort(400)
        user = self._user_or_404(pk)
        verb, change = TARGETS[to]
        form = ReasonForm()
        if request.method == "POST" and form.validate_on_submit():
            try:
                change(user_id=user.id, reason=form.reason.data, actor_type="staff", actor_id=str(current_user.id))
                db.session.commit()
                flash(f"{verb}: {user.email} is now {to}.", "success")
            except AuthError as exc:
                db.session.rollback()
                flash(exc.message, "danger")
            return redirect(url_for(f"{self.endpoint}.show", pk=str(user.id)))
        widgets = {"edit": FormWidget(form=form, include_cols=["reason"], exclude_cols=[], fieldsets=[])}
        return self.render_template(
            "appbuilder/general/model/edit.html",
            title=f"{verb} {user.email}",
            widgets=widgets,
            appbuilder=self.appbuilder,
        )


def register_admin(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(MarketplaceUserView, "Users", icon="fa-users", category="Marketplace", category_icon="fa-store")
