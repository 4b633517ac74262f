"""Generator declarations of payments: REST reads with their policy, the staff admin, and actions.

Clients read their payments (buyer or seller: anyone else gets a 404) and sellers their payouts;
nothing here is writable by clients. The journal, accounts, refunds, holds and transitions are for
staff. Money-moving client actions (pay, confirm, ship, confirm receipt) are hand-written in
:mod:`blueprints.payments.api` because they need Idempotency-Key handling and step-up MFA.
"""

from __future__ import annotations

from app.generator import OWNER, PARTICIPANT, STAFF, Action, AdminOptions, Money, Policy, Resource
from blueprints.payments import actions
from blueprints.payments.models import Hold, JournalEntry, LedgerAccount, Payment, Payout, Refund, Transition

STAFF_ONLY = Policy(read=STAFF)
# Staff follow plain-id references into other views, other domains' included (URLs only: no import).
PAYMENT_PAGE = "/admin/payments/payment/show/{value}"
ADMIN_LINKS = {
    "listing_id": "/admin/listings/listing/show/{value}",
    "buyer_id": "/admin/auth/users/show/{value}",
    "seller_id": "/admin/auth/users/show/{value}",
    "payment_id": PAYMENT_PAGE,
    "payout_id": "/admin/payments/payout/show/{value}",
}

payments = Resource(
    Payment,
    path="",
    description="Payments you are party to, as buyer or seller. Amounts and states are never client-writable.",
    policy=Policy(
        read=PARTICIPANT("buyer_id", "seller_id") | STAFF,
        hidden=("client_secret", "last_attempt_ref", "release_after_refund", "amount_refund_pending"),
    ),
    money={
        "price": Money("amount", "currency"),
        "fee": Money("buyer_fee", "currency"),
        "total": Money("amount_total", "currency"),
        "captured": Money("amount_captured", "currency"),
        "refunded": Money("amount_refunded", "currency"),
        "seller_proceeds": Money("seller_amount", "currency"),
        "platform_take": Money("platform_fee", "currency"),
    },
    filters={
        "state": ("eq", "in"),
        "buyer_id": ("eq",),
        "seller_id": ("eq",),
        "order_id": ("eq",),
        "currency": ("eq",),
        "created_at": ("gte", "lt"),
    },
    sort=("created_at",),
    default_sort="-created_at",
    actions=[
        Action(actions.refund, allow=STAFF, input=actions.RefundInput),
        Action(actions.release, allow=STAFF, input=actions.ReasonInput),
        Action(actions.hold, allow=STAFF, input=actions.ReasonInput),
        Action(actions.hold_seller, allow=STAFF, input=actions.ReasonInput),
    ],
    admin=AdminOptions(
        list_columns=(
            "id",
            "state",
            "amount_total",
            "amount_refunded",
            "currency",
            "held_at",
            "released_at",
            "created_at",
        ),
        search_columns=("state", "currency", "buyer_id", "seller_id", "order_id", "listing_id", "provider_intent_id"),
        # every column but the buyer's client secret
        show_columns=tuple(
            c.key for c in Payment.__table__.columns if c.key not in {"client_secret", "last_attempt_ref"}
        ),
        links=(
            ("Ledger: journal entries", "/admin/payments/payment-ledger/{id}"),
            ("Negotiations (offers)", "/admin/offers/negotiation/list/?_flt_0_listing_id={listing_id}"),
            ("Conversation", "/admin/messaging/thread/list/?_flt_0_listing_id={listing_id}&_flt_0_buyer_id={buyer_id}"),
            ("Transitions", "/admin/payments/transition/list/?_flt_0_subject_id={id}"),
            ("Seller's payouts", "/admin/payments/payout/list/?_flt_0_seller_id={seller_id}"),
        ),
        column_links=ADMIN_LINKS,
    ),
)

payouts = Resource(
    Payout,
    path="/payouts",
    description="Payouts of a seller's balance to their connected account; staff retry failed ones.",
    policy=Policy(read=OWNER("seller_id") | STAFF, hidden=("destination",)),
    money={"value": Money("amount", "currency"), "reversed": Money("reversed_amount", "currency")},
    filters={"state": ("eq", "in"), "currency": ("eq",), "created_at": ("gte", "lt")},
    sort=("created_at",),
    default_sort="-created_at",
    actions=[Action(actions.retry, allow=STAFF, input=actions.ReasonInput)],
    admin=AdminOptions(
        list_columns=("id", "seller_id", "amount", "currency", "state", "attempts", "last_error", "created_at"),
        search_columns=("state", "seller_id", "currency", "provider_transfer_id"),
    ),
)

refunds = Resource(
    Refund,
    path="/refunds",
    policy=STAFF_ONLY,
    filters={"state": ("eq", "in"), "payment_id": ("eq",)},
    sort=("created_at",),
    default_sort="-created_at",
    admin=AdminOptions(
        list_columns=("id", "payment_id", "amount", "currency", "state", "reason", "requested_by", "created_at"),
        search_columns=("state", "payment_id", "requested_by"),
        column_links=ADMIN_LINKS,
    ),
)

holds = Resource(
    Hold,
    path="/holds",
    policy=STAFF_ONLY,
    filters={"scope": ("eq",), "payment_id": ("eq",), "seller_id": ("eq",), "lifted_at": ("is_null",)},
    sort=("placed_at",),
    default_sort="-placed_at",
    actions=[Action(actions.lift, allow=STAFF, input=actions.ReasonInput)],
    admin=AdminOptions(
        list_columns=("id", "scope", "payment_id", "seller_id", "source", "reason", "placed_at", "lifted_at"),
        search_columns=("scope", "source", "payment_id", "seller_id"),
    ),
)

journal = Resource(
    JournalEntry,
    path="/journal",
    policy=STAFF_ONLY,
    filters={"kind": ("eq", "in"), "payment_id": ("eq",), "payout_id": ("eq",), "posted_at": ("gte", "lt")},
    sort=("posted_at",),
    default_sort="-posted_at",
    admin=AdminOptions(
        label="Journal",
        list_columns=("posted_at", "kind", "reference", "payment_id", "payout_id", "memo"),
        search_columns=("kind", "reference", "payment_id", "payout_id"),
        column_links=ADMIN_LINKS,
    ),
)

accounts = Resource(
    LedgerAccount,
    path="/accounts",
    policy=STAFF_ONLY,
    filters={"kind": ("eq", "in"), "currency": ("eq",), "owner_id": ("eq",)},
    sort=("created_at",),
    default_sort="-created_at",
    admin=AdminOptions(
        label="Balances",
        list_columns=("kind", "currency", "owner_id", "balance", "created_at"),
        search_columns=("kind", "currency", "owner_id"),
    ),
)

transitions = Resource(
    Transition,
    path="/transitions",
    policy=STAFF_ONLY,
    filters={"subject_type": ("eq",), "subject_id": ("eq",), "to_state": ("eq", "in")},
    sort=("occurred_at",),
    default_sort="-occurred_at",
    admin=AdminOptions(
        list_columns=("occurred_at", "subject_type", "subject_id", "from_state", "to_state", "actor_type", "reason"),
        search_columns=("subject_type", "subject_id", "to_state", "actor_type"),
    ),
)

RESOURCES = [payments, payouts, refunds, holds, journal, accounts, transitions]
