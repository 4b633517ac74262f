"""What staff, integrators and clients see of the bus: admin pages and actions, the catalog, realtime."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from admin.accounts import ensure_staff
from admin.roles import TRUST_SAFETY
from app.events import publish, schedule
from app.events.records import EventDelivery
from app.events.timers import Timer
from app.events.webhook_models import WebhookDelivery, WebhookEndpoint
from app.extensions import db
from app.realtime import NAMESPACE, get_socketio
from tests.events.conftest import FAST
from tests.events.handlers import DoomedHappened, Pinged, Waved


def login(client, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/admin/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"username": email, "password": password, **({"csrf_token": token.group(1)} if token else {})}
    assert client.post("/admin/login/", data=data).status_code == 302


@pytest.fixture
def staff(events_app):  # type: ignore[no-untyped-def]
    ensure_staff(email="ops@bazaar.test", password="ops-password", role="Admin")
    ensure_staff(email="ts@bazaar.test", password="ts-password", role=TRUST_SAFETY)
    db.session.commit()


def _dead_letter(drain) -> EventDelivery:  # type: ignore[no-untyped-def]
    event = DoomedHappened(aggregate_id=uuid.uuid4())
    publish(event)
    db.session.commit()
    query = select(EventDelivery).where(EventDelivery.event_id == event.id, EventDelivery.subscriber == "tests.doomed")

    def dead() -> bool:
        delivery = db.session.execute(query).scalar_one_or_none()
        db.session.rollback()
        return delivery is not None and delivery.status == "dead"

    drain(until=dead)
    delivery = db.session.execute(query).scalar_one()
    db.session.rollback()
    return delivery


def test_event_pages_need_a_staff_login(client):
    for url in ("/admin/events/flow/", "/admin/events/outbox/list/", "/admin/events/dead-letters/list/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_staff_see_the_flow_chart_outbox_and_dead_letters_and_retry_one(client, staff, drain):
    publish(Pinged(aggregate_id=uuid.uuid4(), n=1))
    db.session.commit()
    dead = _dead_letter(drain)
    login(client, "ops@bazaar.test", "ops-password")

    flow = client.get("/admin/events/flow/?range=7d").get_data(as_text=True)
    assert 'class="bz-chart"' in flow and "tests.Pinged (1)" in flow and "tests.DoomedHappened (1)" in flow
    assert re.search(r"Dead letters</div><div[^>]*>1<", flow)
    outbox = client.get("/admin/events/outbox/list/?_flt_0_type=tests.Pinged").get_data(as_text=True)
    assert "tests.Pinged" in outbox and "tests.DoomedHappened" not in outbox
    letters = client.get("/admin/events/dead-letters/list/").get_data(as_text=True)
    assert "tests.doomed" in letters and "doomed subscriber always fails" in letters
    assert "tests.recorder_a" not in letters  # done deliveries are not dead letters

    response = client.post(
        "/admin/events/dead-letters/action_post", data={"action": "retry_delivery", "rowid": str(dead.id)}
    )
    assert response.status_code == 302
    assert db.session.get(EventDelivery, dead.id).status == "retrying"
    db.session.rollback()


def test_trust_and_safety_read_the_pages_but_cannot_retry(client, staff, drain):
    dead = _dead_letter(drain)
    login(client, "ts@bazaar.test", "ts-password")
    assert client.get("/admin/events/dead-letters/list/").status_code == 200
    client.post("/admin/events/dead-letters/action_post", data={"action": "retry_delivery", "rowid": str(dead.id)})
    assert db.session.get(EventDelivery, dead.id).status == "dead"
    db.session.rollback()


def test_staff_register_a_webhook_endpoint_and_replay_a_delivery(client, staff, events_app):
    login(client, "ops@bazaar.test", "ops-password")
    refused = client.post(
        "/admin/events/webhook-endpoints/add",
        data={"url": "ftp://nowhere/x", "event_types": "tests.Pinged", "description": "x", "active": "y"},
    )
    assert refused.status_code == 200 and "scheme must be" in refused.get_data(as_text=True)
    added = client.post(
        "/admin/events/webhook-endpoints/add",
        data={
            "url": "http://127.0.0.1:9/in",
            "event_types": "tests.Pinged, tests.*",
            "description": "crm",
            "active": "y",
        },
    )
    assert added.status_code == 302
    endpoint = db.session.execute(select(WebhookEndpoint)).scalar_one()
    assert endpoint.event_types == ["tests.Pinged", "tests.*"] and endpoint.secret.startswith("whsec_")
    delivery = WebhookDelivery(endpoint_id=endpoint.id, event_id=uuid.uuid4(), event_type="tests.Pinged", body="{}")
    delivery.status = "failed"
    db.session.add(delivery)
    db.session.commit()
    listing = client.get("/admin/events/webhook-deliveries/list/?_flt_0_status=failed").get_data(as_text=True)
    assert "http://127.0.0.1:9/in" in listing
    client.post(
        "/admin/events/webhook-deliveries/action_post", data={"action": "replay_webhook", "rowid": str(delivery.id)}
    )
    db.session.rollback()
    assert db.session.get(WebhookDelivery, delivery.id).status == "pending"
    timers = db.session.execute(select(Timer).where(Timer.name == "webhooks.attempt")).scalars().all()
    assert [t.payload["delivery_id"] for t in timers] == [str(delivery.id)]


def test_staff_rearm_a_dead_timer(client, staff, drain):
    schedule("tests.ring", timedelta(0), {"fail_times": 99}, key="stuck")
    db.session.commit()
    drain(until=lambda: db.session.execute(select(Timer.state).where(Timer.key == "stuck")).scalar_one() == "dead")
    timer = db.session.execute(select(Timer).where(Timer.key == "stuck")).scalar_one()
    db.session.rollback()
    login(client, "ops@bazaar.test", "ops-password")
    assert "stuck" in client.get("/admin/events/timers/list/?_flt_0_state=dead").get_data(as_text=True)
    client.post("/admin/events/timers/action_post", data={"action": "rearm_timer", "rowid": str(timer.id)})
    assert db.session.get(Timer, timer.id).state == "scheduled"
    db.session.rollback()


def test_the_catalog_page_lists_each_event_with_its_payload_schema(client):
    data = client.get("/docs/events.json").json
    pinged = next(e for e in data["events"] if e["type"] == "tests.Pinged")
    assert pinged["version"] == 1
    assert pinged["payload"] == {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    assert pinged["subscribers"] == []  # internal module paths stay off the public page
    assert "HMAC-SHA256" in data["signature"] and "aggregate_id" in data["envelope"]["properties"]
    html = client.get("/docs/events").get_data(as_text=True)
    assert '<h2 id="tests.Pinged-v1">tests.Pinged' in html and "Test event delivered to two recording" in html


def test_the_catalog_prints_as_markdown(app):
    result = app.test_cli_runner().invoke(args=["events", "catalog"])
    assert result.exit_code == 0
    assert "## tests.Pinged v1" in result.output and "| `n` | `integer` | yes |" in result.output
    assert "Subscribers: `tests.recorder_a`, `tests.recorder_b`, `webhooks.fan_out`" in result.output


def test_the_catalog_names_the_personal_fields_webhooks_leave_out(client, app):
    data = client.get("/docs/events.json").json
    shared = next(e for e in data["events"] if e["type"] == "tests.ContactShared")
    assert shared["personal"] == ["email", "ip"] and shared["webhooks"] is True
    html = client.get("/docs/events").get_data(as_text=True)
    assert "Personal data, left out of webhook bodies:\n<code>email</code> <code>ip</code>" in html
    secret = html.split('id="tests.SecretIssued-v1"', 1)[1].split("<h2", 1)[0]
    assert "never sent to webhooks" in secret
    markdown = app.test_cli_runner().invoke(args=["events", "catalog"]).output
    assert "Personal data, left out of webhook bodies: `email`, `ip`." in markdown


def test_the_realtime_bridge_pushes_committed_events_to_rooms_only(app, make_app, drain, token_for):
    rt_app = make_app(SOCKETIO_MESSAGE_QUEUE="off", **FAST)  # the test client needs no message queue
    user, other = uuid.uuid4(), uuid.uuid4()
    mine = get_socketio(rt_app).test_client(rt_app, namespace=NAMESPACE, auth={"token": token_for(user)})
    theirs = get_socketio(rt_app).test_client(rt_app, namespace=NAMESPACE, auth={"token": token_for(other)})
    assert mine.is_connected(NAMESPACE) and theirs.is_connected(NAMESPACE)
    with rt_app.app_context():
        good = Waved(aggregate_id=user, user_id=user)
        bad = Waved(aggregate_id=user, user_id=user, fail=True)
        publish(good)
        publish(bad)
        db.session.commit()
        drain(app=rt_app)
        db.session.remove()
    deadline, pushes = time.monotonic() + 3, []
    while time.monotonic() < deadline and not pushes:
        pushes = [p["args"][0] for p in mine.get_received(NAMESPACE) if p["name"] == "tests.waved"]
        time.sleep(0.02)
    # The failing event's delivery rolled back, so the bridge never pushed it (its own subscriber ran fine
    # but shares nothing with wave_checker: each subscriber is its own delivery).
    assert {p["event_id"] for p in pushes} >= {str(good.id)}
    assert all(p["user_id"] == str(user) for p in pushes)
    assert [p for p in theirs.get_received(NAMESPACE) if p["name"] == "tests.waved"] == []


def test_metrics_expose_the_bus_backlog(client, events_app, drain):
    for n in range(3):
        publish(Pinged(aggregate_id=uuid.uuid4(), n=n))
    db.session.commit()
    text = client.get("/metrics").get_data(as_text=True)
    assert "bazaar_events_undispatched 3.0" in text
    assert 'bazaar_events_deliveries{status="dead"} 0.0' in text
    drain()
    text = client.get("/metrics").get_data(as_text=True)
    assert "bazaar_events_undispatched 0.0" in text and "bazaar_events_in_flight 0.0" in text
