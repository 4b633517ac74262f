"""The provider interface: one adapter per channel and vendor, chosen by configuration.

A provider sends one :class:`OutgoingMessage` and answers the vendor's message id, or raises
:class:`ProviderError` saying whether trying again later may succeed (``transient``: 5xx, 429,
connection trouble) or not (bad address, unregistered device). ``open``/``close`` bracket a batch so
an adapter reuses one connection (one SMTP session, one HTTP keep-alive pool) for many messages.

Crash semantics (a worker killed during ``send``): the delivery is left ``sending``, in doubt.
``resend_in_doubt`` says what the recovery does with it: True resends (at-least-once; SMTP, whose
fixed Message-ID lets mailbox providers collapse the rare duplicate), False gives up and records it
(at-most-once; SMS costs money and annoys twice, and neither Twilio nor FCM dedupes a resend).
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OutgoingMessage:
    delivery_id: uuid.UUID
    channel: str
    to: str
    text: str
    subject: str = ""
    html: str | None = None
    title: str = ""
    to_name: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    # Stable across retries of one delivery: the email Message-ID, an idempotency key where supported.
    idempotency_key: str = ""


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str


class ProviderError(Exception):
    """The provider did not take the message. ``transient``: a later attempt may succeed."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        retry_after: float | None = None,
        code: str | None = None,
        forget_address: bool = False,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after
        self.code = code
        # The address is gone for good (unregistered push token): stop using it.
        self.forget_address = forget_address


class Provider(ABC):
    name: str = ""
    channel: str = ""
    resend_in_doubt: bool = False

    def __init__(self, config: Any) -> None:
        self.config = config

    def open(self) -> None:  # noqa: B027 - optional hook
        """Prepare for a batch (connect); the default adapter needs nothing."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """End the batch (disconnect); must not raise."""

    @abstractmethod
    def send(self, message: OutgoingMessage) -> SendResult:
        """Hand one message to the vendor; raise :class:`ProviderError` when it is not taken."""

    def __enter__(self) -> Provider:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
