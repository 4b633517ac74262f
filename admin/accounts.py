"""Staff accounts and the permissions of admin views (FAB writes none of this at start: see config)."""

from __future__ import annotations

from flask import current_app


def sync_permissions() -> None:
    """Create the roles (Admin, Public, TrustSafety) and a permission for every registered view.

    TrustSafety is a FAB "builtin" role: its rights are the regexes of FAB_ROLES, checked at request
    time, so the role row needs no permission rows (FAB's own create_db would store the regexes as
    permission names, which overflow their columns).
    """
    appbuilder = current_app.appbuilder
    sm = appbuilder.sm
    for name in (sm.auth_role_admin, sm.auth_role_public, *current_app.config["FAB_ROLES"]):
        if sm.find_role(name) is None:
            sm.add_role(name)
    appbuilder.add_permissions(update_perms=True)  # also grants each new permission to Admin
    sm.session.commit()


def ensure_staff(*, email: str, password: str, role: str, first_name: str = "Staff", last_name: str = "Member") -> bool:
    """Create the staff account, or reset its password and role; returns True when created."""
    sm = current_app.appbuilder.sm
    role_row = sm.find_role(role)
    if role_row is None:
        sync_permissions()
        role_row = sm.find_role(role)
    user = sm.find_user(email=email)
    if user is None:
        created = sm.add_user(email, first_name, last_name, email, role_row, password)
        if not created:
            raise RuntimeError(f"could not create staff account {email}")
        return True
    # Assigned and committed directly: FAB's update_user diffs roles against the same session's
    # object and would see no change.
    user.roles = [role_row]
    user.active = True
    sm.session.commit()
    sm.reset_password(user.id, password)
    return False
