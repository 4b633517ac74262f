"""Dispute intake, evidence, SLA tracking and staff resolution."""

from app.domain import Domain

domain = Domain(name="disputes", prefix="/disputes", description=__doc__)
