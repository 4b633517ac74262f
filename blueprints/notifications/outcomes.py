"""Recording provider outcomes: what happened to the previous delivery + the next one's ``sending`` mark.

Both travel in ONE statement (:data:`STEP`) and one commit per message: the previous delivery's
status and its delivery-log rows, and the next delivery marked ``sending`` (under this job's claim
token, so a worker whose lease was taken over marks nothing). Outcomes: sent; a transient error
retries with exponential backoff (Retry-After honoured) until ``NOTIFICATIONS_MAX_ATTEMPTS``; a
refusal for good, or the last attempt, is a dead letter.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from app.db import utcnow
from app.events.guard import backoff
from blueprints.notifications.catalog import PUSH, SMS
from blueprints.notifications.models import NotificationSettings, PushDevice
from blueprints.notifications.providers import ProviderError
from blueprints.notifications.states import DEAD, RETRYING, SENT

STEP = text(
    """
    WITH cfg AS (SELECT set_config('synchronous_commit', :sync, true) AS value),
    prev AS (
        UPDATE notifications.deliveries
        SET status = :prev_status, provider = :prev_provider, provider_message_id = :prev_message_id,
            sent_at = :prev_sent_at, not_before = :prev_not_before, last_error = :prev_error, updated_at = now()
        WHERE id = :prev_id AND claim_token = :token AND status = 'sending'
        RETURNING id
    ),
    log AS (
        INSERT INTO notifications.delivery_attempts (id, delivery_id, user_id, kind, channel, attempt, status,
            provider, provider_message_id, error, latency_ms, actor, created_at)
        SELECT gen_random_uuid(), a.delivery_id, a.user_id, a.kind, a.channel, a.attempt, a.status, a.provider,
            a.message_id, a.error, a.latency_ms, 'worker', clock_timestamp()
        FROM unnest(CAST(:a_delivery AS uuid[]), CAST(:a_user AS uuid[]), CAST(:a_kind AS text[]),
            CAST(:a_channel AS text[]), CAST(:a_attempt AS integer[]), CAST(:a_status AS text[]),
            CAST(:a_provider AS text[]), CAST(:a_message_id AS text[]), CAST(:a_error AS text[]),
            CAST(:a_latency AS integer[]))
            AS a(delivery_id, user_id, kind, channel, attempt, status, provider, message_id, error, latency_ms)
        RETURNING 1
    ),
    cur AS (
        UPDATE notifications.deliveries
        SET status = 'sending', attempts = attempts + 1, address = :address, updated_at = now()
        WHERE id = :cur_id AND claim_token = :token AND status = 'claimed'
        RETURNING id
    )
    SELECT (SELECT count(*) FROM cur) AS taken, (SELECT value FROM cfg) AS sync, (SELECT count(*) FROM log) AS logged
    """
)
ATTEMPT_FIELDS = (
    "delivery",
    "user",
    "kind",
    "channel",
    "attempt",
    "status",
    "provider",
    "message_id",
    "error",
    "latency",
)
NO_PREVIOUS = {
    "prev_id": None,
    "prev_status": None,
    "prev_provider": None,
    "prev_message_id": None,
    "prev_sent_at": None,
    "prev_not_before": None,
    "prev_error": None,
}


@dataclass
class Outcome:
    provider: str
    message_id: str | None = None
    error: ProviderError | None = None
    latency_ms: int = 0
    to: str = ""


@dataclass
class Ledger:
    """Outcomes waiting for the next commit, and what the batch's finish must do about them."""

    session: Session
    token: uuid.UUID
    max_attempts: int
    retry_base_ms: int
    retry_max_ms: int
    previous: dict[str, Any] = field(default_factory=lambda: dict(NO_PREVIOUS))
    attempts: list[tuple[Any, ...]] = field(default_factory=list)
    extra: list[Executable] = field(default_factory=list)
    retry_at: set[datetime] = field(default_factory=set)
    dead: list[tuple[Any, str]] = field(default_factory=list)
    finished: set[uuid.UUID] = field(default_factory=set)
    stats: Counter[str] = field(default_factory=Counter)

    def step(self, *, cur_id: uuid.UUID | None, address: str | None, durable: bool) -> bool:
        """Write the pending outcome and mark ``cur_id`` sending, in the caller's transaction."""
        columns = list(zip(*self.attempts, strict=True)) if self.attempts else [[] for _ in ATTEMPT_FIELDS]
        params = {
            "sync": "on" if durable else "off",
            "token": self.token,
            "cur_id": cur_id,
            "address": address,
            **self.previous,
            **{f"a_{name}": list(values) for name, values in zip(ATTEMPT_FIELDS, columns, strict=True)},
        }
        taken = self.session.execute(STEP, params).one().taken
        for statement in self.extra:
            self.session.execute(statement)
        self.previous, self.attempts, self.extra = dict(NO_PREVIOUS), [], []
        return bool(taken)

    def record(self, row: Any, outcomes: list[Outcome]) -> None:
        """Keep ``row``'s outcome for the next :meth:`step` (the next ``sending`` mark, or the finish)."""
        for outcome in outcomes:
            status = "sent" if outcome.error is None else ("failed" if outcome.error.transient else "rejected")
            error = str(outcome.error)[:4000] if outcome.error else None
            self.attempts.append(
                (row.id, row.user_id, row.kind, row.channel, row.attempts, status, outcome.provider,
                 outcome.message_id, error, outcome.latency_ms)
            )  # fmt: skip
            if outcome.error is not None and outcome.error.forget_address:
                self.extra.extend(_forget(row, outcome.to))
        sent = [o for o in outcomes if o.error is None]
        provider = outcomes[-1].provider if outcomes else None
        if sent:
            ids = ",".join(o.message_id or "" for o in sent)[:200]
            self._previous(row, SENT, provider=sent[0].provider, message_id=ids, sent_at=utcnow())
            self.finished.add(row.notification_id)
            self.stats["sent"] += 1
            return
        error = outcomes[-1].error if outcomes else None
        error = error or ProviderError("no message to send", transient=False)
        if error.transient and row.attempts < self.max_attempts:
            delay = backoff(row.attempts, self.retry_base_ms, self.retry_max_ms)
            if error.retry_after:
                delay = max(delay, timedelta(seconds=min(error.retry_after, 86400)))
            when = utcnow() + delay
            self.retry_at.add(when)
            self._previous(row, RETRYING, provider=provider, not_before=when, error=str(error))
            self.stats["retrying"] += 1
        else:
            why = str(error) if not error.transient else f"gave up after {row.attempts} attempts: {error}"
            self._previous(row, DEAD, provider=provider, error=why)
            self.dead.append((row, why))
            self.finished.add(row.notification_id)
            self.stats["dead"] += 1

    def _previous(self, row: Any, status: str, **values: Any) -> None:
        self.previous = {
            **NO_PREVIOUS,
            "prev_id": row.id,
            "prev_status": status,
            **{f"prev_{name}": value for name, value in values.items()},
        }


def _forget(row: Any, address: str) -> list[Executable]:
    """The provider says this address is gone for good (unregistered device, SMS opt-out)."""
    if row.channel == PUSH:
        return [delete(PushDevice).where(PushDevice.user_id == row.user_id, PushDevice.token == address)]
    if row.channel == SMS:
        return [
            update(NotificationSettings)
            .where(NotificationSettings.user_id == row.user_id, NotificationSettings.sms_number == address)
            .values(sms_number=None)
        ]
    return []
