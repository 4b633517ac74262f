"""Personal data in events: declared per event, left out of what integrators receive."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass

import pytest

from app.events import DomainEvent
from app.events.catalog import iter_event_classes, webhook_envelope
from blueprints.auth.events import NewLoginDetected

# Field names that are personal data wherever they appear; free text (message previews, offer notes)
# is declared per event, since a "message" may also be a provider's decline text.
ALWAYS_PERSONAL = {"email", "display_name", "ip", "user_agent", "device_name", "phone", "address"}


def test_every_event_declares_its_contact_and_network_fields_personal(app) -> None:  # type: ignore[no-untyped-def]
    """Every domain is loaded with the app: its events are in the catalog."""
    missing = [
        f"{cls.type} v{cls.version}.{f.name}"
        for cls in iter_event_classes()
        for f in dataclasses.fields(cls)
        if f.name in ALWAYS_PERSONAL and f.name not in cls.personal
    ]
    assert missing == []


def test_private_text_between_users_is_personal(app) -> None:  # type: ignore[no-untyped-def]
    by_type = {cls.type: cls for cls in iter_event_classes()}
    assert "preview" in by_type["messaging.MessageSent"].personal
    assert "message" in by_type["offers.OfferCreated"].personal
    assert "message" in by_type["offers.OfferCountered"].personal


def test_the_webhook_envelope_keeps_ids_and_drops_personal_fields() -> None:
    user_id, session_id = uuid.uuid4(), uuid.uuid4()
    event = NewLoginDetected(
        aggregate_id=user_id,
        user_id=user_id,
        email="ana@example.com",
        display_name="Ana",
        session_id=session_id,
        ip="203.0.113.9",
        user_agent="Firefox",
        device_name="Ana's phone",
    )
    envelope = webhook_envelope(event)
    assert envelope["data"] == {"user_id": str(user_id), "session_id": str(session_id)}
    assert {k: v for k, v in envelope.items() if k != "data"} == {
        k: v for k, v in event.envelope().items() if k != "data"
    }
    assert event.envelope()["data"]["email"] == "ana@example.com"  # subscribers inside still get it


def test_a_personal_name_that_is_no_field_is_refused() -> None:
    with pytest.raises(ValueError, match=r"personal names no field: \['mail'\]"):

        @dataclass(frozen=True, kw_only=True)
        class Misdeclared(DomainEvent):
            type = "tests.Misdeclared"
            version = 1
            personal = frozenset({"mail"})
            email: str
