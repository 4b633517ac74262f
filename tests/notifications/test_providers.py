"""Provider adapters against local servers speaking their wire formats; retries, backoff, dead letters."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from app.db import utcnow
from app.events import OutboxEvent
from app.extensions import db
from blueprints.notifications.models import NotificationSettings, Preference, PushDevice
from tests.notifications.conftest import attempts, count, deliveries
from tests.notifications.test_email import offer_for

SMS_ON = {"offer_received": {"sms": True, "email": False, "push": False}}


def sms_user(number: str = "+33612345678") -> uuid.UUID:
    user = uuid.uuid4()
    db.session.add(NotificationSettings(user_id=user, sms_number=number))
    for kind, channels in SMS_ON.items():
        for channel, enabled in channels.items():
            db.session.add(Preference(user_id=user, kind=kind, channel=channel, enabled=enabled))
    db.session.commit()
    return user


def push_user(token: str | None = None) -> tuple[uuid.UUID, str]:
    user = uuid.uuid4()
    token = token or "fcm-token-" + uuid.uuid4().hex
    db.session.add(PushDevice(user_id=user, token=token, platform="android"))
    db.session.add(Preference(user_id=user, kind="offer_received", channel="email", enabled=False))
    db.session.commit()
    return user, token


def settled(channel: str, user: uuid.UUID):  # type: ignore[no-untyped-def]
    def check() -> bool:
        found = deliveries(user_id=user, channel=channel)
        return bool(found) and all(d.status in ("sent", "dead", "skipped") for d in found)

    return check


def test_sms_goes_out_in_twilio_wire_format(notif_app, providers, emit, drain):
    user = sms_user()
    emit(offer_for(user, amount=999))
    drain(until=settled("sms", user))
    (request,) = providers.fixture.requests
    assert request.path == f"/2010-04-01/Accounts/AC{'0' * 32}/Messages.json"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.basic_auth() == (f"AC{'0' * 32}", "twilio-secret")
    assert request.form() == {
        "To": "+33612345678",
        "From": "+15005550006",
        "Body": "New offer: A buyer offered 9.99 EUR.",
    }
    (delivery,) = deliveries(user_id=user, channel="sms")
    assert delivery.status == "sent" and delivery.provider == "twilio"
    assert delivery.provider_message_id.startswith("SM")
    assert attempts(delivery_id=delivery.id)[0].provider_message_id == delivery.provider_message_id


def test_push_goes_out_in_fcm_v1_wire_format(notif_app, providers, emit, drain):
    user, token = push_user()
    emit(offer_for(user, amount=2500))
    drain(until=settled("push", user))
    (request,) = providers.fixture.requests
    assert request.path == "/v1/projects/bazaar-test/messages:send"
    assert request.headers["Authorization"] == "Bearer fcm-token"
    body = request.json()["message"]
    assert body["token"] == token
    assert body["notification"] == {"title": "New offer", "body": "A buyer offered 25.00 EUR."}
    assert body["data"]["kind"] == "offer_received" and body["data"]["link"].startswith("/offers/")
    (delivery,) = deliveries(user_id=user, channel="push")
    assert delivery.status == "sent" and delivery.provider == "fcm" and delivery.provider_message_id.startswith("0:")


def test_a_5xx_is_retried_with_backoff_then_sent(notif_app, providers, emit, drain):
    user = sms_user()
    providers.fixture.script.append((500, {"code": 20500, "message": "Internal Server Error", "status": 500}, {}))
    emit(offer_for(user))
    drain(until=settled("sms", user))
    (delivery,) = deliveries(user_id=user, channel="sms")
    assert delivery.status == "sent" and delivery.attempts == 2
    log = attempts(delivery_id=delivery.id)
    assert [a.status for a in log] == ["failed", "sent"]
    assert "twilio 500 20500 Internal Server Error" in log[0].error
    assert [a.attempt for a in log] == [1, 2]


def test_a_429_waits_at_least_retry_after(notif_app, providers, emit, drain, monkeypatch):
    user, _ = push_user()
    error = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "Quota exceeded",
                       "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                    "errorCode": "QUOTA_EXCEEDED"}]}}  # fmt: skip
    providers.fixture.script.append((429, error, {"Retry-After": "1"}))
    started = utcnow()
    emit(offer_for(user))
    drain(until=lambda: bool(attempts(user_id=user)))
    (delivery,) = deliveries(user_id=user, channel="push")
    assert delivery.status == "retrying"
    assert delivery.not_before >= started + timedelta(seconds=1)  # not the 50 ms backoff: the provider's wish
    assert "QUOTA_EXCEEDED" in delivery.last_error
    drain(until=settled("push", user), timeout=20)
    assert [a.status for a in attempts(delivery_id=delivery.id)] == ["failed", "sent"]


def test_provider_errors_that_persist_end_in_a_dead_letter(notif_app, providers, emit, drain, client, auth_headers):
    user = sms_user()
    for _ in range(3):
        providers.fixture.script.append((503, {"code": 20503, "message": "Service Unavailable"}, {}))
    emit(offer_for(user))
    drain(until=settled("sms", user))
    (delivery,) = deliveries(user_id=user, channel="sms")
    assert delivery.status == "dead" and delivery.attempts == 3  # NOTIFICATIONS_MAX_ATTEMPTS in tests
    assert delivery.last_error.startswith("gave up after 3 attempts")
    assert [a.status for a in attempts(delivery_id=delivery.id)] == ["failed", "failed", "failed"]
    assert len(providers.fixture.requests) == 3
    dead_letter = db.session.execute(
        select(OutboxEvent).where(OutboxEvent.type == "notifications.DeliveryDeadLettered")
    ).scalar_one()
    assert dead_letter.payload["delivery_id"] == str(delivery.id) and dead_letter.payload["channel"] == "sms"
    db.session.rollback()
    staff = auth_headers(uuid.uuid4(), roles=("staff",))
    listed = client.get("/notifications/deliveries?status=dead", headers=staff)
    assert listed.status_code == 200 and [d["id"] for d in listed.json["items"]] == [str(delivery.id)]
    as_user = client.get("/notifications/deliveries", headers=auth_headers(user))
    assert as_user.status_code == 200 and as_user.json["items"] == []  # staff only: a user sees none
    assert client.get(f"/notifications/deliveries/{delivery.id}", headers=auth_headers(user)).status_code == 404


def test_a_refusal_for_good_is_not_retried(notif_app, providers, emit, drain):
    user = sms_user("+15005550001")
    refusal = {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}
    providers.fixture.script.append((400, refusal, {}))
    emit(offer_for(user))
    drain(until=settled("sms", user))
    (delivery,) = deliveries(user_id=user, channel="sms")
    assert delivery.status == "dead" and delivery.attempts == 1
    assert [a.status for a in attempts(delivery_id=delivery.id)] == ["rejected"]
    assert len(providers.fixture.requests) == 1


def test_an_unregistered_device_token_is_forgotten(notif_app, providers, emit, drain):
    user, token = push_user()
    gone = {"error": {"code": 404, "status": "NOT_FOUND", "message": "Requested entity was not found.",
                      "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                   "errorCode": "UNREGISTERED"}]}}  # fmt: skip
    providers.fixture.script.append((404, gone, {}))
    emit(offer_for(user))
    drain(until=settled("push", user))
    (delivery,) = deliveries(user_id=user, channel="push")
    assert delivery.status == "dead" and "UNREGISTERED" in delivery.last_error
    assert count(PushDevice, token=token) == 0


def test_smtp_4xx_is_retried_and_5xx_is_a_dead_letter(notif_app, smtp, emit, drain, make_user):
    first, second = make_user("Ann"), make_user("Ben")
    smtp.mailbox.replies.extend(["451 4.7.1 greylisted, try again later"])
    emit(offer_for(first))
    drain(until=settled("email", first))
    (delivery,) = deliveries(user_id=first, channel="email")
    assert delivery.status == "sent"
    assert [a.status for a in attempts(delivery_id=delivery.id)] == ["failed", "sent"]
    assert len(smtp.mailbox.messages) == 1

    smtp.mailbox.replies.extend(["550 5.1.1 mailbox unavailable"])
    emit(offer_for(second))
    drain(until=settled("email", second))
    (refused,) = deliveries(user_id=second, channel="email")
    assert refused.status == "dead" and refused.last_error.startswith("SMTP 550")
    assert len(smtp.mailbox.messages) == 1


def test_an_smtp_server_that_is_down_is_retried(notif_app, emit, drain, make_user, monkeypatch):
    from tests.notifications.fakes import free_port

    monkeypatch.setitem(notif_app.config, "SMTP_PORT", free_port())  # nobody listens there
    user = make_user("Ann")
    emit(offer_for(user))
    drain(until=settled("email", user))
    (delivery,) = deliveries(user_id=user, channel="email")
    assert delivery.status == "dead" and delivery.attempts == 3
    assert all("SMTP connection failed" in a.error for a in attempts(delivery_id=delivery.id))
