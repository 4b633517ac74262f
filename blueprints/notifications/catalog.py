"""The notification kinds: what a person can hear about, on which channels, and what they may switch off.

A kind is declared once here; events become kinds in :mod:`blueprints.notifications.events` and each
kind has one template per locale in ``templates/<locale>/<kind>.j2``. ``mandatory`` channels
(security and money) cannot be switched off; ``defaults`` are what a user gets before touching the
preferences; ``digest`` kinds are chatty (a thread's messages): their emails are folded into one per
window; ``urgent`` kinds ignore quiet hours; ``transactional`` mails (verification, reset) carry no
unsubscribe link. ``secret_fields`` (raw tokens) are scrubbed from stored context once delivered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

IN_APP, EMAIL, PUSH, SMS = "in_app", "email", "push", "sms"
CHANNELS: tuple[str, ...] = (IN_APP, EMAIL, PUSH, SMS)
# Channels sent by the RQ workers through a provider (in-app rows are written with the event).
PROVIDER_CHANNELS: tuple[str, ...] = (EMAIL, PUSH, SMS)
QUIET_HOURS_CHANNELS: frozenset[str] = frozenset({PUSH, SMS})


@dataclass(frozen=True)
class Kind:
    name: str
    category: str
    description: str
    channels: tuple[str, ...]
    defaults: frozenset[str]
    mandatory: frozenset[str] = frozenset()
    digest: bool = False
    urgent: bool = False
    transactional: bool = False
    secret_fields: tuple[str, ...] = ()
    link: str = ""
    sample: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.channels) - set(CHANNELS)
        if unknown:
            raise ValueError(f"kind {self.name}: unknown channels {sorted(unknown)}")
        if not self.defaults <= set(self.channels) or not self.mandatory <= self.defaults:
            raise ValueError(f"kind {self.name}: defaults must be offered channels and include every mandatory one")

    @property
    def is_mandatory(self) -> bool:
        return bool(self.mandatory)

    def link_for(self, context: Mapping[str, Any]) -> str:
        """The app path the notification opens (``/offers/<id>``); empty when the context lacks a field."""
        try:
            return self.link.format_map(context) if self.link else ""
        except (KeyError, IndexError, ValueError):
            return ""


def _kind(name: str, category: str, description: str, channels: str, defaults: str, mandatory: str = "", **kw: Any):
    return Kind(
        name=name,
        category=category,
        description=description,
        channels=tuple(channels.split()),
        defaults=frozenset(defaults.split()),
        mandatory=frozenset(mandatory.split()),
        **kw,
    )


_OFFER = {
    "offer_id": "7d6f0d9e-1d7a-4a8e-9a4e-1f2d3c4b5a69",
    "amount": 4500,
    "currency": "EUR",
    "author": "buyer",
    "actor_name": "Alice",
}
_ORDER = {
    "payment_id": "0b8f1c1e-5a43-4f27-9a0e-7f6a1d2c3b4e",
    "order_id": "2c9d8e7f-6a5b-4c3d-9e8f-7a6b5c4d3e2f",
    "amount": 4500,
    "currency": "EUR",
}
_SHIPMENT = {"order_id": _ORDER["order_id"]}
_SEARCH = {
    "saved_search_id": "5e1c9a5b-6c1d-4b7e-8f3a-2b1c0d9e8f7a",
    "listing_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    "search_name": "Road bikes under 300",
    "title": "Road bike, 56 cm",
    "price_amount": 25000,
    "currency": "EUR",
}

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        # --- account (transactional auth mail: the raw token travels in the event payload only) ---
        _kind("email_verification", "account", "Confirm your email address", "email", "email", "email",
              transactional=True, urgent=True, secret_fields=("token",), link="/verify-email?token={token}",
              sample={"token": "sample-token", "display_name": "Alice", "expires_at": "2026-11-28T10:00:00+00:00"}),
        _kind("password_reset", "account", "Reset your password", "email", "email", "email",
              transactional=True, urgent=True, secret_fields=("token",), link="/reset-password?token={token}",
              sample={"token": "sample-token", "display_name": "Alice", "expires_at": "2026-11-26T11:00:00+00:00"}),
        _kind("account_suspended", "account", "Your account was suspended", "email", "email", "email",
              transactional=True, sample={"reason": "Repeated off-platform payment requests"}),
        # --- security alerts: cannot be switched off, ignore quiet hours ---
        _kind("new_login", "security", "A sign-in from a new device", "in_app email push", "in_app email push",
              "in_app email", urgent=True, link="/settings/sessions",
              sample={"device_name": "Firefox on Linux", "ip": "203.0.113.7", "display_name": "Alice"}),
        _kind("mfa_changed", "security", "Two-factor authentication changed", "in_app email push",
              "in_app email push", "in_app email", urgent=True, link="/settings/security",
              sample={"change": "disabled", "recovery_codes_left": 0, "display_name": "Alice"}),
        _kind("password_changed", "security", "Your password was changed", "in_app email push", "in_app email push",
              "in_app email", urgent=True, link="/settings/security", sample={"via": "reset", "display_name": "Alice"}),
        # --- messages (chatty: one email per thread per window, none while online) ---
        _kind("new_message", "messages", "A new message in a conversation", "in_app email push", "in_app email push",
              digest=True, link="/messages/{thread_id}",
              sample={"thread_id": "3f2e1d0c-9b8a-4f6e-8d7c-6b5a4f3e2d1c", "actor_name": "Bob",
                      "preview": "Is it still available?"}),
        # --- offers ---
        _kind("offer_received", "offers", "Someone made an offer", "in_app email push sms", "in_app email push",
              link="/offers/{offer_id}", sample=_OFFER),
        _kind("offer_countered", "offers", "Your offer was countered", "in_app email push sms", "in_app email push",
              link="/offers/{offer_id}", sample=_OFFER),
        _kind("offer_accepted", "offers", "Your offer was accepted", "in_app email push sms", "in_app email push",
              link="/offers/{offer_id}", sample=_OFFER),
        _kind("offer_declined", "offers", "Your offer was declined", "in_app email push", "in_app email push",
              link="/offers/{offer_id}", sample={**_OFFER, "reason": "Too low"}),
        _kind("offer_expiring", "offers", "An offer expires soon", "in_app email push sms", "in_app push",
              link="/offers/{offer_id}", sample={**_OFFER, "expires_at": "2026-11-27T18:00:00+00:00"}),
        _kind("offer_expired", "offers", "An offer expired", "in_app email push", "in_app email push",
              link="/offers/{offer_id}", sample={**_OFFER, "from_state": "pending"}),
        _kind("offer_withdrawn", "offers", "An offer was withdrawn", "in_app email push", "in_app push",
              link="/offers/{offer_id}", sample=_OFFER),
        _kind("offer_cancelled", "offers", "An offer can no longer be taken", "in_app email push",
              "in_app email push", link="/offers/{offer_id}", sample={**_OFFER, "reason": "The item was sold"}),
        # --- orders and money: payments cannot be switched off ---
        _kind("payment_held", "payments", "A payment is held in escrow", "in_app email push", "in_app email push",
              "in_app email", link="/orders/{order_id}", sample={**_ORDER, "role": "seller"}),
        _kind("payment_refunded", "payments", "A payment was refunded", "in_app email push", "in_app email push",
              "in_app email", link="/orders/{order_id}", sample={**_ORDER, "full": True}),
        _kind("item_shipped", "orders", "Your item is on its way", "in_app email push sms", "in_app email push",
              link="/orders/{order_id}", sample={**_SHIPMENT, "carrier": "DHL", "tracking_number": "JD0146000033"}),
        _kind("item_delivered", "orders", "The item was delivered", "in_app email push sms", "in_app email push",
              link="/orders/{order_id}", sample={**_SHIPMENT, "role": "buyer"}),
        _kind("funds_released", "payments", "Funds were released to you", "in_app email push", "in_app email push",
              "in_app email", link="/payouts", sample={"seller_amount": 4050, "currency": "EUR"}),
        _kind("payout_sent", "payments", "A payout is on its way", "in_app email push", "in_app email push",
              "in_app email", link="/payouts", sample={"amount": 12000, "currency": "EUR"}),
        _kind("payout_failed", "payments", "A payout failed", "in_app email push", "in_app email push",
              "in_app email", link="/payouts", sample={"amount": 12000, "currency": "EUR", "error": "Account closed"}),
        # --- disputes (money is at stake: in-app and email cannot be switched off) ---
        _kind("dispute_opened", "disputes", "A dispute was opened", "in_app email push", "in_app email push",
              "in_app email", link="/disputes/{dispute_id}",
              sample={"dispute_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "reason": "Item not as described"}),
        _kind("dispute_updated", "disputes", "A dispute changed", "in_app email push", "in_app email push",
              "in_app email", link="/disputes/{dispute_id}",
              sample={"dispute_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "status": "resolved"}),
        # --- verification and discovery ---
        _kind("verification_result", "verification", "Your verification was reviewed", "in_app email push",
              "in_app email", link="/settings/verification", sample={"status": "approved"}),
        _kind("saved_search_match", "discovery", "New listings match a saved search", "in_app email push",
              "in_app email", digest=True, link="/searches/{saved_search_id}", sample=_SEARCH),
        _kind("price_drop", "discovery", "A price dropped", "in_app email push", "in_app email", digest=True,
              link="/listings/{listing_id}", sample={**_SEARCH, "reason": "price_drop"}),
    )
}  # fmt: skip


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise LookupError(f"unknown notification kind {name!r}") from None


def default_enabled(kind: Kind, channel: str) -> bool:
    return channel in kind.defaults
