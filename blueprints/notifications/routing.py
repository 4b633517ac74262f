"""Declarations that turn another domain's event into notifications: event type -> kind -> recipients.

    Route("offers.OfferCountered", "offer_countered", to=others("buyer_id", "seller_id"))

``to`` names payload fields holding user ids (one id or a list), or is :func:`others`, which drops the
user who caused the event (the envelope's ``actor``), so the party who acted is not told about it.
``when`` filters on the payload; ``address`` names a payload field with the email address to write to
(auth mail goes to the address being verified); ``digest_by`` groups a chatty kind's emails (a thread);
``extra`` adds constant context (``{"role": "seller"}``). A payload missing a named field is an error:
the event is retried, then dead-lettered where staff see it, rather than silently dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from blueprints.notifications.catalog import KINDS

Recipients = Callable[[Mapping[str, Any], str | None], list[uuid.UUID]]


class RouteError(LookupError):
    """The event's payload lacks what a route declares (a contract mismatch between domains)."""


def _ids(payload: Mapping[str, Any], names: tuple[str, ...]) -> list[uuid.UUID]:
    found: list[uuid.UUID] = []
    for name in names:
        if name not in payload:
            raise RouteError(f"payload has no field {name!r} (fields: {', '.join(sorted(payload))})")
        value = payload[name]
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is not None:
                found.append(item if isinstance(item, uuid.UUID) else uuid.UUID(str(item)))
    return list(dict.fromkeys(found))


def fields(*names: str) -> Recipients:
    """The users named in these payload fields."""
    return lambda payload, actor: _ids(payload, names)


def others(*names: str) -> Recipients:
    """The users named in these fields, except the one who caused the event."""

    def pick(payload: Mapping[str, Any], actor: str | None) -> list[uuid.UUID]:
        acting = actor.split(":", 1)[1] if actor and actor.startswith("user:") else None
        return [uid for uid in _ids(payload, names) if str(uid) != acting]

    return pick


PARTIES = {"buyer": "buyer_id", "seller": "seller_id"}


def party(role_field: str) -> Recipients:
    """The party a payload field names ("buyer" or "seller"): ``party("author")`` is who proposed an amount."""

    def pick(payload: Mapping[str, Any], actor: str | None) -> list[uuid.UUID]:
        role = _role(payload, role_field)
        return _ids(payload, (PARTIES[role],))

    return pick


def counterparty(role_field: str) -> Recipients:
    """The other party than the one a payload field names (a counter-offer awaits the non-author)."""

    def pick(payload: Mapping[str, Any], actor: str | None) -> list[uuid.UUID]:
        role = _role(payload, role_field)
        return _ids(payload, tuple(f for r, f in PARTIES.items() if r != role))

    return pick


def _role(payload: Mapping[str, Any], role_field: str) -> str:
    role = payload.get(role_field)
    if role not in PARTIES:
        raise RouteError(f"payload field {role_field!r} is {role!r}, expected one of {', '.join(PARTIES)}")
    return str(role)


@dataclass(frozen=True)
class Route:
    event_type: str
    kind: str
    to: Recipients | str | tuple[str, ...]
    when: Callable[[Mapping[str, Any]], bool] | None = None
    address: str | None = None
    digest_by: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"route {self.event_type}: unknown kind {self.kind!r}")
        if "." not in self.event_type:
            raise ValueError(f"route {self.event_type!r}: expected 'domain.EventName'")
        if KINDS[self.kind].digest and not self.digest_by:
            raise ValueError(f"route {self.event_type} -> {self.kind}: a digest kind needs digest_by")

    def recipients(self, payload: Mapping[str, Any], actor: str | None) -> list[uuid.UUID]:
        if isinstance(self.to, str):
            return _ids(payload, (self.to,))
        if isinstance(self.to, tuple):
            return _ids(payload, self.to)
        return self.to(payload, actor)

    def applies(self, payload: Mapping[str, Any]) -> bool:
        return self.when is None or bool(self.when(payload))

    def digest_key(self, payload: Mapping[str, Any]) -> str | None:
        if not self.digest_by:
            return None
        if self.digest_by not in payload:
            raise RouteError(f"payload has no field {self.digest_by!r} to group {self.kind} digests")
        return f"{self.digest_by}:{payload[self.digest_by]}"[:120]


def declare(*routes: Route) -> dict[str, tuple[Route, ...]]:
    """Index routes by event type (the subscriber's lookup table)."""
    table: dict[str, list[Route]] = {}
    for route in routes:
        table.setdefault(route.event_type, []).append(route)
    return {event_type: tuple(found) for event_type, found in table.items()}
