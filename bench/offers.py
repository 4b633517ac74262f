"""Offers benchmark: negotiation throughput with N concurrent clients, and one hot listing under load.

Run against a migrated database and a Redis (not the test ones)::

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bazaar_dev \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/offers.py [--clients 1,2,4] [--negotiations 60]

Every request goes through the whole stack in-process (WSGI test client: gateway auth, idempotency
key, generated action with its row lock and audit record, outbox, timers) against real PostgreSQL;
each client is its own process with its own app and connection pool.

1. Throughput: each client runs negotiations on listings of its own: ``POST /offers`` (buyer) ->
   ``counter`` (seller) -> ``accept`` (buyer). Reported: negotiations/s and p50/p99 per request.
   Checked: every request succeeded, every negotiation ended accepted with its listing reserved.
2. Hot listing: many buyers offer on ONE listing at once (each create waits for the listing's book
   lock), then the seller accepts one offer while buyers keep offering. Reported: offers/s and
   p50/p99 of a create under contention. Checked: offers stored == 201 answers (no lost update),
   exactly one accepted, none left open, every refused create a 409 (listing reserved).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
import uuid
from typing import Any


def build_app():  # type: ignore[no-untyped-def]
    from app import create_app
    from config import Config

    return create_app(
        Config(LOG_JSON=False, LOG_LEVEL="ERROR", RATELIMIT_DEFAULT="1000000/minute", OFFERS_MAX_DAILY_PER_BUYER=10**6)
    )


def headers(app, user_id: uuid.UUID, key: bool = False) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from app.security import encode_access_token

    with app.app_context():
        token = encode_access_token(user_id=user_id, session_id=uuid.uuid4(), roles=("buyer",))
    result = {"Authorization": f"Bearer {token}"}
    if key:
        result["Idempotency-Key"] = uuid.uuid4().hex
    return result


def make_listings(app, count: int, seller_id: uuid.UUID, price: int = 10_000) -> list[uuid.UUID]:  # type: ignore[no-untyped-def]
    """Published listings written directly (setup, not measured)."""
    from app.extensions import db
    from blueprints.listings.models import Category, Listing, ListingCondition, ListingStatus

    with app.app_context():
        category = Category(name="Bench", slug=f"bench-{uuid.uuid4().hex[:10]}")
        db.session.add(category)
        db.session.flush()
        rows = [
            Listing(
                seller_id=seller_id,
                category_id=category.id,
                title=f"Bench item {i}",
                price_amount=price,
                currency="EUR",
                condition=ListingCondition.GOOD,
                status=ListingStatus.PUBLISHED,
            )
            for i in range(count)
        ]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def listing_states(app, listing_ids: list[uuid.UUID]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from app.extensions import db
    from blueprints.listings.models import Listing

    with app.app_context():
        rows = db.session.execute(
            select(Listing.status, func.count()).where(Listing.id.in_(listing_ids)).group_by(Listing.status)
        ).all()
        db.session.rollback()
        return {str(status.value if hasattr(status, "value") else status): n for status, n in rows}


def offer_states(app, listing_ids: list[uuid.UUID]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from app.extensions import db
    from blueprints.offers.models import Offer

    with app.app_context():
        rows = db.session.execute(
            select(Offer.state, func.count()).where(Offer.listing_id.in_(listing_ids)).group_by(Offer.state)
        ).all()
        db.session.rollback()
        return {str(state): n for state, n in rows}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else 0.0


# --- 1. create -> counter -> accept ----------------------------------------------------------------


def negotiation_client(count: int, start: Any, out: Any) -> None:
    app = build_app()
    client = app.test_client()
    seller = uuid.uuid4()
    listings = make_listings(app, count, seller)
    seller_headers = headers(app, seller)
    latencies: list[float] = []
    errors: list[str] = []

    def call(path: str, body: dict, hdrs: dict, expect: int) -> dict:  # type: ignore[type-arg]
        began = time.perf_counter()
        response = client.post(path, json=body, headers=hdrs)
        latencies.append(time.perf_counter() - began)
        if response.status_code != expect:
            errors.append(f"{path}: {response.status_code} {response.get_data(as_text=True)[:200]}")
        return response.get_json() or {}

    buyers = [uuid.uuid4() for _ in listings]
    buyer_headers = [headers(app, b) for b in buyers]
    start.wait()
    began = time.perf_counter()
    for listing_id, hdrs in zip(listings, buyer_headers, strict=True):
        offer = call(
            "/offers",
            {"listing_id": str(listing_id), "price": {"amount": 7_000, "currency": "EUR"}},
            {**hdrs, "Idempotency-Key": uuid.uuid4().hex},
            201,
        )
        countered = call(
            f"/offers/{offer.get('id')}/counter", {"price": {"amount": 9_000, "currency": "EUR"}}, seller_headers, 200
        )
        call(f"/offers/{countered.get('id')}/accept", {}, hdrs, 200)
    elapsed = time.perf_counter() - began
    out.put({"elapsed": elapsed, "latencies": latencies, "errors": errors, "listings": [str(i) for i in listings]})


def run_throughput(clients: int, per_client: int) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=negotiation_client, args=(per_client, start, out)) for _ in range(clients)]
    for proc in procs:
        proc.start()
    time.sleep(0.5)
    results = []
    start.set()
    for _ in procs:
        results.append(out.get(timeout=900))
    for proc in procs:
        proc.join(timeout=60)
    wall = max(r["elapsed"] for r in results)
    latencies = [x for r in results for x in r["latencies"]]
    errors = [e for r in results for e in r["errors"]]
    app = build_app()
    listing_ids = [uuid.UUID(i) for r in results for i in r["listings"]]
    return {
        "clients": clients,
        "negotiations": len(listing_ids),
        "per_second": len(listing_ids) / wall,
        "requests_per_second": len(latencies) / wall,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "errors": errors,
        "listings": listing_states(app, listing_ids),
        "offers": offer_states(app, listing_ids),
    }


# --- 2. one hot listing -------------------------------------------------------------------------


def hot_client(listing_id: str, seller_id: str, buyers: int, accept_at: int, start: Any, out: Any) -> None:
    app = build_app()
    client = app.test_client()
    hdrs = [headers(app, uuid.uuid4()) for _ in range(buyers)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    accepted: list[int] = []
    start.wait()
    began = time.perf_counter()
    for index, h in enumerate(hdrs):
        body = {"listing_id": listing_id, "price": {"amount": 5_000 + index, "currency": "EUR"}}
        t0 = time.perf_counter()
        response = client.post("/offers", json=body, headers={**h, "Idempotency-Key": uuid.uuid4().hex})
        latencies.append(time.perf_counter() - t0)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if index == accept_at and response.status_code == 201:
            accept = client.post(
                f"/offers/{response.get_json()['id']}/accept", json={}, headers=headers(app, uuid.UUID(seller_id))
            )
            accepted.append(accept.status_code)
    out.put({"elapsed": time.perf_counter() - began, "latencies": latencies, "statuses": statuses, "accepts": accepted})


def run_hot_listing(clients: int, buyers_per_client: int) -> dict[str, Any]:
    app = build_app()
    seller = uuid.uuid4()
    (listing_id,) = make_listings(app, 1, seller)
    ctx = mp.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(
            target=hot_client,
            # the first client's seller accepts its offer two thirds of the way through
            args=(
                str(listing_id),
                str(seller),
                buyers_per_client,
                (2 * buyers_per_client) // 3 if i == 0 else -1,
                start,
                out,
            ),
        )
        for i in range(clients)
    ]
    for proc in procs:
        proc.start()
    time.sleep(0.5)
    start.set()
    results = [out.get(timeout=900) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    statuses: dict[int, int] = {}
    for r in results:
        for code, n in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    latencies = [x for r in results for x in r["latencies"]]
    wall = max(r["elapsed"] for r in results)
    offers = offer_states(app, [listing_id])
    return {
        "buyers": len(latencies),
        "creates_per_second": len(latencies) / wall,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "statuses": statuses,
        "accept": [a for r in results for a in r["accepts"]],
        "offers": offers,
        "stored": sum(offers.values()),
        "listing": listing_states(app, [listing_id]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,2,4", help="comma separated client process counts")
    parser.add_argument("--negotiations", type=int, default=60, help="negotiations per client")
    parser.add_argument("--hot-clients", type=int, default=4)
    parser.add_argument("--hot-buyers", type=int, default=75, help="buyers per hot-listing client")
    args = parser.parse_args()

    print("1. create -> counter -> accept, N concurrent clients (3 requests per negotiation)")
    ok = True
    for clients in (int(c) for c in args.clients.split(",")):
        r = run_throughput(clients, args.negotiations)
        good = (
            not r["errors"]
            and r["offers"].get("accepted") == r["negotiations"]
            and r["listings"] == {"reserved": r["negotiations"]}
        )
        ok &= good
        print(
            f"   clients={clients}: {r['negotiations']} negotiations, {r['per_second']:.1f} negotiations/s "
            f"({r['requests_per_second']:.0f} req/s), p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms; "
            f"errors={len(r['errors'])} offers={r['offers']} listings={r['listings']} {'OK' if good else 'FAIL'}"
        )
        for error in r["errors"][:5]:
            print("     ", error)

    print(f"2. hot listing: {args.hot_clients} clients x {args.hot_buyers} buyers offering on one listing")
    r = run_hot_listing(args.hot_clients, args.hot_buyers)
    created = r["statuses"].get(201, 0)
    good = (
        r["stored"] == created
        and r["offers"].get("accepted") == 1
        and not r["offers"].get("pending")
        and set(r["statuses"]) <= {201, 409}
        and r["accept"] == [200]
        and r["listing"] == {"reserved": 1}
    )
    ok &= good
    print(
        f"   {r['buyers']} creates, {r['creates_per_second']:.1f} creates/s, p50 {r['p50_ms']:.1f} ms, "
        f"p99 {r['p99_ms']:.1f} ms; answers={r['statuses']} accept={r['accept']} stored={r['stored']} "
        f"offers={r['offers']} listing={r['listing']} {'OK' if good else 'FAIL'}"
    )
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
