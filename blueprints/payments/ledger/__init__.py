"""The payments ledger: double-entry, append-only, balanced per currency, balances kept by PostgreSQL."""

from blueprints.payments.ledger.balances import (
    balance,
    balances_of,
    derived_balance,
    drifted_accounts,
    soundness,
    totals_by_currency,
    unbalanced_entries,
)
from blueprints.payments.ledger.models import AccountKind, JournalEntry, JournalLine, LedgerAccount
from blueprints.payments.ledger.posting import (
    AccountRef,
    DuplicatePosting,
    InsufficientFunds,
    LedgerError,
    UnbalancedEntry,
    buyer_funding,
    escrow,
    fees,
    in_transit,
    paid_out,
    payable,
    post,
    refunds,
)

__all__ = [
    "AccountKind",
    "AccountRef",
    "DuplicatePosting",
    "InsufficientFunds",
    "JournalEntry",
    "JournalLine",
    "LedgerAccount",
    "LedgerError",
    "UnbalancedEntry",
    "balance",
    "balances_of",
    "buyer_funding",
    "derived_balance",
    "drifted_accounts",
    "escrow",
    "fees",
    "in_transit",
    "paid_out",
    "payable",
    "post",
    "refunds",
    "soundness",
    "totals_by_currency",
    "unbalanced_entries",
]
