"""Seller API: balance and the payout account (a provider connected account); payouts are a
generated resource (``GET /payments/payouts``, see :mod:`blueprints.payments.resources`)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.db import db
from app.security import login_required
from app.security.stepup import require_recent_mfa
from blueprints.payments import queries, service
from blueprints.payments.api import BEARER, call, me
from blueprints.payments.schemas import (
    SellerAccountCreateSchema,
    SellerAccountSchema,
    SellerBalanceSchema,
)

blp = Blueprint("payments_seller", __name__, description="A seller's money: balance and payouts.")


@blp.route("/seller/balance", methods=["GET"])
@login_required
@blp.response(200, SellerBalanceSchema)
@blp.doc(security=BEARER)
def balance() -> dict[str, Any]:
    """Per currency: available for the next payout, on hold, still in escrow, in transit, paid out."""
    return queries.seller_balance(me())


@blp.route("/seller/account", methods=["POST"])
@login_required
@require_recent_mfa()
@blp.arguments(SellerAccountCreateSchema)
@blp.response(200, SellerAccountSchema)
@blp.doc(security=BEARER)
def create_account(args: dict[str, Any]) -> Any:
    """Create (once) the connected account payouts go to; follow ``onboarding_url`` when present."""
    account = call(
        service.ensure_seller_account,
        seller_id=me(),
        actor=f"user:{me()}",
        email=args["email"],
        country=args["country"],
    )
    db.session.commit()
    return account
