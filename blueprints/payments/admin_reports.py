"""The daily money chart of the payments admin: GMV, fees and refunds per day, as server-side SVG."""

from __future__ import annotations

from collections import defaultdict

from flask import g, redirect, render_template_string, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from admin.charts import bar_chart
from blueprints.payments.reports import daily_money

ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD", "UGX"})

TEMPLATE = """{% extends "appbuilder/base.html" %}
{% block content %}
<div class="container-fluid">
  <h2>Daily money, last {{ days }} days (UTC)</h2>
  {% if not charts %}<p class="text-muted">No captured payments in this period.</p>{% endif %}
  {% for currency, figures in charts %}
    <h3>{{ currency }}</h3>
    {% for chart in figures %}
    <div class="panel panel-default"><div class="panel-body">{{ chart }}</div></div>
    {% endfor %}
  {% endfor %}
</div>
{% endblock %}"""


def major(amount: int, currency: str) -> float:
    return float(amount) if currency in ZERO_DECIMAL else amount / 100


class MoneyChartView(BaseView):
    route_base = "/payments/money"
    default_view = "chart"
    # A read: the "show" permission, which trust-and-safety staff hold (a "can_chart" of its own was
    # matched by no staff role but Admin).
    method_permission_name = {"chart": "show"}

    @expose("/")
    @has_access
    def chart(self):  # type: ignore[no-untyped-def]
        if not g.user or not g.user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.endpoint + ".login"))
        days = 14
        per_currency: dict[str, list] = defaultdict(list)  # type: ignore[type-arg]
        for row in daily_money(days=days):
            per_currency[row.currency].append(row)
        charts = []
        for currency, rows in sorted(per_currency.items()):
            figures = []
            for title, field in (("GMV", "gmv"), ("Fees earned", "fees"), ("Refunds", "refunds")):
                points = [(row.day.isoformat(), major(getattr(row, field), currency)) for row in rows]
                figures.append(bar_chart(points, title=f"{title} per day ({currency})", unit=f" {currency}"))
            charts.append((currency, figures))
        return render_template_string(
            TEMPLATE, charts=charts, days=days, appbuilder=self.appbuilder, base_template=self.appbuilder.base_template
        )
