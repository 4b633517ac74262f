"""Inputs of listing actions (the generated schemas cover the CRUD bodies)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.generator.fields import StorableText


class RemoveListingInput(ma.Schema):
    """Why the listing is taken down; kept in its status history and shown to its seller."""

    class Meta:
        unknown = ma.RAISE

    reason = ma.fields.String(
        required=True,
        validate=[validate.Length(min=3, max=500), StorableText()],
        metadata={"example": "Counterfeit item reported by several buyers"},
    )
