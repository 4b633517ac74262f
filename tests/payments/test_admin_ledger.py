"""The ledger page of a payment in the staff admin: each journal entry with its lines, balanced."""

from __future__ import annotations

import re
import uuid

import pytest

from admin.accounts import ensure_staff
from app.db import db
from blueprints.payments import service
from tests.payments.conftest import held_payment


def staff_login(client, role: str) -> None:  # type: ignore[no-untyped-def]
    email = f"{role.lower()}-{uuid.uuid4().hex[:6]}@bazaar.test"
    ensure_staff(email=email, password="ledger-password", role=role)
    db.session.commit()
    response = client.post("/admin/login/", data={"username": email, "password": "ledger-password"})
    assert response.status_code == 302


def entries(html: str) -> dict[str, tuple[list[int], str]]:
    """kind -> (line amounts, the sum cell) as the page shows them."""
    found = {}
    for kind, body in re.findall(
        r'class="panel panel-default bz-entry" data-kind="([a-z_]+)">(.*?)</table>', html, re.S
    ):
        amounts = [int(a) for a in re.findall(r'class="text-right bz-amount">(-?\d+)<', body)]
        total = re.search(r'class="text-right bz-sum">([^<]+)<', body).group(1).strip()  # type: ignore[union-attr]
        found[kind] = (sorted(amounts), total)
    return found


@pytest.mark.parametrize("role", ["TrustSafety", "Admin"])
def test_the_payment_page_leads_to_its_balanced_ledger(client, app_ctx, orders, role):
    payment = held_payment(orders, amount=20_000)
    service.mark_shipped(payment_id=payment.id, actor=f"user:{payment.seller_id}")
    service.confirm_received(payment_id=payment.id, actor=f"user:{payment.buyer_id}")
    db.session.commit()
    staff_login(client, role)

    shown = client.get(f"/admin/payments/payment/show/{payment.id}").get_data(as_text=True)
    ledger_url = f"/admin/payments/payment-ledger/{payment.id}"
    assert f'href="{ledger_url}"' in shown and "Ledger: journal entries" in shown
    assert f'<a class="bz-ref" href="/admin/listings/listing/show/{payment.listing_id}">' in shown

    page = client.get(ledger_url)
    assert page.status_code == 200
    total, seller, fees = payment.amount_total, payment.seller_amount, payment.platform_fee
    assert seller + fees == total
    assert entries(page.get_data(as_text=True)) == {
        "hold": ([-total, total], "0 balanced"),
        "release": (sorted([-total, seller, fees]), "0 balanced"),
    }


def test_a_payment_without_entries_says_so_and_unknown_ones_are_404(client, app_ctx, orders):
    from tests.payments.conftest import open_payment

    payment = open_payment(orders)
    db.session.commit()
    staff_login(client, "TrustSafety")
    page = client.get(f"/admin/payments/payment-ledger/{payment.id}").get_data(as_text=True)
    assert "No journal entries for this payment yet." in page and "bz-entry" not in page
    assert client.get(f"/admin/payments/payment-ledger/{uuid.uuid4()}").status_code == 404
    assert client.get("/admin/payments/payment-ledger/not-a-uuid").status_code == 404


def test_the_ledger_needs_a_staff_login(client, app_ctx, orders):
    payment = held_payment(orders)
    response = client.get(f"/admin/payments/payment-ledger/{payment.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
