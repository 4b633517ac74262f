"""A local SMTP server that keeps every message in a Maildir: the run command's mail catcher.

``bazaar run`` starts it when ``SMTP_HOST`` is unset, so a new user's sign-up mail (the verification
link) and every notification land in ``var/mail`` instead of failing against a server that isn't there.
``bazaar mail list`` and ``bazaar mail show`` read them back; tests use the same handler for their inbox.
Nothing here relays mail anywhere: it is a sink, as MailHog or Mailpit are in other stacks.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class MaildirHandler:
    """aiosmtpd handler: each accepted message becomes one file of the Maildir (safe across readers)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.maildir = mailbox.Maildir(self.path, create=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        self.maildir.add(message)
        self.received(message)
        return "250 Message accepted for delivery"

    def received(self, message: Message) -> None:
        """Hook for subclasses (the tests' inbox keeps messages in memory too)."""


@dataclass
class Catcher:
    host: str
    port: int
    path: Path
    controller: Controller

    def stop(self) -> None:
        self.controller.stop()


def start(path: Path, host: str = "127.0.0.1", port: int = 1025) -> Catcher:
    """Listen on ``host:port`` in a background thread, storing into the Maildir at ``path``."""
    controller = Controller(MaildirHandler(path), hostname=host, port=port)
    controller.start()
    return Catcher(host=host, port=port, path=Path(path), controller=controller)


def messages(path: Path) -> Iterator[EmailMessage]:
    """The Maildir's messages, oldest first (by delivery time, then file name)."""
    folder = Path(path)
    if not (folder / "new").is_dir():
        return
    files = sorted(
        (f for sub in ("new", "cur") for f in (folder / sub).iterdir() if f.is_file()),
        key=lambda f: (f.stat().st_mtime, f.name),
    )
    for file in files:
        yield message_from_bytes(file.read_bytes(), policy=policy.default)  # type: ignore[misc]


def text_of(message: EmailMessage) -> str:
    """The plain-text body (the part a terminal can show)."""
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


def addressed_to(message: Message, address: str) -> bool:
    wanted = address.strip().lower()
    recipients = ",".join(str(message.get(h, "")) for h in ("To", "Cc", "Bcc")).lower()
    return wanted in recipients
