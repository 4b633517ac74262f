"""A delivery worker SIGKILLed mid-batch (a real ``bazaar worker`` process): nothing lost, nothing doubled.

Each delivery is committed as ``sending`` before its provider call and its outcome is committed
before the next one is marked, so a crash leaves at most one delivery in doubt. The batch's lease
timer resumes the rest in another worker. The one in doubt is resent for SMTP (at-least-once, same
Message-ID) and buried for SMS (at-most-once): these tests pin both choices down.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from app.events.relay import Relay
from app.extensions import db
from blueprints.notifications.models import NotificationSettings, Preference
from tests.notifications.conftest import attempts, deliveries, run_worker_burst
from tests.notifications.test_email import offer_for

pytestmark = pytest.mark.slow  # starts a worker process per test

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2


def fan_out_only(app, *events) -> None:  # type: ignore[no-untyped-def]
    """Publish and run the event subscribers here; the notifications job stays queued for the subprocess."""
    from app.events import publish

    for event in events:
        publish(event)
    db.session.commit()
    Relay(app).dispatch_outbox()
    run_worker_burst(app, queues=("events",))


def spawn_worker(app, **settings: str) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "NOTIFICATIONS_LEASE_SECONDS": str(LEASE_SECONDS),
        "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
        "MAIL_FROM": app.config["MAIL_FROM"],
        **settings,
    }
    bazaar = str(Path(sys.executable).with_name("bazaar"))
    command = [bazaar, "worker", "--queues", "notifications", "--burst", "--no-scheduler"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def kill_when(held, proc: subprocess.Popen[str]) -> None:  # type: ignore[no-untyped-def]
    reached = held.wait(60)
    proc.send_signal(signal.SIGKILL)
    output = proc.communicate(timeout=10)[0]
    assert reached, f"the worker never reached the held message:\n{output[-3000:]}"
    assert proc.returncode == -signal.SIGKILL


def statuses(channel: str) -> Counter[str]:
    return Counter(d.status for d in deliveries(channel=channel))


def all_final(channel: str):  # type: ignore[no-untyped-def]
    return lambda: all(d.status in ("sent", "dead", "skipped") for d in deliveries(channel=channel))


def six_sellers(make_user) -> list:  # type: ignore[no-untyped-def]
    return [make_user(f"Seller{i}") for i in range(6)]


def test_smtp_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    notif_app, smtp, make_user, drain, monkeypatch
):
    monkeypatch.setitem(notif_app.config, "NOTIFICATIONS_LEASE_SECONDS", LEASE_SECONDS)
    sellers = six_sellers(make_user)
    fan_out_only(notif_app, *(offer_for(s) for s in sellers))
    assert statuses("email") == {"pending": 6}

    # The server holds the 3rd email's DATA, then refuses it once the client is gone (never stored).
    smtp.mailbox.hold_at, smtp.mailbox.keep_held = 3, False
    worker = spawn_worker(notif_app, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port))
    kill_when(smtp.mailbox.held, worker)
    smtp.mailbox.release.set()
    assert statuses("email") == {"sent": 2, "sending": 1, "claimed": 3}
    assert len(smtp.mailbox.messages) == 2

    drain(until=all_final("email"), timeout=30)  # the lease ends; its timer hands the batch to a new worker
    assert statuses("email") == {"sent": 6}
    received = Counter(m.message_id for m in smtp.mailbox.messages)
    expected = {f"<{d.id}.0@bazaar.test>" for d in deliveries(channel="email")}
    assert set(received) == expected  # nothing lost
    assert set(received.values()) == {1}  # nothing twice
    in_doubt = next(d for d in deliveries(channel="email") if d.attempts == 2)
    assert [a.status for a in attempts(delivery_id=in_doubt.id)] == ["sent"]  # the killed attempt left no outcome


def test_smtp_is_at_least_once_for_the_one_message_in_doubt(notif_app, smtp, make_user, drain, monkeypatch):
    monkeypatch.setitem(notif_app.config, "NOTIFICATIONS_LEASE_SECONDS", LEASE_SECONDS)
    sellers = six_sellers(make_user)
    fan_out_only(notif_app, *(offer_for(s) for s in sellers))

    # This time the server had stored the 3rd email when the worker died waiting for the reply.
    smtp.mailbox.hold_at, smtp.mailbox.keep_held = 3, True
    worker = spawn_worker(notif_app, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port))
    kill_when(smtp.mailbox.held, worker)
    smtp.mailbox.release.set()
    smtp.mailbox.wait_for(3)

    drain(until=all_final("email"), timeout=30)
    received = Counter(m.message_id for m in smtp.mailbox.messages)
    assert len(received) == 6  # nothing lost
    assert sorted(received.values()) == [1, 1, 1, 1, 1, 2]  # only the in-doubt one twice...
    (twice,) = [mid for mid, n in received.items() if n == 2]
    copies = [m for m in smtp.mailbox.messages if m.message_id == twice]
    assert copies[0].message["Subject"] == copies[1].message["Subject"]  # ...as the same message (same Message-ID)


def test_sms_in_doubt_after_a_crash_is_not_resent(notif_app, providers, make_user, drain, monkeypatch):
    monkeypatch.setitem(notif_app.config, "NOTIFICATIONS_LEASE_SECONDS", LEASE_SECONDS)
    sellers = six_sellers(make_user)
    for number, seller in enumerate(sellers):
        db.session.add(NotificationSettings(user_id=seller, sms_number=f"+3361234567{number}"))
        db.session.add(Preference(user_id=seller, kind="offer_received", channel="sms", enabled=True))
        db.session.add(Preference(user_id=seller, kind="offer_received", channel="email", enabled=False))
    db.session.commit()
    fan_out_only(notif_app, *(offer_for(s) for s in sellers))
    assert statuses("sms") == {"pending": 6}

    providers.fixture.hold_at = 3
    worker = spawn_worker(
        notif_app,
        **{k: str(notif_app.config[k]) for k in ("SMS_PROVIDER", "TWILIO_API_BASE", "TWILIO_ACCOUNT_SID",
                                                  "TWILIO_AUTH_TOKEN", "TWILIO_FROM")},
    )  # fmt: skip
    kill_when(providers.fixture.held, worker)
    providers.fixture.release.set()

    drain(until=all_final("sms"), timeout=30)
    final = {d.user_id: d for d in deliveries(channel="sms")}
    assert Counter(d.status for d in final.values()) == {"sent": 5, "dead": 1}
    (buried,) = [d for d in final.values() if d.status == "dead"]
    assert buried.last_error.startswith("in doubt")
    sent_to = Counter(r.form()["To"] for r in providers.fixture.requests)
    assert len(sent_to) == 6 and set(sent_to.values()) == {1}  # each number texted exactly once
