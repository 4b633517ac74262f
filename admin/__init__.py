"""Flask-AppBuilder staff admin at ``/admin``: DB auth, roles ``Admin`` and ``TrustSafety``, dashboard.

Staff are a separate identity from marketplace users (FAB's own tables in schema ``admin``); the
generator adds one ModelView per declared model under ``/admin/<domain>/<model>``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_appbuilder import AppBuilder
from jinja2 import ChoiceLoader, FileSystemLoader

from admin.dashboard import DashboardView
from admin.roles import FAB_ROLES
from app.extensions import db

ADMIN_PREFIX = "/admin"
TEMPLATES = Path(__file__).resolve().parent / "templates"


class BazaarAppBuilder(AppBuilder):
    """Mounts every FAB view under /admin so the public URL space belongs to the API."""

    def register_blueprint(self, baseview, endpoint=None, static_folder=None):  # type: ignore[no-untyped-def]
        route_base = baseview.route_base
        if route_base is None:
            route_base = "/" + baseview.__class__.__name__.lower()
        if not route_base.startswith(ADMIN_PREFIX):
            baseview.route_base = ADMIN_PREFIX + route_base
        super().register_blueprint(baseview, endpoint=endpoint, static_folder=static_folder)


def init_admin(app: Flask) -> AppBuilder:
    """Bind a fresh AppBuilder to ``app`` (call inside an app context)."""
    app.config.setdefault("FAB_STATIC_URL_PATH", ADMIN_PREFIX + "/static/appbuilder")
    app.config.setdefault("FAB_ROLES", FAB_ROLES)
    app.config.setdefault("APP_ICON", "")
    loaders = [FileSystemLoader(TEMPLATES)] + ([app.jinja_loader] if app.jinja_loader else [])
    app.jinja_loader = ChoiceLoader(loaders)
    appbuilder = BazaarAppBuilder(indexview=DashboardView)
    appbuilder.init_app(app, db.session)
    return appbuilder
