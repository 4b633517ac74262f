"""The Redis message queue of the web processes' Socket.IO, publishing from one thread in pipelines.

python-socketio's ``RedisManager`` publishes every emit with a Redis round trip on the emitting
thread (a chat send waited for it and paid its CPU: about a quarter of the handler's). Here an
emit only queues the encoded message; one publisher thread per process sends whatever has queued
since its last round trip as one pipeline of PUBLISHes. Emits of a process keep their order (one
queue, one sender), and are still published only once their change is committed (callers emit
after commit). Receiving is python-socketio's, unchanged. A publish that fails is retried once on a
fresh connection and then dropped with an error log, as ``RedisManager`` does: clients catch up
through REST. Write-only emitters (RQ jobs, CLI: short-lived processes) keep the plain manager.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

import socketio

log = logging.getLogger(__name__)

MAX_BATCH = 200  # messages per pipeline


class PipelinedRedisManager(socketio.RedisManager):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outgoing: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._publisher: threading.Thread | None = None
        self._starting = threading.Lock()

    def _publish(self, data: Any) -> None:
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
