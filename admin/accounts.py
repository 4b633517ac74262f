"""Staff accounts and the permissions of admin views (FAB writes none of this at start: see config)."""

from __future__ import annotations

from flask import current_app
from flask_appbuilder.security.manager import BaseSecurityManager


def sync_permissions() -> None:
    """Create a permission for every registered view and the roles (Admin, Public, TrustSafety)."""
    appbuilder = current_app.appbuilder
    appbuilder.add_permissions(update_perms=True)
    BaseSecurityManager.create_db(appbuilder.sm)
    appbuilder.session.commit()


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
    user.roles = [role_row]
    user.active = True
    sm.update_user(user)
    sm.reset_password(user.id, password)
    return False
