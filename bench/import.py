"""Benchmark: bulk import of a 100,000-row CSV end to end (parse, validate like the API, COPY).

    .venv/bin/python bench/import.py [--rows 100000] [--batch 2000] [--publish]

Creates a throwaway database (local PostgreSQL; ``TEST_DATABASE_ADMIN_URL`` overrides), migrates it,
creates the demo category tree, writes a CSV of ``--rows`` distinct listings (each with photos,
shipping options, rubric answers and attributes, so every nested field is validated), stores it as an
import job and runs the job in-process the way the ``imports`` worker does. Prints rows/s for the
whole job and for each phase (parse, validate, write), then re-runs the same file (every row found
by sku and skipped). Target: >= 10,000 rows/s validated and written on the 2-core machine.
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


def make_csv(rows: int) -> bytes:
    rng = random.Random(6)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    answers = json.dumps({"flaws": "light marks", "stains": False, "missing_parts": False}, separators=(",", ":"))
    shipping = json.dumps([{"method": "tracked", "price_amount": 690}], separators=(",", ":"))
    for n in range(rows):
        brand = rng.choice(BRANDS)
        photos = json.dumps(
            [{"key": f"u/{n}/{i}.jpg", "content_type": "image/jpeg", "size_bytes": 150_000 + i, "width": 1600,
              "height": 1200, "order": i} for i in range(2)], separators=(",", ":")
        )  # fmt: skip
        writer.writerow([
            f"SKU-{n:06d}", f"{brand} camera body #{n}", f"{brand} camera, lot {n}, with strap.",
            "cameras", 5_000 + rng.randint(0, 200_000), "EUR", "good", answers, brand, photos, shipping,
            f"{45.76 + rng.uniform(-0.2, 0.2):.5f}", f"{4.84 + rng.uniform(-0.2, 0.2):.5f}",
        ])  # fmt: skip
    return buffer.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--profile", action="store_true", help="print where the time goes (slower)")
    args = parser.parse_args()
    admin = local_postgres_admin_url()
    if admin is None:
        sys.exit("needs a local PostgreSQL on 127.0.0.1:5432 (or TEST_DATABASE_ADMIN_URL)")
    name = f"bazaar_bench_import_{uuid.uuid4().hex[:8]}"
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
        from blueprints.listings.bulk import reading, rows, runner
        from blueprints.listings.models import ImportFile, ImportJob
        from seeds.catalog import CATEGORIES

        app = create_app()
        content = make_csv(args.rows)
        print(f"{args.rows:,} rows, {len(content) / 1e6:.1f} MB of CSV")
        timings: dict[str, float] = {"parse": 0.0, "validate": 0.0}
        parse, validate = reading.read_file, rows.RowValidator.validate

        def timed_parse(*a, **k):  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            try:
                return parse(*a, **k)
            finally:
                timings["parse"] += time.perf_counter() - began

        def timed_validate(*a, **k):  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            try:
                return validate(*a, **k)
            finally:
                timings["validate"] += time.perf_counter() - began

        runner.read_file = timed_parse
        rows.RowValidator.validate = timed_validate
        with app.app_context():
            for slug, label, parent, schema in CATEGORIES:
                service.ensure_category(slug=slug, name=label, parent_slug=parent, attributes_schema=schema)
            db.session.commit()
            for attempt in ("first run", "re-run (all skipped)"):
                timings.update(parse=0.0, validate=0.0)
                job = ImportJob(seller_id=uuid.UUID(int=7), uploaded_by="system:bench", filename="bench.csv",
                                file_format="csv", mode="create_valid", size_bytes=len(content))  # fmt: skip
                db.session.add(job)
                db.session.flush()
                db.session.add(ImportFile(job_id=job.id, content=content))
                db.session.commit()
                profile = cProfile.Profile() if args.profile and attempt == "first run" else None
                began = time.perf_counter()
                if profile:
                    profile.enable()
                status = runner.run_import(job.id, batch_size=args.batch)
                if profile:
                    profile.disable()
                total = time.perf_counter() - began
                db.session.expire_all()
                job = db.session.get(ImportJob, job.id)
                write = total - timings["parse"] - timings["validate"]
                assert status == "succeeded", (status, job.error)
                print(f"\n{attempt}: {status} in {total:.2f} s = {args.rows / total:,.0f} rows/s end to end")
                print(f"  created {job.created_count:,}, updated {job.updated_count:,}, skipped {job.skipped_count:,},"
                      f" failed {job.failed_count:,}")  # fmt: skip
                print(f"  parse    {timings['parse']:.2f} s ({args.rows / max(timings['parse'], 1e-9):,.0f} rows/s)")
                print(f"  validate {timings['validate']:.2f} s "
                      f"({args.rows / max(timings['validate'], 1e-9):,.0f} rows/s)")  # fmt: skip
                print(f"  write + bookkeeping {write:.2f} s ({args.rows / max(write, 1e-9):,.0f} rows/s)")
                if profile:
                    pstats.Stats(profile).sort_stats("tottime").print_stats(15)
    finally:
        redis.stop()
        with psycopg.connect(dsn_of(admin), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
