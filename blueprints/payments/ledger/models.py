"""Ledger tables: accounts with a maintained balance, immutable journal entries and their lines.

Sign convention (a funds-flow ledger): a line's ``amount`` is positive when money moves INTO the
account and negative when it moves out. Every account holds money in the platform's custody except
the external ones: ``buyer_funding`` is where buyers' money comes from (its balance only goes
negative: minus what buyers paid in), ``refunds`` and ``paid_out`` are where it leaves to. So every
balance is >= 0 except buyer_funding's, which is <= 0 — a CHECK constraint on the account row, since
PostgreSQL maintains the balance itself (a trigger on journal_lines, see the ledger migration).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, UUIDPk, utcnow


class AccountKind(StrEnum):
    BUYER_FUNDING = "buyer_funding"  # external source, per buyer: money paid in through the provider
    PLATFORM_ESCROW = "platform_escrow"  # platform-wide: captured funds waiting for release or refund
    SELLER_PAYABLE = "seller_payable"  # per seller: released proceeds not yet paid out
    PLATFORM_FEES = "platform_fees"  # platform-wide: buyer fees and seller commissions earned
    PAYOUTS_IN_TRANSIT = "payouts_in_transit"  # per seller: a transfer written, the provider not yet done
    PAID_OUT = "paid_out"  # external sink, per seller: transferred to the seller's provider account
    REFUNDS = "refunds"  # external sink, per buyer: returned to the buyer


PLATFORM_KINDS = frozenset({AccountKind.PLATFORM_ESCROW, AccountKind.PLATFORM_FEES})
CREDIT_ONLY_KINDS = frozenset({AccountKind.BUYER_FUNDING})  # balance <= 0; every other kind >= 0


def _in(values: frozenset[str] | set[str]) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


class LedgerAccount(UUIDPk, Model):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint(
            "kind", "currency", "owner_id", name="uq_ledger_accounts_identity", postgresql_nulls_not_distinct=True
        ),
        UniqueConstraint("id", "currency", name="uq_ledger_accounts_id_currency"),  # target of the lines' FK
        CheckConstraint(f"kind IN ({_in(set(AccountKind))})", name="known_kind"),
        CheckConstraint(f"(kind IN ({_in(PLATFORM_KINDS)})) = (owner_id IS NULL)", name="owner_matches_kind"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="iso_currency"),
        CheckConstraint(
            f"CASE WHEN kind IN ({_in(CREDIT_ONLY_KINDS)}) THEN balance <= 0 ELSE balance >= 0 END",
            name="balance_sign",
        ),
        {"schema": "payments"},
    )

    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    owner_id: Mapped[uuid.UUID | None] = mapped_column()
    # Maintained by the database from journal_lines; never written by the application.
    balance: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), nullable=False
    )

    def __repr__(self) -> str:
        return f"<LedgerAccount {self.kind} {self.currency} {self.owner_id or 'platform'} {self.balance}>"


class JournalEntry(UUIDPk, Model):
    """One movement of money: its lines sum to zero per currency. Never updated or deleted."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        Index("ix_journal_entries_posted_at", "posted_at"),
        Index("ix_journal_entries_payment_id", "payment_id"),
        Index("ix_journal_entries_payout_id", "payout_id"),
        {"schema": "payments"},
    )

    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # hold, release, refund, payout_* ...
    # What this movement is, unique: the same movement can never be posted twice.
    reference: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    payment_id: Mapped[uuid.UUID | None] = mapped_column()
    payout_id: Mapped[uuid.UUID | None] = mapped_column()
    memo: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    posted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), nullable=False
    )

    lines: Mapped[list[JournalLine]] = relationship(
        back_populates="entry", lazy="selectin", order_by="JournalLine.amount", cascade="save-update"
    )

    def __repr__(self) -> str:
        return f"<JournalEntry {self.kind} {self.reference}>"


class JournalLine(UUIDPk, Model):
    __tablename__ = "journal_lines"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "currency"],
            ["payments.ledger_accounts.id", "payments.ledger_accounts.currency"],
            name="fk_journal_lines_account_currency",
        ),
        Index("ix_journal_lines_account_id", "account_id", postgresql_include=["amount"]),
        CheckConstraint("amount <> 0", name="nonzero_amount"),
        {"schema": "payments"},
    )

    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.journal_entries.id"), nullable=False, index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)

    entry: Mapped[JournalEntry] = relationship(back_populates="lines", lazy="raise")


def _append_only(mapper, connection, target) -> None:  # type: ignore[no-untyped-def]
    raise RuntimeError("the journal is append-only: correct a movement with a new entry")


for _model in (JournalEntry, JournalLine):
    event.listen(_model, "before_update", _append_only)
    event.listen(_model, "before_delete", _append_only)
