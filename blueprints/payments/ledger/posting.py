"""Posting journal entries and reading balances.

:func:`post` is the only way money moves: it merges the lines per account, refuses an entry that does
not sum to zero per currency (:class:`UnbalancedEntry`, checked here before any SQL, and again by a
deferred constraint trigger at COMMIT), locks the touched accounts in id order (no deadlocks between
two postings), refuses a balance that would cross zero (:class:`InsufficientFunds`, also a CHECK on
the row), then inserts the entry and its lines. PostgreSQL adds each line to its account's balance in
the same transaction, so the maintained balance can never drift from the journal.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, DateTime, String, Text, TextClause, Uuid, and_, bindparam, event, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from app.db import db, utcnow
from blueprints.payments.ledger.models import (
    CREDIT_ONLY_KINDS,
    PLATFORM_KINDS,
    AccountKind,
    JournalEntry,
    JournalLine,
    LedgerAccount,
)


class LedgerError(Exception):
    """A posting that would break the ledger's rules; nothing was written."""


class UnbalancedEntry(LedgerError):
    pass


class InsufficientFunds(LedgerError):
    def __init__(self, account: AccountRef, balance: int, delta: int) -> None:
        super().__init__(f"{account} holds {balance}; cannot move {delta}")
        self.account, self.balance, self.delta = account, balance, delta


class DuplicatePosting(LedgerError):
    pass


@dataclass(frozen=True, order=True)
class AccountRef:
    """An account by what it is (kind, currency, owner); its row is created on first use."""

    kind: AccountKind
    currency: str
    owner_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if (self.kind in PLATFORM_KINDS) != (self.owner_id is None):
            raise ValueError(f"{self.kind} accounts {'have no' if self.kind in PLATFORM_KINDS else 'need an'} owner")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"currency must be an ISO 4217 code, got {self.currency!r}")

    def __str__(self) -> str:
        return f"{self.kind}[{self.currency}{'' if self.owner_id is None else ':' + str(self.owner_id)}]"


def escrow(currency: str) -> AccountRef:
    return AccountRef(AccountKind.PLATFORM_ESCROW, currency)


def fees(currency: str) -> AccountRef:
    return AccountRef(AccountKind.PLATFORM_FEES, currency)


def buyer_funding(buyer_id: uuid.UUID, currency: str) -> AccountRef:
    return AccountRef(AccountKind.BUYER_FUNDING, currency, buyer_id)


def refunds(buyer_id: uuid.UUID, currency: str) -> AccountRef:
    return AccountRef(AccountKind.REFUNDS, currency, buyer_id)


def payable(seller_id: uuid.UUID, currency: str) -> AccountRef:
    return AccountRef(AccountKind.SELLER_PAYABLE, currency, seller_id)


def in_transit(seller_id: uuid.UUID, currency: str) -> AccountRef:
    return AccountRef(AccountKind.PAYOUTS_IN_TRANSIT, currency, seller_id)


def paid_out(seller_id: uuid.UUID, currency: str) -> AccountRef:
    return AccountRef(AccountKind.PAID_OUT, currency, seller_id)


def allowed_balance(kind: str, balance: int) -> bool:
    return balance <= 0 if kind in CREDIT_ONLY_KINDS else balance >= 0


def merge_lines(lines: Iterable[tuple[AccountRef, int]]) -> dict[AccountRef, int]:
    """Net the lines per account (zero nets dropped) and check they balance per currency."""
    merged: dict[AccountRef, int] = defaultdict(int)
    for account, amount in lines:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise UnbalancedEntry(f"amounts are integer minor units, got {amount!r}")
        merged[account] += amount
    nets = {account: amount for account, amount in merged.items() if amount != 0}
    check_balanced(((a.currency, amount) for a, amount in nets.items()))
    if len(nets) < 2:
        raise UnbalancedEntry("an entry moves money between at least two accounts")
    return nets


def check_balanced(amounts: Iterable[tuple[str, int]]) -> None:
    """The invariant the database re-checks at commit: per currency, the lines sum to zero."""
    totals: dict[str, int] = defaultdict(int)
    for currency, amount in amounts:
        totals[currency] += amount
    unbalanced = {currency: total for currency, total in totals.items() if total != 0}
    if unbalanced:
        raise UnbalancedEntry(f"lines do not sum to zero: {unbalanced}")


def _identity(account: AccountRef):  # type: ignore[no-untyped-def]
    owner = LedgerAccount.owner_id.is_(None) if account.owner_id is None else LedgerAccount.owner_id == account.owner_id
    return and_(LedgerAccount.kind == account.kind.value, LedgerAccount.currency == account.currency, owner)


def lock_accounts(accounts: Iterable[AccountRef]) -> dict[AccountRef, tuple[uuid.UUID, int]]:
    """Lock the accounts, creating missing ones first, all in one id-ordered statement: ``{ref: (id, balance)}``.

    Every lock of a posting is taken by a single ``SELECT ... ORDER BY id FOR UPDATE``: two postings
    then always lock shared accounts in the same order and cannot deadlock. Missing accounts are
    created beforehand in a short transaction of their own, so none is locked out of that order.
    """
    wanted = sorted(set(accounts))
    identities = or_(*(_identity(a) for a in wanted))
    existing = db.session.execute(
        select(LedgerAccount.kind, LedgerAccount.currency, LedgerAccount.owner_id).where(identities)
    ).all()
    if len(existing) < len(wanted):
        present = {AccountRef(AccountKind(kind), currency, owner) for kind, currency, owner in existing}
        _create_accounts([a for a in wanted if a not in present])
    columns = (
        LedgerAccount.id,
        LedgerAccount.kind,
        LedgerAccount.currency,
        LedgerAccount.owner_id,
        LedgerAccount.balance,
    )
    query = select(*columns).where(identities).order_by(LedgerAccount.id).with_for_update()
    found = {
        AccountRef(AccountKind(kind), currency, owner): (id_, balance)
        for id_, kind, currency, owner, balance in db.session.execute(query)
    }
    if len(found) < len(wanted):
        raise LedgerError(f"accounts vanished while posting: {[str(a) for a in wanted if a not in found]}")
    return found


def _create_accounts(accounts: Sequence[AccountRef]) -> None:
    """Create accounts in an autonomous, at once committed transaction (an account is only an identity).

    Only accounts absent from this transaction's view: inserting one this transaction has updated
    would wait on ourselves from the other connection.
    """
    statement = pg_insert(LedgerAccount).on_conflict_do_nothing(constraint="uq_ledger_accounts_identity")
    rows = [
        {"id": uuid.uuid4(), "kind": a.kind.value, "currency": a.currency, "owner_id": a.owner_id} for a in accounts
    ]
    with db.engine.begin() as connection:
        connection.execute(statement, rows)


def post(
    *,
    kind: str,
    reference: str,
    lines: Sequence[tuple[AccountRef, int]],
    payment_id: uuid.UUID | None = None,
    payout_id: uuid.UUID | None = None,
    memo: str = "",
) -> uuid.UUID:
    """Write one balanced movement in the caller's transaction; returns the entry id."""
    nets = merge_lines(lines)
    locked = lock_accounts(nets)
    for account, delta in nets.items():
        balance = locked[account][1]
        if not allowed_balance(account.kind, balance + delta):
            raise InsufficientFunds(account, balance, delta)
    entry_id = uuid.uuid4()
    rows = sorted(((locked[a][0], a.currency, n) for a, n in nets.items()), key=lambda row: row[0])
    parameters = {
        "id": entry_id,
        "kind": kind,
        "reference": reference,
        "payment_id": payment_id,
        "payout_id": payout_id,
        "memo": memo,
        "posted_at": utcnow(),
        "line_ids": [uuid.uuid4() for _ in rows],
        "account_ids": [account_id for account_id, _currency, _amount in rows],
        "currencies": [currency for _account_id, currency, _amount in rows],
        "amounts": [amount for _account_id, _currency, amount in rows],
    }
    if not db.session.execute(_POST_ENTRY, parameters).first():
        raise DuplicatePosting(f"{reference!r} is already posted")
    return entry_id


def _post_entry_statement() -> TextClause:
    """One round trip: the entry and its lines; no line is written when the reference already exists.

    Plain SQL, built once: SQLAlchemy 2.0 never caches a PostgreSQL ``INSERT ... ON CONFLICT``
    (sqlalchemy#10445) and compiled this, the hottest write of the ledger, on every posting.
    """
    assert JournalEntry.__table__.fullname == "payments.journal_entries"
    assert JournalLine.__table__.fullname == "payments.journal_lines"
    return text(
        "WITH entry AS ("
        " INSERT INTO payments.journal_entries (id, kind, reference, payment_id, payout_id, memo, posted_at)"
        " VALUES (:id, :kind, :reference, :payment_id, :payout_id, :memo, :posted_at)"
        " ON CONFLICT (reference) DO NOTHING RETURNING id)"
        " INSERT INTO payments.journal_lines (id, entry_id, account_id, currency, amount)"
        " SELECT line.id, entry.id, line.account_id, line.currency, line.amount"
        " FROM entry CROSS JOIN unnest(:line_ids, :account_ids, :currencies, :amounts)"
        " AS line(id, account_id, currency, amount)"
        " RETURNING entry_id"
    ).bindparams(
        bindparam("id", type_=Uuid()),
        bindparam("kind", type_=String()),
        bindparam("reference", type_=String()),
        bindparam("payment_id", type_=Uuid()),
        bindparam("payout_id", type_=Uuid()),
        bindparam("memo", type_=Text()),
        bindparam("posted_at", type_=DateTime(timezone=True)),
        bindparam("line_ids", type_=ARRAY(Uuid())),
        bindparam("account_ids", type_=ARRAY(Uuid())),
        bindparam("currencies", type_=ARRAY(String())),
        bindparam("amounts", type_=ARRAY(BigInteger())),
    )


_POST_ENTRY = _post_entry_statement()


def ensure_accounts(accounts: Iterable[AccountRef]) -> None:
    """Create accounts a transaction is about to use, inside it, before it locks any account.

    For callers that know early which new accounts a later posting needs (a new buyer's funding
    account when a payment opens): one statement here instead of a separate transaction later.
    """
    statement = pg_insert(LedgerAccount).on_conflict_do_nothing(constraint="uq_ledger_accounts_identity")
    rows = [
        {"id": uuid.uuid4(), "kind": a.kind.value, "currency": a.currency, "owner_id": a.owner_id} for a in accounts
    ]
    db.session.execute(statement, rows)


@event.listens_for(Session, "before_flush")
def _check_orm_entries(session: Session, flush_context, instances) -> None:  # type: ignore[no-untyped-def]
    """Entries built as ORM objects (admin, scripts) meet the same invariant as :func:`post`."""
    per_entry: dict[object, list[tuple[str, int]]] = defaultdict(list)
    for obj in session.new:
        if isinstance(obj, JournalLine):
            key = obj.entry_id or id(obj.__dict__.get("entry"))
            per_entry[key].append((obj.currency, obj.amount))
        elif isinstance(obj, JournalEntry) and len(obj.lines) < 2:
            raise UnbalancedEntry("an entry moves money between at least two accounts")
    for amounts in per_entry.values():
        check_balanced(amounts)
