"""The generated admin: a negotiation's page shows its offers and timeline; staff cancel with a reason."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.audit import AuditRecord
from app.extensions import db
from tests.generator.conftest import admin_login
from tests.offers.conftest import listing_status, offer_row

NEGOTIATIONS = "/admin/offers/negotiation"
OFFERS = "/admin/offers/offer"


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_a_negotiation_page_shows_every_offer_and_transition(app, client, api, buyer, seller, listing):
    first = api.offer(buyer, listing, 7_000).get_json()
    countered = api.counter(seller, first["id"], 9_100).get_json()
    admin_login(app, client, role="TrustSafety")
    page = client.get(f"{NEGOTIATIONS}/show/{first['negotiation_id']}")
    assert page.status_code == 200
    body = text(page)
    for fragment in ("7000", "9100", "superseded", "countered", "supersede", "create"):
        assert fragment in body, fragment
    assert client.get(f"{NEGOTIATIONS}/list/").status_code == 200
    assert countered["id"] in text(client.get(f"{OFFERS}/list/"))


def test_staff_cancel_an_accepted_offer_with_a_reason_audited(app, client, api, buyer, seller, listing):
    offer = api.offer(buyer, listing, 7_000).get_json()
    api.act(seller, offer["id"], "accept")
    assert listing_status(app, listing) == "reserved"
    admin_login(app, client, role="TrustSafety")
    assert "Cancel..." in text(client.get(f"{OFFERS}/show/{offer['id']}"))
    button = client.post(f"{OFFERS}/action/cancel/{offer['id']}")
    assert button.status_code == 302 and button.headers["Location"].endswith(f"/run/cancel/{offer['id']}")
    assert client.post(button.headers["Location"], data={"reason": "no"}).status_code == 200  # too short
    assert offer_row(app, offer["id"]).state == "accepted"
    done = client.post(button.headers["Location"], data={"reason": "Buyer account compromised"})
    assert done.status_code == 302
    row = offer_row(app, offer["id"])
    assert row.state == "cancelled" and row.reason == "Buyer account compromised"
    assert listing_status(app, listing) == "published"  # the reservation was released
    with app.app_context():
        record = db.session.execute(
            select(AuditRecord).where(AuditRecord.action == "offers.cancel", AuditRecord.outcome == "ok")
        ).scalar_one()
        assert record.actor_type == "staff" and record.target_id == offer["id"]
        assert record.inputs == {"reason": "Buyer account compromised"}
        assert record.result["changes"]["state"] == ["accepted", "cancelled"]


def test_the_answer_buttons_exist_for_staff_too(app, client, api, buyer, listing):
    offer = api.offer(buyer, listing, 7_000).get_json()
    admin_login(app, client, role="Admin")
    show = text(client.get(f"{OFFERS}/show/{offer['id']}"))
    for label in ("Accept", "Decline...", "Counter...", "Withdraw"):
        assert label in show, label
    assert client.get(f"{OFFERS}/show/{uuid.uuid4()}").status_code == 404
