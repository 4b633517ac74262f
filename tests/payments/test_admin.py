"""Staff admin of payments: generated views, a refund run from its form, and the daily money chart."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin.accounts import ensure_staff
from app.audit import AuditRecord
from app.db import db
from blueprints.payments.models import Payment, Refund
from tests.payments.conftest import held_payment


@pytest.fixture
def staff_client(client, app_ctx):  # type: ignore[no-untyped-def]
    ensure_staff(email="money@bazaar.test", password="money-password", role="Admin")
    db.session.commit()
    response = client.post("/admin/login/", data={"username": "money@bazaar.test", "password": "money-password"})
    assert response.status_code == 302
    return client


def test_admin_lists_payments_journal_and_balances(staff_client, orders):
    payment = held_payment(orders)
    for view in ("payment", "journalentry", "ledgeraccount", "transition", "payout", "hold", "refund"):
        page = staff_client.get(f"/admin/payments/{view}/list/")
        assert page.status_code == 200, view
    shown = staff_client.get(f"/admin/payments/payment/show/{payment.id}").get_data(as_text=True)
    assert "held" in shown and "client_secret" not in shown.lower().replace(" ", "_")
    journal = staff_client.get("/admin/payments/journalentry/list/").get_data(as_text=True)
    assert f"hold:{payment.id}" in journal


def test_staff_refund_from_the_admin_form_is_recorded_and_audited(staff_client, orders):
    payment = held_payment(orders)
    form = staff_client.get(f"/admin/payments/payment/run/refund/{payment.id}")
    assert form.status_code == 200 and "reason" in form.get_data(as_text=True).lower()
    missing_reason = staff_client.post(f"/admin/payments/payment/run/refund/{payment.id}", data={"amount": "100"})
    assert missing_reason.status_code == 200  # the form again, with its error
    assert db.session.execute(select(Refund)).first() is None
    done = staff_client.post(
        f"/admin/payments/payment/run/refund/{payment.id}", data={"amount": "2500", "reason": "scratched"}
    )
    assert done.status_code == 302
    [refund] = db.session.execute(select(Refund)).scalars().all()
    assert (refund.amount, refund.reason, refund.requested_by.startswith("staff:")) == (2500, "scratched", True)
    audit = db.session.execute(select(AuditRecord).where(AuditRecord.action == "payments.refund")).scalars().all()
    assert len(audit) >= 1
    too_much = staff_client.post(
        f"/admin/payments/payment/run/refund/{payment.id}",
        data={"amount": "999999", "reason": "x"},
        follow_redirects=True,
    )
    assert "at most" in too_much.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).amount_refund_pending == 2500


def test_daily_money_chart(staff_client, orders):
    held_payment(orders)
    page = staff_client.get("/admin/payments/money/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('class="bz-chart"') == 3  # GMV, fees, refunds for USD
    assert "GMV per day (USD)" in html and "105" in html  # 10,500 cents captured


def test_trust_and_safety_staff_read_the_chart_too(client, app_ctx, orders):
    from admin.roles import TRUST_SAFETY

    held_payment(orders)
    ensure_staff(email="agent@bazaar.test", password="agent-password", role=TRUST_SAFETY)
    db.session.commit()
    client.post("/admin/login/", data={"username": "agent@bazaar.test", "password": "agent-password"})
    page = client.get("/admin/payments/money/")
    assert page.status_code == 200
    assert "GMV per day (USD)" in page.get_data(as_text=True)


def test_the_chart_needs_a_staff_login(client):
    response = client.get("/admin/payments/money/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
