"""Subscriber declarations: ``@subscribe("offers.OfferAccepted")`` in a domain's ``events.py``.

A handler takes the typed event and works in ``db.session`` **without committing**: the bus runs it in
a transaction that also records the delivery per (subscriber, event id), so a redelivery is a no-op
and the handler's writes and its delivery record commit together. Side effects outside the database
(emails, socket pushes, HTTP) belong in :func:`on_commit` callbacks, which run after that commit.

A handler that raises is retried with exponential backoff (durable timers), then parked as a dead
letter that staff can retry from the admin (``/admin`` > Events > Dead letters).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.db import db

__all__ = ["Subscriber", "all_subscribers", "on_commit", "subscribe", "subscribers_for"]

log = logging.getLogger(__name__)

WILDCARD = "*"
ON_COMMIT_KEY = "bazaar_on_commit"
TYPE_PATTERN = re.compile(r"^([a-z][a-z_]*\.[A-Z][A-Za-z0-9]+|[a-z][a-z_]*\.\*|\*)$")

Handler = Callable[[Any], None]


@dataclass(frozen=True)
class Subscriber:
    name: str
    types: tuple[str, ...]
    handler: Handler
    max_attempts: int | None = None  # None: EVENTS_RETRY_MAX_ATTEMPTS

    def wants(self, event_type: str) -> bool:
        domain = event_type.split(".", 1)[0]
        return any(t in (event_type, WILDCARD, f"{domain}.*") for t in self.types)


_SUBSCRIBERS: dict[str, Subscriber] = {}
_BY_TYPE: dict[str, tuple[Subscriber, ...]] = {}


def subscribe(*types: str, name: str | None = None, max_attempts: int | None = None) -> Callable[[Handler], Handler]:
    """Declare ``handler(event)`` for event types ("offers.OfferAccepted", "offers.*" or "*").

    ``name`` identifies the subscriber in delivery records (default: ``module.function``); keep it
    stable, since a renamed subscriber would handle again the events still in flight.
    """
    if not types:
        raise ValueError("subscribe() needs at least one event type")
    for event_type in types:
        if not TYPE_PATTERN.match(event_type):
            raise ValueError(f"bad event type {event_type!r}: use 'domain.EventName', 'domain.*' or '*'")

    def register(handler: Handler) -> Handler:
        key = name or f"{handler.__module__}.{handler.__qualname__}"
        if len(key) > 200:
            raise ValueError(f"subscriber name too long: {key!r}")
        existing = _SUBSCRIBERS.get(key)
        if existing is not None and existing.handler.__code__ is not handler.__code__:
            raise ValueError(f"two subscribers are named {key!r}")
        _SUBSCRIBERS[key] = Subscriber(name=key, types=tuple(types), handler=handler, max_attempts=max_attempts)
        _BY_TYPE.clear()
        return handler

    return register


def subscribers_for(event_type: str) -> tuple[Subscriber, ...]:
    """Subscribers of one event type, in a stable order (by name)."""
    found = _BY_TYPE.get(event_type)
    if found is None:
        found = _BY_TYPE[event_type] = tuple(s for _, s in sorted(_SUBSCRIBERS.items()) if s.wants(event_type))
    return found


def get_subscriber(name: str) -> Subscriber | None:
    return _SUBSCRIBERS.get(name)


def all_subscribers() -> list[Subscriber]:
    return [s for _, s in sorted(_SUBSCRIBERS.items())]


def on_commit(callback: Callable[[], None], *, session: Session | None = None) -> None:
    """Run ``callback`` after the session's current transaction commits; drop it if it rolls back.

    For side effects that must not happen for work that is undone (socket pushes, emails, HTTP).
    A callback that raises is logged, never propagated: the commit already happened.
    """
    session = session if session is not None else db.session
    session.info.setdefault(ON_COMMIT_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_on_commit(session: Session) -> None:
    for callback in session.info.pop(ON_COMMIT_KEY, ()):
        try:
            callback()
        except Exception:
            log.exception("on_commit callback %r failed", callback)


@event.listens_for(Session, "after_rollback")
def _drop_on_commit(session: Session) -> None:
    session.info.pop(ON_COMMIT_KEY, None)
