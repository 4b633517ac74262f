"""Events this domain publishes, and the declarations that turn other domains' events into notifications.

Adding a notification is a declaration: a kind in ``catalog.py``, a template per locale, and a
``Route`` below. One subscriber (``notifications.fanout``) handles every routed event type, so a bus
batch of events becomes one transaction of notifications and one delivery batch.

Payload contracts the routes rely on (fields of the publishing domain's events):
- auth: ``user_id`` (+ ``email`` for mails to the address being verified or reset);
- messaging.MessageSent: ``thread_id``, ``sender_id``, ``recipient_ids`` (list), ``preview``;
- offers.*: ``offer_id``, ``buyer_id``, ``seller_id``, ``amount``, ``currency``, ``author`` (who proposed
  the amount; ExpiringSoon: ``awaiting``, who must answer);
- payments.*: ``buyer_id``, ``seller_id`` (payouts: ``seller_id``), amounts in minor units + ``currency``;
- shipping.*: ``buyer_id``, ``seller_id``; disputes.*: ``dispute_id``, ``buyer_id``, ``seller_id``;
- verification.VerificationStatusChanged: ``user_id``, ``status``;
- listings.SavedSearchMatched: ``user_id``, ``saved_search_id``, ``listing_id``, ``title``, ``price_amount``,
  ``currency``, ``reason`` ("new_listing" | "price_drop").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from app.events import DomainEvent, on_commit, subscribe
from app.events.timers import FiredTimer, on_timer
from blueprints.notifications import fanout
from blueprints.notifications.dispatch import DISPATCH_TIMER, enqueue_quietly
from blueprints.notifications.routing import Route, counterparty, declare, fields, others, party

# --- events published here -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DeliveryDeadLettered(DomainEvent):
    """A notification could not be delivered on a channel (refused, or out of attempts); staff can resend."""

    type = "notifications.DeliveryDeadLettered"
    version = 1
    personal = frozenset({"error"})
    delivery_id: uuid.UUID
    user_id: uuid.UUID
    kind: str
    channel: str
    attempts: int
    error: str


@dataclass(frozen=True, kw_only=True)
class EmailUnsubscribed(DomainEvent):
    """A user stopped a kind of email (``kind`` "*" = every email that may be stopped) from a one-click link."""

    type = "notifications.EmailUnsubscribed"
    version = 1
    user_id: uuid.UUID
    kind: str


# --- other domains' events -> notification kinds -------------------------------------------------

PARTIES = ("buyer_id", "seller_id")
FINAL_VERIFICATION = {"approved", "rejected", "verified", "failed"}


def _lapsed(payload: dict[str, Any]) -> bool:
    """An accepted offer whose checkout window passed unpaid (not an offer left unanswered)."""
    return payload.get("from_state") == "accepted"


def _price_drop(payload: dict[str, Any]) -> bool:
    return payload.get("reason") == "price_drop"


ROUTES = declare(
    # auth: transactional mail goes to the address the event names (e.g. the one being verified)
    Route("auth.EmailVerificationRequested", "email_verification", to="user_id", address="email"),
    Route("auth.PasswordResetRequested", "password_reset", to="user_id", address="email"),
    Route("auth.UserSuspended", "account_suspended", to="user_id", address="email"),
    Route("auth.NewLoginDetected", "new_login", to="user_id"),
    Route("auth.MfaChanged", "mfa_changed", to="user_id"),
    Route("auth.PasswordChanged", "password_changed", to="user_id"),
    # messaging: chatty, one email per thread per window for offline users
    Route("messaging.MessageSent", "new_message", to=others("recipient_ids"), digest_by="thread_id"),
    # offers (``author``: who proposed the amount; ``awaiting``: who must answer)
    Route("offers.OfferCreated", "offer_received", to="seller_id"),
    Route("offers.OfferCountered", "offer_countered", to=counterparty("author")),
    Route("offers.OfferAccepted", "offer_accepted", to=party("author")),
    Route("offers.OfferDeclined", "offer_declined", to=party("author")),
    Route("offers.OfferExpiringSoon", "offer_expiring", to=party("awaiting")),
    # an unanswered offer expired: its author hears; an accepted offer lapsed unpaid: both parties do
    Route("offers.OfferExpired", "offer_expired", to=party("author"), when=lambda p: not _lapsed(p)),
    Route("offers.OfferExpired", "offer_expired", to=fields(*PARTIES), when=_lapsed),
    Route("offers.OfferWithdrawn", "offer_withdrawn", to=counterparty("author")),
    # listing gone or another offer accepted: the buyer hears (the seller caused it); staff: both hear
    Route("offers.OfferCancelled", "offer_cancelled", to="buyer_id"),
    Route("offers.OfferCancelled", "offer_cancelled", to="seller_id", when=lambda p: p.get("by") == "staff"),
    # payments and orders (mandatory in-app + email)
    Route("payments.PaymentHeld", "payment_held", to="seller_id", extra={"role": "seller"}),
    Route("payments.PaymentHeld", "payment_held", to="buyer_id", extra={"role": "buyer"}),
    Route("payments.PaymentRefunded", "payment_refunded", to="buyer_id"),
    Route("payments.PaymentReleased", "funds_released", to="seller_id"),
    Route("payments.PayoutSent", "payout_sent", to="seller_id"),
    Route("payments.PayoutFailed", "payout_failed", to="seller_id"),
    Route("shipping.ShipmentCreated", "item_shipped", to="buyer_id"),
    Route("shipping.ShipmentDelivered", "item_delivered", to="buyer_id", extra={"role": "buyer"}),
    Route("shipping.ShipmentDelivered", "item_delivered", to="seller_id", extra={"role": "seller"}),
    Route("disputes.DisputeOpened", "dispute_opened", to=others(*PARTIES)),
    Route("disputes.DisputeUpdated", "dispute_updated", to=others(*PARTIES)),
    Route("disputes.DisputeResolved", "dispute_updated", to=fields(*PARTIES)),
    Route(
        "verification.VerificationStatusChanged",
        "verification_result",
        to="user_id",
        when=lambda p: p.get("status") in FINAL_VERIFICATION,
    ),
    # discovery: digest per saved search
    Route(
        "listings.SavedSearchMatched",
        "saved_search_match",
        to="user_id",
        when=lambda p: not _price_drop(p),
        digest_by="saved_search_id",
    ),
    Route("listings.SavedSearchMatched", "price_drop", to="user_id", when=_price_drop, digest_by="saved_search_id"),
)


@subscribe(*sorted(ROUTES), name="notifications.fanout")
def notify_people(event: Any) -> None:
    """Every routed event: notifications for the people it concerns (see :mod:`.fanout`)."""
    fanout.handle(event, ROUTES[event.type])


@on_timer(DISPATCH_TIMER)
def dispatch_due_batch(timer: FiredTimer) -> None:
    """A batch became due (created, deferred, backoff elapsed, or a worker's lease ran out): send it."""
    batch_id = timer.payload["batch"]
    on_commit(lambda: enqueue_quietly(batch_id))
