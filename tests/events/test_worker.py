"""``bazaar worker``: jobs run inside an app context; SIGTERM lets the running job finish, then exits."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid

import pytest
from rq import Queue

from tests.events.test_relay import ROOT, _env
from workers.runner import parse_queues

WORKER = "import sys; from app.cli import main; sys.argv = ['bazaar', *sys.argv[1:]]; main()"


def test_queue_names_are_checked():
    assert parse_queues("events, default") == ["events", "default"]
    assert parse_queues(["events", "events,payouts"]) == ["events", "payouts"]
    with pytest.raises(ValueError, match="unknown queue"):
        parse_queues(["events", "nope"])
    with pytest.raises(ValueError):
        parse_queues("")


@pytest.mark.slow
def test_sigterm_finishes_the_running_job_then_stops(app):
    redis = app.extensions["redis"]
    key = f"tests:job:{uuid.uuid4().hex}"
    Queue("default", connection=redis).enqueue("tests.events.jobs.slow_job", key, 1.5)
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, "worker", "-q", "default", "--no-scheduler"],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not redis.get(f"{key}:started"):
            assert worker.poll() is None, worker.stdout.read()
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    done = redis.get(f"{key}:done")
    assert done is not None, "the job was cut short by SIGTERM"
    assert done.decode() == f"app:{app.config['DATABASE_URL'].rsplit('/', 1)[1].split('?')[0]}"
