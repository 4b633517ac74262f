"""The off-platform contact detector: what it flags, and the everyday chat it must leave alone."""

from __future__ import annotations

import pytest

from blueprints.messaging.detector import EMAIL, PAYMENT_HANDLE, PAYMENT_LINK, PHONE, scan, signals


@pytest.mark.parametrize(
    ("text", "kind", "match"),
    [
        ("Call me at +1 (415) 555-0134", PHONE, "+1 (415) 555-0134"),
        ("text me 415.555.0134 tonight", PHONE, "415.555.0134"),
        ("my number is 07700 900123", PHONE, "07700 900123"),
        ("WhatsApp +44 7700 900123", PHONE, "+44 7700 900123"),
        ("4155550134", PHONE, "4155550134"),
        ("call 030/1234567", PHONE, "030/1234567"),
        ("email me jane.doe@gmail.com", EMAIL, "jane.doe@gmail.com"),
        ("jane at gmail dot com", EMAIL, "jane at gmail dot com"),
        ("jane [at] mail [dot] org", EMAIL, "jane [at] mail [dot] org"),
        ("venmo me @jane-d", PAYMENT_HANDLE, "venmo me @jane-d"),
        ("my cashapp is $janedoe", PAYMENT_HANDLE, "cashapp is $janedoe"),
        ("cash app $bob99 works", PAYMENT_HANDLE, "cash app $bob99"),
        ("zelle me please", PAYMENT_HANDLE, "zelle"),
        ("do you take PayPal?", PAYMENT_HANDLE, "PayPal"),
        ("send it to $jane_doe", PAYMENT_HANDLE, "$jane_doe"),
        ("pay me via paypal.me/jane", PAYMENT_LINK, "paypal.me/jane"),
        ("https://paypal.me/jane/50 thanks", PAYMENT_LINK, "https://paypal.me/jane/50"),
        ("https://cash.app/$bob", PAYMENT_LINK, "https://cash.app/$bob"),
        ("https://buy.stripe.com/test_abc", PAYMENT_LINK, "https://buy.stripe.com/test_abc"),
    ],
)
def test_contact_and_payment_details_are_found(text, kind, match):
    findings = scan(text)
    assert [(f.kind, f.match) for f in findings] == [(kind, match)]


@pytest.mark.parametrize(
    "text",
    [
        "Is it still available?",
        "I can do $120 for it",
        "It costs $1,250.00 new",
        "It is 1 200 000 € in the shop",
        "Price 1200 dollars, pick up 2024-2025",
        "Order #1234567 shipped",
        "I paid 1500000 for it",
        "Can you do 12/05/2025?",
        "dimensions 120x60x75 cm",
        "Meet at 5pm tomorrow at the station",
        "see https://example.com/photo.jpg",
        "a wise choice",
        "Serial 4111111111111111",
        "0000000",
        "",
    ],
)
def test_everyday_messages_are_not_flagged(text):
    assert scan(text) == []


def test_several_signals_are_reported_once_each_in_order():
    text = "Text 415-555-0134 or mail bob@example.org, then venmo @bob. Again: 415-555-0134"
    assert [f.kind for f in scan(text)] == [PHONE, EMAIL, PAYMENT_HANDLE]
    assert signals(text) == sorted([EMAIL, PAYMENT_HANDLE, PHONE])


def test_a_payment_link_is_not_also_a_handle_or_a_phone():
    assert [f.kind for f in scan("paypal.me/jane5551234567")] == [PAYMENT_LINK]
