"""The README's run command, as a new user runs it: embedded PostgreSQL and Redis, everything up, Ctrl-C.

Slow (starts a PostgreSQL, gunicorn, a worker and the relay), so it runs once, end to end.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from app.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"bazaar run exited early with {process.returncode}")
        try:
            if requests.get(url + "/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or the worker is still importing
            pass
        time.sleep(0.5)
    raise AssertionError("bazaar run did not become ready in time")


def bazaar(environ: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("bazaar")), *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"bazaar {' '.join(args)}: {result.stdout}\n{result.stderr}"
    return result.stdout


def test_run_command_serves_everything_on_embedded_services_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "BAZAAR_ENV"}}
    environ.update({"BAZAAR_VAR_DIR": str(tmp_path / "var"), "LOG_LEVEL": "WARNING"})
    log = (tmp_path / "run.log").open("w+")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("bazaar")), "run", "--port", str(port)],
        cwd=ROOT,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process)
        log.seek(0)
        output = log.read()
        assert f"Admin        {base}/admin/" in output
        login = re.search(r"login (\S+) / (\S+)", output)
        assert login, output
        assert "embedded PostgreSQL" in output and "embedded Redis" in output
        assert re.search(r"processes    web \(pid \d+\), worker \(pid \d+\)", output)

        for path in ("/healthz", "/metrics", "/openapi.json", "/docs"):
            assert requests.get(base + path, timeout=5).status_code == 200, path

        staff = requests.Session()
        page = staff.get(base + "/admin/login/", timeout=5).text
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        staff.post(
            base + "/admin/login/",
            data={"username": login.group(1), "password": login.group(2), "csrf_token": csrf.group(1) if csrf else ""},
            timeout=10,
        )
        dashboard = staff.get(base + "/admin/", timeout=10)
        assert dashboard.status_code == 200
        assert "Marketplace at a glance" in dashboard.text

        # Mail is caught in var/mail; `bazaar` commands in another terminal reach the running system.
        email = "newcomer@example.com"
        signup = requests.post(
            base + "/auth/signup",
            json={"email": email, "password": "correct horse battery", "display_name": "New", "roles": ["buyer"]},
            timeout=10,
        )
        assert signup.status_code == 201, signup.text
        other_terminal = {k: v for k, v in environ.items() if k not in {"SMTP_HOST", "SMTP_PORT"}}
        mail = bazaar(other_terminal, "mail", "show", "--to", email, "--wait", "30")
        assert "Subject: Confirm your email address" in mail
        token = re.search(r"verify-email\?token=(\S+)", mail)
        assert token, mail
        verified = requests.post(base + "/auth/email/verify", json={"token": token.group(1)}, timeout=10)
        assert verified.status_code == 200 and verified.json() == {"email_verified": True}
        # No DATABASE_URL in that terminal: the command finds the embedded database through var/run.env.
        assert "DATABASE_URL" not in other_terminal
        assert re.search(r"'opened': \d+, 'sent': \d+", bazaar(other_terminal, "payments", "payouts"))
        assert (tmp_path / "var" / "run.env").exists()
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=40)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0
    log.seek(0)
    assert "stopping" in log.read()
    assert not (tmp_path / "var" / "run.env").exists(), "a stopped run must not point commands at dead servers"
    assert "not supported" not in output, "admin views must not log unsupported column types at start"
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", "processes survived Ctrl-C"
