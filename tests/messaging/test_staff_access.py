"""Staff read conversations only under an open dispute / fraud review, and every read is audited."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.audit import AuditRecord
from app.extensions import db
from app.generator import Actor, ServiceError
from blueprints.messaging import service
from tests.generator.conftest import admin_login
from tests.messaging.conftest import send

SECRET = "my address is <b>12 Hidden Lane</b>"


def reads(thread_id: uuid.UUID) -> list[AuditRecord]:
    stmt = select(AuditRecord).where(
        AuditRecord.action == "messaging.staff_read", AuditRecord.target_id == str(thread_id)
    )
    return list(db.session.execute(stmt.order_by(AuditRecord.occurred_at)).scalars())


@pytest.fixture
def conversation(client, buyer, seller, thread):  # type: ignore[no-untyped-def]
    send(client, buyer, thread["id"], SECRET)
    send(client, seller, thread["id"], "thanks")
    return uuid.UUID(thread["id"])


def grant(app, thread_id, case_type="dispute", case_id=None):  # type: ignore[no-untyped-def]
    with app.app_context():
        made = service.grant_staff_access(
            thread_id=thread_id,
            case_type=case_type,
            case_id=case_id or uuid.uuid4(),
            reason="Buyer says the item never arrived",
            actor=Actor.system("disputes"),
        )
        db.session.commit()
        return made


def test_without_a_case_staff_see_metadata_but_never_bodies(app, client, conversation):
    admin_login(app, client, role="TrustSafety")
    listed = client.get("/admin/messaging/thread/list/")
    assert listed.status_code == 200 and str(conversation) in listed.get_data(as_text=True)
    page = client.get(f"/admin/messaging/conversations/{conversation}")
    assert page.status_code == 200
    assert "12 Hidden Lane" not in page.get_data(as_text=True) and "thanks" not in page.get_data(as_text=True)
    forced = client.get(f"/admin/messaging/conversations/{conversation}?grant={uuid.uuid4()}")
    assert forced.status_code == 403 and "12 Hidden Lane" not in forced.get_data(as_text=True)
    [denied] = reads(conversation)
    assert denied.outcome == "denied" and denied.target_id == str(conversation) and denied.actor_type == "staff"


def test_under_an_open_case_staff_read_and_each_read_is_audited(app, client, conversation):
    case_id = uuid.uuid4()
    made = grant(app, conversation, case_id=case_id)
    email = admin_login(app, client, role="TrustSafety")
    index = client.get("/admin/messaging/conversations/")
    assert index.status_code == 200 and str(conversation) in index.get_data(as_text=True)
    page = client.get(f"/admin/messaging/conversations/{conversation}?grant={made.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "my address is &lt;b&gt;12 Hidden Lane&lt;/b&gt;" in text  # shown, escaped, never rendered
    client.get(f"/admin/messaging/conversations/{conversation}?grant={made.id}")
    records = reads(conversation)
    assert [r.outcome for r in records] == ["ok", "ok"]
    from flask_appbuilder.security.sqla.models import User

    staff_id = db.session.execute(select(User.id).where(User.email == email)).scalar_one()
    assert {r.actor_id for r in records} == {str(staff_id)}
    assert records[0].inputs == {"grant_id": str(made.id), "case_type": "dispute", "case_id": str(case_id)}
    assert records[0].result["messages"] == 2
    granted = db.session.execute(
        select(AuditRecord).where(
            AuditRecord.action == "messaging.grant_staff_access", AuditRecord.target_id == str(conversation)
        )
    ).scalar_one()
    assert granted.actor_type == "system" and granted.inputs["case_id"] == str(case_id)


def test_closing_the_case_ends_access(app, client, conversation):
    case_id = uuid.uuid4()
    made = grant(app, conversation, case_type="fraud_review", case_id=case_id)
    with app.app_context():
        assert service.close_staff_access(case_type="fraud_review", case_id=case_id, actor=Actor.system("fraud")) == 1
        db.session.commit()
    admin_login(app, client, role="TrustSafety")
    refused = client.get(f"/admin/messaging/conversations/{conversation}?grant={made.id}")
    assert refused.status_code == 403 and "12 Hidden Lane" not in refused.get_data(as_text=True)
    assert [r.outcome for r in reads(conversation)] == ["denied"]
    # The same case opening again restores it (same grant).
    assert grant(app, conversation, case_type="fraud_review", case_id=case_id).id == made.id
    assert client.get(f"/admin/messaging/conversations/{conversation}?grant={made.id}").status_code == 200


def test_a_grant_needs_a_known_case_type_a_reason_and_a_thread(app, conversation):
    with app.app_context():
        for kwargs, status in (
            ({"case_type": "curiosity"}, 422),
            ({"reason": "  "}, 422),
            ({"thread_id": uuid.uuid4()}, 404),
        ):
            args = {
                "thread_id": conversation,
                "case_type": "dispute",
                "case_id": uuid.uuid4(),
                "reason": "why",
                "actor": Actor.system("disputes"),
                **kwargs,
            }
            with pytest.raises(ServiceError) as refused:
                service.grant_staff_access(**args)
            assert refused.value.status == status
            db.session.rollback()


def test_the_reader_needs_a_staff_login(client, conversation):
    response = client.get(f"/admin/messaging/conversations/{conversation}")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
