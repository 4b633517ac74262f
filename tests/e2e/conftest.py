"""System-level harness: the real processes, driven only from outside.

Starts gunicorn (threads, Socket.IO), the event relay and an RQ worker with the scheduler on free
ports against the run's PostgreSQL and Redis, plus an aiosmtpd server whose inbox tests read. Timers
are shortened by settings so expiry and auto-release happen within seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller

from app.embedded import database_url, free_port, start_redis
from app.mailcatcher import MaildirHandler

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"


class Inbox(MaildirHandler):
    """The run command's mail catcher (a Maildir, read by ``bazaar mail``), keeping messages in memory too."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    def received(self, message: Message) -> None:
        with self.lock:
            self.messages.append(message)

    def wait_for(self, predicate, timeout: float = 20.0) -> Message:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for message in self.messages:
                    if predicate(message):
                        return message
            time.sleep(0.1)
        raise AssertionError(f"no matching email among {[m['Subject'] for m in self.messages]}")


@dataclass
class System:
    base_url: str
    inbox: Inbox
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)
    environ: dict[str, str] = field(default_factory=dict)  # what the processes run with (for ``cli``)

    def url(self, path: str) -> str:
        return self.base_url + path

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``bazaar <args>`` as an operator would, against the system's database and Redis."""
        result = subprocess.run(
            [str(BIN / "bazaar"), *args], cwd=ROOT, env=self.environ, capture_output=True, text=True, timeout=120
        )
        if check:
            assert result.returncode == 0, f"bazaar {' '.join(args)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        return result

    def log_tail(self, name: str, lines: int = 40) -> str:
        return "\n".join(self.logs[name].read_text(errors="replace").splitlines()[-lines:])


def _wait_ready(system: System, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in system.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}:\n{system.log_tail(name)}")
        try:
            if requests.get(system.url("/readyz"), timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError("the system did not become ready:\n" + system.log_tail("web"))


def pytest_collection_modifyitems(session, config, items):  # type: ignore[no-untyped-def]
    """System tests run last: they are the slowest, and the rest of the suite is quicker to read first."""
    items.sort(key=lambda item: "/tests/e2e/" in str(item.path))


@pytest.fixture(scope="session")
def e2e_template(postgres_admin_url, test_environ) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A database migrated, synced (roles, permissions) and seeded once per run, by the same commands as
    an operator's first start, that every system's database is cloned from (CREATE DATABASE ... TEMPLATE):
    each module still gets the freshly seeded state, without paying ~30 s of migrate + sync + seed."""
    import psycopg

    from app.migrate import upgrade
    from tests.conftest import _psycopg_dsn

    name = f"bazaar_e2e_template_{uuid.uuid4().hex[:10]}"
    admin_dsn = _psycopg_dsn(postgres_admin_url)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    redis = start_redis()
    try:
        url = database_url(postgres_admin_url, name)
        upgrade(url)
        environ = {**os.environ, **test_environ, "DATABASE_URL": url, "REDIS_URL": redis.url}
        environ.pop("SOCKETIO_MESSAGE_QUEUE", None)
        _cli(environ, "admin", "sync")
        _cli(environ, "seed")
        # Each clone gets an empty Redis of its own: the seeded state must live in the database only.
        import redis as redis_client

        assert redis_client.Redis.from_url(redis.url).keys("*") == [], "seeding left state in Redis"
        redis.stop()
        yield name
    finally:
        redis.stop()
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def e2e_environ(postgres_admin_url, test_environ, e2e_template) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    """A database and a Redis of the system's own: its relay and worker must never consume the events
    of in-process tests (they share nothing with the rest of the suite). The database is a copy of the
    seeded template, so every module starts from the same fresh demo data."""
    import psycopg

    from tests.conftest import _psycopg_dsn

    name = f"bazaar_e2e_{uuid.uuid4().hex[:10]}"
    admin_dsn = _psycopg_dsn(postgres_admin_url)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{e2e_template}"')
    redis = start_redis()
    url = database_url(postgres_admin_url, name)
    environ = {**os.environ, **test_environ, "DATABASE_URL": url, "REDIS_URL": redis.url}
    environ.pop("SOCKETIO_MESSAGE_QUEUE", None)
    try:
        yield environ
    finally:
        redis.stop()
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cli(environ: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "bazaar"), *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"bazaar {' '.join(args)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def system(e2e_environ, tmp_path_factory, request) -> Iterator[System]:  # type: ignore[no-untyped-def]
    """gunicorn + relay + worker on the system's own database and Redis; SMTP goes to an aiosmtpd inbox."""
    inbox = Inbox(tmp_path_factory.mktemp("mail") / "mail")
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    port = free_port()
    environ = {
        **e2e_environ,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "PAYMENTS_PROVIDER": "sandbox",
        "EVENTS_POLL_MS": "100",
        "EVENTS_RETRY_BASE_MS": "200",
        "LOG_LEVEL": "INFO",
    }
    environ.update(E2E_OVERRIDES)
    environ.update(getattr(request.module, "SYSTEM_SETTINGS", {}))
    logs_dir = tmp_path_factory.mktemp("e2e-logs")
    system = System(base_url=f"http://127.0.0.1:{port}", inbox=inbox, environ=environ)
    commands = {
        "web": [
            str(BIN / "gunicorn"),
            "--config",
            str(ROOT / "deploy/gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--threads",
            "32",
            "wsgi:app",
        ],
        "relay": [str(BIN / "bazaar"), "relay"],
        "worker": [str(BIN / "bazaar"), "worker"],
    }
    for name, args in commands.items():
        log_path = logs_dir / f"{name}.log"
        system.logs[name] = log_path
        system.processes[name] = subprocess.Popen(
            args, cwd=ROOT, env=environ, stdout=log_path.open("w"), stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_ready(system)
        yield system
    finally:
        for process in system.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in system.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        controller.stop()


# Settings of every module's system. A module may add its own in a module-level ``SYSTEM_SETTINGS``
# dict (test_story.py shortens timers to seconds and lowers anti-spam limits there, not for others).
E2E_OVERRIDES = {
    "OFFERS_EXPIRY_SECONDS": "172800",
    "PAYMENTS_INSPECTION_SECONDS": "259200",
}


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Debian's Chromium driven by Playwright (no browser download), headless."""
    from playwright.sync_api import sync_playwright

    executable = "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail("Chromium is not installed: .ci/run installs it with apt-get install chromium")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield instance
        instance.close()
