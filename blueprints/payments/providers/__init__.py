"""Payment providers behind one port (:class:`~.base.PaymentProvider`), chosen by ``PAYMENTS_PROVIDER``."""

from __future__ import annotations

from flask import Flask, current_app

from blueprints.payments.providers.base import PaymentProvider, ProviderError

__all__ = ["PaymentProvider", "ProviderError", "build_provider", "get_provider", "set_provider"]

EXTENSION = "payments_provider"


def build_provider(config: dict) -> PaymentProvider:  # type: ignore[type-arg]
    if config["PAYMENTS_PROVIDER"] == "stripe":
        from blueprints.payments.providers.stripe import StripeProvider

        return StripeProvider(
            config["STRIPE_API_KEY"],
            webhook_secret=config["STRIPE_WEBHOOK_SECRET"],
            base_address=config.get("STRIPE_API_BASE") or None,
            return_url=config["PUBLIC_BASE_URL"].rstrip("/") + "/payments/seller-account/return",
        )
    from blueprints.payments.providers.sandbox import SandboxProvider

    return SandboxProvider(config.get("STRIPE_WEBHOOK_SECRET") or config["SECRET_KEY"])


def get_provider() -> PaymentProvider:
    provider = current_app.extensions.get(EXTENSION)
    if provider is None:
        provider = current_app.extensions[EXTENSION] = build_provider(current_app.config)
    return provider


def set_provider(app: Flask, provider: PaymentProvider) -> None:
    """Bind a provider instance to an app (app start; tests pointing at a local server)."""
    app.extensions[EXTENSION] = provider
