"""The subscriber body: one event -> notifications for the people it concerns, in the event's transaction.

For each route of the event type and each recipient: the recipient's effective channels (preferences,
mandatory kinds, reachability) decide what is written: an in-app ``Notification`` (listed and pushed
live over Socket.IO after commit) and one ``Delivery`` per provider channel, deduplicated by the
unique (event, user, channel) key. Provider channels go out in batches: everything immediate in one
transaction is one batch, enqueued after the commit; quiet hours and digest windows defer rows to
their own batches, each under a durable timer. Recipients' settings and names are read once per
transaction, so a bus batch of 250 events costs a handful of queries per distinct user.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db import db, utcnow
from app.events import on_commit
from blueprints.notifications import contacts, presence
from blueprints.notifications.catalog import EMAIL, IN_APP, KINDS, Kind
from blueprints.notifications.dispatch import arm, enqueue_quietly
from blueprints.notifications.models import Delivery, Notification
from blueprints.notifications.preferences import Profile, load_profiles
from blueprints.notifications.rendering import render_in_app
from blueprints.notifications.routing import Route
from blueprints.notifications.states import PENDING

log = logging.getLogger(__name__)

TXN_KEY = "bazaar.notifications.fanout"


@dataclass
class _Txn:
    """What one transaction's fan-out accumulated: caches, batches to enqueue, pushes to emit."""

    transaction: Any
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


def _actor_id(actor: str | None) -> uuid.UUID | None:
    if actor and actor.startswith("user:"):
        try:
            return uuid.UUID(actor[5:])
        except ValueError:
            return None
    return None


def handle(event: Any, routes: tuple[Route, ...]) -> int:
    """Write the notifications of ``event`` (caller's transaction, never commits); returns how many."""
    payload = event.payload()
    targets = [(r, uid) for r in routes if r.applies(payload) for uid in r.recipients(payload, event.actor)]
    if not targets:
        return 0
    session = db.session()  # the real Session (the scoped proxy hides get_transaction)
    state = _state(session)
    missing = [uid for _, uid in targets if uid not in state.profiles]
    if missing:
        state.profiles.update(load_profiles(missing))
    actor_id = _actor_id(event.actor)
    if actor_id is not None and actor_id not in state.names:
        state.names.update(contacts.display_names([actor_id]))
        state.names.setdefault(actor_id, "")
    actor_name = state.names.get(actor_id) if actor_id else None
    written = 0
    for route, user_id in targets:
        context = {**payload, **route.extra}
        if actor_name:
            context["actor_name"] = actor_name
        written += _notify(session, state, event, route, user_id, context)
    return written


def _notify(
    session: Session, state: _Txn, event: Any, route: Route, user_id: uuid.UUID, context: dict[str, Any]
) -> int:
    kind = KINDS[route.kind]
    profile = state.profiles[user_id]
    channels = profile.channels_for(kind)
    if not channels:
        return 0
    now = utcnow()
    in_app = IN_APP in channels
    title, body = kind.description, ""
    if in_app:
        title, body = render_in_app(kind, {**context, "time_zone": profile.time_zone}, locale=profile.locale)
    notification_id = uuid.uuid4()
    link = kind.link_for(context)
    inserted = session.execute(
        insert(Notification)
        .values(
            id=notification_id,
            user_id=user_id,
            kind=kind.name,
            event_id=event.id,
            event_type=event.type,
            title=title[:200],
            body=body,
            link=link[:500],
            in_app=in_app,
            data=context,
            created_at=now,
        )
        .on_conflict_do_nothing(constraint="uq_notifications_event_user")
        .returning(Notification.id)
    ).scalar()
    if inserted is None:
        return 0  # this event already notified this user (a redelivery)
    rows = []
    for channel in channels:
        if channel == IN_APP:
            continue
        row = _delivery_row(session, state, profile, kind, route, channel, context, now)
        if row is not None:
            rows.append({**row, "notification_id": notification_id, "user_id": user_id, "event_id": event.id})
    if rows:
        session.execute(insert(Delivery).values(rows).on_conflict_do_nothing(constraint="uq_deliveries_dedup"))
    if in_app:
        state.emits.append(
            (
                user_id,
                {
                    "id": str(notification_id),
                    "kind": kind.name,
                    "title": title,
                    "body": body,
                    "link": link,
                    "event_type": event.type,
                    "created_at": now.isoformat(),
                },
            )
        )
    return 1


def _delivery_row(
    session: Session,
    state: _Txn,
    profile: Profile,
    kind: Kind,
    route: Route,
    channel: str,
    context: dict[str, Any],
    now: datetime,
) -> dict[str, Any] | None:
    digest_key = route.digest_key(context) if channel == EMAIL else None
    not_before = None
    if digest_key is not None:
        if _is_online(state, profile.user_id):
            return None  # reading live on the socket: the in-app notification is enough
        batch_id, not_before = _digest_window(session, state, profile.user_id, kind, digest_key, now)
    elif (held := profile.held_until(kind, channel, now)) is not None:
        batch_id, not_before = _held_batch(state, profile.user_id, held), held
    else:
        batch_id = state.immediate_batch()
    address = context.get(route.address) if route.address and channel == EMAIL else None
    return {
        "id": uuid.uuid4(),
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
