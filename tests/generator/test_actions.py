"""Generated action endpoints: policy, inputs, transitions, and the audit record of every call."""

from __future__ import annotations

from sqlalchemy import select

from app.audit import AuditRecord
from app.events.outbox import OutboxEvent
from app.extensions import db
from blueprints.listings.models import Listing, ListingStatus, ListingStatusChange
from tests.generator.factories import make_listing


def audit_rows(app) -> list[AuditRecord]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.execute(select(AuditRecord).order_by(AuditRecord.occurred_at)).scalars().all()
        db.session.expunge_all()
        return rows


def status_of(app, listing_id) -> ListingStatus:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.get(Listing, listing_id).status


def test_seller_publishes_draft_with_audit_history_and_event(app, client, category, seller):
    draft = make_listing(app, category_id=category, seller_id=seller.id, status=ListingStatus.DRAFT)
    response = client.post(f"/listings/{draft}/publish", headers={**seller.headers, "X-Request-ID": "req-123"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "published"
    assert response.json["published_at"] is not None
    assert response.headers["ETag"]

    (record,) = audit_rows(app)
    assert record.action == "listings.publish"
    assert record.target_type == "listings.Listing"
    assert record.target_id == str(draft)
    assert (record.actor_type, record.actor_id) == ("user", str(seller.id))
    assert record.outcome == "ok"
    assert record.request_id == "req-123"
    assert record.inputs == {}
    assert record.result["changes"]["status"] == ["draft", "published"]

    with app.app_context():
        (change,) = db.session.execute(select(ListingStatusChange)).scalars().all()
        assert (change.transition, change.from_status, change.to_status) == ("publish", "draft", "published")
        assert (change.actor_type, change.actor_id) == ("user", str(seller.id))
        events = db.session.execute(select(OutboxEvent).where(OutboxEvent.aggregate_id == str(draft))).scalars().all()
        assert [e.type for e in events] == ["listings.ListingPublished"]
        assert events[0].payload["from_status"] == "draft"
        assert events[0].actor == f"user:{seller.id}"


def test_action_on_someone_elses_visible_listing_is_403_and_recorded_denied(app, client, category, other_user):
    listing = make_listing(app, category_id=category, status=ListingStatus.PUBLISHED)
    response = client.post(f"/listings/{listing}/pause", headers=other_user.headers)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert status_of(app, listing) is ListingStatus.PUBLISHED
    (record,) = audit_rows(app)
    assert (record.action, record.outcome, record.actor_id) == ("listings.pause", "denied", str(other_user.id))


def test_action_on_invisible_listing_is_404_and_not_recorded(app, client, category, other_user):
    draft = make_listing(app, category_id=category, status=ListingStatus.DRAFT)
    assert client.post(f"/listings/{draft}/publish", headers=other_user.headers).status_code == 404
    assert audit_rows(app) == []


def test_anonymous_action_is_401(app, client, category):
    listing = make_listing(app, category_id=category)
    assert client.post(f"/listings/{listing}/pause").status_code == 401


def test_invalid_transition_is_409_with_status_error_recorded_failed_and_nothing_changed(app, client, category, seller):
    removed = make_listing(app, category_id=category, seller_id=seller.id, status=ListingStatus.REMOVED)
    response = client.post(f"/listings/{removed}/publish", headers=seller.headers)
    assert response.status_code == 409
    assert "status" in response.json["errors"]
    assert status_of(app, removed) is ListingStatus.REMOVED
    (record,) = audit_rows(app)
    assert record.outcome == "failed"
    assert record.result["status"] == 409
    with app.app_context():
        assert db.session.execute(select(ListingStatusChange)).first() is None
        assert db.session.execute(select(OutboxEvent).where(OutboxEvent.aggregate_id == str(removed))).first() is None


def test_domain_validation_from_service_is_422(app, client, category, seller):
    draft = make_listing(app, category_id=category, seller_id=seller.id, status=ListingStatus.DRAFT, quantity=0)
    response = client.post(f"/listings/{draft}/publish", headers=seller.headers)
    assert response.status_code == 422
    assert response.json["errors"] == {"quantity": ["Must be at least 1 to publish."]}


def test_action_without_inputs_refuses_a_body_with_fields(app, client, category, seller):
    draft = make_listing(app, category_id=category, seller_id=seller.id, status=ListingStatus.DRAFT)
    response = client.post(f"/listings/{draft}/publish", json={"status": "published"}, headers=seller.headers)
    assert response.status_code == 422
    assert response.json["errors"] == {"status": ["Unknown field."]}
    assert status_of(app, draft) is ListingStatus.DRAFT


def test_remove_needs_a_reason_and_records_it(app, client, category, staff_client_user):
    listing = make_listing(app, category_id=category)
    url = f"/listings/{listing}/remove"
    missing = client.post(url, json={}, headers=staff_client_user.headers)
    assert missing.status_code == 422
    assert missing.json["errors"] == {"reason": ["Missing data for required field."]}
    extra = client.post(url, json={"reason": "Counterfeit", "status": "x"}, headers=staff_client_user.headers)
    assert extra.status_code == 422
    ok = client.post(url, json={"reason": "Counterfeit"}, headers=staff_client_user.headers)
    assert ok.status_code == 200
    assert ok.json["status"] == "removed"
    (record,) = audit_rows(app)
    assert record.inputs == {"reason": "Counterfeit"}
    with app.app_context():
        (change,) = db.session.execute(select(ListingStatusChange)).scalars().all()
        assert change.reason == "Counterfeit"


def test_staff_only_action_refused_to_the_seller(app, client, category, seller, staff_client_user):
    removed = make_listing(app, category_id=category, seller_id=seller.id, status=ListingStatus.REMOVED)
    assert client.post(f"/listings/{removed}/reinstate", headers=seller.headers).status_code == 403
    response = client.post(f"/listings/{removed}/reinstate", headers=staff_client_user.headers)
    assert response.status_code == 200
    assert response.json["status"] == "paused"


def test_audit_records_are_append_only(app, client, category, seller):
    draft = make_listing(app, category_id=category, seller_id=seller.id, status=ListingStatus.DRAFT)
    client.post(f"/listings/{draft}/publish", headers=seller.headers)
    with app.app_context():
        record = db.session.execute(select(AuditRecord)).scalar_one()
        record.outcome = "forged"
        try:
            db.session.commit()
        except RuntimeError:
            db.session.rollback()
        else:
            raise AssertionError("an audit record was updated")
