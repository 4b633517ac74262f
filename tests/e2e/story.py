"""Actors of the end-to-end story: each is a person holding a bearer token, using only HTTP and Socket.IO."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pyotp
import requests
import socketio

NAMESPACE = "/realtime"


class StoryError(AssertionError):
    pass


def expect(response: requests.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise StoryError(
            f"{response.request.method} {response.request.url} -> {response.status_code}, expected {status}: "
            f"{response.text[:1500]}"
        )
    return response.json() if response.content else {}


def eventually(probe: Callable[[], Any], what: str, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Poll until ``probe`` returns something truthy (the system is asynchronous past the commit)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise StoryError(f"timed out waiting for {what} (last: {last!r})")


@dataclass
class Pushes:
    """Socket.IO events received by one client, by name."""

    received: list[tuple[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, data: Any) -> None:
        with self.lock:
            self.received.append((name, data))

    def named(self, name: str) -> list[Any]:
        with self.lock:
            return [data for event, data in self.received if event == name]

    def wait(self, name: str, predicate: Callable[[Any], bool] = lambda _: True, timeout: float = 20) -> Any:
        return eventually(lambda: next((d for d in self.named(name) if predicate(d)), None), f"push {name}", timeout)


@dataclass
class Actor:
    base_url: str
    email: str
    display_name: str
    password: str = field(default_factory=lambda: "pw-" + uuid.uuid4().hex)
    session: requests.Session = field(default_factory=requests.Session)
    user_id: str = ""
    access_token: str = ""
    refresh_token: str = ""
    totp: pyotp.TOTP | None = None
    sio: socketio.Client | None = None
    pushes: Pushes = field(default_factory=Pushes)

    # -- HTTP -------------------------------------------------------------------------------------
    def call(self, method: str, path: str, status: int, **kwargs: Any) -> dict[str, Any]:
        headers = kwargs.pop("headers", {})
        if self.access_token:
            headers.setdefault("Authorization", f"Bearer {self.access_token}")
        return expect(self.session.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs), status)

    def get(self, path: str, status: int = 200, **kwargs: Any) -> dict[str, Any]:
        return self.call("GET", path, status, **kwargs)

    def post(self, path: str, json: Any = None, status: int = 200, **kwargs: Any) -> dict[str, Any]:
        return self.call("POST", path, status, json=json if json is not None else {}, **kwargs)

    def signup(self, roles: list[str]) -> None:
        body = self.post(
            "/auth/signup",
            {"email": self.email, "password": self.password, "display_name": self.display_name, "roles": roles},
            status=201,
        )
        self.user_id = body["user"]["id"]
        self.access_token = body["tokens"]["access_token"]
        self.refresh_token = body["tokens"]["refresh_token"]

    def refresh(self) -> None:
        """A new access token (roles are read when a token is minted), rotating the refresh token."""
        body = expect(
            self.session.post(
                self.base_url + "/auth/token/refresh", json={"refresh_token": self.refresh_token}, timeout=30
            ),
            200,
        )
        self.access_token, self.refresh_token = body["access_token"], body["refresh_token"]

    def login(self) -> dict[str, Any]:
        self.access_token = ""
        body = self.post("/auth/login", {"email": self.email, "password": self.password})
        if body.get("mfa_required"):
            assert self.totp is not None
            # The current code was spent by the previous step (replay protection): use the next one.
            code = self.totp.at(time.time() + self.totp.interval)
            body = self.post("/auth/login/mfa", {"mfa_token": body["mfa_token"], "code": code})
        self.access_token = body["access_token"]
        self.refresh_token = body.get("refresh_token", self.refresh_token)
        return body

    def enable_mfa(self) -> None:
        enrolment = self.post("/auth/mfa/totp", status=201)
        assert enrolment["otpauth_uri"].startswith("otpauth://totp/")
        self.totp = pyotp.TOTP(enrolment["secret"])
        confirmed = self.post("/auth/mfa/totp/confirm", {"code": self.totp.now()})
        assert len(confirmed["recovery_codes"]) == 10

    # -- Socket.IO --------------------------------------------------------------------------------
    def connect_socket(self, events: tuple[str, ...]) -> None:
        client = socketio.Client(reconnection=False)
        for name in events:
            client.on(name, (lambda n: lambda data=None: self.pushes.add(n, data))(name), namespace=NAMESPACE)
        client.connect(
            self.base_url,
            namespaces=[NAMESPACE],
            auth={"token": self.access_token},
            transports=["websocket"],
            wait_timeout=10,
        )
        self.sio = client

    def emit(self, event: str, payload: Any) -> Any:
        assert self.sio is not None
        return self.sio.call(event, payload, namespace=NAMESPACE, timeout=10)

    def close(self) -> None:
        if self.sio is not None and self.sio.connected:
            self.sio.disconnect()


def verification_token(message_text: str) -> str:
    match = re.search(r"verify-email\?token=([A-Za-z0-9_\-\.~%]+)", message_text)
    if not match:
        raise StoryError("no verification link in the email:\n" + message_text)
    return match.group(1)


def email_text(message) -> str:  # type: ignore[no-untyped-def]
    if message.is_multipart():
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")


# -- an integrator's webhook receiver ------------------------------------------------------------------
@dataclass
class Delivery:
    """One POST the receiver got: headers and the exact body bytes (signatures are over those)."""

    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


class WebhookReceiver:
    """A local HTTP server standing for an integrator's endpoint: answers 200 and keeps every delivery."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.deliveries.append(Delivery({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/bazaar/events"

    def received(self) -> list[Delivery]:
        with self.lock:
            return list(self.deliveries)

    def types(self) -> set[str]:
        return {d.event["type"] for d in self.received()}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def signature_valid(delivery: Delivery, secret: str, tolerance: int = 300) -> bool:
    """Check ``Bazaar-Signature: t=<unix>,v1=<hex>`` as an integrator would, from the documented recipe
    (HMAC-SHA256 keyed with the endpoint secret over ``<t>.<raw body>``), not with Bazaar's own code."""
    parts = dict(
        part.strip().split("=", 1) for part in delivery.headers.get("bazaar-signature", "").split(",") if "=" in part
    )
    if not parts.get("t", "").isdigit() or "v1" not in parts:
        return False
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + delivery.body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(parts["t"])) <= tolerance
    return fresh and hmac.compare_digest(expected, parts["v1"])
