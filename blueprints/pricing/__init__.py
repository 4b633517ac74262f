"""Pricing suggestions and demand signals."""

from app.domain import Domain

domain = Domain(name="pricing", prefix="/pricing", description=__doc__)
