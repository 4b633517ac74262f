"""Two real web processes (gunicorn, gthread) sharing the run's Redis: Socket.IO works across them.

Marked slow: each test module starts two gunicorn processes (a few seconds). Every wait is bounded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import socketio

from app.embedded import free_port
from app.realtime import NAMESPACE
from tests.messaging.conftest import open_thread

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def start_gunicorn(port: int) -> subprocess.Popen:
    env = {**os.environ, "BIND": f"127.0.0.1:{port}", "WEB_THREADS": "16", "LOG_LEVEL": "WARNING"}
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--no-control-socket", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not become healthy")


@pytest.fixture(scope="module")
def servers(test_environ) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """Two gunicorn processes on free ports, same database and Redis (SOCKETIO_MESSAGE_QUEUE = REDIS_URL)."""
    ports = [free_port(), free_port()]
    processes = [start_gunicorn(port) for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process in zip(urls, processes, strict=True):
            wait_healthy(url, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


class Peer:
    """A python-socketio client that records what it receives."""

    def __init__(self, url: str, token: str) -> None:
        self.client = socketio.Client(reconnection=False)
        self.events: dict[str, list] = {}
        self.arrived = threading.Condition()
        self.disconnected = threading.Event()
        for name in ("message.new", "thread.updated", "typing", "message.read"):
            self.client.on(name, self._recorder(name), namespace=NAMESPACE)
        self.client.on("disconnect", lambda *args: self.disconnected.set(), namespace=NAMESPACE)
        self.client.connect(
            url, namespaces=[NAMESPACE], auth={"token": token}, transports=["websocket"], wait_timeout=10
        )

    def _recorder(self, name: str):  # type: ignore[no-untyped-def]
        def record(data):  # type: ignore[no-untyped-def]
            with self.arrived:
                self.events.setdefault(name, []).append(data)
                self.arrived.notify_all()

        return record

    def call(self, event: str, data: object) -> object:
        return self.client.call(event, data, namespace=NAMESPACE, timeout=10)

    def wait_for(self, name: str, count: int = 1, timeout: float = 10) -> list:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.events.get(name, [])) >= count, timeout=timeout)
            return list(self.events.get(name, []))

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


@pytest.fixture
def peers():  # type: ignore[no-untyped-def]
    made: list[Peer] = []

    def make(url: str, token: str) -> Peer:
        peer = Peer(url, token)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()


def test_a_message_sent_on_one_process_reaches_a_client_on_the_other(
    servers, peers, client, buyer, seller, stranger, listing
):
    thread = open_thread(client, buyer, listing)
    room = {"room": f"thread:{thread['id']}"}
    alice, bob = peers(servers[0], buyer.token), peers(servers[1], seller.token)
    assert alice.call("room.join", room)["ok"] is True
    assert bob.call("room.join", room)["ok"] is True
    ack = alice.call("message.send", {"thread_id": thread["id"], "client_id": "x-1", "body": "across processes"})
    assert ack["ok"] is True
    [delivered] = bob.wait_for("message.new")
    assert delivered["id"] == ack["id"] and delivered["body"] == "across processes"
    reply = bob.call("message.send", {"thread_id": thread["id"], "client_id": "y-1", "body": "got it"})
    assert [m["id"] for m in alice.wait_for("message.new", 2)] == [ack["id"], reply["id"]]
    assert bob.call("typing", {"thread_id": thread["id"]})["throttled"] is False
    assert alice.wait_for("typing")[0]["user_id"] == str(seller.id)
    # A stranger on either process is kept out of the room, and of messages sent to it.
    eve = peers(servers[1], stranger.token)
    assert eve.call("room.join", room) == {"error": {"status": 404, "title": "No such room."}}
    assert eve.call("room.join", {"room": f"thread:{uuid.uuid4()}"})["error"]["status"] == 404
    alice.call("message.send", {"thread_id": thread["id"], "client_id": "x-2", "body": "private"})
    assert len(bob.wait_for("message.new", 3)) == 3
    assert "message.new" not in eve.events


def test_oversized_and_ill_typed_payloads_never_crash_the_server(servers, peers, client, buyer, listing):
    thread = open_thread(client, buyer, listing)
    alice = peers(servers[0], buyer.token)
    too_long = alice.call("message.send", {"thread_id": thread["id"], "client_id": "big", "body": "x" * 100_000})
    assert too_long["error"]["status"] == 422 and "body" in too_long["error"]["errors"]
    assert alice.call("message.send", ["not", "an", "object"])["error"]["status"] == 422
    # Above max_http_buffer_size (256 KiB) the server drops the connection instead of reading it.
    alice.client.emit(
        "message.send", {"thread_id": thread["id"], "client_id": "huge", "body": "x" * 300_000}, namespace=NAMESPACE
    )
    assert alice.disconnected.wait(10)
    # The process is fine: a new connection works and nothing of the huge payload was stored.
    again = peers(servers[0], buyer.token)
    ok = again.call("message.send", {"thread_id": thread["id"], "client_id": "after", "body": "still here"})
    assert ok["ok"] is True and ok["message"]["seq"] == 1
    assert requests.get(f"{servers[0]}/healthz", timeout=5).status_code == 200
