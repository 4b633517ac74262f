"""A redelivered event never notifies twice: the unique (event, user, channel) key, at every layer."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from blueprints.notifications.events import ROUTES
from blueprints.notifications.fanout import handle
from blueprints.notifications.models import Delivery, Notification
from tests.notifications.conftest import count, deliveries
from tests.notifications.routes_for_tests import ROUTES as TEST_ROUTES
from tests.notifications.test_email import offer_for


def test_the_same_event_handled_twice_notifies_once(notif_app, smtp, drain, emit, make_user):
    seller = make_user("Sam")
    (event,) = emit(offer_for(seller))
    drain()
    assert len(smtp.mailbox.wait_for(1)) == 1

    # The bus redelivers (a subscriber record lost, a staff retry): the handler runs again.
    routes = TEST_ROUTES[event.type]
    for _ in range(2):
        assert handle(event, routes) == 1  # planned for the seller...
        db.session.commit()  # ...and written at commit, where the unique keys turn it into nothing
    drain()
    assert count(Notification, user_id=seller) == 1
    assert len(deliveries(user_id=seller, channel="email")) == 1
    assert len(smtp.mailbox.messages) == 1


def test_a_redispatched_outbox_event_does_not_notify_twice(notif_app, smtp, drain, emit, make_user):
    seller = make_user("Sam")
    (event,) = emit(offer_for(seller))
    drain()
    smtp.mailbox.wait_for(1)
    # Make the bus forget it ever delivered the event, and hand it to the workers again.
    db.session.execute(text("DELETE FROM platform.event_deliveries WHERE event_id = :id"), {"id": event.id})
    db.session.execute(
        text("UPDATE platform.outbox_events SET dispatched_at = NULL, settled_at = NULL WHERE id = :id"),
        {"id": event.id},
    )
    db.session.commit()
    drain()
    delivered_again = db.session.execute(
        text("SELECT count(*) FROM platform.event_deliveries WHERE event_id = :id AND status = 'done'"),
        {"id": event.id},
    ).scalar_one()
    db.session.rollback()
    assert delivered_again >= 1  # the subscriber did run a second time...
    assert count(Notification, user_id=seller) == 1  # ...and wrote nothing new
    assert len(deliveries(user_id=seller)) == 1
    assert len(smtp.mailbox.messages) == 1


def test_the_database_refuses_a_second_delivery_for_the_same_event_user_and_channel(notif_app, emit, drain):
    seller = uuid.uuid4()
    emit(offer_for(seller))
    drain()
    (first,) = deliveries(user_id=seller, channel="email")
    row = {
        "id": uuid.uuid4(),
        "notification_id": first.notification_id,
        "user_id": seller,
        "event_id": first.event_id,
        "kind": first.kind,
        "channel": "email",
        "status": "pending",
        "attempts": 0,
        "batch_id": uuid.uuid4(),
        "resends": 0,
    }
    with pytest.raises(IntegrityError, match="uq_deliveries_dedup"):
        db.session.execute(insert(Delivery).values(row))
    db.session.rollback()


def test_every_routed_event_type_is_subscribed_once(notif_app):
    from app.events.subscribers import subscribers_for

    for event_type in ROUTES:
        names = [s.name for s in subscribers_for(event_type)]
        assert names.count("notifications.fanout") == 1, event_type
