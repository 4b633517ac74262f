"""Events and subscribers used by the events tests (also importable by worker subprocesses).

Every handler records its calls in-process (``CALLS``) and writes a row-free marker in the database
through its delivery record, so tests can count both handler runs and delivery outcomes.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass

from app.events import DomainEvent, on_commit, subscribe
from app.events.bridge import realtime_bridge
from app.events.timers import FiredTimer, on_timer
from app.extensions import db

CALLS: Counter[tuple[str, uuid.UUID]] = Counter()
ORDER: list[tuple[str, int]] = []  # (aggregate, n) as seen by the ordered subscriber
AFTER_COMMIT: list[uuid.UUID] = []
AFTER_COMMIT_B: list[uuid.UUID] = []
FLAKY_FAILURES = 2
TIMER_RUNS: Counter[str] = Counter()
HEALED: set[uuid.UUID] = set()  # doomed events a test has "fixed" (the next attempt succeeds)


@dataclass(frozen=True, kw_only=True)
class Pinged(DomainEvent):
    """Test event delivered to two recording subscribers."""

    type = "tests.Pinged"
    version = 1
    n: int


@dataclass(frozen=True, kw_only=True)
class SecretIssued(DomainEvent):
    """Test event carrying a secret: subscribers inside the platform get it, webhooks never do."""

    type = "tests.SecretIssued"
    version = 1
    internal = True
    token: str


@dataclass(frozen=True, kw_only=True)
class ContactShared(DomainEvent):
    """Test event with personal data: subscribers inside the platform get it, webhook bodies do not."""

    type = "tests.ContactShared"
    version = 1
    personal = frozenset({"email", "ip"})
    user_id: uuid.UUID
    email: str
    ip: str | None


@dataclass(frozen=True, kw_only=True)
class FlakyHappened(DomainEvent):
    type = "tests.FlakyHappened"
    version = 1


@dataclass(frozen=True, kw_only=True)
class DoomedHappened(DomainEvent):
    type = "tests.DoomedHappened"
    version = 1


@dataclass(frozen=True, kw_only=True)
class CommitAttempted(DomainEvent):
    type = "tests.CommitAttempted"
    version = 1


@dataclass(frozen=True, kw_only=True)
class Waved(DomainEvent):
    """Test event pushed to its user's Socket.IO room by the realtime bridge."""

    type = "tests.Waved"
    version = 1
    user_id: uuid.UUID
    fail: bool = False


@subscribe("tests.Waved", name="tests.wave_checker")
def wave_checker(event: Waved) -> None:
    if event.fail:
        raise RuntimeError("this wave fails, so its push must not happen")


realtime_bridge(
    "tests.Waved",
    event="tests.waved",
    rooms=lambda e: [f"user:{e.user_id}"],
    payload=lambda e: {"user_id": str(e.user_id)},
    name="tests.wave_bridge",
)


@subscribe("tests.Pinged", name="tests.recorder_a")
def recorder_a(event: Pinged) -> None:
    CALLS["a", event.id] += 1
    ORDER.append((str(event.aggregate_id), event.n))
    on_commit(lambda: AFTER_COMMIT.append(event.id))


@subscribe("tests.Pinged", name="tests.recorder_b")
def recorder_b(event: Pinged) -> None:
    CALLS["b", event.id] += 1
    on_commit(lambda: AFTER_COMMIT_B.append(event.id))
    if event.n < 0:
        raise ValueError(f"negative n: {event.n}")


@subscribe("tests.FlakyHappened", name="tests.flaky")
def flaky(event: FlakyHappened) -> None:
    CALLS["flaky", event.id] += 1
    if CALLS["flaky", event.id] <= FLAKY_FAILURES:
        raise ConnectionError(f"flaky downstream (call {CALLS['flaky', event.id]})")


@subscribe("tests.DoomedHappened", name="tests.doomed")
def doomed(event: DoomedHappened) -> None:
    CALLS["doomed", event.id] += 1
    on_commit(lambda: AFTER_COMMIT.append(event.id))
    if event.id not in HEALED:
        raise RuntimeError("doomed subscriber always fails")


@subscribe("tests.CommitAttempted", name="tests.committer")
def committer(event: CommitAttempted) -> None:
    CALLS["committer", event.id] += 1
    db.session.commit()


@on_timer("tests.ring")
def ring(timer: FiredTimer) -> None:
    TIMER_RUNS[timer.key] += 1
    if timer.payload.get("fail_times", 0) >= timer.attempt:
        raise RuntimeError(f"ring failed on attempt {timer.attempt}")


def reset() -> None:
    CALLS.clear()
    ORDER.clear()
    AFTER_COMMIT.clear()
    AFTER_COMMIT_B.clear()
    TIMER_RUNS.clear()
    HEALED.clear()
