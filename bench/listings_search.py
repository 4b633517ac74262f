"""Benchmark: public listing search at 10^4, 10^5 and 10^6 listings.

    .venv/bin/python bench/listings_search.py [--sizes 10000,100000,1000000] [--runs 200] [--reuse]

One database per size, named ``bench_search_<1e4|1e5|1e6>`` (``--prefix`` changes the stem), on the
local PostgreSQL (``TEST_DATABASE_ADMIN_URL`` overrides): migrated, given the demo category tree, then
seeded with COPY (the search trigger and every index maintained as in production). ``--reuse`` keeps a
database already seeded to its size (migrating it to head, so new indexes reach it) and leaves it in
place; ``--keep`` leaves the databases it made; otherwise they are dropped. ``--seed-only`` only seeds.
At each size it runs 5 representative searches:

1. full text, ranked:           ``q=canon camera&sort=-relevance``
2. category subtree, newest:    ``category=<electronics>&sort=-created_at``
3. price range + grades:        ``price[gte]=5000&price[lte]=20000&condition[in]=like_new,good&sort=price``
4. full text + category:        ``q=jacket&category=<fashion>&sort=-created_at``
5. radius around Lyon (25 km), nearest first: ``lat=45.76&lng=4.84&radius_km=25&sort=distance``

each ``--runs`` times in-process (Flask test client: the whole request path, no network) and over HTTP
(gunicorn gthread, 2 workers per size). The sizes take turns request by request, each with its own app
(in-process) or server (HTTP), so that every size sees the same machine: measured one size after the
other, the same code at the same size varied by 30-50% with the machine's state and the process's
history. It prints p50/p99, the load average and the EXPLAIN (ANALYZE) of each
query's SQL, and flags any sequential scan of the listings table. Facets and a radius sorted by date
are measured apart (they read every match by design). Target: p99 at 10^6 within 1.5x of p99 at 10^4
for each query, all from indexes. The machine being shared, compare the ratios, not the milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.embedded import database_url, free_port, local_postgres_admin_url, start_redis  # noqa: E402
from app.migrate import upgrade  # noqa: E402

# Requests per size and query before the measured ones (caches, pools, specialised bytecode).
WARMUP = 20
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
WORDS = {
    "cameras": (["Canon", "Nikon", "Fujifilm", "Sony", "Leica", "Pentax", "Olympus"],
                ["camera", "film camera", "mirrorless body", "lens 50mm", "rangefinder", "DSLR kit"]),
    "phones": (["Apple", "Samsung", "Google", "Fairphone", "Nokia"], ["phone 128 GB", "smartphone", "iPhone"]),
    "laptops": (["Apple", "Lenovo", "Dell", "HP", "Asus"], ["laptop", "notebook 14-inch", "ultrabook"]),
    "audio": (["Sony", "Bose", "Technics", "Sennheiser"], ["headphones", "turntable", "speaker", "amplifier"]),
    "shoes": (["Nike", "Adidas", "Dr. Martens", "Vans", "Asics"], ["trainers", "boots", "sneakers", "running shoes"]),
    "jackets": (["Patagonia", "Barbour", "Levi's", "North Face", "Uniqlo"], ["jacket", "down jacket", "parka"]),
    "furniture": (["IKEA", "Vitra", "Hay", "Muuto"], ["armchair", "sideboard", "dining table", "lamp"]),
    "kitchen": (["KitchenAid", "Le Creuset", "De'Longhi", "Smeg"], ["stand mixer", "casserole", "espresso machine"]),
    "bikes": (["Brompton", "Trek", "Peugeot", "Gazelle", "Specialized"], ["folding bike", "road bike", "city bike"]),
    "camping": (["MSR", "Jetboil", "Coleman", "Vango"], ["tent", "stove", "sleeping bag"]),
    "books": (["Penguin", "Folio", "Gallimard"], ["novel", "first edition", "box set", "cookbook"]),
}  # fmt: skip
ADJECTIVES = ["vintage", "classic", "barely used", "mint", "rare", "boxed", "compact", "black", "silver", "blue"]
CITIES = [(48.8566, 2.3522), (45.764, 4.8357), (52.52, 13.405), (40.4168, -3.7038), (52.3676, 4.9041),
          (45.4642, 9.19), (50.8503, 4.3517), (41.3874, 2.1686)]  # fmt: skip
GRADES = ["new_with_tags", "new_without_tags", "like_new", "good", "good", "fair", "for_parts"]
COLUMNS = ("id", "seller_id", "category_id", "title", "description", "price_amount", "currency", "quantity",
           "condition", "condition_score", "attributes", "photos", "latitude", "longitude", "status",
           "published_at", "created_at", "updated_at", "shipping_options")  # fmt: skip
PHOTOS = (
    '[{"key": "p/1.jpg", "content_type": "image/jpeg", "size_bytes": 1000, "width": 800, "height": 600, "order": 0}]'
)


def dsn_of(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def grow(dsn: str, categories: dict[str, uuid.UUID], start: int, stop: int) -> float:
    """COPY listings ``start``..``stop`` (deterministic per index); returns seconds taken."""
    began = time.perf_counter()
    sellers = [uuid.UUID(int=n + 1) for n in range(5_000)]
    leaves = list(WORDS)
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY listings.listings ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for index in range(start, stop):
                rng = random.Random(index)
                leaf = leaves[index % len(leaves)]
                brands, products = WORDS[leaf]
                brand, product = rng.choice(brands), rng.choice(products)
                title = f"{brand} {product} {rng.choice(ADJECTIVES)}"
                lat, lng = rng.choice(CITIES)
                created = now - timedelta(seconds=(stop * 30) - index * 30 + rng.randint(0, 29))
                copy.write_row((
                    uuid.UUID(int=(index + 1) << 64 | rng.getrandbits(64)), rng.choice(sellers), categories[leaf],
                    title, f"{title}. {rng.choice(ADJECTIVES).capitalize()} condition, collection or shipping.",
                    int(rng.lognormvariate(9, 1.1)) + 100, "EUR", 1, rng.choice(GRADES), rng.randint(20, 100),
                    f'{{"brand": "{brand}"}}', PHOTOS, lat + rng.gauss(0, 0.3), lng + rng.gauss(0, 0.3),
                    "published" if rng.random() < 0.92 else "draft", created, created, created, "[]",
                ))  # fmt: skip
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE listings.listings")
    return time.perf_counter() - began


def queries(categories: dict[str, uuid.UUID]) -> list[tuple[str, str]]:
    return [
        ("fulltext-relevance", "/listings?q=canon%20camera&sort=-relevance"),
        ("category-newest", f"/listings?category={categories['electronics']}&sort=-created_at"),
        ("price-grades", "/listings?price[gte]=5000&price[lte]=20000&condition[in]=like_new,good&sort=price"),
        ("fulltext-category", f"/listings?q=jacket&category={categories['fashion']}&sort=-created_at"),
        ("radius-nearest", "/listings?lat=45.76&lng=4.84&radius_km=25&sort=distance"),
    ]


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def explain(app: Any, url: str) -> str:
    """EXPLAIN ANALYZE of the page query the endpoint runs (captured from the engine)."""
    from sqlalchemy import event

    from app.extensions import db

    captured: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "FROM listings.listings" in statement and "LIMIT" in statement:
            captured.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        app.test_client().get(url)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    statement, parameters = captured[0]
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + statement, parameters)
            plan = "\n".join(r[0] for r in cur.fetchall())
        raw.rollback()
    return plan


def backend_cpu_seconds(dsn: str) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each PostgreSQL backend connected to ``dsn``'s
    database, by pid (read from /proc: the server is local)."""
    tick = os.sysconf("SC_CLK_TCK")
    with psycopg.connect(dsn, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )]  # fmt: skip
    used = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / tick
    return used


def turn(sizes: list[int], n: int) -> list[int]:
    """The sizes in the order of round ``n``: who goes first rotates."""
    k = n % len(sizes)
    return sizes[k:] + sizes[:k]


def run_in_process(apps: dict[int, Any], urls: dict[int, str], runs: int, dsns: dict[int, str]) -> dict[int, tuple]:
    """Wall-clock samples, and CPU milliseconds per request of this process and of the database's
    backends (those alive at the end), per size: the sizes take turns request by request, so each
    sees the same machine and the same process (CPU resists a shared machine's load far better than
    the wall clock; measured one size after the other, the first app of a process ran 30-50% slower
    whatever its size)."""
    clients = {size: app.test_client() for size, app in apps.items()}
    for _ in range(WARMUP):
        for size, client in clients.items():
            assert client.get(urls[size]).status_code == 200
    samples: dict[int, list[float]] = {size: [] for size in apps}
    cpu: dict[int, float] = dict.fromkeys(apps, 0.0)
    db_began = {size: backend_cpu_seconds(dsn) for size, dsn in dsns.items()}
    for n in range(runs):
        for size in turn(list(apps), n):
            cpu_began, began = time.process_time(), time.perf_counter()
            response = clients[size].get(urls[size])
            samples[size].append(time.perf_counter() - began)
            cpu[size] += time.process_time() - cpu_began
            assert response.status_code == 200
    results = {}
    for size, dsn in dsns.items():
        used = backend_cpu_seconds(dsn)
        db_cpu = sum(seconds - db_began[size].get(pid, 0.0) for pid, seconds in used.items())
        results[size] = (samples[size], cpu[size] * 1000 / runs, db_cpu * 1000 / runs)
    return results


def run_http(ports: dict[int, int], urls: dict[int, str], runs: int) -> dict[int, list[float]]:
    """Wall-clock samples per size over HTTP, the sizes' servers taking turns request by request."""
    conns = {size: http.client.HTTPConnection("127.0.0.1", port, timeout=30) for size, port in ports.items()}
    samples: dict[int, list[float]] = {size: [] for size in ports}
    for n in range(runs + WARMUP):
        for size in turn(list(ports), n):
            began = time.perf_counter()
            conns[size].request("GET", urls[size])
            response = conns[size].getresponse()
            response.read()
            assert response.status == 200, response.status
            if n >= WARMUP:
                samples[size].append(time.perf_counter() - began)
    for conn in conns.values():
        conn.close()
    return samples


def serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    args = [gunicorn, "-k", "gthread", "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}", "--no-control-socket",
            "--log-level", "warning", "--keep-alive", "30", "wsgi:app"]  # fmt: skip
    process = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env})
    deadline = time.monotonic() + 180  # a loaded shared machine can take a minute to boot two workers
    status = None
    while time.monotonic() < deadline and process.poll() is None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            status = conn.getresponse().status
            if status == 200:
                return process, port
        except OSError:
            pass
        time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"gunicorn did not start (exit {process.poll()}, last /healthz status {status})")


def size_label(size: int) -> str:
    """``10000`` -> ``1e4``; other sizes keep their digits."""
    exponent = len(str(size)) - 1
    return f"1e{exponent}" if size == 10**exponent else str(size)


def listing_count(admin: str, name: str) -> int | None:
    """Listings in database ``name`` (None when it does not exist or is not migrated)."""
    with psycopg.connect(dsn_of(admin), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            return None
    try:
        with psycopg.connect(dsn_of(database_url(admin, name))) as conn:
            return conn.execute("SELECT count(*) FROM listings.listings").fetchone()[0]
    except psycopg.errors.UndefinedTable:
        return None


def prepare(admin: str, name: str, size: int, reuse: bool) -> tuple[str, bool]:
    """Database ``name`` migrated to head: reused when ``reuse`` and already seeded to ``size``
    listings, else made anew (empty). Returns its URL and whether it was reused."""
    url = database_url(admin, name)
    if reuse and listing_count(admin, name) == size:
        upgrade(url)  # new search indexes reach a reused database too
        with psycopg.connect(dsn_of(url), autocommit=True) as conn:
            conn.execute("ANALYZE listings.listings")
        return url, True
    with psycopg.connect(dsn_of(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(url)
    return url, False


def demo_categories(app: Any) -> dict[str, uuid.UUID]:
    from blueprints.listings import service
    from seeds.catalog import CATEGORIES

    with app.app_context():
        from app.extensions import db

        categories = {
            slug: service.ensure_category(slug=slug, name=n, parent_slug=p, attributes_schema=s)
            for slug, n, p, s in CATEGORIES
        }
        db.session.commit()
    return categories


class Sizing(NamedTuple):
    """One size's app (its own database), environment and demo categories."""

    app: Any
    env: dict[str, str]
    categories: dict[str, uuid.UUID]


def measure(sizes: dict[int, Sizing], runs: int) -> dict[int, dict[str, tuple]]:
    """p50/p99 in-process and over HTTP of the 5 queries and their CPU per request, with their plans,
    at every size: the sizes take turns request by request (see run_in_process)."""
    dsns = {size: dsn_of(s.env["DATABASE_URL"]) for size, s in sizes.items()}
    apps = {size: s.app for size, s in sizes.items()}
    labels = [label for label, _ in queries(next(iter(sizes.values())).categories)]
    paths = {size: dict(queries(s.categories)) for size, s in sizes.items()}
    local: dict[tuple[int, str], tuple] = {}
    plans: dict[tuple[int, str], str] = {}
    for label in labels:  # in-process first, with no server competing for the CPU
        urls = {size: paths[size][label] for size in sizes}
        for size, measured in run_in_process(apps, urls, runs, dsns).items():
            local[size, label] = measured
            plans[size, label] = explain(apps[size], urls[size])
        print(f"  {label}: measured in-process | load {load()}", flush=True)
    servers = {size: serve(s.env) for size, s in sizes.items()}
    remote: dict[tuple[int, str], list[float]] = {}
    try:
        time.sleep(2)
        for label in labels:
            ports = {size: port for size, (_, port) in servers.items()}
            for size, samples in run_http(ports, {size: paths[size][label] for size in sizes}, runs).items():
                remote[size, label] = samples
        print(f"  measured over HTTP | load {load()}", flush=True)
    finally:
        for server, _ in servers.values():
            server.kill()
            server.wait()
    results: dict[int, dict[str, tuple]] = {}
    for size in sizes:
        print(f"\n=== {size:,} listings ===")
        results[size] = {}
        for label in labels:
            samples, app_cpu, db_cpu = local[size, label]
            far, plan = remote[size, label], plans[size, label]
            p = (pct(samples, 0.5), pct(samples, 0.99), pct(far, 0.5), pct(far, 0.99), app_cpu + db_cpu)
            results[size][label] = p
            served = "SEQ SCAN" if "Seq Scan on listings" in plan else "index-served"
            print(f"\n{label}: {paths[size][label]}\n  in-process p50 {p[0]:.2f} ms p99 {p[1]:.2f} ms | "
                  f"CPU {p[4]:.2f} ms/request (app {app_cpu:.2f} + PostgreSQL {db_cpu:.2f})")  # fmt: skip
            print(f"  HTTP p50 {p[2]:.2f} ms p99 {p[3]:.2f} ms | {served}")
            print("  " + plan.replace("\n", "\n  "))
    for label, extra in (
        ("facets (apart)", "/listings?q=bike&facets=category,condition,price&limit=20"),
        ("radius newest (apart)", "/listings?lat=45.76&lng=4.84&radius_km=25&sort=-created_at"),
        # words the catalog never holds, and words never in the category: nothing fills the page early
        ("unknown word, newest (apart)", "/listings?q=zzzz&sort=-created_at"),
        ("word never in the category, newest (apart)", "/listings?q=camera&category={fashion}&sort=-created_at"),
    ):
        urls = {size: extra.format(**s.categories) for size, s in sizes.items()}
        measured = run_in_process(apps, urls, max(20, runs // 5), dsns)
        print(f"\n{label}: {extra}")
        for size, (samples, app_cpu, db_cpu) in measured.items():
            print(f"  {size:>9,}: in-process p50 {pct(samples, 0.5):.2f} ms p99 {pct(samples, 0.99):.2f} ms | "
                  f"CPU {app_cpu + db_cpu:.2f} ms/request (app {app_cpu:.2f} + PostgreSQL {db_cpu:.2f})")  # fmt: skip
    return results


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--prefix", default="bench_search", help="databases are named <prefix>_<1e4|1e5|1e6>")
    parser.add_argument("--reuse", action="store_true", help="reuse a database already seeded to the size, keep it")
    parser.add_argument("--keep", action="store_true", help="keep the databases made (for --reuse later)")
    parser.add_argument("--seed-only", action="store_true", help="seed (or check) the databases, measure nothing")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    admin = local_postgres_admin_url()
    if admin is None:
        sys.exit("needs a local PostgreSQL on 127.0.0.1:5432 (or TEST_DATABASE_ADMIN_URL)")
    redis = start_redis()
    base_env = {"BAZAAR_ENV": "development", "REDIS_URL": redis.url, "SECRET_KEY": SECRET,
                "LOG_LEVEL": "WARNING", "LOG_JSON": "true", "RATELIMIT_ENABLED": "false"}  # fmt: skip
    results: dict[int, dict[str, tuple]] = {}
    made: list[str] = []
    try:
        from app import create_app

        ready: dict[int, Sizing] = {}
        for size in sizes:
            name = f"{args.prefix}_{size_label(size)}"
            url, reused = prepare(admin, name, size, args.reuse)
            env = {**base_env, "DATABASE_URL": url}
            os.environ.update(env)
            app = create_app()
            categories = demo_categories(app)
            if reused:
                print(f"\n=== {size:,} listings (reused database {name}) load {load()} ===", flush=True)
            else:
                made.append(name)
                took = grow(dsn_of(url), categories, 0, size)
                print(f"\n=== {size:,} listings (database {name}, seeded by COPY in {took:.1f} s) ===", flush=True)
            ready[size] = Sizing(app, env, categories)
        if not args.seed_only:
            results = measure(ready, args.runs)
        for sizing in ready.values():
            with sizing.app.app_context():
                from app.extensions import db

                db.engine.dispose()
        if len(results) > 1:
            first, last = sizes[0], sizes[-1]
            print(f"\n=== p99 at {last:,} / p99 at {first:,} (target <= 1.5) load {load()} ===")
            for label in results[first]:
                a, b = results[first][label], results[last][label]
                print(f"  {label:20s} in-process p99 {b[1] / a[1]:.2f}x  HTTP p99 {b[3] / a[3]:.2f}x  "
                      f"CPU/request {b[4] / a[4]:.2f}x  (p99 {a[1]:.2f} -> {b[1]:.2f} ms, "
                      f"CPU {a[4]:.2f} -> {b[4]:.2f} ms)")  # fmt: skip
    finally:
        redis.stop()
        for name in made:
            if args.keep or args.reuse:
                print(f"kept database {name}")
                continue
            with psycopg.connect(dsn_of(admin), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
