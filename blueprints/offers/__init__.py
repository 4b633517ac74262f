"""Offers and negotiation: counter, accept, decline and expiry under seller policies.

Buyers offer on published listings; the parties take turns (counter, accept, decline, withdraw)
until one accepts, which reserves the listing and opens a checkout window for payments. Unanswered
offers expire and unpaid acceptances lapse on durable timers. Declared once for the generator
(see :mod:`blueprints.offers.resources`); ``POST /offers`` is hand-written (:mod:`blueprints.offers.api`).
"""

from __future__ import annotations

from flask import Flask

from app.domain import Domain
from blueprints.offers import api, resources
from config import ConfigError


def _setup(app: Flask) -> None:
    """Check the settings; register timers and subscribers (web and worker processes alike)."""
    for name in (
        "OFFERS_EXPIRY_SECONDS",
        "OFFERS_CHECKOUT_MINUTES",
        "OFFERS_MAX_OPEN_PER_BUYER",
        "OFFERS_MAX_DAILY_PER_BUYER",
    ):
        if app.config[name] < 1:
            raise ConfigError(f"{name}: must be at least 1")
    if app.config["OFFERS_MAX_COUNTER_ROUNDS"] < 0:
        raise ConfigError("OFFERS_MAX_COUNTER_ROUNDS: must be 0 or more")
    import blueprints.offers.subscribers  # noqa: F401 - @on_timer / @subscribe declarations
    from blueprints.offers import checkout

    checkout.register()  # payments charges accepted offers with the terms offers states


domain = Domain(
    name="offers",
    prefix="/offers",
    description=__doc__ or "",
    resources=[resources.negotiations, resources.offers, resources.transitions, resources.policies],
    blueprints=[api.blp],
    setup=_setup,
)
