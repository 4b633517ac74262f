"""The transition table, exhaustively: every (state, action) pair is allowed or refused as declared,
and strict turn-taking: only the party an offer awaits answers it, only its author withdraws it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from app.audit import AuditRecord
from app.extensions import db
from blueprints.offers.models import OfferTransition
from blueprints.offers.states import TRANSITIONS
from tests.offers.conftest import fire, make_due, offer_row

STATES = ("pending", "countered", "accepted", "declined", "withdrawn", "expired", "superseded", "cancelled")
ACTIONS = ("counter", "accept", "decline", "withdraw", "cancel")
RESULT = {"accept": "accepted", "decline": "declined", "withdraw": "withdrawn", "cancel": "cancelled"}
ALLOWED = {(s, a) for s in ("pending", "countered") for a in ACTIONS} | {("accepted", "cancel")}


def test_the_table_matches_the_documented_states():
    assert {t.value for _, t in TRANSITIONS.values()} == set(STATES)
    open_states = {"pending", "countered"}
    for name in ("accept", "decline", "withdraw", "expire", "supersede"):
        assert {s.value for s in TRANSITIONS[name][0]} == open_states
    assert {s.value for s in TRANSITIONS["cancel"][0]} == open_states | {"accepted"}
    assert {s.value for s in TRANSITIONS["lapse"][0]} == {"accepted"}


def _offer_in(state: str, api, app, buyer, seller, staff, listing) -> tuple[str, Any, Any]:  # type: ignore[no-untyped-def]
    """An offer in ``state``; returns (offer id, the party it awaits, its author)."""
    first = api.offer(buyer, listing, 7_000).get_json()
    if state == "pending":
        return first["id"], seller, buyer
    if state in ("countered", "superseded"):
        countered = api.counter(seller, first["id"], 9_000).get_json()
        return (countered["id"], buyer, seller) if state == "countered" else (first["id"], seller, buyer)
    if state == "expired":
        assert fire(app, make_due(app, "offers.expire", first["negotiation_id"]))["fired"] == 1
    else:
        user, action, body = {
            "accepted": (seller, "accept", {}),
            "declined": (seller, "decline", {}),
            "withdrawn": (buyer, "withdraw", {}),
            "cancelled": (staff, "cancel", {"reason": "Reported by the community"}),
        }[state]
        response = api.act(user, first["id"], action, **body)
        assert response.status_code == 200, response.get_json()
    assert offer_row(app, first["id"]).state == state
    return first["id"], seller, buyer


def _transitions(app, offer_id: str) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(OfferTransition).where(OfferTransition.offer_id == uuid.UUID(offer_id))
        )
        db.session.rollback()
        return count


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_state_and_action(state, action, api, app, buyer, seller, staff, listing):
    offer_id, awaited, author = _offer_in(state, api, app, buyer, seller, staff, listing)
    before = _transitions(app, offer_id)
    actor = {"withdraw": author, "cancel": staff}.get(action, awaited)
    body = {
        "counter": {"price": {"amount": 8_000 if awaited is buyer else 8_500, "currency": "EUR"}},
        "cancel": {"reason": "Staff decision"},
    }.get(action, {})
    response = api.act(actor, offer_id, action, **body)
    if (state, action) in ALLOWED:
        assert response.status_code == 200, response.get_json()
        expected = "superseded" if action == "counter" else RESULT[action]
        assert offer_row(app, offer_id).state == expected
        if action == "counter":
            assert response.get_json()["state"] == "countered"
        assert _transitions(app, offer_id) == before + 1
    else:
        assert response.status_code == 409, response.get_json()
        problem = response.get_json()
        assert response.content_type == "application/problem+json" and "state" in problem["errors"]
        assert offer_row(app, offer_id).state == state
        assert _transitions(app, offer_id) == before


def _denied(app, offer_id: str, action: str) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(
                AuditRecord.target_id == offer_id,
                AuditRecord.action == f"offers.{action}",
                AuditRecord.outcome == "denied",
            )
        )
        db.session.rollback()
        return count


def test_only_the_awaited_party_answers_and_only_the_author_withdraws(api, app, buyer, seller, listing):
    offer = api.offer(buyer, listing, 7_000).get_json()
    for action, body in (("accept", {}), ("decline", {}), ("counter", {"price": {"amount": 6_000, "currency": "EUR"}})):
        response = api.act(buyer, offer["id"], action, **body)
        assert response.status_code == 403, (action, response.get_json())
        assert "seller" in response.get_json()["detail"]
        assert _denied(app, offer["id"], action) == 1
    assert api.act(seller, offer["id"], "withdraw").status_code == 403
    countered = api.counter(seller, offer["id"], 9_500).get_json()
    assert countered["awaiting"] == "buyer"
    for action in ("accept", "decline"):
        assert api.act(seller, countered["id"], action).status_code == 403
    assert api.counter(seller, countered["id"], 9_800).status_code == 403
    assert api.act(buyer, countered["id"], "withdraw").status_code == 403
    again = api.counter(buyer, countered["id"], 8_000).get_json()
    assert again["awaiting"] == "seller" and again["author"] == "buyer" and again["round"] == 2
    assert api.act(seller, again["id"], "accept").get_json()["state"] == "accepted"
    assert offer_row(app, offer["id"]).state == "superseded"
    assert offer_row(app, countered["id"]).state == "superseded"


def test_staff_act_for_the_party_whose_turn_it_is_and_alone_may_cancel(api, app, buyer, seller, staff, listing):
    offer = api.offer(buyer, listing, 7_000).get_json()
    assert api.act(seller, offer["id"], "cancel", reason="I changed my mind").status_code == 403
    assert api.act(buyer, offer["id"], "cancel", reason="I changed my mind").status_code == 403
    response = api.act(staff, offer["id"], "decline", reason="Support request from the seller")
    assert response.status_code == 200
    with app.app_context():
        row = db.session.scalars(
            select(OfferTransition).where(
                OfferTransition.offer_id == uuid.UUID(offer["id"]), OfferTransition.transition == "decline"
            )
        ).one()
        assert (row.actor_type, row.actor_id, row.party) == ("user", str(staff.id), "seller")


def test_a_cancel_needs_a_reason(api, staff, buyer, listing):
    offer = api.offer(buyer, listing, 7_000).get_json()
    response = api.act(staff, offer["id"], "cancel")
    assert response.status_code == 422 and "reason" in response.get_json()["errors"]
