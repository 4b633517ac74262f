"""Hand-written listing endpoints beside the generated ones: price history and bulk import uploads."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint, abort

from app.extensions import db
from app.security import current_principal
from blueprints.listings import service
from blueprints.listings.models import Listing, ListingStatus

blp = Blueprint("listings_extra", __name__, description="Listing price history and bulk imports")


class PricePointSchema(ma.Schema):
    occurred_at = ma.fields.AwareDateTime(required=True)
    old_amount = ma.fields.Integer(required=True)
    new_amount = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)


class PriceHistorySchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PricePointSchema), required=True)


def _visible(listing_id: uuid.UUID) -> None:
    """404 unless the caller may read the listing (published, their own, or staff)."""
    principal = current_principal()
    row = db.session.execute(
        sa.select(Listing.status, Listing.seller_id).where(Listing.id == listing_id, Listing.deleted_at.is_(None))
    ).first()
    mine = principal.is_authenticated and row is not None and row.seller_id == principal.user_id
    staff = principal.is_authenticated and "staff" in principal.roles
    if row is None or not (row.status == ListingStatus.PUBLISHED.value or mine or staff):
        abort(404, message="No such Listing.")


@blp.route("/<uuid:listing_id>/price-history", methods=["GET"])
@blp.response(200, PriceHistorySchema)
def price_history(listing_id: uuid.UUID) -> dict[str, Any]:
    """The listing's price changes since publication (drops and rises), oldest first."""
    _visible(listing_id)
    return {"items": service.price_history(listing_id=listing_id)}
