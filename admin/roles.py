"""Staff roles. ``Admin`` is FAB's built-in all-powerful role; ``TrustSafety`` is declared here.

TrustSafety reads everything and runs moderation actions but cannot manage staff users, roles or
permissions. Declared as FAB_ROLES regexes: ``[view-name regex, permission regex]``.
"""

from __future__ import annotations

TRUST_SAFETY = "TrustSafety"

# FAB's security views and their menu entries: staff management stays with Admin.
SECURITY_VIEWS = (
    "UserDBModelView|RoleModelView|PermissionModelView|ViewMenuModelView|PermissionViewModelView"
    "|GroupModelView|RegisterUserModelView|UserStatsChartView|ResetPasswordView|ResetMyPasswordView"
    "|UserInfoEditView|Security|List Users|List Roles|List Groups|User's Statistics|Base Permissions"
    "|Views/Menus|Permission on Views/Menus|List Registration Requests"
)
READ_PERMISSIONS = r"can_list|can_show|can_get|can_export_csv|can_download|menu_access|can_this_form_get"
ACTION_PERMISSIONS = r"can_action|can_moderate|can_run_action|can_this_form_post"

FAB_ROLES = {
    TRUST_SAFETY: [
        [rf"^(?!({SECURITY_VIEWS})$).*$", rf"^({READ_PERMISSIONS}|{ACTION_PERMISSIONS})$"],
    ],
}
