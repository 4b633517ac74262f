"""Offers and negotiation: counter, accept, decline and expiry under seller policies."""

from app.domain import Domain

domain = Domain(name="offers", prefix="/offers", description=__doc__)
