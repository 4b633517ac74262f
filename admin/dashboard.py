"""The staff landing page: what is in the marketplace, per domain, as figures and a chart."""

from __future__ import annotations

from flask import g, redirect, url_for
from flask_appbuilder import IndexView, expose
from sqlalchemy import text

from admin.charts import bar_chart
from admin.figures import state_counts
from app.extensions import db
from config import DOMAINS

TABLE_COUNTS = text(
    """
    SELECT table_schema, table_name
    FROM information_schema.tables
    WHERE table_schema = ANY(:schemas) AND table_type = 'BASE TABLE'
    ORDER BY table_schema, table_name
    """
)


def domain_row_counts() -> list[tuple[str, str, int]]:
    """Exact row counts of every domain table (schema, table, rows)."""
    rows = db.session.execute(TABLE_COUNTS, {"schemas": list(DOMAINS)}).all()
    counts = []
    for schema, table in rows:
        # Identifiers come from information_schema, quoted: not user input.
        count = db.session.execute(text(f'SELECT count(*) FROM "{schema}"."{table}"')).scalar_one()  # noqa: S608
        counts.append((schema, table, int(count)))
    return counts


class DashboardView(IndexView):
    """Index of /admin: listings, negotiations and payments by state, then row counts per domain."""

    index_template = "admin/dashboard.html"

    @expose("/")
    def index(self):  # type: ignore[no-untyped-def]
        if not g.user or not g.user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.endpoint + ".login"))
        counts = domain_row_counts()
        per_domain: dict[str, int] = dict.fromkeys(DOMAINS, 0)
        for schema, _table, rows in counts:
            per_domain[schema] += rows
        chart = bar_chart(sorted(per_domain.items(), key=lambda kv: -kv[1]), title="Rows per domain")
        states = [
            bar_chart(points, title=title, width=360, bar_height=18, label_width=120)
            for title, points in state_counts()
        ]
        return self.render_template(
            self.index_template,
            appbuilder=self.appbuilder,
            counts=counts,
            per_domain=per_domain,
            chart=chart,
            states=states,
        )
