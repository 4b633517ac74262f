"""Who is online on the socket right now, so chatty kinds are not emailed to someone reading live.

Each socket of a signed-in client sends ``presence.ping`` on ``/realtime`` (at connect and every
~30 s); it is kept in a Redis sorted set per user scored by its expiry, so a socket that vanishes
without a goodbye (a killed web process) stops counting after ``NOTIFICATIONS_PRESENCE_TTL_SECONDS``.
``presence.leave`` (or a disconnecting client) removes it at once. Any web or worker process can ask.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask import Flask, current_app, request

KEY = "notifications:presence:{user_id}"


def _redis() -> Any:
    return current_app.extensions["redis"]


def _ttl() -> int:
    return int(current_app.config["NOTIFICATIONS_PRESENCE_TTL_SECONDS"])


def touch(user_id: uuid.UUID | str, socket_id: str) -> None:
    """Mark one socket of ``user_id`` alive for another TTL."""
    key = KEY.format(user_id=user_id)
    now = time.time()
    with _redis().pipeline() as pipe:
        pipe.zadd(key, {socket_id: now + _ttl()})
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.expire(key, _ttl() * 2)
        pipe.execute()


def leave(user_id: uuid.UUID | str, socket_id: str) -> None:
    _redis().zrem(KEY.format(user_id=user_id), socket_id)


def is_online(user_id: uuid.UUID | str) -> bool:
    return bool(_redis().zcount(KEY.format(user_id=user_id), time.time(), "+inf"))


def online_users(user_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """The subset of ``user_ids`` with a live socket (one round trip)."""
    if not user_ids:
        return set()
    now = time.time()
    with _redis().pipeline() as pipe:
        for user_id in user_ids:
            pipe.zcount(KEY.format(user_id=user_id), now, "+inf")
        counts = pipe.execute()
    return {user_id for user_id, count in zip(user_ids, counts, strict=True) if count}


def register_socket_handlers(app: Flask) -> None:
    """``presence.ping`` / ``presence.leave`` on ``/realtime`` (acked with the TTL in seconds)."""
    from app.realtime import on

    @on(app, "presence.ping")
    def ping(principal: Any, payload: Any) -> dict[str, Any]:
        touch(principal.user_id, request.sid)  # type: ignore[attr-defined]
        return {"ok": True, "ttl": _ttl()}

    @on(app, "presence.leave")
    def bye(principal: Any, payload: Any) -> dict[str, Any]:
        leave(principal.user_id, request.sid)  # type: ignore[attr-defined]
        return {"ok": True}
