"""A local HTTP server answering the Stripe Connect calls localstripe lacks, from recorded responses.

Accounts, account links, transfers and transfer reversals are answered with the JSON recorded in
``stripe_recordings/`` (fields the request decides, like amount and destination, filled in); every
other path is forwarded to ``upstream`` (localstripe) when one is given. It keeps Stripe's
idempotency contract: the same Idempotency-Key with the same parameters replays the first answer
(``Idempotent-Replayed: true``), with other parameters it is a 400 ``idempotency_error``. It records
every request, so tests can count transfers. ``hang_transfer(n)`` makes the n-th new transfer be
created and then never answered (a worker killed while waiting).
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import requests

RECORDINGS = Path(__file__).with_name("stripe_recordings")
CLOSED_DESTINATION = "acct_closed"


def recorded(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``metadata[a]=1``, ``capabilities[transfers][requested]=true``) -> dict."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return result


class StripeFixtureServer:
    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = upstream
        self.requests: list[dict[str, Any]] = []
        self.transfers: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, tuple[dict[str, Any], int, dict[str, Any]]] = {}
        self.lock = threading.Lock()
        self.hung = threading.Event()
        self._hang_at: int | None = None
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> StripeFixtureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def hang_transfer(self, n: int | None) -> None:
        self._hang_at = n
        self.hung.clear()
        self._release.clear()

    def transfer_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST" and r["path"] == "/v1/transfers"]

    # -- answers ------------------------------------------------------------------------------
    def answer(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        now = int(time.time())
        if method == "POST" and path == "/v1/accounts":
            body = recorded("account")
            body.update(id="acct_" + secrets.token_hex(8), created=now, email=params.get("email"))
            body["metadata"] = params.get("metadata", {})
            body["country"] = params.get("country", "US")
            return 200, body
        if method == "POST" and path == "/v1/account_links":
            body = recorded("account_link")
            body.update(created=now, expires_at=now + 300, url=f"https://connect.stripe.test/setup/{params['account']}")
            return 200, body
        if method == "POST" and path == "/v1/transfers":
            if params.get("destination") == CLOSED_DESTINATION:
                error = recorded("error_no_such_destination")
                error["error"]["message"] = f"No such destination: '{CLOSED_DESTINATION}'"
                return 400, error
            body = recorded("transfer")
            transfer_id = "tr_" + secrets.token_hex(10)
            body.update(
                id=transfer_id,
                amount=int(params["amount"]),
                currency=params["currency"],
                destination=params["destination"],
                transfer_group=params.get("transfer_group"),
                metadata=params.get("metadata", {}),
                created=now,
                destination_payment="py_" + secrets.token_hex(10),
                balance_transaction="txn_" + secrets.token_hex(10),
            )
            body["reversals"]["url"] = f"/v1/transfers/{transfer_id}/reversals"
            self.transfers[transfer_id] = body
            return 200, body
        if method == "POST" and path.startswith("/v1/transfers/") and path.endswith("/reversals"):
            transfer_id = path.split("/")[3]
            transfer = self.transfers.get(transfer_id)
            if transfer is None:
                error = recorded("error_no_such_destination")
                error["error"].update(message=f"No such transfer: '{transfer_id}'", param="id")
                return 404, error
            amount = int(params.get("amount", transfer["amount"] - transfer["amount_reversed"]))
            transfer["amount_reversed"] += amount
            body = recorded("transfer_reversal")
            body.update(id="trr_" + secrets.token_hex(10), amount=amount, created=now, transfer=transfer_id)
            body["currency"] = transfer["currency"]
            return 200, body
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status: int, body: dict[str, Any], replayed: bool = False) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_" + secrets.token_hex(7))
                if replayed:
                    self.send_header("Idempotent-Replayed", "true")
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                raw = self._body()
                path = self.path.split("?", 1)[0]
                params = unflatten(parse_qsl(raw.decode(), keep_blank_values=True))
                key = self.headers.get("Idempotency-Key")
                with server.lock:
                    server.requests.append({"method": method, "path": path, "params": params, "key": key})
                    known = server.idempotent.get(key) if key else None
                    if known is not None:
                        first_params, status, body = known
                        if first_params != params:
                            error = recorded("error_idempotency")
                            error["error"]["message"] = error["error"]["message"].replace("KEY", key)
                            answer: tuple[int, dict[str, Any], bool] | None = (400, error, False)
                        else:
                            answer = (status, copy.deepcopy(body), True)
                    else:
                        result = server.answer(method, path, params)
                        answer = None if result is None else (*result, False)
                        if result is not None and key:
                            server.idempotent[key] = (params, result[0], copy.deepcopy(result[1]))
                    hang = (
                        answer is not None
                        and not answer[2]
                        and path == "/v1/transfers"
                        and server._hang_at is not None
                        and len(server.transfers) == server._hang_at
                    )
                if answer is None:
                    self._forward(method, raw)
                    return
                if hang:  # the transfer exists at "Stripe"; the caller never hears of it
                    server.hung.set()
                    server._release.wait(timeout=120)
                    return
                self._send(answer[0], answer[1], replayed=answer[2])

            def _forward(self, method: str, raw: bytes) -> None:
                if not server.upstream:
                    error = recorded("error_no_such_destination")
                    error["error"].update(message=f"Unrecorded request: {method} {self.path}", param=None)
                    self._send(404, error)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "content-length"}}
                upstream = requests.request(method, server.upstream + self.path, data=raw, headers=headers, timeout=30)
                self.send_response(upstream.status_code)
                for name in ("Content-Type", "Request-Id"):
                    if name in upstream.headers:
                        self.send_header(name, upstream.headers[name])
                self.send_header("Content-Length", str(len(upstream.content)))
                self.end_headers()
                self.wfile.write(upstream.content)

            def do_POST(self) -> None:
                self._handle("POST")

            def do_GET(self) -> None:
                self._handle("GET")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        return Handler
