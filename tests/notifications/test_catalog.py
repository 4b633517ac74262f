"""The catalog, routes and templates hold together: every kind renders, locales fall back, HTML is escaped."""

from __future__ import annotations

import uuid

import pytest

from blueprints.notifications.catalog import EMAIL, IN_APP, KINDS
from blueprints.notifications.events import ROUTES
from blueprints.notifications.rendering import available_locales, locale_chain, money, render, render_sms
from blueprints.notifications.routing import Route, RouteError, counterparty, others, party


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_renders_every_channel_from_its_sample(kind):
    spec = KINDS[kind]
    rendered = render(spec, {**spec.sample, "time_zone": "Europe/Paris"}, locale="en",
                      email_extras={"unsubscribe_url": "https://u", "preferences_url": "https://p"})  # fmt: skip
    assert rendered.subject and rendered.title and rendered.text.strip()
    assert rendered.html.startswith("<!doctype html>")
    assert 0 < len(render_sms(spec, spec.sample)) <= 320  # at most two SMS segments
    assert "None" not in rendered.subject + rendered.body
    if spec.link:
        assert spec.link_for(spec.sample).startswith("/")


def test_mandatory_and_secret_kinds_are_declared_consistently():
    for kind in KINDS.values():
        if kind.category in ("security", "payments"):
            assert kind.mandatory, kind.name  # the brief: security and payments cannot be switched off
        if kind.secret_fields:
            assert IN_APP not in kind.channels, kind.name  # a raw token never lands in the bell
            assert kind.transactional and kind.mandatory == {EMAIL}
    assert {k.name for k in KINDS.values() if k.digest} == {"new_message", "saved_search_match", "price_drop"}


def test_every_route_names_a_kind_and_digest_kinds_say_how_to_group():
    assert {r.kind for routes in ROUTES.values() for r in routes} <= set(KINDS)
    with pytest.raises(ValueError, match="unknown kind"):
        Route("offers.OfferCreated", "no_such_kind", to="seller_id")
    with pytest.raises(ValueError, match="digest_by"):
        Route("messaging.MessageSent", "new_message", to="recipient_ids")


def test_routes_pick_recipients_and_leave_the_actor_out():
    buyer, seller = uuid.uuid4(), uuid.uuid4()
    payload = {"buyer_id": str(buyer), "seller_id": str(seller)}
    pick = others("buyer_id", "seller_id")
    assert pick(payload, f"user:{buyer}") == [seller]
    assert pick(payload, "system") == [buyer, seller]
    with pytest.raises(RouteError, match="no field 'seller_id'"):
        Route("offers.OfferCreated", "offer_received", to="seller_id").recipients({"buyer_id": str(buyer)}, None)
    assert party("author")({**payload, "author": "seller"}, None) == [seller]
    assert counterparty("author")({**payload, "author": "seller"}, None) == [buyer]
    with pytest.raises(RouteError, match="'author' is 'staff'"):
        party("author")({**payload, "author": "staff"}, None)
    (sent,) = ROUTES["messaging.MessageSent"]
    assert sent.recipients({"recipient_ids": [str(seller)], "sender_id": str(buyer)}, f"user:{buyer}") == [seller]


def test_locales_fall_back_to_the_language_then_english():
    assert locale_chain("pt-BR") == ["pt_BR", "pt", "en"]
    assert locale_chain("fr") == ["fr", "en"]
    assert locale_chain(None) == ["en"]
    assert "en" in available_locales()
    spec = KINDS["offer_received"]
    assert render(spec, spec.sample, locale="pt-BR").subject == render(spec, spec.sample, locale="en").subject


def test_money_is_formatted_from_minor_units_by_currency_exponent():
    assert money(4500, "EUR") == "45.00 EUR"
    assert money(4500, "JPY") == "4,500 JPY"
    assert money(12345, "KWD") == "12.345 KWD"
    assert money(None, "EUR") == ""


def test_html_parts_are_escaped_and_text_parts_are_not():
    spec = KINDS["new_message"]
    context = {"thread_id": "t", "actor_name": "<script>x</script>", "preview": "Tom & Jerry <b>"}
    rendered = render(spec, context)
    assert "&lt;script&gt;" in rendered.html and "<script>" not in rendered.html
    assert "Tom &amp; Jerry &lt;b&gt;" in rendered.html
    assert "Tom & Jerry <b>" in rendered.text  # plain text stays readable
    assert render_sms(spec, context) == "Bazaar: new message from <script>x</script>"
