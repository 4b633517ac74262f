"""Web processes publish their emits to Redis only while a peer process is alive (app/realtime_queue.py).

Each "process" here is its own app (own Socket.IO manager and host id) served by werkzeug on a free
port, with a real client, on a channel of its own in the run's Redis. What reaches Redis is read by
a plain subscriber on that channel; an always-published ``close_room`` sent after an emit marks the
end of what that emit could have published (one publisher queue per process keeps the order).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
import socketio as socketio_client
from werkzeug.serving import make_server

from app.embedded import free_port
from app.realtime import NAMESPACE, emit_to_room, external_emitter, get_socketio
from app.realtime_queue import PipelinedRedisManager, members_client


@dataclass
class WebProcess:
    app: Any
    url: str
    manager: PipelinedRedisManager

    def emit(self, event: str, payload: Any, room: str) -> None:
        with self.app.app_context():
            emit_to_room(event, payload, room)


@dataclass
class Listener:
    """A real Socket.IO client of one user, recording the ``ping`` events it receives."""

    client: socketio_client.Client
    user: str = field(default_factory=lambda: str(uuid.uuid4()))
    received: list[Any] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def room(self) -> str:
        return f"user:{self.user}"

    def record(self, data: Any) -> None:
        with self.arrived:
            self.received.append(data)
            self.arrived.notify_all()

    def wait_for(self, data: Any, timeout: float = 5) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: data in self.received, timeout=timeout)


class ChannelSpy:
    """What web processes publish on the channel."""

    def __init__(self, url: str, channel: str) -> None:
        self.pubsub = redis.Redis.from_url(url).pubsub()
        self.pubsub.subscribe(channel)
        assert self.pubsub.get_message(timeout=5)["type"] == "subscribe"  # type: ignore[index]
        self.messages: list[dict[str, Any]] = []

    def published_emits(self, process: WebProcess, timeout: float = 5) -> list[Any]:
        """The payloads of the ``ping`` emits ``process`` published since the spy subscribed."""
        barrier = f"barrier:{uuid.uuid4()}"
        process.manager.close_room(barrier, NAMESPACE)  # always published, after what was queued before it
        deadline = time.monotonic() + timeout
        while not any(m.get("room") == barrier for m in self.messages):
            assert time.monotonic() < deadline, "the barrier never came back"
            message = self.pubsub.get_message(timeout=0.1)
            if message is not None and message["type"] == "message":
                self.messages.append(process.manager.json.loads(message["data"]))
        return [
            m["data"][0]
            for m in self.messages
            if m.get("method") == "emit" and m.get("event") == "ping" and m["host_id"] == process.manager.host_id
        ]


def eventually(condition: Callable[[], bool], timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def channel() -> str:
    return f"test-peers-{uuid.uuid4().hex}"


@pytest.fixture
def redis_client(test_environ: dict[str, str]) -> redis.Redis:
    return redis.Redis.from_url(test_environ["REDIS_URL"])


@pytest.fixture
def spy(test_environ: dict[str, str], channel: str) -> Iterator[ChannelSpy]:
    watcher = ChannelSpy(test_environ["REDIS_URL"], channel)
    yield watcher
    watcher.pubsub.close()


@pytest.fixture
def start_process(make_app, channel: str) -> Iterator[Callable[..., WebProcess]]:  # type: ignore[no-untyped-def]
    servers: list[Any] = []
    processes: list[WebProcess] = []

    def start(heartbeat_seconds: float = 0.1, peer_ttl_seconds: float = 0.5) -> WebProcess:
        application = make_app(SOCKETIO_CHANNEL=channel)
        manager = get_socketio(application).server.manager
        assert isinstance(manager, PipelinedRedisManager)
        manager.heartbeat_seconds, manager.peer_ttl_seconds = heartbeat_seconds, peer_ttl_seconds
        port = free_port()
        server = make_server("127.0.0.1", port, application, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        processes.append(WebProcess(application, f"http://127.0.0.1:{port}", manager))
        return processes[-1]

    yield start
    for server in servers:
        server.shutdown()
    for process in processes:
        process.manager.leave()


@pytest.fixture
def connect(token_for) -> Iterator[Callable[[WebProcess], Listener]]:  # type: ignore[no-untyped-def]
    listeners: list[Listener] = []

    def open_on(process: WebProcess) -> Listener:
        listener = Listener(socketio_client.Client(reconnection=False))
        listener.client.on("ping", listener.record, namespace=NAMESPACE)
        listener.client.connect(
            process.url,
            namespaces=[NAMESPACE],
            auth={"token": token_for(listener.user)},
            transports=["websocket"],
            wait_timeout=5,
        )
        listeners.append(listener)
        return listener

    yield open_on
    # Together: each waits up to 3 s for a close frame the werkzeug test server never answers.
    closing = [threading.Thread(target=listener.client.disconnect) for listener in listeners]
    for thread in closing:
        thread.start()
    for thread in closing:
        thread.join(timeout=10)


def is_registered(redis_client: redis.Redis, process: WebProcess) -> bool:
    return redis_client.zscore(process.manager.peers_key, process.manager.host_id) is not None


def test_a_lone_process_delivers_locally_and_publishes_nothing(start_process, connect, spy, redis_client):
    alone = start_process()
    alice = connect(alone)
    assert is_registered(redis_client, alone)  # registered by the time its first socket is served
    alone.emit("ping", {"n": 1}, alice.room)
    assert alice.wait_for({"n": 1})
    assert spy.published_emits(alone) == []


def test_a_process_that_has_served_no_socket_publishes_every_emit(start_process, spy):
    fresh = start_process()  # e.g. a REST request's push before any socket connected to this process
    fresh.emit("ping", {"n": 1}, "user:somebody")
    assert spy.published_emits(fresh) == [{"n": 1}]


def test_a_newcomer_is_announced_and_gets_emits_from_its_first_moments(start_process, connect, spy):
    # Heartbeats a minute apart: only the newcomer's hello can tell the first process it is there.
    first = start_process(heartbeat_seconds=60, peer_ttl_seconds=30)
    alice = connect(first)
    first.emit("ping", {"n": 1}, alice.room)
    assert alice.wait_for({"n": 1}) and spy.published_emits(first) == []
    second = start_process(heartbeat_seconds=60, peer_ttl_seconds=30)
    bob = connect(second)
    first.emit("ping", {"n": 2}, bob.room)  # right after bob's connect returned
    assert bob.wait_for({"n": 2})
    second.emit("ping", {"n": 3}, alice.room)
    assert alice.wait_for({"n": 3})
    assert spy.published_emits(first) == [{"n": 2}]
    assert spy.published_emits(second) == [{"n": 3}]


def test_a_peer_that_stops_beating_expires_and_emits_stay_local_again(
    start_process, connect, spy, redis_client, channel
):
    process = start_process(heartbeat_seconds=0.1, peer_ttl_seconds=0.5)
    alice = connect(process)
    assert not process.manager.peers_may_be_alive()
    # A process that registered and then died (never refreshed, never said goodbye).
    seconds, micros = redis_client.time()
    redis_client.zadd(process.manager.peers_key, {"dead-process": seconds + micros / 1e6})
    assert eventually(process.manager.peers_may_be_alive)  # seen at the next heartbeat
    process.emit("ping", {"n": 1}, alice.room)
    assert spy.published_emits(process) == [{"n": 1}]
    assert eventually(lambda: not process.manager.peers_may_be_alive())
    assert redis_client.zscore(process.manager.peers_key, "dead-process") is None  # pruned
    process.emit("ping", {"n": 2}, alice.room)
    assert spy.published_emits(process) == [{"n": 1}]
    assert alice.wait_for({"n": 1}) and alice.wait_for({"n": 2})


def test_a_peer_that_leaves_unregisters_at_once(start_process, connect, redis_client):
    first, second = start_process(), start_process()
    connect(first), connect(second)
    assert first.manager.peers_may_be_alive() and second.manager.peers_may_be_alive()
    second.manager.leave()
    assert not is_registered(redis_client, second)
    assert eventually(lambda: not first.manager.peers_may_be_alive())


def test_a_worker_side_emitter_reaches_a_client_of_a_lone_process(start_process, connect, test_environ, channel):
    process = start_process()
    alice = connect(process)
    assert not process.manager.peers_may_be_alive()
    external_emitter(test_environ["REDIS_URL"], channel).emit(
        "ping", {"from": "rq"}, to=alice.room, namespace=NAMESPACE
    )
    assert alice.wait_for({"from": "rq"})


def test_when_redis_cannot_tell_who_is_alive_emits_are_published(start_process, connect):
    process = start_process(heartbeat_seconds=0.1, peer_ttl_seconds=0.5)
    connect(process)
    assert not process.manager.peers_may_be_alive()
    process.manager._members = members_client(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    assert eventually(process.manager.peers_may_be_alive)
