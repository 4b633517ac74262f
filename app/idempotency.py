"""Idempotency keys for POSTs that move money or create order-like objects (DESIGN.md section 4).

    @blp.route("/intents", methods=["POST"])
    @idempotent("payments.create_intent")
    @blp.arguments(IntentCreateSchema)
    @blp.response(201, PaymentSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    def create_intent(args): ...      # flushes, never commits: the decorator commits

Per (principal, scope, key), kept 24 hours: the first request runs the view and stores its response
**in the view's own transaction**, so the response exists if and only if the effects do. The same key
with the same body replays that response with ``Idempotent-Replayed: true``; with another body it is a
409. A concurrent duplicate waits on the unique index until the first commits, then replays: one
charge, never two. A request that fails (4xx/5xx) rolls back with its key, so it can be retried.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import Response, request
from flask_smorest import abort
from sqlalchemy import DateTime, Index, Integer, LargeBinary, String, UniqueConstraint, delete, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, UUIDPk, db, utcnow
from app.errors import PROBLEM_TYPE_BASE
from app.security import current_principal

__all__ = ["HEADER", "IDEMPOTENCY_KEY_PARAMETER", "IdempotencyKey", "idempotent", "purge_expired"]

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
DEFAULT_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
REPLAYED_RESPONSE_HEADERS = ("Content-Type", "Location", "ETag")

IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": True,
    "description": "A unique client-chosen key (e.g. a UUID) per intended operation. Retrying with the same "
    "key and body replays the first response (header Idempotent-Replayed: true); another body is a 409. "
    "Keys are kept 24 hours.",
    "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
}


class IdempotencyKey(UUIDPk, Model):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("principal", "scope", "key", name="uq_idempotency_keys_principal_scope_key"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
        {"schema": "platform"},
    )

    principal: Mapped[str] = mapped_column(String(80), nullable=False)  # "user:<id>"
    scope: Mapped[str] = mapped_column(String(200), nullable=False)  # the operation, e.g. payments.create_intent
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_headers: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


def request_fingerprint() -> str:
    """Method, path and body: JSON compared by value (key order and spacing do not matter)."""
    body = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except ValueError:
        canonical = body
    return hashlib.sha256(b"%s %s\n%s" % (request.method.encode(), request.path.encode(), canonical)).hexdigest()


def _read_key() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        abort(
            400,
            message="Invalid Idempotency-Key.",
            errors={HEADER: [f"1 to {MAX_KEY_LENGTH} printable ASCII characters."]},
        )
    return key


def _replay(row: IdempotencyKey) -> Response:
    response = Response(row.response_body or b"", status=row.status_code or 200)
    for name, value in (row.response_headers or {}).items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _claim(principal: str, scope: str, key: str, fingerprint: str, ttl: timedelta) -> IdempotencyKey | None:
    """Insert our key row (None) or return the committed row of an earlier request with this key."""
    now = utcnow()
    values = {
        "id": uuid.uuid4(),
        "principal": principal,
        "scope": scope,
        "key": key,
        "request_hash": fingerprint,
        "response_headers": {},
        "created_at": now,
        "expires_at": now + ttl,
    }
    statement = (
        pg_insert(IdempotencyKey)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_idempotency_keys_principal_scope_key")
    )
    # On conflict this waits for the other transaction holding the key, then sees its outcome.
    if db.session.execute(statement.returning(IdempotencyKey.id)).first() is not None:
        return None
    row = db.session.execute(
        select(IdempotencyKey)
        .where(IdempotencyKey.principal == principal, IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if row.expires_at <= now:  # an expired key is a new key
        db.session.delete(row)
        db.session.flush()
        db.session.execute(statement)
        return None
    return row


def idempotent(scope: str | None = None, *, ttl: timedelta = DEFAULT_TTL, required: bool = True) -> Callable[[F], F]:
    """Make a POST view idempotent per (signed-in principal, ``scope``, Idempotency-Key header)."""

    def decorate(view: F) -> F:
        name = scope or f"{view.__module__}.{view.__qualname__}"

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            key = _read_key()
            if key is None and required:
                abort(400, message="This request needs an Idempotency-Key header.", errors={HEADER: ["Required."]})
            if key is None or not principal.is_authenticated:
                return view(*args, **kwargs)  # anonymous callers are refused by the view's own login check
            existing = _claim(f"user:{principal.user_id}", name, key, request_fingerprint(), ttl)
            if existing is not None:
                db.session.commit()  # release the row lock
                if existing.request_hash != request_fingerprint():
                    abort(
                        409,
                        message="This Idempotency-Key was used with a different request.",
                        type=PROBLEM_TYPE_BASE + "idempotency-key-reused",
                    )
                if existing.status_code is None:
                    abort(409, message="A request with this Idempotency-Key is still in progress.")
                return _replay(existing)
            try:
                response = view(*args, **kwargs)
            except BaseException:
                db.session.rollback()  # the key goes with the failed request's writes
                raise
            if not isinstance(response, Response):
                raise TypeError("an @idempotent view must return a Response (put the decorator above @blp.response)")
            if response.status_code >= 400:
                db.session.rollback()
                return response
            db.session.execute(
                IdempotencyKey.__table__.update()
                .where(
                    IdempotencyKey.principal == f"user:{principal.user_id}",
                    IdempotencyKey.scope == name,
                    IdempotencyKey.key == key,
                )
                .values(
                    status_code=response.status_code,
                    response_body=response.get_data(),
                    response_headers={
                        h: response.headers[h] for h in REPLAYED_RESPONSE_HEADERS if h in response.headers
                    },
                )
            )
            db.session.commit()
            return response

        return wrapper  # type: ignore[return-value]

    return decorate


def purge_expired(now: datetime | None = None) -> int:
    """Delete keys past their retention (a periodic job); returns how many."""
    result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= (now or utcnow())))
    return int(result.rowcount or 0)
