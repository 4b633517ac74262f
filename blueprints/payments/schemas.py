"""Input and output schemas of the payments API. Money is ``{amount: minor units, currency}``.

Inputs name only what a client may choose (an order reference, a payment method): amounts, fees,
parties and states are read-only, and an unknown field is a 422, so no one can mass-assign them.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate


class PaymentsMoneySchema(ma.Schema):
    amount = ma.fields.Integer(required=True, metadata={"description": "Integer minor units", "example": 10500})
    currency = ma.fields.String(required=True, metadata={"example": "USD"})


def money(amount: int | None, currency: str) -> dict | None:  # type: ignore[type-arg]
    return None if amount is None else {"amount": amount, "currency": currency}


class IntentCreateSchema(ma.Schema):
    order_type = ma.fields.String(required=True, validate=validate.Length(1, 20), metadata={"example": "offer"})
    order_id = ma.fields.UUID(required=True)


class ConfirmSchema(ma.Schema):
    payment_method = ma.fields.String(
        required=True,
        validate=validate.Length(1, 255),
        metadata={"description": "A provider payment method id (sandbox: a test card)", "example": "pm_card_visa"},
    )


class AuthenticateSchema(ma.Schema):
    success = ma.fields.Boolean(required=True, metadata={"description": "Sandbox: pass or fail the 3-D Secure check"})


class PaymentSchema(ma.Schema):
    id = ma.fields.UUID()
    state = ma.fields.String()
    order_type = ma.fields.String()
    order_id = ma.fields.UUID()
    listing_id = ma.fields.UUID(allow_none=True)
    buyer_id = ma.fields.UUID()
    seller_id = ma.fields.UUID()
    amount = ma.fields.Nested(PaymentsMoneySchema, metadata={"description": "The item price"})
    buyer_fee = ma.fields.Nested(PaymentsMoneySchema)
    total = ma.fields.Nested(PaymentsMoneySchema, metadata={"description": "What the buyer is charged"})
    refunded = ma.fields.Nested(PaymentsMoneySchema)
    seller_amount = ma.fields.Nested(PaymentsMoneySchema, allow_none=True, metadata={"description": "Seller only"})
    platform_fee = ma.fields.Nested(PaymentsMoneySchema, allow_none=True, metadata={"description": "Seller only"})
    client_secret = ma.fields.String(allow_none=True, metadata={"description": "Buyer only, while unpaid"})
    last_error = ma.fields.String(allow_none=True, metadata={"description": "Buyer only"})
    provider = ma.fields.String()
    expires_at = ma.fields.DateTime()
    held_at = ma.fields.DateTime(allow_none=True)
    shipped_at = ma.fields.DateTime(allow_none=True)
    delivered_at = ma.fields.DateTime(allow_none=True)
    release_due_at = ma.fields.DateTime(allow_none=True)
    released_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


class ReceiptLineSchema(ma.Schema):
    label = ma.fields.String()
    amount = ma.fields.Nested(PaymentsMoneySchema)


class ReceiptRefundSchema(ma.Schema):
    id = ma.fields.UUID()
    amount = ma.fields.Nested(PaymentsMoneySchema)
    state = ma.fields.String()
    reason = ma.fields.String()
    created_at = ma.fields.DateTime()


class ReceiptSchema(ma.Schema):
    payment_id = ma.fields.UUID()
    order_type = ma.fields.String()
    order_id = ma.fields.UUID()
    state = ma.fields.String()
    paid_at = ma.fields.DateTime(allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(ReceiptLineSchema))
    total = ma.fields.Nested(PaymentsMoneySchema)
    refunds = ma.fields.List(ma.fields.Nested(ReceiptRefundSchema))
    net_paid = ma.fields.Nested(PaymentsMoneySchema, metadata={"description": "Charged minus refunded"})


class BalanceSchema(ma.Schema):
    currency = ma.fields.String()
    available = ma.fields.Integer(metadata={"description": "Payable now (next payout), minor units"})
    on_hold = ma.fields.Integer(metadata={"description": "Payable but frozen by a hold or a pending refund"})
    in_escrow = ma.fields.Integer(metadata={"description": "Sales paid by buyers, not yet released to you"})
    in_transit = ma.fields.Integer(metadata={"description": "Payouts on their way"})
    paid_out = ma.fields.Integer(metadata={"description": "Paid out in all (net of reversals)"})


class SellerBalanceSchema(ma.Schema):
    seller_id = ma.fields.UUID()
    payouts_on_hold = ma.fields.Boolean()
    payout_account = ma.fields.Dict(allow_none=True)
    balances = ma.fields.List(ma.fields.Nested(BalanceSchema))


class SellerAccountCreateSchema(ma.Schema):
    country = ma.fields.String(load_default="US", validate=validate.Regexp(r"^[A-Z]{2}$"))
    email = ma.fields.Email(load_default=None, allow_none=True)


class SellerAccountSchema(ma.Schema):
    provider = ma.fields.String()
    provider_account_id = ma.fields.String()
    payouts_enabled = ma.fields.Boolean()
    onboarding_url = ma.fields.String(allow_none=True)


class WebhookAckSchema(ma.Schema):
    received = ma.fields.Boolean()
    outcome = ma.fields.String()
