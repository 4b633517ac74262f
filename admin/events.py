"""Staff views of the event bus (menu "Events"): outbox, deliveries and dead letters, timers,
integrator webhooks with their attempts, and a chart of events per type over time.

Hand-written FAB views (small) until the generator can host platform models. Retry, replay and
re-arm actions are admin-only (TrustSafety reads these pages but does not run them).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import flash, redirect, request
from flask_appbuilder import AppBuilder, BaseView, ModelView, expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.filters import FilterEqual
from sqlalchemy import text
from wtforms import StringField, ValidationError

from admin.charts import bar_chart, stacked_bar_chart
from app.db import db
from app.events.dead_letters import retry_dead_letter
from app.events.metrics import bus_health
from app.events.outbox import OutboxEvent
from app.events.records import EventDelivery
from app.events.timers import Timer, rearm
from app.events.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.events.webhook_service import EndpointError, check_event_types, check_url, new_secret
from app.events.webhook_service import replay as replay_delivery
from app.generator.admin_data import BazaarInterface

__all__ = ["register_event_views"]

READ_ONLY = ["can_list", "can_show"]


def _items(items: Any) -> list[Any]:
    return items if isinstance(items, list) else [items]


class EventOutboxView(ModelView):
    datamodel = BazaarInterface(OutboxEvent)
    route_base = "/events/outbox"
    list_title = show_title = "Outbox"
    base_permissions = list(READ_ONLY)
    base_order = ("position", "desc")
    list_columns = [
        "position",
        "type",
        "version",
        "aggregate_id",
        "actor",
        "occurred_at",
        "dispatched_at",
        "settled_at",
        "dispatch_count",
    ]
    show_columns = [*list_columns, "id", "recorded_at", "job_id", "payload"]
    search_columns = ["type", "aggregate_id", "actor", "occurred_at", "dispatched_at", "settled_at", "dispatch_count"]
    add_columns = edit_columns = ["type"]  # read-only view: FAB still builds forms, keep them to plain columns


class EventDeliveryView(ModelView):
    datamodel = BazaarInterface(EventDelivery)
    route_base = "/events/deliveries"
    list_title = show_title = "Subscriber deliveries"
    base_permissions = list(READ_ONLY)
    base_order = ("updated_at", "desc")
    list_columns = ["subscriber", "event_type", "status", "attempts", "next_attempt_at", "updated_at", "last_error"]
    show_columns = [*list_columns, "event_id", "event_position", "created_at", "delivered_at"]
    search_columns = ["subscriber", "event_type", "status", "attempts", "updated_at", "event_position"]
    add_columns = edit_columns = ["subscriber"]
    formatters_columns = {"last_error": lambda v: (v or "").splitlines()[-1][:160] if v else ""}

    @action("retry_delivery", "Retry now", "Run the selected dead deliveries once more now?", "fa-repeat")
    def retry_delivery(self, items: Any):  # type: ignore[no-untyped-def]
        retried = sum(retry_dead_letter(item.id) for item in _items(items))
        db.session.commit()
        skipped = len(_items(items)) - retried
        flash(f"{retried} delivery(ies) retrying" + (f"; {skipped} were not dead" if skipped else ""), "info")
        self.update_redirect()
        return redirect(self.get_redirect())


class EventDeadLetterView(EventDeliveryView):
    route_base = "/events/dead-letters"
    list_title = show_title = "Dead letters"
    base_filters = [["status", FilterEqual, "dead"]]


class EventTimerView(ModelView):
    datamodel = BazaarInterface(Timer)
    route_base = "/events/timers"
    list_title = show_title = "Timers"
    base_permissions = list(READ_ONLY)
    base_order = ("due_at", "desc")
    list_columns = ["name", "key", "state", "due_at", "attempts", "fired_at", "last_error"]
    show_columns = [*list_columns, "id", "payload", "enqueued_at", "job_id", "created_at", "updated_at"]
    search_columns = ["name", "key", "state", "due_at", "attempts", "fired_at"]
    add_columns = edit_columns = ["name"]
    formatters_columns = {"last_error": lambda v: (v or "").splitlines()[-1][:160] if v else ""}

    @action("rearm_timer", "Run again now", "Run the selected dead or cancelled timers now?", "fa-repeat")
    def rearm_timer(self, items: Any):  # type: ignore[no-untyped-def]
        count = sum(rearm(item.id) for item in _items(items))
        db.session.commit()
        flash(f"{count} timer(s) re-armed", "info")
        self.update_redirect()
        return redirect(self.get_redirect())


class EventTypesField(StringField):
    """Event types as one line ("offers.OfferAccepted, payments.*") <-> a list."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = [t for t in re.split(r"[,\s]+", valuelist[0]) if t] if valuelist else []

    def _value(self) -> str:
        return ", ".join(self.data or [])


def _valid_url(form: Any, field: Any) -> None:
    try:
        check_url(field.data or "")
    except EndpointError as exc:
        raise ValidationError(" ".join(exc.errors["url"])) from None


def _valid_types(form: Any, field: Any) -> None:
    try:
        check_event_types(field.data or [])
    except EndpointError as exc:
        raise ValidationError(" ".join(exc.errors["event_types"])) from None


class WebhookAttemptView(ModelView):
    datamodel = BazaarInterface(WebhookAttempt)
    route_base = "/events/webhook-attempts"
    list_title = show_title = "Webhook attempts"
    base_permissions = list(READ_ONLY)
    base_order = ("attempted_at", "desc")
    list_columns = ["attempted_at", "delivery.event_type", "number", "outcome", "status_code", "latency_ms", "error"]
    show_columns = [*list_columns, "replay", "response_excerpt"]
    search_columns = ["outcome", "status_code", "attempted_at", "latency_ms", "replay"]
    add_columns = edit_columns = ["outcome"]
    label_columns = {"delivery.event_type": "Event type", "latency_ms": "Latency (ms)"}


class WebhookDeliveryView(ModelView):
    datamodel = BazaarInterface(WebhookDelivery)
    route_base = "/events/webhook-deliveries"
    list_title = show_title = "Webhook deliveries"
    base_permissions = list(READ_ONLY)
    base_order = ("created_at", "desc")
    list_columns = ["endpoint", "event_type", "status", "attempts", "last_status_code", "created_at", "delivered_at"]
    show_columns = [*list_columns, "event_id", "next_attempt_at", "body"]
    search_columns = ["endpoint", "event_type", "status", "attempts", "last_status_code", "created_at"]
    add_columns = edit_columns = ["event_type"]
    related_views = [WebhookAttemptView]

    @action("replay_webhook", "Replay", "Send the selected deliveries again now?", "fa-paper-plane")
    def replay_webhook(self, items: Any):  # type: ignore[no-untyped-def]
        for item in _items(items):
            replay_delivery(item)
        db.session.commit()
        flash(f"{len(_items(items))} delivery(ies) will be sent again now", "info")
        self.update_redirect()
        return redirect(self.get_redirect())


class WebhookEndpointView(ModelView):
    datamodel = BazaarInterface(WebhookEndpoint)
    route_base = "/events/webhook-endpoints"
    list_title = show_title = "Webhook endpoints"
    base_order = ("created_at", "desc")
    list_columns = ["url", "event_types", "active", "description", "owner_id", "created_at"]
    show_columns = ["url", "event_types", "active", "description", "owner_id", "secret_hint", "created_at"]
    add_columns = edit_columns = ["url", "event_types", "description", "active"]
    search_columns = ["url", "description", "active", "created_at"]
    description_columns = {
        "event_types": "Comma separated: 'offers.OfferAccepted', a domain 'offers.*', or '*' for all events",
        "url": "Public http(s) URL; private and loopback addresses are refused",
    }
    validators_columns = {"url": [_valid_url]}
    add_form_extra_fields = edit_form_extra_fields = {
        "event_types": EventTypesField("Event types", validators=[_valid_types])
    }
    related_views = [WebhookDeliveryView]

    def pre_add(self, item: WebhookEndpoint) -> None:
        item.secret = new_secret()
        item.url = item.url.strip()

    def post_add(self, item: WebhookEndpoint) -> None:
        flash(f"Signing secret (shown once, give it to the integrator): {item.secret}", "warning")


FLOW_SQL = text(
    """
    SELECT date_trunc(:unit, occurred_at) AS bucket, type, count(*) AS n
    FROM platform.outbox_events
    WHERE occurred_at >= date_trunc(:unit, now()) - make_interval(hours => :hours)
    GROUP BY 1, 2 ORDER BY 1
    """
)
RANGES = {"24h": ("hour", 24, "%H:00"), "7d": ("day", 24 * 7, "%a %d"), "30d": ("day", 24 * 30, "%d %b")}


def events_per_type(range_key: str) -> tuple[list[str], dict[str, list[float]]]:
    """Events per type per bucket (hour or day) over the range, oldest bucket first, empty buckets kept."""
    unit, hours, label_format = RANGES[range_key]
    rows = db.session.execute(FLOW_SQL, {"unit": unit, "hours": hours}).all()
    now = db.session.execute(text("SELECT date_trunc(:unit, now())"), {"unit": unit}).scalar_one()
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    count = hours if unit == "hour" else hours // 24
    buckets = [now - step * (count - 1 - i) for i in range(count)]
    index = {bucket: i for i, bucket in enumerate(buckets)}
    series: dict[str, list[float]] = {}
    for bucket, event_type, n in rows:
        if bucket in index:
            series.setdefault(event_type, [0.0] * count)[index[bucket]] += n
    return [b.strftime(label_format) for b in buckets], series


class EventFlowView(BaseView):
    """Events per type over time, and the bus's backlog figures."""

    route_base = "/events/flow"
    default_view = "index"
    template = "admin/events_flow.html"

    @expose("/")
    @has_access
    def index(self):  # type: ignore[no-untyped-def]
        range_key = request.args.get("range", "24h")
        if range_key not in RANGES:
            range_key = "24h"
        labels, series = events_per_type(range_key)
        chart = stacked_bar_chart(labels, series, title=f"Events per type, last {range_key}")
        health = bus_health()
        totals = sorted(((name, sum(values)) for name, values in series.items()), key=lambda kv: -kv[1])
        return self.render_template(
            self.template,
            chart=chart,
            totals_chart=bar_chart(totals[:15], title=f"Top event types, last {range_key}"),
            health=health,
            ranges=list(RANGES),
            current=range_key,
        )


def register_event_views(appbuilder: AppBuilder) -> None:
    category = "Events"
    appbuilder.add_view(EventFlowView, "Event flow", category=category, icon="fa-bar-chart")
    appbuilder.add_view(EventOutboxView, "Outbox", category=category, icon="fa-inbox")
    appbuilder.add_view(EventDeadLetterView, "Dead letters", category=category, icon="fa-exclamation-triangle")
    appbuilder.add_view(EventDeliveryView, "Subscriber deliveries", category=category, icon="fa-check")
    appbuilder.add_view(EventTimerView, "Timers", category=category, icon="fa-clock-o")
    appbuilder.add_view(WebhookEndpointView, "Webhook endpoints", category=category, icon="fa-plug")
    appbuilder.add_view(WebhookDeliveryView, "Webhook deliveries", category=category, icon="fa-paper-plane")
    appbuilder.add_view_no_menu(WebhookAttemptView)
