"""The Redis message queue of the web processes' Socket.IO: pipelined publishing, and only to peers.

Pipelined: python-socketio's ``RedisManager`` publishes every emit with a Redis round trip on the
emitting thread (a chat send waited for it and paid its CPU: about a quarter of the handler's). Here
an emit only queues the encoded message; one publisher thread per process sends whatever has queued
since its last round trip as one pipeline of PUBLISHes. Emits of a process keep their order (one
queue, one sender), and are still published only once their change is committed (callers emit
after commit). A publish that fails is retried once on a fresh connection and then dropped with an
error log, as ``RedisManager`` does: clients catch up through REST.

Only to peers: python-socketio delivers an emit to this process's sockets itself *and* publishes
it; every web process, this one included, receives it, and the sender's own listener thread wakes
only to discard the echo. With one web process that is all the publish buys, and under load the
extra thread wakeups were what pushed the chat p99 over 20 ms (the process is GIL-bound). So each
web process that serves sockets registers in a Redis sorted set (``<channel>:peers``, scored by
Redis's clock: no skew between hosts) before its first socket, refreshes it every
``heartbeat_seconds`` and publishes its emits only while another registered process may be alive:
seen within ``peer_ttl_seconds``, or announced (a newcomer publishes ``peer_hello`` on the channel
once its listener is subscribed, so the others publish at once, not a heartbeat later), or unknown
(Redis unreachable: publish). A process that dies drops out after a TTL; ``leave`` (at exit)
unregisters at once. Only plain emits are ever skipped: callbacks, disconnects and room changes
target sockets elsewhere and always go out. The listener always runs: RQ jobs and the event relay
emit through Redis with write-only emitters (plain ``RedisManager``, always publishing), and a
process that has served no socket yet publishes everything (it is nobody's peer yet).
"""

from __future__ import annotations

import atexit
import logging
import math
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import redis
import socketio
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

MAX_BATCH = 200  # messages per pipeline
PEER_HELLO = "peer_hello"  # older processes ignore a method they do not know (python-socketio's listener)
ANNOUNCE_TIMEOUT = 3.0  # seconds a newcomer waits for its own hello to come back (Redis down: goes on)
REDIS_TIMEOUT = 1.0  # seconds, for the membership connection: a hung Redis must not stall the heartbeat

# Register ARGV[1] now (Redis time), prune members not seen for ARGV[2] s, return who is left.
CHECK_IN = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""


def members_client(url: str, **options: Any) -> redis.Redis:
    """Short timeouts, no retries: the next heartbeat is the retry, and an error must show at once (fail safe)."""
    settings = {
        "socket_timeout": REDIS_TIMEOUT,
        "socket_connect_timeout": REDIS_TIMEOUT,
        "retry": Retry(NoBackoff(), 0),
    }
    return redis.Redis.from_url(url, **{**options, **settings})


class PipelinedRedisManager(socketio.RedisManager):  # type: ignore[misc]
    """``RedisManager`` of a web process: publishes from one thread, and emits only while peers are alive."""

    def __init__(
        self, *args: Any, heartbeat_seconds: float = 1.0, peer_ttl_seconds: float = 5.0, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._outgoing: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._publisher: threading.Thread | None = None
        self._starting = threading.Lock()
        self.heartbeat_seconds = heartbeat_seconds
        self.peer_ttl_seconds = peer_ttl_seconds  # >> heartbeat: a late beat or a Redis restart drops no one
        self.peers_key = f"{self.channel}:peers"
        self._peer_seen_until = math.inf  # monotonic; until this process joins, it publishes every emit
        self._peer_hello_until = 0.0
        self._heard_own_hello = threading.Event()
        self._leaving = threading.Event()
        self._members: redis.Redis | None = None
        self._heartbeat: threading.Thread | None = None

    # -- peers ---------------------------------------------------------------------------------------
    def initialize(self) -> None:
        """On the first connection, before serving it: listen, then join the peers."""
        super().initialize()
        if not self.write_only:
            self._join()

    def peers_may_be_alive(self) -> bool:
        now = time.monotonic()
        return now < self._peer_seen_until or now < self._peer_hello_until

    def _join(self) -> None:
        self._members = members_client(self.redis_url, **self.redis_options)
        self._check_in()  # registered before the hello: whoever hears it, sees us at their next beat
        self._announce()
        # Checked in after our listener is subscribed: a peer registering from now on is heard saying hello.
        self._peer_seen_until = self._deadline() if self._check_in() else 0.0
        self._heartbeat = threading.Thread(target=self._beat, name="socketio-peers-heartbeat", daemon=True)
        self._heartbeat.start()
        atexit.register(self.leave)

    def leave(self) -> None:
        """Stop the heartbeat and unregister (clean shutdown): peers stop publishing within a TTL."""
        self._leaving.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=2 * REDIS_TIMEOUT)
        if self._members is not None:
            try:
                self._members.zrem(self.peers_key, self.host_id)
            except redis.RedisError as exc:
                log.debug("Cannot unregister %s (expires anyway): %s", self.host_id, exc)  # at exit: quiet

    def _beat(self) -> None:
        while not self._leaving.wait(self.heartbeat_seconds):
            if self._check_in():
                self._peer_seen_until = self._deadline()

    def _check_in(self) -> bool:
        """Refresh our entry; True when another process is registered, or when Redis cannot tell."""
        assert self._members is not None
        try:
            members = self._members.eval(
                CHECK_IN, 1, self.peers_key, self.host_id, self.peer_ttl_seconds, math.ceil(4 * self.peer_ttl_seconds)
            )
        except Exception as exc:  # noqa: BLE001 (the heartbeat must live on; fail safe: assume peers)
            log.warning("Socket.IO peers unknown (%s): publishing every emit", exc)
            return True
        return any((m.decode() if isinstance(m, bytes) else m) != self.host_id for m in members)

    def _deadline(self) -> float:
        return time.monotonic() + self.peer_ttl_seconds

    def _announce(self) -> None:
        """Publish ``peer_hello`` until our own listener hears it: subscribed, and every peer told."""
        assert self._members is not None
        hello = self.json.dumps({"method": PEER_HELLO, "host_id": self.host_id})
        deadline = time.monotonic() + ANNOUNCE_TIMEOUT
        while time.monotonic() < deadline:
            try:
                self._members.publish(self.channel, hello)
            except redis.RedisError as exc:
                log.warning("Cannot announce %s on %s: %s", self.host_id, self.channel, exc)
            if self._heard_own_hello.wait(0.02):
                return
        log.warning("Socket.IO listener of %s did not hear its own hello in %.0f s", self.host_id, ANNOUNCE_TIMEOUT)

    def _listen(self) -> Iterator[Any]:
        for message in super()._listen():
            if isinstance(message, bytes) and b'"peer_hello"' in message and self._is_hello(message):
                continue
            yield message

    def _is_hello(self, message: bytes) -> bool:
        try:
            data = self.json.loads(message)
        except ValueError:
            return False
        if not isinstance(data, dict) or data.get("method") != PEER_HELLO:
            return False
        if data.get("host_id") == self.host_id:
            self._heard_own_hello.set()
        else:
            self._peer_hello_until = self._deadline()
            log.info("Socket.IO peer %s joined %s", data.get("host_id"), self.channel)
        return True

    # -- publishing ----------------------------------------------------------------------------------
    def _publish(self, data: Any) -> None:
        if data["method"] == "emit" and data.get("callback") is None and not self.peers_may_be_alive():
            return  # already delivered to this process's sockets, and no other process holds any
        self._outgoing.put(self.json.dumps(data))
        if self._publisher is None:
            with self._starting:  # started on first use: in the serving process, after any fork
                if self._publisher is None:
                    self._publisher = threading.Thread(
                        target=self._publish_queued, name="socketio-redis-publisher", daemon=True
                    )
                    self._publisher.start()

    def _publish_queued(self) -> None:
        while True:
            batch = [self._outgoing.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._outgoing.get_nowait())
                except queue.Empty:
                    break
            self._send(batch)

    def _send(self, batch: list[str]) -> None:
        for retries_left in (1, 0):
            try:
                if not self.connected:
                    self._redis_connect()
                pipe = self.redis.pipeline(transaction=False)
                for message in batch:
                    pipe.publish(self.channel, message)
                pipe.execute()
                return
            except Exception as exc:  # noqa: BLE001 (the publisher thread must live on)
                self.connected = False
                log.error(
                    "Cannot publish %d message(s) to redis... %s: %s",
                    len(batch),
                    "retrying" if retries_left else "giving up",
                    exc,
                )
