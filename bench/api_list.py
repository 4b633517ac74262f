"""Benchmark: the generated list endpoint against a bare Flask + psycopg view doing the same thing.

    .venv/bin/python bench/api_list.py [--rows 100000] [--duration 15] [--workers 2] [--threads 4]

Creates its own throwaway database (local PostgreSQL, ``TEST_DATABASE_ADMIN_URL`` overrides), seeds
``--rows`` published listings with COPY, starts a private Redis, then serves in turn, with the same
gunicorn settings (gthread, same workers/threads, ``--no-control-socket``):

- ``generated``: the whole Bazaar app (``bench/generated_app.py`` = ``create_app()``), ``GET /listings?limit=20``
  anonymously;
- ``bare``: ``bench/bare_list_app.py``, which runs the SQL text and parameters captured from the
  generated endpoint and returns the same JSON document (checked equal before loading).

Each is loaded by ``wrk`` (a second process; ``apt-get install wrk``) for ``--duration`` seconds after a
warm-up, in turn, for ``--rounds`` rounds. Prints req/s, p50 and p99 latency of each (medians) and the
generated/bare throughput ratio (median of the per-round ratios; target: generated >= 50% of bare).
The app's rate limiter is off for the load (one client IP); ``--with-limiter`` and ``--without-pre-ping``
add runs that show what those platform settings cost.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.embedded import database_url, free_port, local_postgres_admin_url, start_redis  # noqa: E402
from app.migrate import upgrade  # noqa: E402

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
LIMIT = 20


def psycopg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def seed(dsn: str, rows: int) -> None:
    """One category and ``rows`` published listings, one second apart, via COPY."""
    category = uuid.uuid4()
    start = datetime.now(UTC) - timedelta(seconds=rows)
    conditions = ["like_new", "good", "fair"]
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO listings.categories (id, name, slug) VALUES (%s, 'Everything', 'everything')", [category]
            )
            columns = (
                "id, seller_id, category_id, title, description, price_amount, currency, quantity, "
                "condition, status, published_at, created_at, updated_at"
            )
            with cur.copy(f"COPY listings.listings ({columns}) FROM STDIN") as copy:
                for index in range(rows):
                    at = start + timedelta(seconds=index)
                    copy.write_row(
                        (
                            uuid.uuid4(),
                            uuid.uuid4(),
                            category,
                            f"Listing number {index}",
                            "A perfectly ordinary thing, barely used, pick up or shipping.",
                            100 + (index * 37) % 100_000,
                            "EUR",
                            1,
                            conditions[index % 3],
                            "published",
                            at,
                            at,
                            at,
                        )
                    )
        conn.commit()
        conn.execute("ANALYZE listings.listings")


def capture_spec(url: str, redis_url: str, spec_path: Path) -> dict[str, Any]:
    """Run the generated endpoint once in-process: its SQL, parameters, output plan and body."""
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db
    from app.generator.pagination import query_fingerprint
    from app.generator.serialize import _converter
    from config import Config

    app = create_app(Config(app_environ(url, redis_url)))
    captured: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "FROM listings.listings" in statement:
            captured.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    body = app.test_client().get(f"/listings?limit={LIMIT}").json
    event.remove(engine, "before_cursor_execute", record)
    ((sql, params),) = captured

    compiled = app.extensions["bazaar_resources"]["listings.Listing"]
    attrs = compiled.attrs_for(compiled.output_names)
    plan = []
    for name in compiled.output_names:
        field = compiled.output_schema.fields[name]
        if name in compiled.resource.money:
            money = compiled.resource.money[name]
            plan.append([name, "money", [money.amount, money.currency]])
            continue
        converter = _converter(field)
        # Scalars as psycopg returns them; JSON documents (lists, nested objects) as stored. The JSON
        # of both servers is compared before any load, so a field the bare view renders differently fails.
        kinds = {"_iso": "iso", "_text": "text", "_enum_value": "text"}
        kind = kinds.get(getattr(converter, "__name__", ""), "plain")
        plan.append([name, kind, [name]])
    keys = [("created_at", "iso"), ("id", "text")]
    spec = {
        "dsn": psycopg_dsn(url),
        "sql": sql,
        "params": params,
        "index": {attr: i for i, attr in enumerate(attrs)},
        "plan": plan,
        "limit": LIMIT,
        "secret": SECRET,
        "salt": compiled.key,
        "fingerprint": query_fingerprint({"filters": {}, "sort": [("created_at", True), ("id", True)]}),
        "cursor_keys": keys,
    }
    spec_path.write_text(json.dumps(spec, default=str))
    return {"sql": sql, "body": body}


def app_environ(url: str, redis_url: str, **extra: str) -> dict[str, str]:
    return {
        "BAZAAR_ENV": "development",
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": SECRET,
        "LOG_LEVEL": "WARNING",
        "LOG_JSON": "true",
        "RATELIMIT_DEFAULT": "1000000/minute",
        "DATABASE_POOL_SIZE": "10",
        **extra,
    }


def serve(target: str, env: dict[str, str], workers: int, threads: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    args = [
        gunicorn, "-k", "gthread", "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}",
        "--no-control-socket", "--log-level", "warning", "--keep-alive", "5", target,
    ]  # fmt: skip
    process = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/listings?limit={LIMIT}", timeout=5) as response:
                if response.status == 200:
                    return process, base
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{target} did not start")
        time.sleep(0.2)


def fetch(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wrk(url: str, duration: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url],
        capture_output=True, text=True, timeout=duration + 60, check=True,
    ).stdout  # fmt: skip

    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": latency("50%"),
        "p99": latency("99%"),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--with-limiter", action="store_true", help="also run the app with its rate limiter on")
    parser.add_argument("--without-pre-ping", action="store_true", help="also run the app without connection pings")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")

    admin_url = local_postgres_admin_url()
    if admin_url is None:
        sys.exit("no PostgreSQL on 127.0.0.1:5432 (set TEST_DATABASE_ADMIN_URL)")
    name = f"bazaar_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(psycopg_dsn(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(admin_url, name)
    redis = start_redis()
    processes: list[subprocess.Popen[bytes]] = []
    workdir = Path(tempfile.mkdtemp(prefix="bazaar-bench-"))
    try:
        upgrade(url)
        started = time.perf_counter()
        seed(psycopg_dsn(url), args.rows)
        print(f"seeded {args.rows:,} listings with COPY in {time.perf_counter() - started:.1f} s")
        spec_path = workdir / "spec.json"
        captured = capture_spec(url, redis.url, spec_path)
        print("SQL (both):", " ".join(captured["sql"].split()))

        # One client IP at thousands of req/s is what the rate limiter exists to stop, so it is off for
        # the load (its cost is the optional with-limiter line); everything else runs as deployed.
        no_limiter = app_environ(url, redis.url, RATELIMIT_ENABLED="false")
        targets = {
            "generated": ("bench.generated_app:create()", no_limiter),
            "bare": ("bench.bare_list_app:app", {"BENCH_SPEC": str(spec_path)}),
        }
        if args.with_limiter:
            targets["generated-with-limiter"] = ("bench.generated_app:create()", app_environ(url, redis.url))
        if args.without_pre_ping:
            targets["generated-no-pre-ping"] = ("bench.generated_app:create(pre_ping=False)", no_limiter)
        bases = {}
        for label, (target, env) in targets.items():
            process, base = serve(target, env, args.workers, args.threads)
            processes.append(process)
            bases[label] = base
        bodies = {label: fetch(f"{base}/listings?limit={LIMIT}") for label, base in bases.items()}
        reference = bodies["generated"]
        for label, body in bodies.items():
            assert body["items"] == reference["items"], f"{label} returns other items than generated"
            assert bool(body["links"]["next"]) == bool(reference["links"]["next"])
        print(f"same JSON items from every server ({len(reference['items'])} per page)\n")
        report(bases, run_rounds(bases, args), args)
    finally:
        for process in processes:
            stop(process)
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        if not args.keep_db:
            with psycopg.connect(psycopg_dsn(admin_url), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            print(f"kept database {name}")


def run_rounds(bases: dict[str, str], args: argparse.Namespace) -> dict[str, list[dict[str, float]]]:
    """Servers loaded in turn, round after round, so a noisy moment hits every server alike."""
    results: dict[str, list[dict[str, float]]] = {label: [] for label in bases}
    for round_index in range(args.rounds):
        for label, base in bases.items():
            target = f"{base}/listings?limit={LIMIT}"
            wrk(target, args.warmup, args.connections)
            result = wrk(target, args.duration, args.connections)
            results[label].append(result)
            print(
                f"round {round_index + 1} {label:>22}: {result['rps']:8.0f} req/s  "
                f"p50 {result['p50']:6.2f} ms  p99 {result['p99']:6.2f} ms  non-2xx {result['errors']:.0f}"
            )
    return results


def report(bases: dict[str, str], results: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> None:
    def median(values: list[float]) -> float:
        ordered = sorted(values)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2

    print(f"\n{'server':>22} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}   (median of {args.rounds} rounds)")
    for label in bases:
        runs = results[label]
        print(
            f"{label:>22} {median([r['rps'] for r in runs]):9.0f} {median([r['p50'] for r in runs]):8.2f} "
            f"{median([r['p99'] for r in runs]):8.2f}"
        )
    for label in bases:
        if label == "bare":
            continue
        ratios = [g["rps"] / b["rps"] for g, b in zip(results[label], results["bare"], strict=True)]
        ratio = median(ratios)
        verdict = "meets" if ratio >= 0.5 else "MISSES"
        rounds = ", ".join(f"{r:.0%}" for r in ratios)
        print(f"{label} / bare throughput: {ratio:.0%} median of rounds [{rounds}] ({verdict} the 50% target)")
    print(
        f"\nsettings: {args.rows:,} rows, {LIMIT}-row pages, gunicorn gthread -w {args.workers} --threads "
        f"{args.threads} --no-control-socket, wrk -t2 -c{args.connections} -d{args.duration}s per round"
    )


if __name__ == "__main__":
    main()
