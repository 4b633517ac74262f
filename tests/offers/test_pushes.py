"""``offer.updated`` pushes reach the buyer's and the seller's rooms after commit, and nobody else's."""

from __future__ import annotations

import time
import uuid

import pytest

from app.realtime import NAMESPACE, get_socketio
from tests.offers.conftest import Api, User


@pytest.fixture(scope="module")
def rt_app(make_app):  # type: ignore[no-untyped-def]
    return make_app(SOCKETIO_MESSAGE_QUEUE="off")  # Flask-SocketIO's test client needs no queue


def _socket(rt_app, token_for, user_id):  # type: ignore[no-untyped-def]
    client = get_socketio(rt_app).test_client(rt_app, namespace=NAMESPACE, auth={"token": token_for(user_id)})
    assert client.is_connected(NAMESPACE)
    return client


def _pushes(client, expect: int = 0, wait: float = 3.0) -> list[dict]:  # type: ignore[no-untyped-def]
    """offer.updated pushes received: waits for ``expect`` of them (0: watch for ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    found: list[dict] = []
    while time.monotonic() < deadline and (not expect or len(found) < expect):
        found += [p["args"][0] for p in client.get_received(NAMESPACE) if p["name"] == "offer.updated"]
        time.sleep(0.02)
    return found


def test_pushes_reach_both_parties_and_no_one_else(rt_app, token_for, auth_headers, make_listing, seller):
    buyer = User(uuid.uuid4(), {})
    buyer.headers = auth_headers(buyer.id)
    stranger_id = uuid.uuid4()
    listing = make_listing()
    sockets = {
        who: _socket(rt_app, token_for, uid)
        for who, uid in (("buyer", buyer.id), ("seller", seller.id), ("stranger", stranger_id))
    }
    api = Api(rt_app.test_client())

    offer = api.offer(buyer, listing, 7_000).get_json()
    for who in ("buyer", "seller"):
        (push,) = _pushes(sockets[who], expect=1)
        assert push["offer_id"] == offer["id"] and push["state"] == "pending" and push["awaiting"] == "seller"
        assert push["transition"] == "create" and push["amount"] == 7_000
    assert _pushes(sockets["stranger"], wait=0.3) == []

    countered = api.counter(seller, offer["id"], 9_000).get_json()
    for who in ("buyer", "seller"):
        pushes = _pushes(sockets[who], expect=2)
        assert [(p["offer_id"], p["state"]) for p in pushes] == [
            (offer["id"], "superseded"),
            (countered["id"], "countered"),
        ]
    assert _pushes(sockets["stranger"], wait=0.3) == []


def test_a_refused_action_pushes_nothing(rt_app, token_for, auth_headers, make_listing, seller):
    buyer = User(uuid.uuid4(), {})
    buyer.headers = auth_headers(buyer.id)
    listing = make_listing()
    api = Api(rt_app.test_client())
    offer = api.offer(buyer, listing, 7_000).get_json()
    seller_socket = _socket(rt_app, token_for, seller.id)
    assert api.act(buyer, offer["id"], "accept").status_code == 403  # not the buyer's turn
    assert api.counter(seller, offer["id"], 20_000).status_code == 422  # above asking: rolled back
    assert _pushes(seller_socket, wait=0.5) == []
