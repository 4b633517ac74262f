"""Read models of the hand-written payments API: a party's view of a payment, receipts, balances."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import case, func, or_, select

from app.db import db
from blueprints.payments import ledger
from blueprints.payments.errors import PaymentNotFound
from blueprints.payments.holds import payout_reserve, seller_on_hold
from blueprints.payments.ledger.models import AccountKind
from blueprints.payments.models import Payment, Refund, SellerAccount
from blueprints.payments.schemas import money
from blueprints.payments.states import UNPAID, PaymentState


def payment_for_party(payment_id: uuid.UUID, user_id: uuid.UUID) -> Payment:
    """The payment if ``user_id`` is its buyer or seller; otherwise it does not exist (404)."""
    payment = db.session.execute(
        select(Payment).where(Payment.id == payment_id, or_(Payment.buyer_id == user_id, Payment.seller_id == user_id))
    ).scalar_one_or_none()
    if payment is None:
        raise PaymentNotFound("no such payment")
    return payment


def payment_view(payment: Payment, user_id: uuid.UUID) -> dict[str, Any]:
    """What a party sees: the buyer gets the client secret, the seller the split."""
    is_buyer, currency = payment.buyer_id == user_id, payment.currency
    return {
        **{c: getattr(payment, c) for c in PUBLIC_COLUMNS},
        "amount": money(payment.amount, currency),
        "buyer_fee": money(payment.buyer_fee, currency),
        "total": money(payment.amount_total, currency),
        "refunded": money(payment.amount_refunded, currency),
        "seller_amount": None if is_buyer else money(payment.seller_amount, currency),
        "platform_fee": None if is_buyer else money(payment.platform_fee, currency),
        "client_secret": payment.client_secret if is_buyer and payment.state in UNPAID else None,
        "last_error": payment.last_error if is_buyer else None,
    }


PUBLIC_COLUMNS = (
    "id",
    "state",
    "order_type",
    "order_id",
    "listing_id",
    "buyer_id",
    "seller_id",
    "provider",
    "expires_at",
    "held_at",
    "shipped_at",
    "delivered_at",
    "release_due_at",
    "released_at",
    "created_at",
)


def receipt(payment: Payment) -> dict[str, Any]:
    currency = payment.currency
    refunds = db.session.execute(
        select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.created_at)
    ).scalars()
    return {
        "payment_id": payment.id,
        "order_type": payment.order_type,
        "order_id": payment.order_id,
        "state": payment.state,
        "paid_at": payment.held_at,
        "lines": [
            {"label": "Item", "amount": money(payment.amount, currency)},
            {"label": "Buyer protection fee", "amount": money(payment.buyer_fee, currency)},
        ],
        "total": money(payment.amount_total, currency),
        "refunds": [
            {
                "id": r.id,
                "amount": money(r.amount, currency),
                "state": r.state,
                "reason": r.reason,
                "created_at": r.created_at,
            }
            for r in refunds
        ],
        "net_paid": money(payment.amount_captured - payment.amount_refunded, currency),
    }


def seller_balance(seller_id: uuid.UUID) -> dict[str, Any]:
    accounts = ledger.balances_of(seller_id)
    escrow_rows = db.session.execute(
        select(
            Payment.currency,
            func.sum(
                case((Payment.amount > Payment.amount_refunded, Payment.amount - Payment.amount_refunded), else_=0)
            ),
        )
        .where(
            Payment.seller_id == seller_id,
            Payment.state.in_([PaymentState.HELD, PaymentState.PARTIALLY_REFUNDED]),
            Payment.released_at.is_(None),
        )
        .group_by(Payment.currency)
    ).all()
    in_escrow = {currency: int(total or 0) for currency, total in escrow_rows}
    currencies = sorted({ref.currency for ref in accounts} | set(in_escrow))

    def account(kind: AccountKind, currency: str) -> int:
        return accounts.get(ledger.AccountRef(kind, currency, seller_id), 0)

    balances = []
    for currency in currencies:
        payable = account(AccountKind.SELLER_PAYABLE, currency)
        reserved = min(payout_reserve(seller_id, currency), payable)
        balances.append(
            {
                "currency": currency,
                "available": payable - reserved,
                "on_hold": reserved,
                "in_escrow": in_escrow.get(currency, 0),
                "in_transit": account(AccountKind.PAYOUTS_IN_TRANSIT, currency),
                "paid_out": account(AccountKind.PAID_OUT, currency),
            }
        )
    seller_account = db.session.get(SellerAccount, seller_id)
    return {
        "seller_id": seller_id,
        "payouts_on_hold": seller_on_hold(seller_id),
        "payout_account": None
        if seller_account is None
        else {"provider": seller_account.provider, "payouts_enabled": seller_account.payouts_enabled},
        "balances": balances,
    }
