"""Catalog: listings, categories, condition grades, search and bulk import."""

from app.domain import Domain

domain = Domain(name="listings", prefix="/listings", description=__doc__)
