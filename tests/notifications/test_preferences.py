"""Preferences are honoured: defaults, switched-off channels, mandatory kinds, quiet hours in the user's zone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.db import utcnow
from app.extensions import db
from blueprints.auth.events import NewLoginDetected
from blueprints.notifications.models import NotificationSettings, Preference, PushDevice
from blueprints.notifications.preferences import quiet_hours_end
from tests.notifications.conftest import count, deliveries, notifications_of
from tests.notifications.routes_for_tests import PaymentSecured
from tests.notifications.test_email import offer_for


def add_device(user_id: uuid.UUID) -> None:
    db.session.add(PushDevice(user_id=user_id, token="fcm-" + uuid.uuid4().hex, platform="android"))
    db.session.commit()


def payment_held(buyer: uuid.UUID, seller: uuid.UUID) -> PaymentSecured:
    order_id = uuid.uuid4()
    return PaymentSecured(
        aggregate_id=order_id,
        actor=f"user:{buyer}",
        order_id=order_id,
        buyer_id=buyer,
        seller_id=seller,
        amount=4500,
        currency="EUR",
    )


# --- the API ------------------------------------------------------------------------------------


def test_defaults_are_listed_per_kind_and_channel(notif_app, client, auth_headers):
    response = client.get("/notifications/preferences", headers=auth_headers(uuid.uuid4()))
    assert response.status_code == 200
    kinds = {k["kind"]: k for k in response.json["preferences"]}
    assert kinds["offer_received"]["channels"]["sms"] == {"enabled": False, "mandatory": False, "default": False}
    assert kinds["offer_received"]["channels"]["email"] == {"enabled": True, "mandatory": False, "default": True}
    assert kinds["payment_held"]["channels"]["email"]["mandatory"] is True
    assert kinds["new_login"]["channels"]["in_app"]["mandatory"] is True
    assert client.get("/notifications/preferences").status_code == 401


def test_switching_a_mandatory_channel_off_is_a_422_naming_it_and_writes_nothing(notif_app, client, auth_headers):
    user = uuid.uuid4()
    body = {"preferences": {"offer_received": {"email": False}, "payment_held": {"email": False}}}
    response = client.patch("/notifications/preferences", json=body, headers=auth_headers(user))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.json["errors"]) == {"preferences.payment_held.email"}
    assert "mandatory" in response.json["errors"]["preferences.payment_held.email"][0]
    assert count(Preference, user_id=user) == 0  # the valid half was not written either

    for bad, field in (
        ({"no_such_kind": {"email": False}}, "preferences.no_such_kind"),
        ({"new_login": {"sms": True}}, "preferences.new_login.sms"),
        ({"new_login": {"push": False}, "mfa_changed": {"email": False}}, "preferences.mfa_changed.email"),
    ):
        response = client.patch("/notifications/preferences", json={"preferences": bad}, headers=auth_headers(user))
        assert response.status_code == 422, bad
        assert field in response.json["errors"], response.json
    response = client.patch(
        "/notifications/preferences",
        json={"preferences": {"offer_received": {"email": "no"}}},
        headers=auth_headers(user),
    )
    assert response.status_code == 422  # only JSON booleans
    assert count(Preference, user_id=user) == 0


def test_switched_off_channels_are_not_sent_and_mandatory_ones_always_are(notif_app, client, auth_headers, drain, emit):
    seller, buyer = uuid.uuid4(), uuid.uuid4()
    body = {"preferences": {"offer_received": {"in_app": False, "email": False}, "payment_held": {"push": False}}}
    response = client.patch("/notifications/preferences", json=body, headers=auth_headers(seller))
    assert response.status_code == 200, response.json
    shown = {k["kind"]: k["channels"] for k in response.json["preferences"]}
    assert shown["offer_received"]["email"]["enabled"] is False
    add_device(seller)

    emit(offer_for(seller, buyer), payment_held(buyer, seller))
    drain()
    by_kind: dict[str, set[str]] = {}
    for delivery in deliveries(user_id=seller):
        by_kind.setdefault(delivery.kind, set()).add(delivery.channel)
    assert by_kind["offer_received"] == {"push"}  # in-app and email were switched off
    assert by_kind["payment_held"] == {"email"}  # push off; email mandatory
    notes = {n.kind: n for n in notifications_of(seller)}
    assert notes["offer_received"].in_app is False
    assert notes["payment_held"].in_app is True  # mandatory in-app


def test_an_unreachable_channel_is_not_attempted(notif_app, drain, emit, client, auth_headers):
    seller = uuid.uuid4()
    client.patch(
        "/notifications/preferences",
        json={"preferences": {"offer_received": {"sms": True}}},
        headers=auth_headers(seller),
    )
    emit(offer_for(seller))
    drain()
    channels = {d.channel for d in deliveries(user_id=seller)}
    assert "sms" not in channels and "push" not in channels  # no number, no device


def test_settings_validation(notif_app, client, auth_headers):
    headers = auth_headers(uuid.uuid4())
    assert client.get("/notifications/settings", headers=headers).json == {
        "locale": "en",
        "time_zone": "UTC",
        "quiet_start": None,
        "quiet_end": None,
        "sms_number": None,
    }
    for body, field in (
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"quiet_start": "22:00"}, "quiet_end"),
        ({"sms_number": "0612345678"}, "sms_number"),
        ({"locale": "english please"}, "locale"),
        ({"quiet_start": "25:00", "quiet_end": "07:00"}, "quiet_start"),
        ({"user_id": str(uuid.uuid4())}, "user_id"),
    ):
        response = client.patch("/notifications/settings", json=body, headers=headers)
        assert response.status_code == 422, body
        assert field in response.json["errors"], response.json
    good = {"time_zone": "Asia/Tokyo", "quiet_start": "22:00", "quiet_end": "07:00", "sms_number": "+33612345678"}
    response = client.patch("/notifications/settings", json=good, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["quiet_start"] == "22:00:00" and response.json["time_zone"] == "Asia/Tokyo"


# --- quiet hours --------------------------------------------------------------------------------


PARIS = "Europe/Paris"


@pytest.mark.parametrize(
    ("local_now", "start", "end", "expected_local_end"),
    [
        ("2026-11-26 23:30", "22:00", "07:00", "2026-11-27 07:00"),  # before midnight, spans it
        ("2026-11-27 03:00", "22:00", "07:00", "2026-11-27 07:00"),  # after midnight
        ("2026-11-27 07:00", "22:00", "07:00", None),  # the end is not quiet any more
        ("2026-11-27 12:00", "22:00", "07:00", None),
        ("2026-11-27 13:30", "13:00", "14:00", "2026-11-27 14:00"),  # same-day window
        ("2026-03-28 23:00", "22:00", "07:00", "2026-03-29 07:00"),  # across the spring DST change
    ],
)
def test_quiet_hours_end_in_the_users_time_zone(local_now, start, end, expected_local_end):
    zone = ZoneInfo(PARIS)
    now = datetime.strptime(local_now, "%Y-%m-%d %H:%M").replace(tzinfo=zone).astimezone(UTC)
    result = quiet_hours_end(time.fromisoformat(start), time.fromisoformat(end), PARIS, now)
    if expected_local_end is None:
        assert result is None
    else:
        expected = datetime.strptime(expected_local_end, "%Y-%m-%d %H:%M").replace(tzinfo=zone).astimezone(UTC)
        assert result == expected and result.tzinfo is not None


def test_quiet_hours_hold_push_until_they_end_but_not_email_nor_security_alerts(notif_app, drain, emit):
    seller = uuid.uuid4()
    zone = "America/New_York"
    local_now = utcnow().astimezone(ZoneInfo(zone))
    start = (local_now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (local_now + timedelta(hours=2)).time().replace(second=0, microsecond=0)
    db.session.add(NotificationSettings(user_id=seller, time_zone=zone, quiet_start=start, quiet_end=end))
    db.session.commit()
    add_device(seller)

    emit(
        offer_for(seller),
        NewLoginDetected(
            aggregate_id=seller,
            user_id=seller,
            email="x@example.test",
            display_name="S",
            session_id=uuid.uuid4(),
            ip=None,
            user_agent=None,
            device_name=None,
        ),
    )
    drain()
    pushes = {d.kind: d for d in deliveries(user_id=seller, channel="push")}
    held = pushes["offer_received"]
    expected_end = quiet_hours_end(start, end, zone, utcnow())
    assert held.status == "pending" and held.not_before is not None
    assert abs(held.not_before - expected_end) < timedelta(minutes=2)
    assert pushes["new_login"].status == "sent"  # urgent: quiet hours do not hold security alerts
    email = deliveries(user_id=seller, channel="email", kind="offer_received")[0]
    assert email.not_before is None  # quiet hours are for push and SMS only

    # When the quiet hours end, the held push goes out through its durable timer.
    db.session.execute(
        db.text("UPDATE notifications.deliveries SET not_before = now() WHERE id = :id"), {"id": held.id}
    )
    db.session.execute(
        db.text("UPDATE platform.timers SET due_at = now() WHERE key LIKE :key"), {"key": f"{held.batch_id}:quiet"}
    )
    db.session.commit()
    drain()
    assert deliveries(id=held.id)[0].status == "sent"
