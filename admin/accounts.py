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
    _create_missing_permissions(appbuilder)
    appbuilder.add_permissions(update_perms=True)  # also grants each new permission to Admin
    sm.session.commit()


def _create_missing_permissions(appbuilder) -> None:  # type: ignore[no-untyped-def]
    """Insert, in one transaction, the permissions, view menus, permission-views and Admin grants that
    FAB's ``add_permissions`` would create for the registered views and menu items.

    FAB creates them one row and one COMMIT at a time, reloading Admin's permissions after each
    (~575 commits and ~3,000 statements on a fresh database); its pass that follows then only finds
    them present (and still removes stale ones). Same rows as FAB's: a view's ``base_permissions`` on
    its ``class_permission_name``, ``menu_access`` on every menu entry but separators.
    """
    sm = appbuilder.sm
    session = sm.session
    wanted: set[tuple[str, str]] = set()
    for view in appbuilder.baseviews:
        for permission in view.base_permissions or ():
            if permission and view.class_permission_name:
                wanted.add((permission, view.class_permission_name))
    if appbuilder.menu is not None:
        for category in appbuilder.menu.get_list():
            entries = [category.name, *(item.name for item in category.childs if item.name != "-")]
            wanted.update(("menu_access", name) for name in entries if name)
    permissions = {row.name: row for row in session.query(sm.permission_model)}
    view_menus = {row.name: row for row in session.query(sm.viewmenu_model)}
    for name in {permission for permission, _view in wanted} - permissions.keys():
        permissions[name] = sm.permission_model(name=name)
        session.add(permissions[name])
    for name in {view for _permission, view in wanted} - view_menus.keys():
        view_menus[name] = sm.viewmenu_model(name=name)
        session.add(view_menus[name])
    existing = {(pv.permission.name, pv.view_menu.name): pv for pv in session.query(sm.permissionview_model)}
    created = []
    for permission, view in sorted(wanted - existing.keys()):
        pv = sm.permissionview_model(permission=permissions[permission], view_menu=view_menus[view])
        session.add(pv)
        created.append(pv)
    if created and sm.auth_role_admin not in sm.builtin_roles:
        admin_role = sm.find_role(sm.auth_role_admin)  # held: the session only keeps a weak reference
        admin_role.permissions.extend(created)
    session.commit()


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
