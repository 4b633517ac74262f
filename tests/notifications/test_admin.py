"""Staff views: the delivery log (searchable), the sent/failed chart, template previews, and resend."""

from __future__ import annotations

import uuid
from datetime import timedelta

from app.db import utcnow
from app.extensions import db
from blueprints.auth.events import PasswordResetRequested
from blueprints.notifications.catalog import KINDS
from blueprints.notifications.models import Delivery, DeliveryAttempt, Notification
from tests.generator.conftest import admin_login
from tests.notifications.conftest import attempts, deliveries
from tests.notifications.test_email import offer_for

DELIVERIES = "/admin/notifications/delivery"
LOG = "/admin/notifications/deliveryattempt"


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_delivery_log_chart_and_previews_for_trust_and_safety(notif_app, client, smtp, emit, drain, make_user):
    seller = make_user("Sam")
    smtp.mailbox.replies.append("451 4.7.1 try later")
    emit(offer_for(seller))
    drain(until=lambda: any(a.status == "sent" for a in attempts(user_id=seller)))
    (delivery,) = deliveries(user_id=seller, channel="email")
    admin_login(notif_app, client, role="TrustSafety")

    log = client.get(f"{LOG}/list/")
    assert log.status_code == 200
    assert f"{delivery.id}.0@bazaar.test" in text(log)  # the Message-ID, shown escaped
    found = client.get(f"{LOG}/list/?_flt_0_provider_message_id={delivery.provider_message_id}")
    assert found.status_code == 200
    assert client.get(f"{DELIVERIES}/show/{delivery.id}").status_code == 200

    chart = client.get("/admin/notifications/delivery-chart/")
    assert chart.status_code == 200
    page = text(chart)
    assert "<svg" in page and "email: sent / failed per day (UTC)" in page
    today = utcnow().strftime("%m-%d")
    assert f"{today} sent" in page and f"{today} failed" in page

    kinds = client.get("/admin/notifications/templates/")
    assert kinds.status_code == 200 and "payment_held" in text(kinds)
    for kind in KINDS.values():
        preview = client.get(f"/admin/notifications/templates/{kind.name}?locale=en")
        assert preview.status_code == 200, kind.name
        assert "srcdoc=" in text(preview)
    assert client.get("/admin/notifications/templates/no_such_kind").status_code == 404


def test_delivery_chart_counts_per_channel_and_day(notif_app):
    from blueprints.notifications.service import delivery_chart

    now = utcnow()
    note = Notification(user_id=uuid.uuid4(), kind="offer_received", event_id=uuid.uuid4(), event_type="x.Y", title="t")
    db.session.add(note)
    db.session.flush()
    delivery = Delivery(
        notification_id=note.id,
        user_id=note.user_id,
        event_id=note.event_id,
        kind=note.kind,
        channel="email",
        batch_id=uuid.uuid4(),
    )
    db.session.add(delivery)
    db.session.flush()
    rows = [
        ("email", "sent", now),
        ("email", "sent", now),
        ("email", "failed", now),
        ("sms", "rejected", now - timedelta(days=1)),
        ("push", "sent", now - timedelta(days=30)),  # outside the window
    ]
    for channel, status, when in rows:
        db.session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                user_id=uuid.uuid4(),
                kind="offer_received",
                channel=channel,
                attempt=1,
                status=status,
                created_at=when,
            )
        )
    db.session.flush()
    chart = delivery_chart(days=14)
    db.session.rollback()
    today, yesterday = now.strftime("%Y-%m-%d"), (now - timedelta(days=1)).strftime("%Y-%m-%d")
    assert chart == {"email": [(today, 2, 1)], "sms": [(yesterday, 0, 1)]}


def test_staff_resend_sends_again_with_a_new_message_id(notif_app, client, smtp, emit, drain, make_user, auth_headers):
    seller = make_user("Sam")
    emit(offer_for(seller))
    drain()
    (delivery,) = deliveries(user_id=seller, channel="email")
    staff_id = uuid.uuid4()
    staff = auth_headers(staff_id, roles=("staff",))

    assert client.post(f"/notifications/deliveries/{delivery.id}/resend", headers=auth_headers(seller)).status_code in (
        403,
        404,
    )
    response = client.post(f"/notifications/deliveries/{delivery.id}/resend", headers=staff)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "pending" and response.json["resends"] == 1
    drain()
    first, second = smtp.mailbox.wait_for(2)
    assert first.message_id == f"<{delivery.id}.0@bazaar.test>"
    assert second.message_id == f"<{delivery.id}.1@bazaar.test>"
    log = attempts(delivery_id=delivery.id)
    assert [a.status for a in log] == ["sent", "resend", "sent"]
    assert log[1].actor == f"user:{staff_id}"


def test_resend_is_refused_while_in_flight_and_for_spent_single_use_links(
    notif_app, client, smtp, emit, drain, make_user, auth_headers
):
    user = make_user("Alice")
    emit(
        PasswordResetRequested(
            aggregate_id=user,
            user_id=user,
            email="alice@example.test",
            display_name="Alice",
            token="reset-" + uuid.uuid4().hex,
            expires_at=utcnow() + timedelta(hours=1),
        )
    )
    drain()
    (delivery,) = deliveries(user_id=user, channel="email", kind="password_reset")
    assert delivery.status == "sent"
    staff = auth_headers(uuid.uuid4(), roles=("staff",))
    response = client.post(f"/notifications/deliveries/{delivery.id}/resend", headers=staff)
    assert response.status_code == 409
    assert response.json["errors"] == {"kind": ["password_reset cannot be resent."]}

    seller = make_user("Sam")
    emit(offer_for(seller))  # not drained: its email delivery is still pending
    from app.events.relay import Relay
    from tests.notifications.conftest import run_worker_burst

    Relay(notif_app).dispatch_outbox()
    run_worker_burst(notif_app, queues=("events",))
    (waiting,) = deliveries(user_id=seller, channel="email")
    assert waiting.status == "pending"
    busy = client.post(f"/notifications/deliveries/{waiting.id}/resend", headers=staff)
    assert busy.status_code == 409 and "status" in busy.json["errors"]


def test_the_admin_resend_button_queues_the_delivery_again(notif_app, client, smtp, emit, drain, make_user):
    seller = make_user("Sam")
    emit(offer_for(seller))
    drain()
    (delivery,) = deliveries(user_id=seller, channel="email")
    admin_login(notif_app, client, role="TrustSafety")
    assert "Resend" in text(client.get(f"{DELIVERIES}/show/{delivery.id}"))
    response = client.post(f"{DELIVERIES}/action/resend/{delivery.id}")
    assert response.status_code == 302
    (again,) = deliveries(user_id=seller, channel="email")
    assert (again.status, again.resends) == ("pending", 1)
    resend = attempts(delivery_id=delivery.id, status="resend")[0]
    assert resend.actor.startswith("staff:")
    drain()
    assert [m.message_id for m in smtp.mailbox.wait_for(2)][1] == f"<{delivery.id}.1@bazaar.test>"
