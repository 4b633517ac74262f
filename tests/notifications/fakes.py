"""Local stand-ins for the outside world: an aiosmtpd mailbox and an HTTP server speaking Twilio/FCM.

Both run real servers on free ports (real sockets, real protocols); tests script their failures.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()


class Mailbox:
    """aiosmtpd handler: keeps every message it accepts; can refuse or hold the next ones."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.replies: deque[str] = deque()  # e.g. "451 4.3.0 try later": answered instead of accepting
        self.hold_at: int | None = None  # hold the Nth DATA (1-based) until released
        self.keep_held = False  # whether the held message counts as delivered once released
        self.held = threading.Event()
        self.release = threading.Event()
        self.seen = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.seen += 1
            number = self.seen
            reply = self.replies.popleft() if self.replies else None
        if reply is not None:
            return reply
        received = Received(
            envelope.mail_from,
            list(envelope.rcpt_tos),
            message_from_bytes(envelope.original_content or envelope.content, policy=policy.default),
        )
        if number == self.hold_at:
            # keep_held: the server already stored it (the client dies before reading our reply);
            # otherwise it is never stored (a dropped connection cancels this coroutine, or we refuse).
            if self.keep_held:
                with self.lock:
                    self.messages.append(received)
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
            return "250 2.0.0 OK queued" if self.keep_held else "451 4.3.0 message not accepted"
        with self.lock:
            self.messages.append(received)
        return "250 2.0.0 OK queued"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} emails, got {len(self.messages)}")
            time.sleep(0.01)
        return list(self.messages)


class SMTPServer:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SMTPServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.mailbox.release.set()
        self.controller.stop()


@dataclass
class ProviderRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def json(self) -> Any:
        return json.loads(self.body)

    def basic_auth(self) -> tuple[str, str]:
        user, _, password = base64.b64decode(self.headers["Authorization"].split()[1]).decode().partition(":")
        return user, password


@dataclass
class ProviderFixture:
    """Answers Twilio's Messages API and FCM's v1 send like the real ones; ``script`` overrides replies."""

    requests: list[ProviderRequest] = field(default_factory=list)
    script: deque[tuple[int, Any, dict[str, str]]] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    hold_at: int | None = None  # hold the Nth request (1-based) until released
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def reply(self, request: ProviderRequest) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            self.requests.append(request)
            number = len(self.requests)
        if number == self.hold_at:
            self.held.set()
            self.release.wait(30)
        with self.lock:
            if self.script:
                return self.script.popleft()
        if "/Messages.json" in request.path:
            sid = "SM" + uuid.uuid4().hex
            return 201, {"sid": sid, "status": "queued", "to": request.form().get("To")}, {}
        if request.path.endswith("/messages:send"):
            project = request.path.split("/")[3]
            return 200, {"name": f"projects/{project}/messages/0:{uuid.uuid4().int % 10**16}"}, {}
        return 404, {"error": "not found"}, {}


class ProviderServer:
    def __init__(self) -> None:
        self.fixture = ProviderFixture()
        fixture = self.fixture

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = ProviderRequest(self.path, dict(self.headers), self.rfile.read(length))
                status, body, headers = fixture.reply(request)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ProviderServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.fixture.release.set()
        self.server.shutdown()
        self.server.server_close()
