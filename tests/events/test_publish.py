"""publish(): the outbox row lives and dies with the caller's transaction; events are typed and versioned."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.events import DomainEvent, publish
from app.events.catalog import RecordedEvent, event_class, load_event, payload_schema
from app.events.outbox import OutboxEvent
from app.extensions import db


@dataclass(frozen=True, kw_only=True)
class WidgetShipped(DomainEvent):
    """Test event: a widget left the warehouse."""

    type = "tests.WidgetShipped"
    version = 1
    widget_id: uuid.UUID
    carrier: str
    shipped_at: datetime
    tags: list[str]
    note: str | None = None


def _count() -> int:
    return db.session.execute(select(func.count()).select_from(OutboxEvent)).scalar_one()


def _event(**overrides) -> WidgetShipped:
    widget = uuid.uuid4()
    values = dict(
        aggregate_id=widget, widget_id=widget, carrier="dhl", shipped_at=datetime.now().astimezone(), tags=["a"]
    )
    values.update(overrides)
    return WidgetShipped(**values)


def test_rolled_back_publish_leaves_no_outbox_row(app_ctx):
    publish(_event())
    db.session.flush()
    assert _count() == 1
    db.session.rollback()
    assert _count() == 0


def test_committed_publish_stores_envelope_and_payload(app_ctx):
    event = _event(actor="user:42")
    publish(event)
    db.session.commit()
    row = db.session.execute(select(OutboxEvent)).scalar_one()
    assert (row.id, row.type, row.version, row.actor) == (event.id, "tests.WidgetShipped", 1, "user:42")
    assert row.aggregate_id == str(event.widget_id)
    assert row.payload["widget_id"] == str(event.widget_id)
    assert row.payload["tags"] == ["a"] and row.payload["note"] is None
    assert row.position > 0 and row.dispatched_at is None
    again = row.to_event()
    assert isinstance(again, WidgetShipped)
    assert again == event


def test_actor_defaults_to_system_outside_requests(app_ctx):
    publish(_event())
    db.session.commit()
    assert db.session.execute(select(OutboxEvent.actor)).scalar_one() == "system"


def test_positions_follow_publish_order(app_ctx):
    events = [_event() for _ in range(5)]
    for event in events:
        publish(event)
    db.session.commit()
    rows = db.session.execute(select(OutboxEvent.id).order_by(OutboxEvent.position)).scalars().all()
    assert rows == [e.id for e in events]


def test_publish_refuses_a_non_event(app_ctx):
    with pytest.raises(TypeError):
        publish({"type": "tests.WidgetShipped"})  # type: ignore[arg-type]


def test_event_type_names_are_checked_and_unique():
    with pytest.raises(ValueError, match=r"domain\.PastTenseName"):

        @dataclass(frozen=True, kw_only=True)
        class Bad(DomainEvent):
            type = "not a type"

    with pytest.raises(ValueError, match="declared twice"):

        @dataclass(frozen=True, kw_only=True)
        class Impostor(DomainEvent):
            type = "tests.WidgetShipped"


def test_unknown_versions_load_as_recorded_events():
    loaded = load_event(
        type="tests.WidgetShipped",
        version=99,
        id=uuid.uuid4(),
        occurred_at=datetime.now().astimezone(),
        actor="system",
        aggregate_id="x",
        payload={"anything": 1},
    )
    assert isinstance(loaded, RecordedEvent)
    assert loaded.payload() == {"anything": 1}


def test_payload_schema_is_derived_from_fields():
    assert event_class("tests.WidgetShipped") is WidgetShipped
    schema = payload_schema(WidgetShipped)
    assert schema["required"] == ["widget_id", "carrier", "shipped_at", "tags"]
    assert schema["properties"]["widget_id"] == {"type": "string", "format": "uuid"}
    assert schema["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    assert schema["properties"]["note"] == {"type": "string", "nullable": True}


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True, kw_only=True)
class Painted(DomainEvent):
    type = "tests.Painted"
    version = 1
    colour: Colour
    previous: Colour | None = None
    ids: list[uuid.UUID]


def test_enums_and_uuid_lists_round_trip_through_the_outbox(app_ctx):
    event = Painted(aggregate_id=uuid.uuid4(), colour=Colour.BLUE, ids=[uuid.uuid4()])
    publish(event)
    db.session.commit()
    row = db.session.execute(select(OutboxEvent)).scalar_one()
    assert row.payload == {"colour": "blue", "previous": None, "ids": [str(event.ids[0])]}
    loaded = row.to_event()
    assert loaded.colour is Colour.BLUE and loaded.ids == event.ids
    schema = payload_schema(Painted)["properties"]
    assert schema["colour"] == {"enum": ["red", "blue"]}
    assert schema["previous"] == {"enum": ["red", "blue"], "nullable": True}
