"""Escrowed payments on a double-entry ledger, refunds and seller payouts (DESIGN.md section 7).

Buyers pay into platform escrow through a provider (sandbox by default, Stripe Connect "separate
charges and transfers" in production); escrow is released to sellers after delivery and an inspection
window, by buyer confirmation or by a dispute resolution; payouts leave in jobs. Other domains call
:mod:`blueprints.payments.service` and listen to :mod:`blueprints.payments.events`.
"""

from __future__ import annotations

from flask import Flask

from app.domain import Domain
from config import ConfigError


def _register_admin(appbuilder) -> None:  # type: ignore[no-untyped-def]
    """Beside the generated views: the daily chart of GMV, fees and refunds, and each payment's ledger."""
    from blueprints.payments import admin
    from blueprints.payments.admin_reports import MoneyChartView

    appbuilder.add_view(MoneyChartView, "Daily money", icon="fa-bar-chart", category="Payments")
    admin.register_admin(appbuilder)


def _setup(app: Flask) -> None:
    """Check the money settings, register the timer handlers (web and workers alike) and the CLI."""
    for name in ("PAYMENTS_BUYER_FEE_BPS", "PAYMENTS_PLATFORM_FEE_BPS"):
        if not 0 <= app.config[name] <= 10_000:
            raise ConfigError(f"{name}: a rate in basis points between 0 and 10000")
    for name in ("PAYMENTS_CHECKOUT_MINUTES", "PAYMENTS_INSPECTION_SECONDS", "PAYMENTS_PAYOUT_MAX_ATTEMPTS"):
        if app.config[name] < 1:
            raise ConfigError(f"{name}: must be at least 1")
    import blueprints.payments.handlers  # noqa: F401 - @on_timer declarations
    from blueprints.payments.cli import payments_cli

    app.cli.add_command(payments_cli)


def _blueprints():  # type: ignore[no-untyped-def]
    from blueprints.payments import api, api_seller

    return (api.blp, api_seller.blp)


def _resources():  # type: ignore[no-untyped-def]
    from blueprints.payments.resources import RESOURCES

    return RESOURCES


domain = Domain(
    name="payments",
    prefix="/payments",
    description=__doc__ or "",
    resources=_resources(),
    blueprints=_blueprints(),
    admin=_register_admin,
    setup=_setup,
)
