"""Risk scoring, holds and the trust-and-safety review queue."""

from app.domain import Domain

domain = Domain(name="fraud", prefix="/fraud", description=__doc__)
