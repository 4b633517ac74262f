"""Ledger: accounts with a database-maintained balance, append-only journal entries and lines.

Three rules live in PostgreSQL itself, so no code path (ORM, raw SQL, a bug) can break them:
- an entry's lines sum to zero per currency and there are at least two: DEFERRABLE INITIALLY DEFERRED
  constraint triggers, checked at COMMIT once every line of the transaction is in;
- entries and lines are never updated or deleted (corrections are new entries);
- an account's balance is the sum of its lines, added by a trigger on each line insert, and the
  application may not write it (the balance CHECK then refuses any posting that overdraws).

Revision ID: payments_0002
Revises: payments_0001
Create Date: 2026-11-26 05:46:02.818076
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "payments_0002"
down_revision: str | Sequence[str] | None = "payments_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BALANCED = """
CREATE FUNCTION payments.check_journal_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced record;
    line_count integer;
BEGIN
    SELECT currency, sum(amount) AS total INTO unbalanced FROM payments.journal_lines
    WHERE entry_id = NEW.entry_id GROUP BY currency HAVING sum(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance: % sums to %', NEW.entry_id, unbalanced.currency,
            unbalanced.total USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_balanced';
    END IF;
    SELECT count(*) INTO line_count FROM payments.journal_lines WHERE entry_id = NEW.entry_id;
    IF line_count < 2 THEN
        RAISE EXCEPTION 'journal entry % has % line(s); a movement needs two', NEW.entry_id, line_count
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_balanced';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER journal_entry_balanced AFTER INSERT ON payments.journal_lines
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payments.check_journal_entry_balanced();

CREATE FUNCTION payments.check_journal_entry_has_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM payments.journal_lines WHERE entry_id = NEW.id) < 2 THEN
        RAISE EXCEPTION 'journal entry % has fewer than two lines', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_balanced';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER journal_entry_has_lines AFTER INSERT ON payments.journal_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payments.check_journal_entry_has_lines();
"""

APPEND_ONLY = """
CREATE FUNCTION payments.refuse_journal_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the journal is append-only (% on %): post a correcting entry instead', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON payments.journal_entries
    FOR EACH ROW EXECUTE FUNCTION payments.refuse_journal_change();
CREATE TRIGGER journal_lines_append_only BEFORE UPDATE OR DELETE ON payments.journal_lines
    FOR EACH ROW EXECUTE FUNCTION payments.refuse_journal_change();
"""

MAINTAINED_BALANCE = """
CREATE FUNCTION payments.apply_journal_line() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE payments.ledger_accounts SET balance = balance + NEW.amount WHERE id = NEW.account_id;
    RETURN NULL;
END $$;

CREATE TRIGGER journal_lines_apply AFTER INSERT ON payments.journal_lines
    FOR EACH ROW EXECUTE FUNCTION payments.apply_journal_line();

-- Only apply_journal_line (a nested trigger, depth >= 2 here) may change a balance.
CREATE FUNCTION payments.guard_ledger_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.balance IS DISTINCT FROM OLD.balance AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'ledger balances change only by posting journal lines'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.kind <> OLD.kind OR NEW.currency <> OLD.currency OR NEW.owner_id IS DISTINCT FROM OLD.owner_id THEN
        RAISE EXCEPTION 'a ledger account never changes identity' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_accounts_guard BEFORE UPDATE ON payments.ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION payments.guard_ledger_balance();
"""

DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS payments.check_journal_entry_balanced() CASCADE;
DROP FUNCTION IF EXISTS payments.check_journal_entry_has_lines() CASCADE;
DROP FUNCTION IF EXISTS payments.refuse_journal_change() CASCADE;
DROP FUNCTION IF EXISTS payments.apply_journal_line() CASCADE;
DROP FUNCTION IF EXISTS payments.guard_ledger_balance() CASCADE;
"""


def upgrade() -> None:
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("payout_id", sa.Uuid(), nullable=True),
        sa.Column("memo", sa.Text(), server_default="", nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint("reference", name=op.f("uq_journal_entries_reference")),
        schema="payments",
    )
    op.create_index("ix_journal_entries_payment_id", "journal_entries", ["payment_id"], unique=False, schema="payments")
    op.create_index("ix_journal_entries_payout_id", "journal_entries", ["payout_id"], unique=False, schema="payments")
    op.create_index("ix_journal_entries_posted_at", "journal_entries", ["posted_at"], unique=False, schema="payments")
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("balance", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "CASE WHEN kind IN ('buyer_funding') THEN balance <= 0 ELSE balance >= 0 END",
            name=op.f("ck_ledger_accounts_balance_sign"),
        ),
        sa.CheckConstraint(
            "(kind IN ('platform_escrow', 'platform_fees')) = (owner_id IS NULL)",
            name=op.f("ck_ledger_accounts_owner_matches_kind"),
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_ledger_accounts_iso_currency")),
        sa.CheckConstraint(
            "kind IN ('buyer_funding', 'paid_out', 'payouts_in_transit', 'platform_escrow', 'platform_fees', 'refunds', 'seller_payable')",
            name=op.f("ck_ledger_accounts_known_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("id", "currency", name="uq_ledger_accounts_id_currency"),
        sa.UniqueConstraint(
            "kind", "currency", "owner_id", name="uq_ledger_accounts_identity", postgresql_nulls_not_distinct=True
        ),
        schema="payments",
    )
    op.create_table(
        "journal_lines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_journal_lines_nonzero_amount")),
        sa.ForeignKeyConstraint(
            ["account_id", "currency"],
            ["payments.ledger_accounts.id", "payments.ledger_accounts.currency"],
            name="fk_journal_lines_account_currency",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["payments.journal_entries.id"], name=op.f("fk_journal_lines_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_lines")),
        schema="payments",
    )
    op.create_index(
        "ix_journal_lines_account_id",
        "journal_lines",
        ["account_id"],
        unique=False,
        schema="payments",
        postgresql_include=["amount"],
    )
    op.create_index(
        op.f("ix_payments_journal_lines_entry_id"), "journal_lines", ["entry_id"], unique=False, schema="payments"
    )
    op.execute(BALANCED)
    op.execute(APPEND_ONLY)
    op.execute(MAINTAINED_BALANCE)


def downgrade() -> None:
    op.execute(DROP_FUNCTIONS)
    op.drop_index(op.f("ix_payments_journal_lines_entry_id"), table_name="journal_lines", schema="payments")
    op.drop_index(
        "ix_journal_lines_account_id", table_name="journal_lines", schema="payments", postgresql_include=["amount"]
    )
    op.drop_table("journal_lines", schema="payments")
    op.drop_table("ledger_accounts", schema="payments")
    op.drop_index("ix_journal_entries_posted_at", table_name="journal_entries", schema="payments")
    op.drop_index("ix_journal_entries_payout_id", table_name="journal_entries", schema="payments")
    op.drop_index("ix_journal_entries_payment_id", table_name="journal_entries", schema="payments")
    op.drop_table("journal_entries", schema="payments")
