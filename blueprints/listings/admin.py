"""Listings admin beyond the generated views: import progress (with bars) and report downloads.

The generated views already give staff the category tree, listings (with remove / reinstate and the
per-listing trail of status changes, versions and prices on each listing's page), condition rubrics,
saved searches and import jobs.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Response, abort, g, redirect, render_template_string, stream_with_context, url_for
from flask_appbuilder import AppBuilder, BaseView, expose
from flask_appbuilder.security.decorators import has_access

from app.extensions import db
from blueprints.listings.bulk import jobs as bulk_jobs
from blueprints.listings.models import ImportJob

TEMPLATE = """{% extends "appbuilder/base.html" %}
{% block head_meta %}{{ super() }}{% if running %}<meta http-equiv="refresh" content="3">{% endif %}{% endblock %}
{% block content %}
<div class="container-fluid">
  <h2>Bulk imports</h2>
  {% if not jobs %}<p class="text-muted">No imports yet.</p>{% endif %}
  <table class="table table-condensed">
    <tr><th>File</th><th>Seller</th><th>Mode</th><th>Status</th><th style="width:30%">Progress</th>
        <th>Created</th><th>Updated</th><th>Skipped</th><th>Failed</th><th>Report</th></tr>
    {% for job in jobs %}
    {% set pct = ((job.processed_rows / job.total_rows * 100) if job.total_rows else 0) | round(0) | int %}
    <tr>
      <td>{{ job.filename }}</td><td><code>{{ job.seller_id }}</code></td><td>{{ job.mode.value }}</td>
      <td>{{ job.status.value }}{% if job.error %}<br><small class="text-danger">{{ job.error }}</small>{% endif %}</td>
      <td>
        <div class="progress" style="margin:0">
          {% set look = {'failed': 'progress-bar-danger', 'succeeded': 'progress-bar-success'} %}
          <div class="progress-bar {{ look.get(job.status.value, 'progress-bar-striped active') }}"
               role="progressbar" aria-valuenow="{{ pct }}" aria-valuemin="0" aria-valuemax="100"
               style="width: {{ pct }}%">
            {{ job.processed_rows }} / {{ job.total_rows or '?' }}
          </div>
        </div>
      </td>
      <td>{{ job.created_count }}</td><td>{{ job.updated_count }}</td><td>{{ job.skipped_count }}</td>
      <td>{{ job.failed_count }}</td>
      <td><a href="{{ url_for('ListingImportsView.report', job_id=job.id) }}">CSV</a></td>
    </tr>
    {% endfor %}
  </table>
</div>
{% endblock %}"""


class ListingImportsView(BaseView):
    """Recent bulk imports with live progress bars (the page refreshes while one is running)."""

    route_base = "/listings/imports"
    default_view = "progress"

    @expose("/")
    @has_access
    def progress(self):  # type: ignore[no-untyped-def]
        if not g.user or not g.user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.endpoint + ".login"))
        latest = sa.select(ImportJob).order_by(ImportJob.created_at.desc()).limit(50)
        # populate_existing: a live page must show the worker's latest counters, not a cached row
        jobs = list(db.session.execute(latest.execution_options(populate_existing=True)).scalars())
        running = any(job.status.value in ("queued", "running") for job in jobs)
        return render_template_string(
            TEMPLATE,
            jobs=jobs,
            running=running,
            appbuilder=self.appbuilder,
            base_template=self.appbuilder.base_template,
        )

    @expose("/<uuid:job_id>/report.csv")
    @has_access
    def report(self, job_id: uuid.UUID) -> Response:
        if db.session.get(ImportJob, job_id) is None:
            abort(404)
        return Response(
            stream_with_context(bulk_jobs.report_csv(job_id=job_id)),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="import-{job_id}-report.csv"'},
        )


def register_admin(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(ListingImportsView, "Import progress", category="Listings", icon="fa-upload")
