"""Inputs of the offer endpoints and actions, and the negotiation history shown with an offer.

Money is ``{"amount": <minor units>, "currency": "EUR"}`` as everywhere in the API; amounts of offers
are at least 1 minor unit, and the currency must be the listing's (checked by the service).
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.generator.fields import MoneySchema, StorableText


class OfferMoneySchema(MoneySchema):
    """An offer amount: at least 1 minor unit."""

    amount = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=2**63 - 1, error="Must be at least 1 minor unit."),
        metadata={"description": "Minor units (cents), at least 1", "example": 4500},
    )


def _message() -> ma.fields.String:
    return ma.fields.String(
        load_default="",
        validate=[validate.Length(max=1000), StorableText()],
        metadata={"description": "A note to the other party (optional)"},
    )


def _flatten(data: dict) -> dict:
    """The service takes ``amount`` and ``currency`` keywords; clients send one money object."""
    price = data.pop("price")
    return {**data, "amount": price["amount"], "currency": price["currency"]}


class OfferCreateSchema(ma.Schema):
    """A buyer's opening offer on a published listing, in the listing's currency."""

    class Meta:
        unknown = ma.RAISE

    listing_id = ma.fields.UUID(required=True)
    price = ma.fields.Nested(OfferMoneySchema, required=True)
    message = _message()

    @ma.post_load
    def flatten(self, data: dict, **kwargs: object) -> dict:
        return _flatten(data)


class CounterInput(ma.Schema):
    """Answer with another amount (same currency): the seller above, the buyer below the offer answered."""

    class Meta:
        unknown = ma.RAISE

    price = ma.fields.Nested(OfferMoneySchema, required=True)
    message = _message()

    @ma.post_load
    def flatten(self, data: dict, **kwargs: object) -> dict:
        return _flatten(data)


class DeclineInput(ma.Schema):
    """Optionally tell the other party why."""

    class Meta:
        unknown = ma.RAISE

    reason = ma.fields.String(load_default="", validate=[validate.Length(max=500), StorableText()])


class CancelInput(ma.Schema):
    """Why staff cancel this offer; both parties see it and it stays in the audit log."""

    class Meta:
        unknown = ma.RAISE

    reason = ma.fields.String(
        required=True,
        validate=[validate.Length(min=3, max=500), StorableText()],
        metadata={"example": "Listing reported as a scam"},
    )


class TimelineEntrySchema(ma.Schema):
    """One transition of one offer of the negotiation."""

    offer_id = ma.fields.UUID()
    occurred_at = ma.fields.AwareDateTime()
    transition = ma.fields.String()
    from_state = ma.fields.String(allow_none=True)
    to_state = ma.fields.String()
    price = ma.fields.Nested(MoneySchema)
    by = ma.fields.String(metadata={"description": "buyer | seller | staff | system"})
    reason = ma.fields.String()


class HistoryOfferSchema(ma.Schema):
    """One offer of the negotiation (round 0 is the opening offer)."""

    id = ma.fields.UUID()
    round = ma.fields.Integer()
    author = ma.fields.String()
    state = ma.fields.String()
    price = ma.fields.Nested(MoneySchema)
    message = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


class NegotiationSummarySchema(ma.Schema):
    id = ma.fields.UUID()
    status = ma.fields.String()
    counter_rounds = ma.fields.Integer()
    current_offer_id = ma.fields.UUID(allow_none=True)
    offers = ma.fields.List(ma.fields.Nested(HistoryOfferSchema))
    timeline = ma.fields.List(ma.fields.Nested(TimelineEntrySchema))


class OfferDetailSchema(ma.Schema):
    """What ``GET /offers/{id}`` adds to the offer: its negotiation, every offer and every transition."""

    negotiation = ma.fields.Nested(NegotiationSummarySchema)
