"""Benchmark: bulk import of a 100,000-row CSV end to end (parse, validate like the API, COPY).

    .venv/bin/python bench/import.py [--rows 100000] [--batch 2000] [--publish] [--profile]

Creates a throwaway database (local PostgreSQL; ``TEST_DATABASE_ADMIN_URL`` overrides), migrates it,
creates the demo category tree, writes a CSV of ``--rows`` distinct listings (each with photos,
shipping options, rubric answers and attributes, so every nested field is validated), stores it as an
import job and runs the job in-process the way the ``imports`` worker does. Prints rows/s for the
whole job and for its phases (parsing the file; then validating in the job's forked child, overlapped
with writing in the job's process), then re-runs the same file (every row found by sku and skipped).
Target: >= 10,000 rows/s validated and written on the 2-core machine.

Wall-clock rows/s on a shared machine moves with the load of others, so it also prints the CPU time
per row of the worker (the job's process and its validating child, counted once reaped) and of its
PostgreSQL backends (read from ``/proc``), and the load average. ``--publish`` imports every row as
published (status history and one event per row; at the default 100,000 rows that file is over the
50 MB upload limit, so use ``--rows 75000``).

Measured 2026-11-26 at cbbe01a, 3 runs on the quiet 2-core machine (load avg 2.0-2.9 with the bench):
first run 18,271-18,892 rows/s (5.3-5.5 s), re-run 20,272-21,535 rows/s. The helper's alternated runs
put the previous main (one process, a writer thread) at 14,400-16,600 rows/s here; the previous
session's slower machine measured 6,733 rows/s with that code.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import os
import pstats
import random
import resource
import sys
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.embedded import database_url, local_postgres_admin_url, start_redis  # noqa: E402
from app.migrate import upgrade  # noqa: E402

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
HEADER = ["sku", "title", "description", "category", "price_amount", "currency", "condition", "condition_answers",
          "attr.brand", "photos", "shipping_options", "latitude", "longitude"]  # fmt: skip
BRANDS = ["Canon", "Nikon", "Sony", "Fujifilm", "Leica", "Pentax"]


def dsn_of(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def make_csv(rows: int, publish: bool = False) -> bytes:
    rng = random.Random(6)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*HEADER, "publish"] if publish else HEADER)
    # the "good" grade needs 3 photos to publish
    answers = json.dumps({"flaws": "light marks", "stains": False, "missing_parts": False}, separators=(",", ":"))
    shipping = json.dumps([{"method": "tracked", "price_amount": 690}], separators=(",", ":"))
    for n in range(rows):
        brand = rng.choice(BRANDS)
        photos = json.dumps(
            [{"key": f"u/{n}/{i}.jpg", "content_type": "image/jpeg", "size_bytes": 150_000 + i, "width": 1600,
              "height": 1200, "order": i} for i in range(3 if publish else 2)], separators=(",", ":")
        )  # fmt: skip
        writer.writerow([
            f"SKU-{n:06d}", f"{brand} camera body #{n}", f"{brand} camera, lot {n}, with strap.",
            "cameras", 5_000 + rng.randint(0, 200_000), "EUR", "good", answers, brand, photos, shipping,
            f"{45.76 + rng.uniform(-0.2, 0.2):.5f}", f"{4.84 + rng.uniform(-0.2, 0.2):.5f}",
            *(["true"] if publish else []),
        ])  # fmt: skip
    return buffer.getvalue().encode()


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's reaped children: the job's validating child."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def backend_cpu(db, database: str, since: dict[int, float] | None = None):  # type: ignore[no-untyped-def]
    """CPU seconds (user + system) of the PostgreSQL backends serving ``database``, from /proc.

    With ``since`` (an earlier reading): the seconds spent since then, as a float.
    """
    import sqlalchemy as sa

    pids = db.session.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": database})
    db.session.commit()
    ticks = os.sysconf("SC_CLK_TCK")
    reading: dict[int, float] = {}
    for (pid,) in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # not visible (another host): CPU figures will read 0
            continue
        reading[pid] = (int(fields[11]) + int(fields[12])) / ticks
    if since is None:
        return reading
    return sum(value - since.get(pid, 0.0) for pid, value in reading.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--publish", action="store_true", help="import the rows as published listings")
    parser.add_argument("--profile", action="store_true", help="print where the time goes (slower)")
    parser.add_argument("--sort", default="tottime", help="profile order (tottime, cumulative)")
    args = parser.parse_args()
    admin = local_postgres_admin_url()
    if admin is None:
        sys.exit("needs a local PostgreSQL on 127.0.0.1:5432 (or TEST_DATABASE_ADMIN_URL)")
    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn_of(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(admin, name)
    redis = start_redis()
    os.environ.update({"BAZAAR_ENV": "development", "DATABASE_URL": url, "REDIS_URL": redis.url,
                       "SECRET_KEY": SECRET, "LOG_LEVEL": "WARNING", "LOG_JSON": "true"})  # fmt: skip
    try:
        upgrade(url)
        from app import create_app
        from app.extensions import db
        from blueprints.listings import service
        from blueprints.listings.bulk import reading, runner
        from blueprints.listings.models import ImportFile, ImportJob
        from seeds.catalog import CATEGORIES

        app = create_app()
        content = make_csv(args.rows, args.publish)
        print(f"{args.rows:,} rows, {len(content) / 1e6:.1f} MB of CSV")
        timings: dict[str, float] = {"parse": 0.0}
        parse = reading.read_file

        def timed_parse(*a, **k):  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            try:
                return parse(*a, **k)
            finally:
                timings["parse"] += time.perf_counter() - began

        runner.read_file = timed_parse
        with app.app_context():
            for slug, label, parent, schema in CATEGORIES:
                service.ensure_category(slug=slug, name=label, parent_slug=parent, attributes_schema=schema)
            db.session.commit()
            for attempt in ("first run", "re-run (all skipped)"):
                timings.update(parse=0.0)
                job = ImportJob(seller_id=uuid.UUID(int=7), uploaded_by="system:bench", filename="bench.csv",
                                file_format="csv", mode="create_valid", size_bytes=len(content))  # fmt: skip
                db.session.add(job)
                db.session.flush()
                db.session.add(ImportFile(job_id=job.id, content=content))
                db.session.commit()
                profile = cProfile.Profile(time.process_time) if args.profile else None
                backends = backend_cpu(db, name)
                began, cpu_began, child_began = time.perf_counter(), time.process_time(), children_cpu()
                if profile:
                    profile.enable()
                status = runner.run_import(job.id, batch_size=args.batch)
                if profile:
                    profile.disable()
                total, cpu = time.perf_counter() - began, time.process_time() - cpu_began
                child = children_cpu() - child_began
                pg_cpu = backend_cpu(db, name, since=backends)
                db.session.expire_all()
                job = db.session.get(ImportJob, job.id)
                rest = total - timings["parse"]
                assert status == "succeeded", (status, job.error)
                print(f"\n{attempt}: {status} in {total:.2f} s = {args.rows / total:,.0f} rows/s end to end")
                print(f"  created {job.created_count:,}, updated {job.updated_count:,}, skipped {job.skipped_count:,},"
                      f" failed {job.failed_count:,}")  # fmt: skip
                print(f"  parse    {timings['parse']:.2f} s ({args.rows / max(timings['parse'], 1e-9):,.0f} rows/s)")
                print(f"  validate (child) + write (job) {rest:.2f} s ({args.rows / max(rest, 1e-9):,.0f} rows/s)")
                per_row, spent = 1e6 / args.rows, cpu + child + pg_cpu
                print(f"  CPU per row: worker {(cpu + child) * per_row:.1f} us (job {cpu * per_row:.1f}"
                      f" + validating child {child * per_row:.1f}) + PostgreSQL {pg_cpu * per_row:.1f} us"
                      f" = {spent * per_row:.1f} us ({args.rows / max(spent, 1e-9):,.0f} rows per CPU-s)")  # fmt: skip
                print(f"  load average: {load_average()}")
                if profile:
                    pstats.Stats(profile).sort_stats(args.sort).print_stats(25)
    finally:
        redis.stop()
        with psycopg.connect(dsn_of(admin), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
