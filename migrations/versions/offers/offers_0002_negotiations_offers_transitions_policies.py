"""Negotiations, their offers, the append-only offer timeline, and negotiation policies.

Revision ID: offers_0002
Revises: offers_0001
Create Date: 2026-11-26 06:15:29.813713
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "offers_0002"
down_revision: str | Sequence[str] | None = "offers_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "negotiations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "accepted",
                "closed",
                name="negotiation_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("counter_rounds", sa.Integer(), nullable=False),
        sa.Column("current_offer_id", sa.Uuid(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_negotiations_currency_iso_4217")),
        sa.CheckConstraint("buyer_id <> seller_id", name=op.f("ck_negotiations_buyer_is_not_seller")),
        sa.CheckConstraint("counter_rounds >= 0", name=op.f("ck_negotiations_counter_rounds_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_negotiations")),
        schema="offers",
    )
    op.create_index(
        "ix_negotiations_buyer_created", "negotiations", ["buyer_id", "created_at"], unique=False, schema="offers"
    )
    op.create_index(
        "ix_negotiations_listing_buyer_status",
        "negotiations",
        ["listing_id", "buyer_id", "status"],
        unique=False,
        schema="offers",
    )
    op.create_index(
        "ix_negotiations_seller_created", "negotiations", ["seller_id", "created_at"], unique=False, schema="offers"
    )
    op.create_table(
        "policies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=True),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("seller_id", sa.Uuid(), nullable=True),
        sa.Column("accepts_offers", sa.Boolean(), nullable=True),
        sa.Column("min_offer_amount", sa.BigInteger(), nullable=True),
        sa.Column("min_offer_bps", sa.Integer(), nullable=True),
        sa.Column("auto_accept_amount", sa.BigInteger(), nullable=True),
        sa.Column("auto_accept_bps", sa.Integer(), nullable=True),
        sa.Column("max_counter_rounds", sa.Integer(), nullable=True),
        sa.Column("max_open_per_buyer", sa.Integer(), nullable=True),
        sa.Column("max_daily_per_buyer", sa.Integer(), nullable=True),
        sa.Column("expiry_hours", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("(listing_id IS NULL) <> (category_id IS NULL)", name=op.f("ck_policies_one_scope")),
        sa.CheckConstraint(
            "auto_accept_amount IS NULL OR auto_accept_amount >= 1", name=op.f("ck_policies_auto_accept_positive")
        ),
        sa.CheckConstraint(
            "auto_accept_bps IS NULL OR auto_accept_bps BETWEEN 1 AND 10000",
            name=op.f("ck_policies_auto_accept_bps_range"),
        ),
        sa.CheckConstraint(
            "expiry_hours IS NULL OR expiry_hours BETWEEN 1 AND 720", name=op.f("ck_policies_expiry_hours_range")
        ),
        sa.CheckConstraint(
            "max_counter_rounds IS NULL OR max_counter_rounds >= 0", name=op.f("ck_policies_max_rounds_not_negative")
        ),
        sa.CheckConstraint(
            "max_daily_per_buyer IS NULL OR max_daily_per_buyer >= 1", name=op.f("ck_policies_max_daily_positive")
        ),
        sa.CheckConstraint(
            "max_open_per_buyer IS NULL OR max_open_per_buyer >= 1", name=op.f("ck_policies_max_open_positive")
        ),
        sa.CheckConstraint(
            "min_offer_amount IS NULL OR min_offer_amount >= 1", name=op.f("ck_policies_min_offer_amount_positive")
        ),
        sa.CheckConstraint(
            "min_offer_bps IS NULL OR min_offer_bps BETWEEN 1 AND 10000", name=op.f("ck_policies_min_offer_bps_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
        schema="offers",
    )
    op.create_index(op.f("ix_offers_policies_seller_id"), "policies", ["seller_id"], unique=False, schema="offers")
    op.create_index(
        "uq_policies_category",
        "policies",
        ["category_id"],
        unique=True,
        schema="offers",
        postgresql_where=sa.text("category_id IS NOT NULL"),
    )
    op.create_index(
        "uq_policies_listing",
        "policies",
        ["listing_id"],
        unique=True,
        schema="offers",
        postgresql_where=sa.text("listing_id IS NOT NULL"),
    )
    op.create_table(
        "offers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("negotiation_id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column(
            "author",
            sa.Enum("buyer", "seller", name="offer_party", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column(
            "awaiting",
            sa.Enum("buyer", "seller", name="offer_awaiting", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "countered",
                "accepted",
                "declined",
                "withdrawn",
                "expired",
                "superseded",
                "cancelled",
                name="offer_state",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous_offer_id", sa.Uuid(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checkout_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_offers_currency_iso_4217")),
        sa.CheckConstraint("amount >= 1", name=op.f("ck_offers_amount_positive")),
        sa.CheckConstraint("buyer_id <> seller_id", name=op.f("ck_offers_buyer_is_not_seller")),
        sa.ForeignKeyConstraint(
            ["negotiation_id"],
            ["offers.negotiations.id"],
            name=op.f("fk_offers_negotiation_id_negotiations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
        schema="offers",
    )
    op.create_index(
        "ix_offers_buyer_created", "offers", ["buyer_id", "created_at", "id"], unique=False, schema="offers"
    )
    op.create_index(
        "ix_offers_listing_open",
        "offers",
        ["listing_id"],
        unique=False,
        schema="offers",
        postgresql_where=sa.text("state IN ('pending', 'countered')"),
    )
    op.create_index("ix_offers_negotiation_round", "offers", ["negotiation_id", "round"], unique=True, schema="offers")
    op.create_index(op.f("ix_offers_offers_state"), "offers", ["state"], unique=False, schema="offers")
    op.create_index(
        "ix_offers_seller_created", "offers", ["seller_id", "created_at", "id"], unique=False, schema="offers"
    )
    op.create_index(
        "uq_offers_listing_in_checkout",
        "offers",
        ["listing_id"],
        unique=True,
        schema="offers",
        postgresql_where=sa.text("state = 'accepted' AND paid_at IS NULL"),
    )
    op.create_table(
        "offer_transitions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("negotiation_id", sa.Uuid(), nullable=False),
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transition", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("party", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["negotiation_id"],
            ["offers.negotiations.id"],
            name=op.f("fk_offer_transitions_negotiation_id_negotiations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.offers.id"], name=op.f("fk_offer_transitions_offer_id_offers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_transitions")),
        sa.UniqueConstraint("seq", name=op.f("uq_offer_transitions_seq")),
        schema="offers",
    )
    op.create_index(
        "ix_offer_transitions_negotiation",
        "offer_transitions",
        ["negotiation_id", "occurred_at", "seq"],
        unique=False,
        schema="offers",
    )
    op.create_index(
        "ix_offer_transitions_offer", "offer_transitions", ["offer_id", "occurred_at"], unique=False, schema="offers"
    )


def downgrade() -> None:
    op.drop_index("ix_offer_transitions_offer", table_name="offer_transitions", schema="offers")
    op.drop_index("ix_offer_transitions_negotiation", table_name="offer_transitions", schema="offers")
    op.drop_table("offer_transitions", schema="offers")
    op.drop_index(
        "uq_offers_listing_in_checkout",
        table_name="offers",
        schema="offers",
        postgresql_where=sa.text("state = 'accepted' AND paid_at IS NULL"),
    )
    op.drop_index("ix_offers_seller_created", table_name="offers", schema="offers")
    op.drop_index(op.f("ix_offers_offers_state"), table_name="offers", schema="offers")
    op.drop_index("ix_offers_negotiation_round", table_name="offers", schema="offers")
    op.drop_index(
        "ix_offers_listing_open",
        table_name="offers",
        schema="offers",
        postgresql_where=sa.text("state IN ('pending', 'countered')"),
    )
    op.drop_index("ix_offers_buyer_created", table_name="offers", schema="offers")
    op.drop_table("offers", schema="offers")
    op.drop_index(
        "uq_policies_listing",
        table_name="policies",
        schema="offers",
        postgresql_where=sa.text("listing_id IS NOT NULL"),
    )
    op.drop_index(
        "uq_policies_category",
        table_name="policies",
        schema="offers",
        postgresql_where=sa.text("category_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_offers_policies_seller_id"), table_name="policies", schema="offers")
    op.drop_table("policies", schema="offers")
    op.drop_index("ix_negotiations_seller_created", table_name="negotiations", schema="offers")
    op.drop_index("ix_negotiations_listing_buyer_status", table_name="negotiations", schema="offers")
    op.drop_index("ix_negotiations_buyer_created", table_name="negotiations", schema="offers")
    op.drop_table("negotiations", schema="offers")
