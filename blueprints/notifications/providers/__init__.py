"""Provider adapters per channel, chosen by settings (SMS_PROVIDER, PUSH_PROVIDER; email is SMTP)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from blueprints.notifications.catalog import EMAIL, PUSH, SMS
from blueprints.notifications.providers.base import OutgoingMessage, Provider, ProviderError, SendResult

__all__ = ["OutgoingMessage", "Provider", "ProviderError", "SendResult", "provider_for"]


def provider_for(channel: str, config: Mapping[str, Any]) -> Provider:
    """A fresh adapter for ``channel`` (one per batch: adapters hold a connection)."""
    if channel == EMAIL:
        from blueprints.notifications.providers.smtp import SMTPProvider

        return SMTPProvider(config)
    if channel == SMS and config["SMS_PROVIDER"] == "twilio":
        from blueprints.notifications.providers.twilio import TwilioProvider

        return TwilioProvider(config)
    if channel == PUSH and config["PUSH_PROVIDER"] == "fcm":
        from blueprints.notifications.providers.fcm import FCMProvider

        return FCMProvider(config)
    if channel in (SMS, PUSH):
        from blueprints.notifications.providers.log import LogProvider

        return LogProvider(config, channel)
    raise ValueError(f"no provider for channel {channel!r}")
