"""Escrowed payments on a double-entry ledger, refunds and seller payouts."""

from app.domain import Domain

domain = Domain(name="payments", prefix="/payments", description=__doc__)
