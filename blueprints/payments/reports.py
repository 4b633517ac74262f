"""Figures for staff, read from the journal: daily GMV, fees earned and refunds, per currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, cast, func, select
from sqlalchemy.types import Date

from app.db import db, utcnow
from blueprints.payments.ledger.models import AccountKind, JournalEntry, JournalLine, LedgerAccount


@dataclass(frozen=True)
class DailyMoney:
    day: date
    currency: str
    gmv: int  # charged to buyers and captured into escrow
    fees: int  # commissions and buyer fees kept, net of fees refunded
    refunds: int  # returned to buyers


def daily_money(days: int = 14, now: datetime | None = None) -> list[DailyMoney]:
    """One row per (day, currency) with any movement in the last ``days`` days (UTC), oldest first."""
    since = (now or utcnow()) - timedelta(days=days)
    day = cast(func.timezone("UTC", JournalEntry.posted_at), Date).label("day")

    def total(condition):  # type: ignore[no-untyped-def]
        return func.coalesce(func.sum(case((condition, JournalLine.amount), else_=0)), 0)

    query = (
        select(
            day,
            LedgerAccount.currency,
            total((JournalEntry.kind == "hold") & (LedgerAccount.kind == AccountKind.PLATFORM_ESCROW)),
            total(LedgerAccount.kind == AccountKind.PLATFORM_FEES),
            total(LedgerAccount.kind == AccountKind.REFUNDS),
        )
        .select_from(JournalEntry)
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
        .where(JournalEntry.posted_at >= since, JournalEntry.kind.in_(["hold", "release", "refund"]))
        .group_by(day, LedgerAccount.currency)
        .order_by(day, LedgerAccount.currency)
    )
    return [DailyMoney(d, c, int(g), int(f), int(r)) for d, c, g, f, r in db.session.execute(query)]
