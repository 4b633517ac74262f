"""What a claimed delivery becomes on the wire: the address, the rendered text, the headers.

Email goes to the address the event named (auth mail) or to the account's address; non-transactional
mail needs a verified address on an active account. Mail a user may switch off carries RFC 8058
one-click unsubscribe headers and a footer link; the Message-ID is fixed per delivery (and per staff
resend), so a retried or crash-resent email is recognisably the same message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from flask import current_app
from jinja2 import TemplateError

from blueprints.notifications.catalog import EMAIL, KINDS, PUSH, SMS, Kind
from blueprints.notifications.providers import OutgoingMessage
from blueprints.notifications.rendering import render, render_in_app, render_sms
from blueprints.notifications.unsubscribe import list_unsubscribe_headers, unsubscribe_url

if TYPE_CHECKING:
    from blueprints.notifications.contacts import Contact
    from blueprints.notifications.preferences import Profile
    from blueprints.notifications.sender import Claimed


@dataclass
class Prepared:
    messages: list[OutgoingMessage] = field(default_factory=list)
    address: str | None = None
    skip: str | None = None
    error: str | None = None


def message_id(row: Claimed) -> str:
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "bazaar.local"
    return f"<{row.id}.{row.resends}@{domain}>"


def unsubscribable(kind: Kind) -> bool:
    return EMAIL not in kind.mandatory and not kind.transactional


def build_messages(
    row: Claimed, data: dict[str, Any], profile: Profile, contact: Contact | None, device_tokens: list[str]
) -> Prepared:
    kind = KINDS.get(row.kind)
    if kind is None:
        return Prepared(error=f"unknown notification kind {row.kind!r}")
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    link = kind.link_for(data)
    context = {**data, "time_zone": profile.time_zone, "link_url": f"{base}{link}" if link else ""}
    if contact is not None:
        context["display_name"] = contact.display_name
    try:
        if row.channel == EMAIL:
            return _email(row, kind, context, profile, contact, base)
        if row.channel == SMS:
            if not profile.sms_number:
                return Prepared(skip="no SMS number")
            text = render_sms(kind, context, locale=profile.locale)
            return Prepared([OutgoingMessage(row.id, SMS, profile.sms_number, text)], address=profile.sms_number)
        if row.channel == PUSH:
            if not device_tokens:
                return Prepared(skip="no push device")
            title, body = render_in_app(kind, context, locale=profile.locale)
            data_fields = {"notification_id": str(row.notification_id), "kind": kind.name, "link": link}
            messages = [
                OutgoingMessage(row.id, PUSH, token, body, title=title, data=data_fields, idempotency_key=str(row.id))
                for token in device_tokens
            ]
            return Prepared(messages, address=f"{len(device_tokens)} device(s)")
    except TemplateError as exc:
        return Prepared(error=f"template error in {kind.name}: {exc}")
    return Prepared(error=f"unknown channel {row.channel!r}")


def _email(
    row: Claimed, kind: Kind, context: dict[str, Any], profile: Profile, contact: Contact | None, base: str
) -> Prepared:
    address = row.address or (contact.email if contact else None)
    if not address:
        return Prepared(skip="no email address (unknown user)")
    if not kind.transactional:
        if contact is None or not contact.active:
            return Prepared(skip="account not active")
        if not contact.email_verified:
            return Prepared(skip="email address not verified")
    headers = {"Auto-Submitted": "auto-generated", "X-Bazaar-Kind": kind.name}
    extras: dict[str, Any] = {"preferences_url": f"{base}/settings/notifications", "unsubscribe_url": None}
    if unsubscribable(kind):
        extras["unsubscribe_url"] = unsubscribe_url(row.user_id, kind.name)
        headers.update(list_unsubscribe_headers(extras["unsubscribe_url"]))
    rendered = render(kind, context, locale=profile.locale, items=row.items or None, email_extras=extras)
    name = contact.display_name if contact else str(context.get("display_name") or "")
    message = OutgoingMessage(
        row.id,
        EMAIL,
        address,
        rendered.text,
        subject=rendered.subject,
        html=rendered.html,
        to_name=name,
        headers=headers,
        idempotency_key=message_id(row),
    )
    return Prepared([message], address=address)
