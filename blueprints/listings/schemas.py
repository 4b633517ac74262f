"""Listing input shapes beyond the generated ones: nested photo and shipping fields, action inputs.

The nested fields are declared on the generated Listing resource (``Resource.fields``), so the API,
the admin and bulk import validate a listing with the same schema and the same messages.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.generator.fields import JSONObject, StorableText

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")
SHIPPING_METHODS = ("pickup", "standard", "tracked", "express", "freight")
MAX_PHOTO_BYTES = 25 * 1024 * 1024


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class PhotoSchema(_Strict):
    """Metadata of one uploaded photo (the bytes live in object storage under ``key``)."""

    key = ma.fields.String(required=True, validate=[validate.Length(min=1, max=500), StorableText()])
    content_type = ma.fields.String(required=True, validate=validate.OneOf(IMAGE_TYPES))
    size_bytes = ma.fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_PHOTO_BYTES))
    width = ma.fields.Integer(strict=True, required=True, validate=validate.Range(min=64, max=12000))
    height = ma.fields.Integer(strict=True, required=True, validate=validate.Range(min=64, max=12000))
    order = ma.fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=11))


class ShippingOptionSchema(_Strict):
    """One way the buyer can receive the item; ``price_amount`` is in the listing's currency."""

    method = ma.fields.String(required=True, validate=validate.OneOf(SHIPPING_METHODS))
    price_amount = ma.fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=10_000_000))
    days_min = ma.fields.Integer(strict=True, load_default=1, validate=validate.Range(min=0, max=90))
    days_max = ma.fields.Integer(strict=True, load_default=5, validate=validate.Range(min=0, max=90))

    @ma.validates_schema
    def _days(self, data: dict, **kwargs: object) -> None:
        if data.get("days_max", 0) < data.get("days_min", 0):
            raise ma.ValidationError("Must not be less than days_min.", "days_max")


def _unique_orders(photos: list[dict]) -> None:
    orders = [p.get("order") for p in photos]
    if len(set(orders)) != len(orders):
        raise ma.ValidationError("Photo orders must be unique.")


LISTING_FIELDS: dict[str, ma.fields.Field] = {
    "photos": ma.fields.List(
        ma.fields.Nested(PhotoSchema),
        validate=[validate.Length(max=12), _unique_orders],
        metadata={"description": "1 to 12 photos to publish; `order` is the display position (0 first)"},
    ),
    "shipping_options": ma.fields.List(
        ma.fields.Nested(ShippingOptionSchema),
        validate=validate.Length(max=5),
        metadata={"description": "How the buyer can receive the item (at least one to publish)"},
    ),
    "attributes": JSONObject(
        metadata={"description": "Per-category attributes, checked against the category's attributes_schema"}
    ),
    "condition_answers": JSONObject(
        metadata={"description": "Answers to the condition grade's rubric (see GET /listings/condition-rubrics)"}
    ),
    "country": ma.fields.String(
        allow_none=True, validate=validate.Regexp(r"^[A-Z]{2}$", error="Must be an ISO 3166-1 alpha-2 code.")
    ),
    "latitude": ma.fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(min=-90, max=90)),
    "longitude": ma.fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(min=-180, max=180)),
}


class RemoveListingInput(_Strict):
    """Why the listing is taken down; kept in its status history and shown to its seller."""

    reason = ma.fields.String(
        required=True,
        validate=[validate.Length(min=3, max=500), StorableText()],
        metadata={"example": "Counterfeit item reported by several buyers"},
    )
