"""``bazaar run``: the whole system on one machine for a new user.

Starts embedded PostgreSQL and Redis under ``./var`` when ``DATABASE_URL`` / ``REDIS_URL`` are unset
(and a mail catcher writing ``./var/mail`` when ``SMTP_HOST`` is unset), migrates, syncs admin roles,
seeds demo data, then supervises gunicorn (API + admin + Socket.IO), an RQ worker with the scheduler,
and the event relay. Ctrl-C stops every process and the embedded servers.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from app.embedded import free_port, start_postgres, start_redis, tcp_reachable

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("BAZAAR_VAR_DIR") or ROOT / "var")  # embedded servers' data
DATABASE_NAME = "bazaar"


def _say(message: str) -> None:
    print(f"[bazaar] {message}", flush=True)


def _ensure_database(admin_url: str, name: str) -> None:
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _embedded_services(stack: ExitStack, environ: dict[str, str]) -> None:
    if not environ.get("DATABASE_URL"):
        _say("DATABASE_URL is unset: starting embedded PostgreSQL (data in var/postgres)")
        server = start_postgres(VAR / "postgres")
        stack.callback(server.stop)
        _ensure_database(server.url("postgres"), DATABASE_NAME)
        environ["DATABASE_URL"] = server.url(DATABASE_NAME)
    if not environ.get("REDIS_URL"):
        port = 6390 if not tcp_reachable("127.0.0.1", 6390) else free_port()
        _say(f"REDIS_URL is unset: starting embedded Redis on 127.0.0.1:{port} (data in var/redis)")
        redis = start_redis(VAR / "redis", port=port, persist=True)
        stack.callback(redis.stop)
        environ["REDIS_URL"] = redis.url
    if not environ.get("SMTP_HOST"):
        from app import mailcatcher

        port = 1025 if not tcp_reachable("127.0.0.1", 1025) else free_port()
        catcher = mailcatcher.start(VAR / "mail", port=port)
        stack.callback(catcher.stop)
        _say(f"SMTP_HOST is unset: catching mail on 127.0.0.1:{port} (read it: bazaar mail list / show)")
        environ["SMTP_HOST"], environ["SMTP_PORT"] = "127.0.0.1", str(port)


RUN_ENV = VAR / "run.env"  # where `bazaar run` tells other `bazaar` commands which servers it started
SHARED = ("DATABASE_URL", "REDIS_URL", "SMTP_HOST", "SMTP_PORT", "PUBLIC_BASE_URL")


def _publish_run_env(stack: ExitStack, environ: dict[str, str]) -> None:
    """Write the running system's URLs for ``bazaar payments payouts``, ``bazaar seed``... in another
    terminal; removed when the run stops, so a stale file never points at servers that are gone."""
    RUN_ENV.parent.mkdir(parents=True, exist_ok=True)
    RUN_ENV.write_text("".join(f"{k}={environ[k]}\n" for k in SHARED if environ.get(k)))
    RUN_ENV.chmod(0o600)
    stack.callback(RUN_ENV.unlink, missing_ok=True)


def running_environ() -> dict[str, str]:
    """Settings of the system a ``bazaar run`` is serving now (empty when none runs)."""
    try:
        lines = RUN_ENV.read_text().splitlines()
    except FileNotFoundError:
        return {}
    return dict(line.split("=", 1) for line in lines if "=" in line)


def _prepare(environ: dict[str, str], seed: bool) -> None:
    """Migrate, sync admin roles, create the demo staff account and seed: in one app, then let it go."""
    from admin.accounts import ensure_staff, sync_permissions
    from app import create_app
    from app.migrate import upgrade
    from config import Config

    config = Config(environ)
    # Role sync logs every permission it creates (hundreds of lines on a first run): keep the warnings.
    logging.getLogger("flask_appbuilder").setLevel(logging.WARNING)
    _say("migrating the database")
    upgrade(config.DATABASE_URL)
    app = create_app(config)
    with app.app_context():
        sync_permissions()
        ensure_staff(email=config.ADMIN_EMAIL, password=config.ADMIN_PASSWORD, role="Admin")
        if seed:
            from seeds import run_seeds

            run_seeds(echo=_say)
        from app.extensions import db

        db.engine.dispose()


def _spawn(args: list[str], environ: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, env=environ, cwd=ROOT, start_new_session=True)  # noqa: S603


def _processes(host: str, port: int) -> list[tuple[str, list[str]]]:
    bin_dir = Path(sys.executable).parent
    processes = [
        (
            "web",
            [
                str(bin_dir / "gunicorn"),
                "--config",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--bind",
                f"{host}:{port}",
                "wsgi:app",
            ],
        ),
        ("worker", [str(bin_dir / "bazaar"), "worker"]),
    ]
    from app.cli import main as cli

    if "relay" in cli.commands:
        processes.append(("relay", [str(bin_dir / "bazaar"), "relay"]))
    return processes


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_all(host: str = "127.0.0.1", port: int = 5000, seed: bool = True) -> None:
    # SIGTERM (a service manager, `timeout`, `docker stop`) stops everything like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    environ = dict(os.environ)
    environ.setdefault("LOG_JSON", "false")
    environ.setdefault("PUBLIC_BASE_URL", f"http://{host}:{port}")
    with ExitStack() as stack:
        _embedded_services(stack, environ)
        _prepare(environ, seed)
        _publish_run_env(stack, environ)
        children: dict[str, subprocess.Popen[bytes]] = {}

        def stop_children() -> None:
            for child in children.values():
                if child.poll() is None:
                    os.killpg(child.pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)

        stack.callback(stop_children)
        for name, args in _processes(host, port):
            children[name] = _spawn(args, environ)
        base = environ["PUBLIC_BASE_URL"]
        _say("")
        _say(f"API          {base}/            (OpenAPI: {base}/openapi.json)")
        _say(f"Swagger UI   {base}/docs")
        _say(
            f"Admin        {base}/admin/       login {environ.get('ADMIN_EMAIL', 'staff@bazaar.local')} / "
            f"{environ.get('ADMIN_PASSWORD', 'bazaar-staff')}"
        )
        _say(f"Socket.IO    {base}/socket.io/  namespace /realtime   (docs: {base}/docs/realtime)")
        _say(f"Health       {base}/healthz  {base}/readyz  {base}/metrics")
        _say(f"processes    {', '.join(f'{n} (pid {c.pid})' for n, c in children.items())}; Ctrl-C stops all")
        try:
            while True:
                for name, child in children.items():
                    if child.poll() is not None:
                        _say(f"{name} exited with {child.returncode}: stopping everything")
                        return
                time.sleep(0.5)
        except KeyboardInterrupt:
            _say("stopping")
    _say("stopped")
