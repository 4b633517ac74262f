"""Email over SMTP with smtplib: any server, optional STARTTLS and AUTH, one connection per batch.

The message carries the Message-ID the sender chose for the delivery (stable across retries and
crash recovery), so a resend after a worker died mid-call is recognisably the same email.
A reply code 4xx (or a dropped connection) is transient; 5xx is a refusal for good.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

from blueprints.notifications.catalog import EMAIL
from blueprints.notifications.providers.base import OutgoingMessage, Provider, ProviderError, SendResult


class SMTPProvider(Provider):
    name = "smtp"
    channel = EMAIL
    resend_in_doubt = True

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self._conn: smtplib.SMTP | None = None

    @property
    def sender(self) -> str:
        return self.config["MAIL_FROM"]

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        conn = smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=config["SMTP_TIMEOUT_SECONDS"])
        try:
            conn.ehlo()
            if config["SMTP_STARTTLS"]:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if config["SMTP_USER"]:
                conn.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
        except BaseException:
            _quietly_close(conn)
            raise
        return conn

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                _quietly_close(self._conn)
            self._conn = None

    def build(self, message: OutgoingMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = formataddr((message.to_name, message.to)) if message.to_name else message.to
        email["Subject"] = message.subject
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = message.idempotency_key
        for name, value in message.headers.items():
            email[name] = value
        email.set_content(message.text)
        if message.html:
            email.add_alternative(message.html, subtype="html")
        return email

    def send(self, message: OutgoingMessage) -> SendResult:
        email = self.build(message)
        try:
            if self._conn is None:
                self._conn = self._connect()
            refused = self._conn.send_message(email, from_addr=parseaddr(self.sender)[1], to_addrs=[message.to])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _reply_error(code, reply) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            self._reset()
            raise _reply_error(exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPAuthenticationError as exc:
            self._drop()
            raise ProviderError(f"SMTP authentication failed: {exc.smtp_code}", transient=True) from None
        except (smtplib.SMTPException, OSError) as exc:  # dropped connection, timeout, refused connect
            self._drop()
            raise ProviderError(f"SMTP connection failed: {exc!r}", transient=True) from None
        if refused:
            code, reply = next(iter(refused.values()))
            raise _reply_error(code, reply)
        return SendResult(provider_message_id=message.idempotency_key)

    def _reset(self) -> None:
        """After a refused transaction the session stays usable once reset; drop it if not."""
        try:
            if self._conn is not None:
                self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            _quietly_close(self._conn)
            self._conn = None


def _reply_error(code: int, reply: bytes | str) -> ProviderError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return ProviderError(f"SMTP {code} {text}"[:500], transient=400 <= code < 500, code=str(code))


def _quietly_close(conn: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        conn.close()
