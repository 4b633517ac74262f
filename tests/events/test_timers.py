"""Durable timers: stored with the caller's transaction, fired exactly once, surviving restarts."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.events import cancel, schedule
from app.events.relay import Relay
from app.events.timers import Timer, rearm, run_timers
from app.extensions import db
from tests.events import handlers
from tests.events.conftest import run_worker_burst
from tests.events.test_relay import ROOT, _env


def _timer(key: str) -> Timer:
    timer = db.session.execute(select(Timer).where(Timer.name == "tests.ring", Timer.key == key)).scalar_one()
    db.session.rollback()
    return timer


def test_a_timer_scheduled_in_a_rolled_back_transaction_does_not_exist(events_app, drain):
    schedule("tests.ring", timedelta(0), key="gone")
    db.session.rollback()
    drain()
    assert db.session.execute(select(Timer)).scalars().all() == []
    assert handlers.TIMER_RUNS == {}


def test_a_due_timer_fires_once_with_its_payload(events_app, drain):
    schedule("tests.ring", timedelta(0), {"who": "offer-1"}, key="k1")
    schedule("tests.ring", timedelta(hours=1), key="later")
    db.session.commit()
    drain(until=lambda: _timer("k1").state == "fired")
    timer = _timer("k1")
    assert timer.fired_at is not None and timer.attempts == 1
    assert _timer("later").state == "scheduled"
    assert handlers.TIMER_RUNS == {"k1": 1}
    # A stale copy of its job (e.g. redelivered by RQ) finds it fired and does nothing.
    assert run_timers([str(timer.id)]) == {"fired": 0, "skipped": 1, "failed": 0}
    assert handlers.TIMER_RUNS == {"k1": 1}


def test_rescheduling_replaces_the_due_time_and_cancel_disarms(events_app, drain):
    schedule("tests.ring", timedelta(hours=1), key="offer")
    db.session.commit()
    schedule("tests.ring", timedelta(0), {"v": 2}, key="offer")  # e.g. a counter-offer moved expiry
    schedule("tests.ring", timedelta(0), key="withdrawn")
    db.session.commit()
    assert cancel("tests.ring", "withdrawn") is True
    assert cancel("tests.ring", "never-scheduled") is False
    db.session.commit()
    drain(until=lambda: _timer("offer").state == "fired")
    assert _timer("withdrawn").state == "cancelled"
    assert handlers.TIMER_RUNS == {"offer": 1}
    assert len(db.session.execute(select(Timer).where(Timer.key == "offer")).scalars().all()) == 1


def test_a_failing_timer_is_retried_with_backoff_then_left_dead_and_can_be_rearmed(events_app, drain):
    schedule("tests.ring", timedelta(0), {"fail_times": 2}, key="flaky")
    schedule("tests.ring", timedelta(0), {"fail_times": 99}, key="broken")
    db.session.commit()
    drain(until=lambda: _timer("flaky").state == "fired" and _timer("broken").state == "dead")
    assert _timer("flaky").attempts == 3 and handlers.TIMER_RUNS["flaky"] == 3
    broken = _timer("broken")
    assert broken.attempts == events_app.config["EVENTS_RETRY_MAX_ATTEMPTS"]
    assert "RuntimeError: ring failed on attempt 4" in broken.last_error
    assert rearm(broken.id) is True
    db.session.commit()
    drain(until=lambda: handlers.TIMER_RUNS["broken"] == 5 and _timer("broken").state == "dead")


def test_a_timer_without_handler_is_reported(events_app, drain):
    schedule("tests.unknown", timedelta(0), key="x")
    db.session.commit()
    drain(until=lambda: db.session.execute(select(Timer.state).where(Timer.key == "x")).scalar_one() == "dead")
    timer = db.session.execute(select(Timer).where(Timer.key == "x")).scalar_one()
    assert "no @on_timer handler for 'tests.unknown'" in timer.last_error


def test_schedule_refuses_naive_datetimes(events_app):
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule("tests.ring", utcnow().replace(tzinfo=None))


@pytest.mark.slow
def test_timers_fire_once_across_relay_restarts_and_a_lost_queue(events_app):
    """A relay is killed after handing timers to Redis, Redis loses them; the next relay recovers them."""
    for key in ("a", "b", "c"):
        schedule("tests.ring", timedelta(0), key=key)
    db.session.commit()
    relay = subprocess.Popen(
        [sys.executable, "-m", "tests.events.relay_process"], cwd=ROOT, env=_env(), stdout=subprocess.PIPE, text=True
    )
    try:
        assert relay.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 20
        while {_timer(k).state for k in ("a", "b", "c")} != {"enqueued"}:
            assert time.monotonic() < deadline, "the relay did not hand the due timers to the workers"
            time.sleep(0.05)
    finally:
        relay.send_signal(signal.SIGKILL)
        relay.wait(timeout=10)
    events_app.extensions["redis"].flushdb()  # and the queued jobs are gone with Redis
    schedule("tests.ring", timedelta(milliseconds=500), key="soon")  # armed while no relay runs
    db.session.commit()
    time.sleep(1.1)  # "soon" is due now and the lost jobs are older than EVENTS_REDISPATCH_AFTER_SECONDS
    restarted = Relay(events_app)
    assert restarted.sweep() == 3
    assert restarted.dispatch_timers() == 4
    run_worker_burst(events_app)
    assert handlers.TIMER_RUNS == {"a": 1, "b": 1, "c": 1, "soon": 1}
    assert {_timer(k).state for k in ("a", "b", "c", "soon")} == {"fired"}
