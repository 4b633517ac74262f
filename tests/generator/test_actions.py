"""Generated action endpoints: policy, inputs, service errors, and the audit record of every call."""

from __future__ import annotations

from sqlalchemy import select

from app.audit import AuditRecord
from app.extensions import db
from tests.generator.demo import Item, Status
from tests.generator.factories import make_item


def audit_rows(app) -> list[AuditRecord]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.execute(select(AuditRecord).order_by(AuditRecord.occurred_at)).scalars().all()
        db.session.expunge_all()
        return rows


def status_of(app, item_id) -> Status:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.get(Item, item_id).status


def test_seller_publishes_draft_and_the_call_is_audited(gen_app, gen_client, shelf, seller):
    draft = make_item(gen_app, shelf_id=shelf, seller_id=seller.id, status=Status.DRAFT)
    response = gen_client.post(f"/demo/{draft}/publish", headers={**seller.headers, "X-Request-ID": "req-123"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "published"
    assert response.json["published_at"] is not None
    assert response.headers["ETag"]

    (record,) = audit_rows(gen_app)
    assert record.action == "demo.publish"
    assert record.target_type == "demo.Item"
    assert record.target_id == str(draft)
    assert (record.actor_type, record.actor_id) == ("user", str(seller.id))
    assert record.outcome == "ok"
    assert record.request_id == "req-123"
    assert record.inputs == {}
    assert record.result["changes"]["status"] == ["draft", "published"]


def test_action_on_someone_elses_visible_item_is_403_and_recorded_denied(gen_app, gen_client, shelf, other_user):
    item = make_item(gen_app, shelf_id=shelf, status=Status.PUBLISHED)
    response = gen_client.post(f"/demo/{item}/pause", headers=other_user.headers)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert status_of(gen_app, item) is Status.PUBLISHED
    (record,) = audit_rows(gen_app)
    assert (record.action, record.outcome, record.actor_id) == ("demo.pause", "denied", str(other_user.id))


def test_action_on_invisible_item_is_404_and_not_recorded(gen_app, gen_client, shelf, other_user):
    draft = make_item(gen_app, shelf_id=shelf, status=Status.DRAFT)
    assert gen_client.post(f"/demo/{draft}/publish", headers=other_user.headers).status_code == 404
    assert audit_rows(gen_app) == []


def test_anonymous_action_is_401(gen_app, gen_client, shelf):
    item = make_item(gen_app, shelf_id=shelf)
    response = gen_client.post(f"/demo/{item}/pause")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_invalid_transition_is_409_recorded_failed_and_nothing_changes(gen_app, gen_client, shelf, seller):
    removed = make_item(gen_app, shelf_id=shelf, seller_id=seller.id, status=Status.REMOVED)
    response = gen_client.post(f"/demo/{removed}/publish", headers=seller.headers)
    assert response.status_code == 409
    assert response.json["errors"] == {"status": ["Is removed."]}
    assert status_of(gen_app, removed) is Status.REMOVED
    (record,) = audit_rows(gen_app)
    assert record.outcome == "failed"
    assert record.result["status"] == 409


def test_domain_validation_from_the_service_is_422(gen_app, gen_client, shelf, seller):
    draft = make_item(gen_app, shelf_id=shelf, seller_id=seller.id, status=Status.DRAFT, quantity=0)
    response = gen_client.post(f"/demo/{draft}/publish", headers=seller.headers)
    assert response.status_code == 422
    assert response.json["errors"] == {"quantity": ["Must be at least 1 to publish."]}


def test_action_without_inputs_refuses_a_body_with_fields(gen_app, gen_client, shelf, seller):
    draft = make_item(gen_app, shelf_id=shelf, seller_id=seller.id, status=Status.DRAFT)
    response = gen_client.post(f"/demo/{draft}/publish", json={"status": "published"}, headers=seller.headers)
    assert response.status_code == 422
    assert response.json["errors"] == {"status": ["Unknown field."]}
    assert status_of(gen_app, draft) is Status.DRAFT


def test_action_input_is_validated_and_recorded(gen_app, gen_client, shelf, staff_client_user):
    item = make_item(gen_app, shelf_id=shelf)
    url = f"/demo/{item}/remove"
    missing = gen_client.post(url, json={}, headers=staff_client_user.headers)
    assert missing.status_code == 422
    assert missing.json["errors"] == {"reason": ["Missing data for required field."]}
    extra = gen_client.post(url, json={"reason": "Counterfeit", "status": "x"}, headers=staff_client_user.headers)
    assert extra.status_code == 422
    assert extra.json["errors"] == {"status": ["Unknown field."]}
    wrong_type = gen_client.post(url, json={"reason": 12}, headers=staff_client_user.headers)
    assert wrong_type.status_code == 422
    ok = gen_client.post(url, json={"reason": "Counterfeit"}, headers=staff_client_user.headers)
    assert ok.status_code == 200
    assert ok.json["status"] == "removed"
    (record,) = audit_rows(gen_app)
    assert record.inputs == {"reason": "Counterfeit"}
    assert (record.actor_type, record.actor_id) == ("user", str(staff_client_user.id))


def test_staff_only_action_is_refused_to_the_seller(gen_app, gen_client, shelf, seller, staff_client_user):
    removed = make_item(gen_app, shelf_id=shelf, seller_id=seller.id, status=Status.REMOVED)
    assert gen_client.post(f"/demo/{removed}/reinstate", headers=seller.headers).status_code == 403
    response = gen_client.post(f"/demo/{removed}/reinstate", headers=staff_client_user.headers)
    assert response.status_code == 200
    assert response.json["status"] == "paused"


def test_audit_records_are_append_only(gen_app, gen_client, shelf, seller):
    draft = make_item(gen_app, shelf_id=shelf, seller_id=seller.id, status=Status.DRAFT)
    gen_client.post(f"/demo/{draft}/publish", headers=seller.headers)
    with gen_app.app_context():
        record = db.session.execute(select(AuditRecord)).scalar_one()
        record.outcome = "forged"
        try:
            db.session.commit()
        except RuntimeError:
            db.session.rollback()
        else:
            raise AssertionError("an audit record was updated")
