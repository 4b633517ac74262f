"""Fixtures of the messaging tests: a seller's published listing, buyers with tokens, a thread, storage."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.extensions import db
from app.realtime import NAMESPACE, get_socketio
from blueprints.listings.models import Category, Listing, ListingStatus
from blueprints.messaging.storage import LocalDiskStorage


@dataclass
class User:
    id: uuid.UUID
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_user(token_for) -> Callable[..., User]:  # type: ignore[no-untyped-def]
    def make(user_id: uuid.UUID | None = None, **kwargs: Any) -> User:
        user_id = user_id or uuid.uuid4()
        return User(user_id, token_for(user_id, **kwargs))

    return make


@pytest.fixture
def seller(make_user) -> User:  # type: ignore[no-untyped-def]
    return make_user(roles=("seller",))


@pytest.fixture
def buyer(make_user) -> User:  # type: ignore[no-untyped-def]
    return make_user()


@pytest.fixture
def stranger(make_user) -> User:  # type: ignore[no-untyped-def]
    return make_user()


@pytest.fixture
def category(app) -> uuid.UUID:  # type: ignore[no-untyped-def]
    """Listings rows are written directly: messaging reads them only through listings' service."""
    with app.app_context():
        suffix = uuid.uuid4().hex[:8]
        row = Category(name=f"Category {suffix}", slug=f"cat-{suffix}")
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.fixture
def new_listing(app, category) -> Callable[..., uuid.UUID]:  # type: ignore[no-untyped-def]
    def make(seller_id: uuid.UUID, status: ListingStatus = ListingStatus.PUBLISHED) -> uuid.UUID:
        with app.app_context():
            row = Listing(
                seller_id=seller_id,
                category_id=category,
                title="A thing",
                price_amount=1000,
                currency="EUR",
                condition="good",
                status=status,
            )
            db.session.add(row)
            db.session.commit()
            return row.id

    return make


@pytest.fixture
def listing(new_listing, seller) -> uuid.UUID:  # type: ignore[no-untyped-def]
    return new_listing(seller.id)


def open_thread(client, user: User, listing_id: uuid.UUID) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.post("/messages/threads", json={"listing_id": str(listing_id)}, headers=user.headers)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


@pytest.fixture
def thread(client, buyer, listing) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return open_thread(client, buyer, listing)


def send(client, user: User, thread_id: Any, body: str = "Hello", client_id: str | None = None, **extra: Any):  # type: ignore[no-untyped-def]
    payload = {"client_id": client_id or uuid.uuid4().hex, "body": body, **extra}
    return client.post(f"/messages/threads/{thread_id}/messages", json=payload, headers=user.headers)


@pytest.fixture
def storage(app, tmp_path, monkeypatch) -> LocalDiskStorage:  # type: ignore[no-untyped-def]
    """Attachments under the test's tmp dir (the app's storage is swapped for the test)."""
    local = LocalDiskStorage(
        root=tmp_path / "uploads", secret=app.config["SECRET_KEY"], base_url="http://testserver", ttl_seconds=60
    )
    monkeypatch.setitem(app.extensions, "messaging_storage", local)
    return local


# ---- in-process Socket.IO -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def rt_app(make_app):  # type: ignore[no-untyped-def]
    """An app without the Redis message queue: Flask-SocketIO's test client needs one process."""
    return make_app(SOCKETIO_MESSAGE_QUEUE="off")


@pytest.fixture
def connect(rt_app, app):  # type: ignore[no-untyped-def]
    """Socket.IO test clients on ``/realtime``; ``app`` is requested so tables are cleaned after."""
    clients = []

    def make(user: User):  # type: ignore[no-untyped-def]
        client = get_socketio(rt_app).test_client(rt_app, namespace=NAMESPACE, auth={"token": user.token})
        assert client.is_connected(NAMESPACE)
        clients.append(client)
        return client

    yield make
    for client in clients:
        if client.is_connected(NAMESPACE):
            client.disconnect(namespace=NAMESPACE)


def emit(client, event: str, payload: Any) -> Any:  # type: ignore[no-untyped-def]
    return client.emit(event, payload, namespace=NAMESPACE, callback=True)


def received(client, name: str, timeout: float = 2.0) -> list[Any]:  # type: ignore[no-untyped-def]
    """Payloads of ``name`` the client got so far (waits up to ``timeout`` for a first one); other
    events stay buffered for later calls."""
    buffer: list[dict[str, Any]] = client.__dict__.setdefault("_buffer", [])
    deadline = time.monotonic() + timeout
    while True:
        buffer += client.get_received(NAMESPACE)
        found = [p["args"][0] for p in buffer if p["name"] == name]
        if found or time.monotonic() >= deadline:
            buffer[:] = [p for p in buffer if p["name"] != name]
            return found
        time.sleep(0.02)
