"""Rate quotes, labels, carrier tracking and delivery confirmation."""

from app.domain import Domain

domain = Domain(name="shipping", prefix="/shipping", description=__doc__)
