"""Staff admin beyond the generated views: the delivery chart and the template previews.

The delivery log (every attempt, searchable) and deliveries (with the resend action) are generated
from their declarations in ``__init__.py``; this module adds the sent/failed chart per channel per
day (server-rendered SVG) and a preview of every kind's templates, per locale, with sample data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort, request
from flask_appbuilder import AppBuilder, BaseView, expose, has_access
from markupsafe import Markup

from admin.charts import bar_chart
from blueprints.notifications import service
from blueprints.notifications.catalog import KINDS
from blueprints.notifications.rendering import available_locales, render

TEMPLATES = str(Path(__file__).resolve().parent / "admin_templates")


class DeliveryChartView(BaseView):
    """Sent and failed deliveries per channel per day, from the delivery log."""

    route_base = "/notifications/delivery-chart"
    template_folder = TEMPLATES
    default_view = "chart"
    method_permission_name = {"chart": "list"}

    @expose("/")
    @has_access
    def chart(self) -> Any:
        days = min(max(request.args.get("days", 14, type=int) or 14, 1), 90)
        per_channel = service.delivery_chart(days=days)
        charts = []
        for channel, rows in sorted(per_channel.items()):
            points: list[tuple[str, float]] = []
            for day, sent, failed in rows:
                points.append((f"{day[5:]} sent", sent))
                points.append((f"{day[5:]} failed", failed))
            charts.append(bar_chart(points, title=f"{channel}: sent / failed per day (UTC)", bar_height=14))
        return self.render_template(
            "notifications_admin/chart.html",
            charts=charts,
            days=days,
            counts=service.delivery_counts(),
            empty=not per_channel,
        )


class TemplatePreviewView(BaseView):
    """Every kind rendered on every channel with its sample data, in any shipped locale."""

    route_base = "/notifications/templates"
    template_folder = TEMPLATES
    default_view = "kinds"
    method_permission_name = {"kinds": "list", "preview": "show"}

    @expose("/")
    @has_access
    def kinds(self) -> Any:
        return self.render_template(
            "notifications_admin/kinds.html", kinds=list(KINDS.values()), locales=available_locales()
        )

    @expose("/<name>")
    @has_access
    def preview(self, name: str) -> Any:
        kind = KINDS.get(name)
        if kind is None:
            abort(404)
        locale = request.args.get("locale", "en")
        if locale not in available_locales():
            locale = "en"
        context = {**kind.sample, "time_zone": "UTC", "display_name": "Alice", "link_url": "https://bazaar.example/x"}
        extras = {
            "unsubscribe_url": "https://bazaar.example/unsubscribe",
            "preferences_url": "https://bazaar.example/p",
        }
        items = [dict(kind.sample), dict(kind.sample)] if kind.digest else None
        rendered = render(kind, context, locale=locale, items=items, email_extras=extras)
        return self.render_template(
            "notifications_admin/preview.html",
            kind=kind,
            locale=locale,
            locales=available_locales(),
            rendered=rendered,
            html_srcdoc=Markup.escape(rendered.html),
        )


def register_admin(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(DeliveryChartView, "Delivery chart", category="Notifications", icon="fa-bar-chart")
    appbuilder.add_view(TemplatePreviewView, "Templates", category="Notifications", icon="fa-envelope")
