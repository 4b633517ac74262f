"""The embedded default for SMS and push: logs what would be sent (local runs, demos, CI)."""

from __future__ import annotations

import logging
import uuid

from blueprints.notifications.providers.base import OutgoingMessage, Provider, SendResult

log = logging.getLogger("bazaar.notifications.outbox")


class LogProvider(Provider):
    name = "log"
    resend_in_doubt = True  # nothing leaves the machine: a resend is harmless

    def __init__(self, config: object, channel: str) -> None:
        super().__init__(config)
        self.channel = channel

    def send(self, message: OutgoingMessage) -> SendResult:
        log.info("%s to %s: %s %s", self.channel, message.to, message.title or message.subject, message.text[:200])
        return SendResult(provider_message_id=f"log-{uuid.uuid4().hex}")
