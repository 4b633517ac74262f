"""Reading the ledger: maintained balances (one row each) and the checks that they equal the journal."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.db import db
from blueprints.payments.ledger.models import AccountKind, JournalLine, LedgerAccount
from blueprints.payments.ledger.posting import AccountRef, _identity


def balance(account: AccountRef) -> int:
    """The maintained balance (0 for an account never used)."""
    value = db.session.execute(select(LedgerAccount.balance).where(_identity(account))).scalar_one_or_none()
    return int(value or 0)


def derived_balance(account: AccountRef) -> int:
    """The balance recomputed from the journal (what the maintained one must always equal)."""
    query = (
        select(func.coalesce(func.sum(JournalLine.amount), 0))
        .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
        .where(_identity(account))
    )
    return int(db.session.execute(query).scalar_one())


def balances_of(owner_id: uuid.UUID) -> dict[AccountRef, int]:
    rows = db.session.execute(
        select(LedgerAccount.kind, LedgerAccount.currency, LedgerAccount.balance).where(
            LedgerAccount.owner_id == owner_id
        )
    )
    return {AccountRef(AccountKind(kind), currency, owner_id): int(value) for kind, currency, value in rows}


def drifted_accounts() -> list[tuple[uuid.UUID, int, int]]:
    """Accounts whose maintained balance differs from the journal: (id, maintained, derived); [] when sound."""
    sums = (
        select(JournalLine.account_id, func.sum(JournalLine.amount).label("total"))
        .group_by(JournalLine.account_id)
        .subquery()
    )
    derived = func.coalesce(sums.c.total, 0)
    query = (
        select(LedgerAccount.id, LedgerAccount.balance, derived)
        .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
        .where(LedgerAccount.balance != derived)
    )
    return [(id_, int(kept), int(total)) for id_, kept, total in db.session.execute(query)]


def totals_by_currency() -> dict[str, int]:
    """Sum of every line per currency: always zero in a sound ledger (the trial balance)."""
    rows = db.session.execute(select(JournalLine.currency, func.sum(JournalLine.amount)).group_by(JournalLine.currency))
    return {currency: int(total) for currency, total in rows}


def unbalanced_entries() -> list[tuple[uuid.UUID, str, int]]:
    """Entries whose lines do not sum to zero in a currency: (entry id, currency, sum); [] when sound."""
    query = (
        select(JournalLine.entry_id, JournalLine.currency, func.sum(JournalLine.amount))
        .group_by(JournalLine.entry_id, JournalLine.currency)
        .having(func.sum(JournalLine.amount) != 0)
    )
    return [(entry_id, currency, int(total)) for entry_id, currency, total in db.session.execute(query)]


def soundness() -> dict[str, object]:
    """The whole ledger's check (operators, the end-to-end story): every entry balanced per currency,
    every maintained balance equal to its journal, the trial balance zero; ``sound`` sums it up."""
    entries = db.session.execute(select(func.count(func.distinct(JournalLine.entry_id)))).scalar_one()
    totals = totals_by_currency()
    unbalanced = unbalanced_entries()
    drifted = drifted_accounts()
    return {
        "sound": not unbalanced and not drifted and all(total == 0 for total in totals.values()),
        "entries": int(entries),
        "trial_balance": totals,
        "unbalanced_entries": [{"entry_id": str(e), "currency": c, "sum": t} for e, c, t in unbalanced],
        "drifted_accounts": [{"account_id": str(a), "kept": k, "journal": j} for a, k, j in drifted],
    }
