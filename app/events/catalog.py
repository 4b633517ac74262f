"""Typed, versioned domain events and the registry of every event type (the catalog).

A domain declares an event as a frozen, keyword-only dataclass subclass in its ``events.py``::

    @dataclass(frozen=True, kw_only=True)
    class UserRegistered(DomainEvent):
        \"\"\"A person created an account (email not yet verified).\"\"\"

        type = "auth.UserRegistered"   # "<domain>.<PastTenseName>", unique
        version = 1                    # bump when the payload changes incompatibly; keep the old class
        user_id: uuid.UUID
        email: str

    publish(UserRegistered(aggregate_id=user.id, user_id=user.id, email=user.email, actor="user:<id>"))

Envelope fields (every event): ``id`` (UUID), ``occurred_at`` (UTC), ``actor`` ("user:<id>",
"staff:<id>" or "system"), ``aggregate_id`` (the id of the thing that changed: events of one
aggregate reach subscribers in commit order). Every other field is the payload: JSON-friendly types
only (str, int, bool, float, UUID, datetime, date, Enum, lists and dicts of those, ``X | None``).
"""

from __future__ import annotations

import dataclasses
import enum
import re
import types
import typing
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from app.db import utcnow

__all__ = [
    "DomainEvent",
    "RecordedEvent",
    "event_class",
    "event_types",
    "is_internal",
    "iter_event_classes",
    "payload_schema",
    "webhook_envelope",
    "webhook_event_types",
]

TYPE_NAME = re.compile(r"^[a-z][a-z_]*\.[A-Z][A-Za-z0-9]+$")
ENVELOPE_FIELDS = frozenset({"id", "occurred_at", "actor", "aggregate_id"})

_REGISTRY: dict[tuple[str, int], type[DomainEvent]] = {}
_INTERNAL_TYPES: set[str] = set()  # types with an ``internal`` version: never sent to webhooks
_PERSONAL: dict[str, frozenset[str]] = {}  # type -> personal fields of any of its versions


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Base of every domain event; subclasses set ``type`` and ``version`` as class attributes."""

    type: ClassVar[str] = ""
    version: ClassVar[int] = 1
    #: True for events that carry secrets (one-time tokens): subscribers get them, webhooks never do.
    internal: ClassVar[bool] = False
    #: Payload fields with personal data (contact details, names, network identifiers, private text):
    #: subscribers inside the platform get them, webhook bodies leave them out (integrators get ids).
    personal: ClassVar[frozenset[str]] = frozenset()

    aggregate_id: uuid.UUID | str
    actor: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=utcnow)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("type"):
            return  # an abstract intermediate base
        if not TYPE_NAME.match(cls.type):
            raise ValueError(f"event type {cls.type!r} must look like 'domain.PastTenseName'")
        key = (cls.type, cls.version)
        known = _REGISTRY.get(key)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise ValueError(f"event {cls.type} v{cls.version} declared twice ({known.__module__}, {cls.__module__})")
        _REGISTRY[key] = cls
        if cls.internal:
            _INTERNAL_TYPES.add(cls.type)
        declared = {name for klass in cls.__mro__ for name in vars(klass).get("__annotations__", {})}
        if unknown := cls.personal - declared:
            raise ValueError(f"event {cls.type}: personal names no field: {sorted(unknown)}")
        _PERSONAL[cls.type] = _PERSONAL.get(cls.type, frozenset()) | cls.personal

    @property
    def domain(self) -> str:
        return self.type.split(".", 1)[0]

    def payload(self) -> dict[str, Any]:
        """The JSON payload: every field but the envelope, with UUIDs and datetimes as strings."""
        return {
            f.name: to_json(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name not in ENVELOPE_FIELDS
        }

    def envelope(self) -> dict[str, Any]:
        """The documented wire shape (webhooks, realtime): envelope + ``data`` payload."""
        return {
            "id": str(self.id),
            "type": self.type,
            "version": self.version,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": self.actor,
            "aggregate_id": str(self.aggregate_id),
            "data": self.payload(),
        }


@dataclass(frozen=True, kw_only=True)
class RecordedEvent:
    """An event whose class this process does not know (an old version, a removed type): raw payload."""

    type: str
    version: int
    aggregate_id: str
    actor: str | None
    id: uuid.UUID
    occurred_at: datetime
    data: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return dict(self.data)

    def envelope(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "version": self.version,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": self.actor,
            "aggregate_id": self.aggregate_id,
            "data": self.payload(),
        }


def to_json(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    return value


def _from_json(hint: Any, value: Any) -> Any:
    """Inverse of :func:`to_json` guided by the field's type hint (best effort, never lossy)."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            if arg is type(None):
                continue
            try:
                return _from_json(arg, value)
            except (TypeError, ValueError):
                continue
        return value
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if hint is uuid.UUID:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    if hint is datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if hint is date:
        return value if isinstance(value, date) else date.fromisoformat(value)
    if origin in (list, tuple) and typing.get_args(hint):
        items = [_from_json(typing.get_args(hint)[0], v) for v in value]
        return tuple(items) if origin is tuple else items
    return value


def load_event(
    *,
    type: str,
    version: int,
    id: uuid.UUID,
    occurred_at: datetime,
    actor: str | None,
    aggregate_id: str,
    payload: dict[str, Any],
) -> DomainEvent | RecordedEvent:
    """Rebuild the typed event from a stored row (a :class:`RecordedEvent` when the class is unknown)."""
    cls = _REGISTRY.get((type, version))
    if cls is None:
        return RecordedEvent(
            type=type,
            version=version,
            aggregate_id=aggregate_id,
            actor=actor,
            id=id,
            occurred_at=occurred_at,
            data=payload,
        )
    hints = _hints(cls)
    kwargs = {name: _from_json(hints.get(name, Any), value) for name, value in payload.items() if name in hints}
    agg = _from_json(hints["aggregate_id"], aggregate_id)
    return cls(id=id, occurred_at=occurred_at, actor=actor, aggregate_id=agg, **kwargs)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def event_class(type_: str, version: int | None = None) -> type[DomainEvent] | None:
    """The class of an event type (its latest version when ``version`` is None)."""
    if version is not None:
        return _REGISTRY.get((type_, version))
    versions = [v for (t, v) in _REGISTRY if t == type_]
    return _REGISTRY[(type_, max(versions))] if versions else None


def event_types() -> list[str]:
    return sorted({t for (t, _v) in _REGISTRY})


def webhook_event_types() -> list[str]:
    """The types integrators may receive: every declared type none of whose versions is ``internal``."""
    return sorted({t for (t, _v) in _REGISTRY} - _INTERNAL_TYPES)


def personal_fields(event_type: str) -> frozenset[str]:
    """Payload fields left out of webhook bodies: the personal fields of every version of the type
    (so an event recorded under a version this process no longer declares is redacted too)."""
    return _PERSONAL.get(event_type, frozenset())


def webhook_envelope(event: DomainEvent | RecordedEvent) -> dict[str, Any]:
    """The envelope integrators receive: the documented shape without the personal fields."""
    envelope = event.envelope()
    hidden = personal_fields(event.type)
    if hidden:
        envelope["data"] = {k: v for k, v in envelope["data"].items() if k not in hidden}
    return envelope


def is_internal(event_type: str) -> bool:
    """Whether events of this type carry secrets and must never leave the platform (webhooks)."""
    return event_type in _INTERNAL_TYPES


def iter_event_classes() -> Iterator[type[DomainEvent]]:
    for key in sorted(_REGISTRY):
        yield _REGISTRY[key]


_JSON_TYPES: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    uuid.UUID: {"type": "string", "format": "uuid"},
    datetime: {"type": "string", "format": "date-time"},
    date: {"type": "string", "format": "date"},
    Any: {},
}


def _json_schema(hint: Any) -> dict[str, Any]:
    if hint in _JSON_TYPES:
        return dict(_JSON_TYPES[hint])
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"enum": [member.value for member in hint]}
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [_json_schema(a) for a in args if a is not type(None)]
        schema = options[0] if len(options) == 1 else {"anyOf": options}
        return {**schema, "nullable": True} if type(None) in args else schema
    if origin in (list, tuple, set, frozenset):
        return {"type": "array", "items": _json_schema(args[0]) if args else {}}
    if origin is dict or hint is dict:
        return {"type": "object"}
    if origin is typing.Literal:
        return {"enum": list(args)}
    return {"type": "string"}


def payload_schema(cls: type[DomainEvent]) -> dict[str, Any]:
    """JSON Schema of an event's payload, derived from the dataclass fields (the catalog's source)."""
    hints = _hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):
        if f.name in ENVELOPE_FIELDS:
            continue
        properties[f.name] = _json_schema(hints[f.name])
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    return {"type": "object", "properties": properties, "required": required}
