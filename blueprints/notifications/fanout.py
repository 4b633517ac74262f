"""The subscriber body: events -> notifications for the people they concern, in the events' transaction.

``handle(event, routes)`` only plans (who, which kind, with what context). The plans of a whole
transaction (a bus batch of up to ``EVENTS_JOB_SIZE`` events) are written just before it commits, so
a batch costs one query for every recipient's settings and preferences, one for the actors' names,
one multi-row INSERT of notifications and one of deliveries, whatever its size. A failure there fails
the commit, which the bus treats like a failing handler (retried alone, then dead-lettered).

For each planned recipient, the effective channels (preferences, mandatory kinds, reachability)
decide what is written: an in-app ``Notification`` (pushed live over Socket.IO after the commit) and
one ``Delivery`` per provider channel, deduplicated by the unique (event, user, channel) key. All
immediate deliveries of a transaction form one batch, enqueued after the commit; quiet hours and
digest windows defer rows to their own batches, each under a durable timer.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import db, utcnow
from app.events import on_commit
from blueprints.notifications import contacts, presence
from blueprints.notifications.bulk import (
    DELIVERY_COLUMNS,
    INSERT_DELIVERIES,
    INSERT_NOTIFICATIONS,
    NOTE_COLUMNS,
    as_columns,
)
from blueprints.notifications.catalog import EMAIL, IN_APP, KINDS, Kind
from blueprints.notifications.dispatch import arm, enqueue_quietly
from blueprints.notifications.models import Delivery
from blueprints.notifications.preferences import Profile, load_profiles
from blueprints.notifications.rendering import render_in_app
from blueprints.notifications.routing import Route
from blueprints.notifications.states import PENDING

log = logging.getLogger(__name__)

TXN_KEY = "bazaar.notifications.fanout"


@dataclass(frozen=True)
class Planned:
    event_id: uuid.UUID
    event_type: str
    route: Route
    user_id: uuid.UUID
    actor_id: uuid.UUID | None
    context: dict[str, Any]


@dataclass
class _Txn:
    """One transaction's fan-out: plans to write, caches, batches to enqueue, pushes to emit."""

    transaction: Any
    planned: list[Planned] = field(default_factory=list)
    profiles: dict[uuid.UUID, Profile] = field(default_factory=dict)
    names: dict[uuid.UUID, str] = field(default_factory=dict)
    online: dict[uuid.UUID, bool] = field(default_factory=dict)
    windows: dict[tuple[uuid.UUID, str, str], tuple[uuid.UUID, datetime]] = field(default_factory=dict)
    held: dict[tuple[uuid.UUID, datetime], uuid.UUID] = field(default_factory=dict)
    batch_id: uuid.UUID | None = None
    emits: list[tuple[uuid.UUID, dict[str, Any]]] = field(default_factory=list)

    def immediate_batch(self) -> uuid.UUID:
        if self.batch_id is None:
            self.batch_id = uuid.uuid4()
            lease = timedelta(seconds=current_app.config["NOTIFICATIONS_LEASE_SECONDS"])
            arm(self.batch_id, utcnow() + lease, "created")
        return self.batch_id


def _state(session: Session) -> _Txn:
    session.connection()  # make sure a transaction exists to key the state on
    transaction = session.get_transaction()
    state = session.info.get(TXN_KEY)
    if state is None or state.transaction is not transaction:
        state = session.info[TXN_KEY] = _Txn(transaction)
        on_commit(lambda: _after_commit(session, state), session=session)
    return state


def _actor_id(actor: str | None) -> uuid.UUID | None:
    if actor and actor.startswith("user:"):
        try:
            return uuid.UUID(actor[5:])
        except ValueError:
            return None
    return None


def handle(event: Any, routes: tuple[Route, ...]) -> int:
    """Plan the notifications of ``event`` (written at the caller's commit); returns how many were planned."""
    payload = event.payload()
    targets = [(r, uid) for r in routes if r.applies(payload) for uid in r.recipients(payload, event.actor)]
    if not targets:
        return 0
    for route, _ in targets:
        route.digest_key(payload)  # a payload missing the grouping field fails here, in the handler
    state = _state(db.session())  # the real Session (the scoped proxy hides get_transaction)
    actor_id = _actor_id(event.actor)
    for route, user_id in targets:
        context = {**payload, **route.extra}
        state.planned.append(Planned(event.id, event.type, route, user_id, actor_id, context))
    return len(targets)


@sa_event.listens_for(Session, "before_commit")
def _write_planned(session: Session) -> None:
    state = session.info.get(TXN_KEY)
    if state is None or not state.planned or state.transaction is not session.get_transaction():
        return
    planned, state.planned = state.planned, []
    write(session, state, planned)


def write(session: Session, state: _Txn, planned: list[Planned]) -> int:
    """Write planned notifications and deliveries in a few statements; returns how many were new."""
    missing = [p.user_id for p in planned if p.user_id not in state.profiles]
    if missing:
        state.profiles.update(load_profiles(missing))
    actors = {p.actor_id for p in planned if p.actor_id is not None and p.actor_id not in state.names}
    if actors:
        state.names.update(contacts.display_names(actors))
        state.names.update(dict.fromkeys(actors - state.names.keys(), ""))
    now = utcnow()
    notes: list[dict[str, Any]] = []
    channels_of: dict[uuid.UUID, tuple[Planned, Kind, list[str]]] = {}
    for plan in planned:
        kind = KINDS[plan.route.kind]
        profile = state.profiles[plan.user_id]
        channels = profile.channels_for(kind)
        if not channels:
            continue
        context = dict(plan.context)
        if plan.actor_id is not None and state.names.get(plan.actor_id):
            context["actor_name"] = state.names[plan.actor_id]
        in_app = IN_APP in channels
        title, body = kind.description, ""
        if in_app:
            title, body = render_in_app(kind, {**context, "time_zone": profile.time_zone}, locale=profile.locale)
        note_id = uuid.uuid4()
        notes.append(
            {
                "id": note_id,
                "user_id": plan.user_id,
                "kind": kind.name,
                "event_id": plan.event_id,
                "event_type": plan.event_type,
                "title": title[:200],
                "body": body,
                "link": kind.link_for(context)[:500],
                "in_app": in_app,
                "data": context,
                "created_at": now + timedelta(microseconds=len(notes)),  # the bell keeps the events' order
            }
        )
        channels_of[note_id] = (plan, kind, channels)
    if not notes:
        return 0
    # A redelivered event inserts nothing (ON CONFLICT DO NOTHING): no deliveries, no push.
    inserted = set(session.execute(INSERT_NOTIFICATIONS, as_columns(notes, NOTE_COLUMNS)).scalars())
    deliveries = []
    for note in notes:
        if note["id"] not in inserted:
            continue
        plan, kind, channels = channels_of[note["id"]]
        for channel in channels:
            if channel != IN_APP:
                row = _delivery_row(session, state, state.profiles[plan.user_id], kind, plan, channel, now)
                if row is not None:
                    deliveries.append({**row, "notification_id": note["id"]})
        if note["in_app"]:
            state.emits.append((plan.user_id, _live_payload(note)))
    if deliveries:
        session.execute(INSERT_DELIVERIES, as_columns(deliveries, DELIVERY_COLUMNS))
    return len(inserted)


def _live_payload(note: dict[str, Any]) -> dict[str, Any]:
    """What ``notification.new`` carries (the bell's row, without the stored context)."""
    return {
        "id": str(note["id"]),
        "kind": note["kind"],
        "title": note["title"],
        "body": note["body"],
        "link": note["link"],
        "event_type": note["event_type"],
        "created_at": note["created_at"].isoformat(),
    }


def _after_commit(session: Session, state: _Txn) -> None:
    if session.info.get(TXN_KEY) is state:
        del session.info[TXN_KEY]
    if state.batch_id is not None:
        enqueue_quietly(state.batch_id)
    if state.emits:
        from app.realtime import emit_to_room

        for user_id, payload in state.emits:
            try:
                emit_to_room("notification.new", payload, room=f"user:{user_id}")
            except Exception:  # the bell catches up through REST
                log.warning("could not push notification %s live", payload["id"], exc_info=True)
                break


def _delivery_row(
    session: Session, state: _Txn, profile: Profile, kind: Kind, plan: Planned, channel: str, now: datetime
) -> dict[str, Any] | None:
    digest_key = plan.route.digest_key(plan.context) if channel == EMAIL else None
    not_before = None
    if digest_key is not None:
        if _is_online(state, profile.user_id):
            return None  # reading live on the socket: the in-app notification is enough
        batch_id, not_before = _digest_window(session, state, profile.user_id, kind, digest_key, now)
    elif (held := profile.held_until(kind, channel, now)) is not None:
        batch_id, not_before = _held_batch(state, profile.user_id, held), held
    else:
        batch_id = state.immediate_batch()
    route = plan.route
    address = plan.context.get(route.address) if route.address and channel == EMAIL else None
    return {
        "id": uuid.uuid4(),
        "user_id": plan.user_id,
        "event_id": plan.event_id,
        "kind": kind.name,
        "channel": channel,
        "status": PENDING,
        "attempts": 0,
        "batch_id": batch_id,
        "not_before": not_before,
        "digest_key": digest_key,
        "address": address,
        "resends": 0,
        "created_at": now,
        "updated_at": now,
    }


def _is_online(state: _Txn, user_id: uuid.UUID) -> bool:
    if user_id not in state.online:
        state.online[user_id] = presence.is_online(user_id)
    return state.online[user_id]


def _digest_window(
    session: Session, state: _Txn, user_id: uuid.UUID, kind: Kind, key: str, now: datetime
) -> tuple[uuid.UUID, datetime]:
    """The open digest window (batch, send time) of (user, kind, key), opening one if none is pending."""
    cache_key = (user_id, kind.name, key)
    window = state.windows.get(cache_key)
    if window is None:
        found = session.execute(
            select(Delivery.batch_id, Delivery.not_before)
            .where(
                Delivery.user_id == user_id,
                Delivery.digest_key == key,
                Delivery.status == PENDING,
                Delivery.kind == kind.name,
            )
            .limit(1)
        ).first()
        if found is not None and found.not_before is not None:
            window = (found.batch_id, found.not_before)
        else:
            batch_id = uuid.uuid4()
            send_at = now + timedelta(minutes=current_app.config["NOTIFICATIONS_DIGEST_MINUTES"])
            arm(batch_id, send_at, "digest")
            window = (batch_id, send_at)
        state.windows[cache_key] = window
    return window


def _held_batch(state: _Txn, user_id: uuid.UUID, until: datetime) -> uuid.UUID:
    """One batch per (user, end of quiet hours), dispatched by a timer when the quiet hours end."""
    batch_id = state.held.get((user_id, until))
    if batch_id is None:
        batch_id = state.held[(user_id, until)] = uuid.uuid4()
        arm(batch_id, until, "quiet")
    return batch_id
