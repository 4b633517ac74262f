"""Integrator webhooks, the logic: endpoints, fan-out of events, attempts with backoff, replays.

Every event reaches the ``webhooks.fan_out`` subscriber, which records one delivery per interested
active endpoint (with the exact JSON body, the event's documented envelope) and arms a timer for its
first attempt. Each attempt is a timer run on the ``default`` queue: it POSTs, logs the attempt
(outcome, status code, latency, response excerpt) and arms the next one with exponential backoff
until ``WEBHOOKS_GIVE_UP_HOURS`` (3 days) after the event, when the delivery becomes ``failed``.
A replay (admin or API) makes a delivery pending again and attempts it at once.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db import db, utcnow
from app.events.catalog import is_internal, webhook_envelope, webhook_event_types
from app.events.guard import backoff
from app.events.subscribers import subscribe
from app.events.timers import FiredTimer, cancel, on_timer, schedule
from app.events.webhook_models import (
    DELIVERED,
    FAILED,
    PENDING,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    wants,
)
from app.events.webhooks import UnsafeTarget, send, validate_target_url

__all__ = [
    "ATTEMPT_TIMER",
    "EndpointError",
    "create_endpoint",
    "replay",
    "rotate_secret",
    "update_endpoint",
]

log = logging.getLogger(__name__)

ATTEMPT_TIMER = "webhooks.attempt"
MAX_ENDPOINTS_PER_OWNER = 20


class EndpointError(ValueError):
    """Bad endpoint input; ``errors`` maps field -> messages (problem+json field errors)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def check_url(url: str) -> str:
    config = current_app.config
    try:
        validate_target_url(
            url,
            allow_private=config["WEBHOOKS_ALLOW_PRIVATE"],
            require_https=config["BAZAAR_ENV"] == "production",
        )
    except UnsafeTarget as exc:
        raise EndpointError({"url": [str(exc)]}) from None
    return url.strip()


def check_event_types(types: list[str]) -> list[str]:
    known = set(webhook_event_types())
    domains = {t.split(".", 1)[0] for t in known}
    cleaned = list(dict.fromkeys(t.strip() for t in types if t and t.strip()))
    if not cleaned:
        raise EndpointError({"event_types": ["choose at least one event type (or '*' for all)"]})
    internal = [t for t in cleaned if is_internal(t)]
    if internal:
        raise EndpointError({"event_types": [f"internal event type(s), never sent to webhooks: {', '.join(internal)}"]})
    unknown = [t for t in cleaned if t != "*" and t not in known and not (t.endswith(".*") and t[:-2] in domains)]
    if unknown:
        raise EndpointError({"event_types": [f"unknown event type(s): {', '.join(unknown)}"]})
    return cleaned


def create_endpoint(
    *,
    owner_id: uuid.UUID | None,
    url: str,
    event_types: list[str],
    description: str = "",
    session: Session | None = None,
) -> WebhookEndpoint:
    """Register an endpoint with a fresh secret (in the caller's transaction)."""
    session = session if session is not None else db.session
    errors: dict[str, list[str]] = {}
    for check, value in ((check_url, url), (check_event_types, event_types)):
        try:
            check(value)
        except EndpointError as exc:
            errors.update(exc.errors)
    if errors:
        raise EndpointError(errors)
    if owner_id is not None:
        count = session.execute(
            select(db.func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.owner_id == owner_id)
        ).scalar_one()
        if count >= MAX_ENDPOINTS_PER_OWNER:
            raise EndpointError({"url": [f"at most {MAX_ENDPOINTS_PER_OWNER} endpoints per integrator"]})
    endpoint = WebhookEndpoint(
        owner_id=owner_id,
        url=url.strip(),
        event_types=check_event_types(event_types),
        description=description,
        secret=new_secret(),
        active=True,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def update_endpoint(endpoint: WebhookEndpoint, changes: dict[str, Any]) -> WebhookEndpoint:
    if "url" in changes:
        endpoint.url = check_url(changes["url"])
    if "event_types" in changes:
        endpoint.event_types = check_event_types(changes["event_types"])
    for field in ("description", "active"):
        if field in changes:
            setattr(endpoint, field, changes[field])
    endpoint.updated_at = utcnow()
    return endpoint


def rotate_secret(endpoint: WebhookEndpoint) -> str:
    """A new secret, effective for the next attempt (the old one stops verifying at once)."""
    endpoint.secret = new_secret()
    endpoint.updated_at = utcnow()
    return endpoint.secret


# --- fan-out --------------------------------------------------------------------------------------
_ENDPOINTS_KEY = "webhooks.active_endpoints"


def _active_endpoints(session: Session) -> tuple[tuple[uuid.UUID, tuple[str, ...]], ...]:
    """The active endpoints, read once per delivery transaction.

    Not cached across transactions: the delivery job reads its events before this runs, so an
    endpoint committed before an event always receives it, and a deactivated one stops at once
    (a time-based process cache missed new endpoints for up to its lifetime).
    """
    transaction = session.get_transaction()
    cached = session.info.get(_ENDPOINTS_KEY)
    if cached is not None and cached[0] is transaction:
        return cached[1]
    rows = session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(WebhookEndpoint.active.is_(True))
    ).all()
    endpoints = tuple((row.id, tuple(row.event_types)) for row in rows)
    session.info[_ENDPOINTS_KEY] = (session.get_transaction(), endpoints)
    return endpoints


@subscribe("*", name="webhooks.fan_out")
def fan_out(event: Any) -> None:
    """Record a delivery per interested endpoint and arm its first attempt (in the delivery's transaction)."""
    session = db.session()  # the Session itself: its transaction scopes the endpoint lookup
    if is_internal(event.type):
        return  # it carries a one-time token: subscribers inside the platform only
    targets = [endpoint_id for endpoint_id, types in _active_endpoints(session) if wants(list(types), event.type)]
    if not targets:
        return
    body = json.dumps(webhook_envelope(event), separators=(",", ":"), sort_keys=True)
    now = utcnow()
    for endpoint_id in targets:
        delivery_id = session.execute(
            insert(WebhookDelivery)
            .values(
                id=uuid.uuid4(),
                endpoint_id=endpoint_id,
                event_id=event.id,
                event_type=event.type,
                body=body,
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
            .returning(WebhookDelivery.id)
        ).scalar_one_or_none()
        if delivery_id is not None:
            schedule(ATTEMPT_TIMER, now, {"delivery_id": str(delivery_id)}, key=f"{delivery_id}:1", session=session)


# --- attempts -------------------------------------------------------------------------------------
def next_attempt_at(created_at: datetime, attempts: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failures, or None once that is past the give-up window."""
    config = current_app.config
    when = now + backoff(attempts, config["WEBHOOKS_RETRY_BASE_MS"], config["WEBHOOKS_RETRY_MAX_MS"])
    return None if when > created_at + timedelta(hours=config["WEBHOOKS_GIVE_UP_HOURS"]) else when


@on_timer(ATTEMPT_TIMER)
def attempt(timer: FiredTimer) -> None:
    """One POST of a pending delivery; logs it and arms the next attempt or gives up."""
    session = db.session
    config = current_app.config
    delivery = session.execute(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == uuid.UUID(timer.payload["delivery_id"]))
        .with_for_update(of=WebhookDelivery)  # not the endpoint: its other deliveries go on in parallel
    ).scalar_one_or_none()
    if delivery is None or delivery.status != PENDING:
        return
    endpoint = delivery.endpoint
    number = delivery.attempts + 1
    replayed = bool(timer.payload.get("replay"))
    if not endpoint.active:
        result_outcome, status_code, latency, error, excerpt = "blocked", None, 0, "endpoint is disabled", None
    else:
        result = send(
            endpoint.url,
            delivery.body,
            {"Bazaar-Event-Id": str(delivery.event_id), "Bazaar-Delivery-Id": str(delivery.id)},
            secret=endpoint.secret,
            timeout=config["WEBHOOKS_TIMEOUT_SECONDS"],
            allow_private=config["WEBHOOKS_ALLOW_PRIVATE"],
            require_https=config["BAZAAR_ENV"] == "production",
        )
        result_outcome, status_code, latency = result.outcome, result.status_code, result.latency_ms
        error, excerpt = result.error, result.response_excerpt
    now = utcnow()
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            attempted_at=now,
            number=number,
            outcome=result_outcome,
            status_code=status_code,
            latency_ms=latency,
            error=error,
            response_excerpt=excerpt,
            replay=replayed,
        )
    )
    delivery.attempts, delivery.last_status_code, delivery.updated_at = number, status_code, now
    if result_outcome == DELIVERED:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DELIVERED, now, None
        return
    next_at = next_attempt_at(delivery.created_at, number, now)
    if not endpoint.active or next_at is None:
        delivery.status, delivery.next_attempt_at = FAILED, None
        log.warning("webhook %s to %s failed for good after %d attempts", delivery.id, endpoint.url, number)
        return
    delivery.next_attempt_at = next_at
    schedule(ATTEMPT_TIMER, next_at, {"delivery_id": str(delivery.id)}, key=f"{delivery.id}:{number + 1}")


def replay(delivery: WebhookDelivery, *, session: Session | None = None) -> None:
    """Send a delivery again now, whatever its status (staff or the integrator asked for it)."""
    session = session if session is not None else db.session
    now = utcnow()
    cancel(ATTEMPT_TIMER, f"{delivery.id}:{delivery.attempts + 1}", session=session)  # the backoff's next try
    delivery.status, delivery.next_attempt_at, delivery.updated_at = PENDING, now, now
    # A replay of a delivery that gave up gets one attempt: its window is over, the next failure ends it.
    schedule(
        ATTEMPT_TIMER,
        now,
        {"delivery_id": str(delivery.id), "replay": True},
        key=f"{delivery.id}:replay:{uuid.uuid4().hex[:8]}",
        session=session,
    )
