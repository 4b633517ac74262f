"""Payments, refunds, holds, payouts, seller accounts, provider events and transition history.

CHECK constraints restate the money rules (refunded + pending <= captured, refund parts sum to the
refund) and a partial unique index allows one live payment per order. Transitions are append-only.

Revision ID: payments_0003
Revises: payments_0002
Create Date: 2026-11-26 05:58:33.819969
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "payments_0003"
down_revision: str | Sequence[str] | None = "payments_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TRANSITIONS_APPEND_ONLY = """
CREATE TRIGGER transitions_append_only BEFORE UPDATE OR DELETE ON payments.transitions
    FOR EACH ROW EXECUTE FUNCTION payments.refuse_journal_change();
"""


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_type", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=True),
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("buyer_fee", sa.BigInteger(), nullable=False),
        sa.Column("amount_total", sa.BigInteger(), nullable=False),
        sa.Column("platform_fee_bps", sa.Integer(), nullable=False),
        sa.Column("amount_captured", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("amount_refunded", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("amount_refund_pending", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("seller_amount", sa.BigInteger(), nullable=True),
        sa.Column("platform_fee", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_intent_id", sa.String(length=255), nullable=True),
        sa.Column("client_secret", sa.String(length=255), nullable=True),
        sa.Column("declines", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_attempt_ref", sa.String(length=255), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_after_refund", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_payments_iso_currency")),
        sa.CheckConstraint("amount > 0 AND buyer_fee >= 0", name=op.f("ck_payments_positive_amounts")),
        sa.CheckConstraint("amount_captured IN (0, amount_total)", name=op.f("ck_payments_captured_all_or_nothing")),
        sa.CheckConstraint(
            "amount_refunded + amount_refund_pending <= amount_captured",
            name=op.f("ck_payments_refunds_within_captured"),
        ),
        sa.CheckConstraint(
            "amount_refunded >= 0 AND amount_refund_pending >= 0", name=op.f("ck_payments_refunds_not_negative")
        ),
        sa.CheckConstraint("amount_total = amount + buyer_fee", name=op.f("ck_payments_total_is_amount_plus_fee")),
        sa.CheckConstraint("buyer_id <> seller_id", name=op.f("ck_payments_buyer_is_not_seller")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("provider_intent_id", name=op.f("uq_payments_provider_intent_id")),
        schema="payments",
    )
    op.create_index("ix_payments_buyer", "payments", ["buyer_id", "created_at"], unique=False, schema="payments")
    op.create_index(
        "ix_payments_release_due",
        "payments",
        ["release_due_at"],
        unique=False,
        schema="payments",
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.create_index("ix_payments_seller", "payments", ["seller_id", "created_at"], unique=False, schema="payments")
    op.create_index("ix_payments_state_expires", "payments", ["state", "expires_at"], unique=False, schema="payments")
    op.create_index(
        "uq_payments_live_order",
        "payments",
        ["order_type", "order_id"],
        unique=True,
        schema="payments",
        postgresql_where=sa.text("state NOT IN ('failed', 'expired', 'canceled')"),
    )
    op.create_table(
        "payouts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("destination", sa.String(length=255), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_transfer_id", sa.String(length=255), nullable=True),
        sa.Column("reversed_amount", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payouts_positive_amount")),
        sa.CheckConstraint("reversed_amount BETWEEN 0 AND amount", name=op.f("ck_payouts_reversal_within_amount")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("provider_transfer_id", name=op.f("uq_payouts_provider_transfer_id")),
        schema="payments",
    )
    op.create_index(
        "ix_payouts_pending",
        "payouts",
        ["next_attempt_at"],
        unique=False,
        schema="payments",
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index("ix_payouts_seller", "payouts", ["seller_id", "created_at"], unique=False, schema="payments")
    op.create_table(
        "provider_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("object_id", sa.String(length=255), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_events")),
        schema="payments",
    )
    op.create_index("ix_provider_events_received", "provider_events", ["received_at"], unique=False, schema="payments")
    op.create_table(
        "seller_accounts",
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_account_id", sa.String(length=255), nullable=False),
        sa.Column("payouts_enabled", sa.Boolean(), nullable=False),
        sa.Column("onboarding_url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("seller_id", name=op.f("pk_seller_accounts")),
        sa.UniqueConstraint("provider_account_id", name=op.f("uq_seller_accounts_provider_account_id")),
        schema="payments",
    )
    op.create_table(
        "transitions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transitions")),
        schema="payments",
    )
    op.create_index(
        "ix_transitions_subject",
        "transitions",
        ["subject_type", "subject_id", "occurred_at"],
        unique=False,
        schema="payments",
    )
    op.create_table(
        "holds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("seller_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("placed_by", sa.String(length=80), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=80), nullable=True),
        sa.Column("lift_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "(scope = 'payment' AND payment_id IS NOT NULL AND seller_id IS NULL) OR (scope = 'seller' AND seller_id IS NOT NULL AND payment_id IS NULL)",
            name=op.f("ck_holds_scope_target"),
        ),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.payments.id"], name=op.f("fk_holds_payment_id_payments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
        schema="payments",
    )
    op.create_index(
        "ix_holds_active_payment",
        "holds",
        ["payment_id"],
        unique=False,
        schema="payments",
        postgresql_where=sa.text("lifted_at IS NULL"),
    )
    op.create_index(
        "ix_holds_active_seller",
        "holds",
        ["seller_id"],
        unique=False,
        schema="payments",
        postgresql_where=sa.text("lifted_at IS NULL"),
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("from_escrow", sa.BigInteger(), nullable=False),
        sa.Column("from_seller", sa.BigInteger(), nullable=False),
        sa.Column("from_fees", sa.BigInteger(), nullable=False),
        sa.Column("reversed_amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider_refund_id", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refunds_positive_amount")),
        sa.CheckConstraint(
            "from_escrow + from_seller + from_fees = amount AND from_escrow >= 0 AND from_seller >= 0 AND from_fees >= 0",
            name=op.f("ck_refunds_parts_sum_to_amount"),
        ),
        sa.CheckConstraint(
            "reversed_amount BETWEEN 0 AND from_seller", name=op.f("ck_refunds_reversal_within_seller_part")
        ),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.payments.id"], name=op.f("fk_refunds_payment_id_payments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        schema="payments",
    )
    op.create_index("ix_refunds_payment", "refunds", ["payment_id", "created_at"], unique=False, schema="payments")
    op.create_index(
        "ix_refunds_pending",
        "refunds",
        ["state"],
        unique=False,
        schema="payments",
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.execute(TRANSITIONS_APPEND_ONLY)


def downgrade() -> None:
    op.drop_index(
        "ix_refunds_pending", table_name="refunds", schema="payments", postgresql_where=sa.text("state = 'pending'")
    )
    op.drop_index("ix_refunds_payment", table_name="refunds", schema="payments")
    op.drop_table("refunds", schema="payments")
    op.drop_index(
        "ix_holds_active_seller", table_name="holds", schema="payments", postgresql_where=sa.text("lifted_at IS NULL")
    )
    op.drop_index(
        "ix_holds_active_payment", table_name="holds", schema="payments", postgresql_where=sa.text("lifted_at IS NULL")
    )
    op.drop_table("holds", schema="payments")
    op.drop_index("ix_transitions_subject", table_name="transitions", schema="payments")
    op.drop_table("transitions", schema="payments")
    op.drop_table("seller_accounts", schema="payments")
    op.drop_index("ix_provider_events_received", table_name="provider_events", schema="payments")
    op.drop_table("provider_events", schema="payments")
    op.drop_index("ix_payouts_seller", table_name="payouts", schema="payments")
    op.drop_index(
        "ix_payouts_pending", table_name="payouts", schema="payments", postgresql_where=sa.text("state = 'pending'")
    )
    op.drop_table("payouts", schema="payments")
    op.drop_index(
        "uq_payments_live_order",
        table_name="payments",
        schema="payments",
        postgresql_where=sa.text("state NOT IN ('failed', 'expired', 'canceled')"),
    )
    op.drop_index("ix_payments_state_expires", table_name="payments", schema="payments")
    op.drop_index("ix_payments_seller", table_name="payments", schema="payments")
    op.drop_index(
        "ix_payments_release_due",
        table_name="payments",
        schema="payments",
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.drop_index("ix_payments_buyer", table_name="payments", schema="payments")
    op.drop_table("payments", schema="payments")
