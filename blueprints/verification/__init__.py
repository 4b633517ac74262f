"""Seller verification state machine and third-party ID checks."""

from app.domain import Domain

domain = Domain(name="verification", prefix="/verification", description=__doc__)
