"""Auth benchmark: login throughput, and what token validation adds to a trivial endpoint.

Run against a migrated database and a Redis (not the test ones)::

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bazaar_dev \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/auth.py [--logins 200] [--requests 5000]

1. argon2id: the cost of one verification with the configured parameters (ARGON2_TIME_COST,
   ARGON2_MEMORY_KIB, ARGON2_PARALLELISM: default OWASP m=19 MiB, t=2, p=1). It dominates login.
2. Login: full ``POST /auth/login`` (rate limit, argon2 verify, session + refresh token rows, JWT),
   sequentially in one process, then in one process per core at once (throughput of the machine).
3. Auth overhead: the same trivial view registered twice, once public and once behind
   ``login_required`` + ``current_principal()``; requests alternate (plain, authed, plain...) through
   the whole middleware stack in-process (WSGI, no network, which would hide the difference).
   Reported as the ratio of median latencies, and the auth step timed alone. Target: < 1.15.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import time
import uuid
from typing import Any

PASSWORD = "benchmark passphrase 1"


def build_app(**overrides: Any):  # type: ignore[no-untyped-def]
    from flask import jsonify

    from app import create_app
    from app.security import current_principal, login_required
    from config import Config

    app = create_app(
        Config(
            LOG_JSON=False,
            LOG_LEVEL="CRITICAL",  # figures only
            RATELIMIT_DEFAULT="1000000/minute",
            RATELIMIT_AUTH_LOGIN="1000000/minute",
            RATELIMIT_AUTH_LOGIN_ACCOUNT="1000000/minute",
            **overrides,
        )
    )

    @app.get("/bench/plain")
    def bench_plain():  # type: ignore[no-untyped-def]
        return jsonify(ok=True, user=None)

    @app.get("/bench/authed")
    @login_required
    def bench_authed():  # type: ignore[no-untyped-def]
        return jsonify(ok=True, user=str(current_principal().user_id))

    return app


def create_user(app) -> tuple[uuid.UUID, str]:  # type: ignore[no-untyped-def]
    from app.extensions import db
    from blueprints.auth import service

    email = f"bench-{uuid.uuid4().hex[:12]}@bench.invalid"
    with app.app_context():
        user_id = service.register_user(email=email, password=PASSWORD, display_name="Bench", verified=True)
        db.session.commit()
    return user_id, email


def delete_user(app, user_id: uuid.UUID) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import delete

    from app.events import OutboxEvent
    from app.extensions import db
    from blueprints.auth.models import UserAccount

    with app.app_context():
        db.session.execute(delete(UserAccount).where(UserAccount.id == user_id))
        db.session.execute(delete(OutboxEvent).where(OutboxEvent.aggregate_id == str(user_id)))
        db.session.commit()


def bench_argon2(app, rounds: int = 30) -> float:  # type: ignore[no-untyped-def]
    from app.security.passwords import hash_password, verify_password

    with app.app_context():
        hashed = hash_password(PASSWORD)
        start = time.perf_counter()
        for _ in range(rounds):
            assert verify_password(hashed, PASSWORD)
        return (time.perf_counter() - start) / rounds


def run_logins(app, email: str, count: int) -> list[float]:  # type: ignore[no-untyped-def]
    client = app.test_client()
    timings = []
    for _ in range(count):
        start = time.perf_counter()
        response = client.post("/auth/login", json={"email": email, "password": PASSWORD})
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200, response.get_data(as_text=True)
    return timings


def _login_worker(args: tuple[str, int]) -> float:
    email, count = args
    app = build_app()
    run_logins(app, email, 3)  # warm up
    start = time.perf_counter()
    run_logins(app, email, count)
    return time.perf_counter() - start


def bench_overhead(app, user_id: uuid.UUID, count: int) -> tuple[list[float], list[float], float]:  # type: ignore[no-untyped-def]
    """Paired timings (plain, then authed, request after request) and the auth step alone."""
    from app.extensions import db
    from app.security.identity import authenticate_token
    from blueprints.auth.models import UserAccount
    from blueprints.auth.sessions import ClientInfo, start_session

    with app.app_context():
        user = db.session.get(UserAccount, user_id)
        tokens = start_session(user, ClientInfo(ip="127.0.0.1", user_agent="bench"))
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens.access_token}"}
    for _ in range(300):  # warm up both paths (and let the revocation mirror go live)
        client.get("/bench/plain")
        client.get("/bench/authed", headers=headers)
    plain: list[float] = []
    authed: list[float] = []
    for _ in range(count):  # paired: load changes on the machine hit both alike
        start = time.perf_counter()
        assert client.get("/bench/plain").status_code == 200
        middle = time.perf_counter()
        assert client.get("/bench/authed", headers=headers).status_code == 200
        plain.append(middle - start)
        authed.append(time.perf_counter() - middle)
    with app.test_request_context():
        rounds = 20_000
        start = time.perf_counter()
        for _ in range(rounds):
            authenticate_token(tokens.access_token)
        step = (time.perf_counter() - start) / rounds
    return plain, authed, step


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def us(seconds: float) -> str:
    return f"{seconds * 1_000_000:.0f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--requests", type=int, default=5000, help="per endpoint")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        raise SystemExit("set DATABASE_URL and REDIS_URL (a migrated database, not the test one)")

    app = build_app()
    cfg = app.config
    print(
        f"argon2id parameters: time_cost={cfg['ARGON2_TIME_COST']} memory={cfg['ARGON2_MEMORY_KIB']} KiB "
        f"parallelism={cfg['ARGON2_PARALLELISM']} (hash 32 B, salt 16 B)"
    )
    print(f"argon2id verify: {ms(bench_argon2(app))} per password check")

    user_id, email = create_user(app)
    try:
        run_logins(app, email, 5)
        timings = run_logins(app, email, args.logins)
        mean = statistics.fmean(timings)
        print(
            f"login, 1 process: {1 / mean:.1f} logins/s  mean {ms(mean)}  p50 {ms(statistics.median(timings))}  "
            f"p99 {ms(statistics.quantiles(timings, n=100)[98])}"
        )
        cores = os.cpu_count() or 1
        per = max(10, args.logins // 2)
        # One account per worker: logins of one account serialise on its row (last_login_at).
        extra = [create_user(app) for _ in range(cores)]
        try:
            with mp.get_context("spawn").Pool(cores) as pool:
                durations = pool.map(_login_worker, [(worker_email, per) for _, worker_email in extra])
        finally:
            for worker_user, _ in extra:
                delete_user(app, worker_user)
        throughput = cores * per / max(durations)  # each worker times its logins only, not its start-up
        print(f"login, {cores} processes at once: {throughput:.1f} logins/s ({per} each; machine-wide)")

        plain, authed, step = bench_overhead(app, user_id, args.requests)
        p_plain, p_authed = statistics.median(plain), statistics.median(authed)
        for label, sample in (("no auth:  ", plain), ("with auth:", authed)):
            p90 = statistics.quantiles(sample, n=10)[8]
            print(f"trivial endpoint, {label} p50 {us(statistics.median(sample))}  p90 {us(p90)}  (n={len(sample)})")
        ratio = p_authed / p_plain
        verdict = "OK" if ratio < 1.15 else "OVER TARGET"
        print(
            f"auth overhead end to end: +{us(p_authed - p_plain)} per request, ratio {ratio:.3f} "
            f"(+{(ratio - 1) * 100:.1f}%, target < 15%: {verdict})"
        )
        print(
            f"auth step alone (JWT check + revocation check + principal): {us(step)} per request "
            f"= {step / p_plain * 100:.1f}% of the plain request"
        )
    finally:
        delete_user(app, user_id)


if __name__ == "__main__":
    main()
