"""Revoked sessions: a denylist in Redis, mirrored in each process so a check costs no round trip.

Redis holds the truth: one key per revoked ``sid``, kept as long as an access token of that session
may still be valid. Every revocation is also published on a channel; each process keeps a mirror
fed by one subscriber thread, which subscribes first and then loads the existing keys, so no
revocation can fall between the two. The revoking process adds the sid to its own mirror at once;
other processes learn it through the channel within milliseconds.

While the mirror is not live (starting, Redis unreachable, just after a fork) :meth:`is_revoked`
answers ``None`` and the caller asks Redis directly: a check never trusts a mirror that may have
missed a revocation. Measured with ``bench/auth.py``: the per-request Redis round trip this saves
was most of the cost of authentication on a trivial endpoint.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import redis

log = logging.getLogger(__name__)

KEY = "auth:revoked-sid:{sid}"
CHANNEL = "bazaar:revoked-sessions"
CLIENT_NAME = "bazaar-revocations"  # visible in CLIENT LIST
_SEPARATOR = " "


class RevocationMirror:
    """The revoked sids of one Redis, in this process, kept current by a daemon subscriber thread."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self._revoked: dict[str, float] = {}  # sid -> unix time its denial ends
        self._live = False
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    @property
    def live(self) -> bool:
        return self._live and self._pid == os.getpid()

    def add(self, sid: str, ttl_seconds: float) -> None:
        self._revoked[sid] = time.time() + ttl_seconds

    def is_revoked(self, sid: str) -> bool | None:
        """True/False from the mirror, or None when it cannot be trusted (ask Redis)."""
        if self._pid != os.getpid():
            self.start()
            return None
        if not self._live:
            return None
        until = self._revoked.get(sid)
        return until is not None and until > time.time()

    def start(self) -> None:
        """Start (or, in a forked child, restart) the subscriber thread; idempotent."""
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._live = False
            self._stop.clear()
            thread = threading.Thread(target=self._run, name="bazaar-revocations", daemon=True)
            thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                self._follow()
                backoff = 0.1
            except (redis.RedisError, OSError) as exc:
                # Once per outage, not once per retry.
                log.log(logging.WARNING if self._live else logging.DEBUG, "revocation mirror offline: %s", exc)
            self._live = False
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)

    def _follow(self) -> None:
        client = redis.Redis.from_url(
            self.redis_url, socket_connect_timeout=2, socket_timeout=10, client_name=CLIENT_NAME
        )
        pubsub = client.pubsub()
        try:
            pubsub.subscribe(CHANNEL)
            # Load existing keys only once the server confirmed the subscription: nothing missed.
            confirmed = pubsub.get_message(timeout=5)
            if not confirmed or confirmed.get("type") != "subscribe":
                raise redis.ConnectionError("no subscription confirmation")
            self._load(client)
            self._live = True
            last_purge = time.time()
            while not self._stop.is_set():
                message = pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message and message.get("type") == "message":
                    self._apply(message["data"])
                if time.time() - last_purge > 60:
                    self._purge()
                    last_purge = time.time()
                    pubsub.ping()  # a dead connection raises here instead of hanging quietly
        finally:
            pubsub.close()
            client.close()

    def _load(self, client: redis.Redis) -> None:
        prefix = KEY.format(sid="")
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if not keys:
            return
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.pttl(key)
            ttls = pipe.execute()
        now = time.time()
        for key, ttl_ms in zip(keys, ttls, strict=True):
            if ttl_ms and ttl_ms > 0:
                self._revoked[key.decode()[len(prefix) :]] = now + ttl_ms / 1000

    def _apply(self, data: bytes) -> None:
        sid, _, ttl = data.decode().partition(_SEPARATOR)
        self.add(sid, float(ttl or 0))

    def _purge(self) -> None:
        now = time.time()
        for sid in [s for s, until in self._revoked.items() if until <= now]:
            self._revoked.pop(sid, None)


_MIRRORS: dict[str, RevocationMirror] = {}
_MIRRORS_LOCK = threading.Lock()


def mirror_for(redis_url: str) -> RevocationMirror:
    """One mirror per Redis per process, shared by every app of the process (tests build several)."""
    with _MIRRORS_LOCK:
        mirror = _MIRRORS.get(redis_url)
        if mirror is None:
            mirror = _MIRRORS[redis_url] = RevocationMirror(redis_url)
        return mirror


def publish_revocation(client: redis.Redis, sid: str, ttl_seconds: int) -> None:
    """Write the denylist key and tell every process (one round trip)."""
    with client.pipeline(transaction=False) as pipe:
        pipe.set(KEY.format(sid=sid), "1", ex=ttl_seconds)
        pipe.publish(CHANNEL, f"{sid}{_SEPARATOR}{ttl_seconds}")
        pipe.execute()
