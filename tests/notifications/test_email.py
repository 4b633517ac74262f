"""Real SMTP delivery to a local aiosmtpd server: headers, parts, unsubscribe links, transactional mail."""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from app.db import utcnow
from blueprints.auth.events import EmailVerificationRequested, NewLoginDetected
from blueprints.notifications.models import Notification, Preference
from tests.notifications.conftest import attempts, count, deliveries, notifications_of
from tests.notifications.routes_for_tests import OfferMade


def offer_for(seller: uuid.UUID, buyer: uuid.UUID | None = None, amount: int = 4500) -> OfferMade:
    offer_id = uuid.uuid4()
    buyer = buyer or uuid.uuid4()
    return OfferMade(
        aggregate_id=offer_id,
        actor=f"user:{buyer}",
        offer_id=offer_id,
        buyer_id=buyer,
        seller_id=seller,
        amount=amount,
        currency="EUR",
    )


def unsubscribe_path(header: str) -> str:
    url = header.strip("<>")
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == "bazaar.test"
    return f"{parts.path}?{parts.query}"


def test_offer_email_has_the_headers_and_parts_mail_clients_need(notif_app, smtp, drain, emit, make_user):
    seller = make_user("Sam")
    buyer = make_user("Bea")
    emit(offer_for(seller, buyer))
    drain()

    (mail,) = smtp.mailbox.wait_for(1)
    (delivery,) = deliveries(user_id=seller, channel="email")
    assert mail.mail_from == "no-reply@bazaar.test"
    assert mail.rcpt_tos == [delivery.address]
    message = mail.message
    assert message["From"] == "Bazaar <no-reply@bazaar.test>"
    assert message["To"] == f"Sam <{delivery.address}>"
    assert message["Subject"] == "New offer: 45.00 EUR"
    assert message["Message-ID"] == f"<{delivery.id}.0@bazaar.test>"
    assert message["Date"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith("<https://bazaar.test/notifications/unsubscribe?token=")
    assert "Bea offered 45.00 EUR." in mail.text()
    assert "Bea offered 45.00 EUR." in mail.html()
    assert "https://bazaar.test/notifications/unsubscribe?token=" in mail.text()

    assert delivery.status == "sent" and delivery.provider == "smtp"
    assert delivery.provider_message_id == message["Message-ID"]
    (attempt,) = attempts(delivery_id=delivery.id)
    assert (attempt.status, attempt.provider, attempt.attempt) == ("sent", "smtp", 1)
    assert attempt.latency_ms is not None and attempt.latency_ms >= 0


def test_one_click_unsubscribe_works_when_signed_and_fails_when_tampered(
    notif_app, smtp, drain, emit, make_user, client
):
    seller = make_user("Sam")
    emit(offer_for(seller))
    drain()
    (mail,) = smtp.mailbox.wait_for(1)
    path = unsubscribe_path(mail.message["List-Unsubscribe"])
    token = parse_qs(urlsplit(path).query)["token"][0]

    # Tampered: one character of the signature changed, or a payload forged for another kind.
    # (Not the last character: its low bits are base64 padding, so changing it may not change the bytes.)
    middle = len(token) - 10
    forged = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    response = client.post(f"/notifications/unsubscribe?token={forged}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400
    assert response.json["errors"] == {"token": ["Invalid or tampered token."]}
    head, _, signature = token.partition(".")
    other = client.post(f"/notifications/unsubscribe?token={head[:-2]}xx.{signature}")
    assert other.status_code == 400
    assert count(Preference, user_id=seller) == 0

    # The footer link's page asks for a click and changes nothing by itself (link scanners).
    page = client.get(path)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "<form method='post'" in page.get_data(as_text=True)
    assert count(Preference, user_id=seller) == 0

    # Signed: the one-click POST (RFC 8058) switches offer emails off, and only those.
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200, response.json
    assert response.json == {"kind": "offer_received", "kinds": ["offer_received"], "unsubscribed": True}
    assert client.post(path).status_code == 200  # idempotent

    emit(offer_for(seller))
    drain()
    assert len(notifications_of(seller)) == 2  # still told in the app
    assert len(deliveries(user_id=seller, channel="email")) == 1  # but no second email
    assert len(smtp.mailbox.messages) == 1


def test_mandatory_and_security_mail_has_no_unsubscribe_header(notif_app, smtp, drain, emit, make_user):
    user = make_user("Alice")
    emit(
        NewLoginDetected(
            aggregate_id=user,
            user_id=user,
            email="ignored@example.test",
            display_name="Alice",
            session_id=uuid.uuid4(),
            ip="203.0.113.9",
            user_agent="curl/8",
            device_name="Laptop",
        )
    )
    drain()
    (mail,) = smtp.mailbox.wait_for(1)
    assert mail.message["Subject"] == "New sign-in to your Bazaar account"
    assert mail.message["List-Unsubscribe"] is None
    assert "unsubscribe" not in mail.text().lower()
    assert "from Laptop at 203.0.113.9" in mail.text()


def test_verification_mail_goes_to_the_named_address_and_the_token_is_scrubbed_after(
    notif_app, smtp, drain, emit, make_user
):
    user = make_user("Alice", verified=False)
    raw_token = "verify-" + uuid.uuid4().hex
    emit(
        EmailVerificationRequested(
            aggregate_id=user,
            user_id=user,
            email="new-address@example.test",
            display_name="Alice",
            token=raw_token,
            expires_at=utcnow() + timedelta(days=2),
        )
    )
    drain()
    mails = [m for m in smtp.mailbox.wait_for(1) if m.rcpt_tos == ["new-address@example.test"]]
    assert len(mails) == 1
    assert f"https://bazaar.test/verify-email?token={raw_token}" in mails[0].text()
    assert mails[0].message["List-Unsubscribe"] is None
    notes = [n for n in notifications_of(user) if n.kind == "email_verification"]
    assert len(notes) == 2  # auth's own request at sign-up, and this one
    assert not any(n.in_app for n in notes)  # email only: never listed in the bell
    assert all("token" not in n.data for n in notes)  # raw tokens do not stay in our database once sent
    assert {n.data["email"] for n in notes} >= {"new-address@example.test"}


def test_unverified_address_gets_transactional_mail_only(notif_app, smtp, drain, emit, make_user):
    seller = make_user("Sam", verified=False)  # auth asks for a verification mail: that one goes out
    emit(offer_for(seller))
    drain()
    (delivery,) = deliveries(user_id=seller, channel="email", kind="offer_received")
    assert delivery.status == "skipped" and delivery.last_error == "email address not verified"
    kinds = [m.message["X-Bazaar-Kind"] for m in smtp.mailbox.messages]
    assert kinds == ["email_verification"]
    assert count(Notification, user_id=seller, kind="offer_received", in_app=True) == 1  # the bell still has it
