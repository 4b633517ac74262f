"""Sending one batch: claim, fold digests, then per delivery ``sending`` (committed) -> provider -> outcome.

1. Claim (one transaction): the batch's due rows, and rows whose worker's lease ran out, become
   ``claimed`` under this job's token and lease; a timer due at the lease's end is armed, so if this
   process dies another worker resumes the batch.
2. Prepare (one transaction): digest groups fold into one email (or are skipped when the user is
   online or has read them); rows nobody can receive are skipped; in-doubt rows (``sending`` when
   their worker died) are resent only where the provider tolerates it (SMTP), else buried.
3. Per delivery: ONE commit records the previous delivery's outcome (+ its delivery-log row) and marks
   this one ``sending``; only then is the provider called. A crash therefore leaves at most one
   delivery in doubt, and never re-sends a delivery whose outcome was recorded. One provider
   connection (SMTP session, HTTP keep-alive) serves the whole batch.
4. Finish (one transaction): the last outcome, retry timers (exponential backoff, Retry-After
   honoured), dead letters (an event each), secrets scrubbed from finished notifications.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.sql import Executable

from app.db import db, utcnow
from app.events import publish
from blueprints.notifications import contacts, presence
from blueprints.notifications.batch_sql import CLAIM, RENEW, SCRUB
from blueprints.notifications.catalog import EMAIL, KINDS, PUSH
from blueprints.notifications.digests import fold_digests
from blueprints.notifications.dispatch import arm, disarm, enqueue_quietly
from blueprints.notifications.events import DeliveryDeadLettered
from blueprints.notifications.messages import Prepared, build_messages
from blueprints.notifications.models import Delivery, DeliveryAttempt, Notification, PushDevice
from blueprints.notifications.outcomes import Ledger, Outcome
from blueprints.notifications.preferences import load_profiles
from blueprints.notifications.providers import Provider, ProviderError, provider_for
from blueprints.notifications.states import CLAIMED, DEAD, DIGESTED, OPEN, SENDING, SKIPPED

log = logging.getLogger(__name__)


@dataclass
class Claimed:
    id: uuid.UUID
    notification_id: uuid.UUID
    user_id: uuid.UUID
    event_id: uuid.UUID
    kind: str
    channel: str
    attempts: int
    digest_key: str | None
    address: str | None
    resends: int
    created_at: datetime
    old_status: str
    items: list[Mapping[str, Any]] = field(default_factory=list)


class BatchSender:
    """One run of ``send_batch``: see the module docstring for the steps and the crash guarantees."""

    def __init__(self, batch_id: uuid.UUID) -> None:
        config = current_app.config
        self.config = config
        self.batch_id = batch_id
        self.token = uuid.uuid4()
        self.lease_seconds = int(config["NOTIFICATIONS_LEASE_SECONDS"])
        self.limit = int(config["NOTIFICATIONS_BATCH_SIZE"])
        self.session = db.session
        self.providers: dict[str, Provider] = {}
        self.ledger = Ledger(
            session=self.session,
            token=self.token,
            max_attempts=int(config["NOTIFICATIONS_MAX_ATTEMPTS"]),
            retry_base_ms=int(config["NOTIFICATIONS_RETRY_BASE_MS"]),
            retry_max_ms=int(config["NOTIFICATIONS_RETRY_MAX_MS"]),
        )
        self.stats = self.ledger.stats
        self.finished = self.ledger.finished
        self.renewed_at = time.monotonic()
        self.full = False

    # --- 1. claim ------------------------------------------------------------------------------
    def claim(self) -> list[Claimed]:
        result = self.session.execute(
            CLAIM, {"batch": self.batch_id, "token": self.token, "lease": self.lease_seconds, "limit": self.limit}
        ).all()
        if not result:
            self.session.rollback()
            return []
        lease_until = max(row.lease_until for row in result)
        arm(self.batch_id, lease_until + timedelta(seconds=1), f"lease:{self.token}")
        self.session.commit()
        self.full = len(result) >= self.limit
        rows = [Claimed(**{k: v for k, v in row._mapping.items() if k != "lease_until"}) for row in result]
        return sorted(rows, key=lambda r: (r.channel, r.created_at, r.id))

    def provider(self, channel: str) -> Provider:
        provider = self.providers.get(channel)
        if provider is None:
            provider = self.providers[channel] = provider_for(channel, self.config)
            provider.open()
        return provider

    # --- 2. prepare ----------------------------------------------------------------------------
    def prepare(self, rows: list[Claimed]) -> list[tuple[Claimed, Prepared]]:
        notes = {
            n.id: n
            for n in self.session.execute(
                select(Notification.id, Notification.data, Notification.read_at).where(
                    Notification.id.in_({r.notification_id for r in rows})
                )
            )
        }
        rows = self._bury_in_doubt(rows)
        rows = self._fold_digests(rows, notes)
        user_ids = list({r.user_id for r in rows})
        profiles = load_profiles(user_ids)
        needs_contact = [r.user_id for r in rows if r.channel == EMAIL]
        people = contacts.get_contacts(needs_contact) if needs_contact else {}
        devices: dict[uuid.UUID, list[str]] = {}
        push_users = [r.user_id for r in rows if r.channel == PUSH]
        if push_users:
            for user_id, token in self.session.execute(
                select(PushDevice.user_id, PushDevice.token).where(PushDevice.user_id.in_(push_users))
            ):
                devices.setdefault(user_id, []).append(token)
        work: list[tuple[Claimed, Prepared]] = []
        for row in rows:
            data = dict(notes[row.notification_id].data) if row.notification_id in notes else {}
            prepared = build_messages(
                row, data, profiles[row.user_id], people.get(row.user_id), devices.get(row.user_id, [])
            )
            if prepared.skip:
                self._set(row, SKIPPED, last_error=prepared.skip)
                self.stats["skipped"] += 1
            elif prepared.error:
                self._bury(row, prepared.error, attempt_status="dead")
            else:
                work.append((row, prepared))
        self.session.commit()
        return work

    def _bury_in_doubt(self, rows: list[Claimed]) -> list[Claimed]:
        kept = []
        for row in rows:
            if row.old_status == SENDING and not self.provider_class_resends(row.channel):
                self._bury(
                    row,
                    "in doubt: the worker died during the provider call; not resent (at-most-once channel)",
                    attempt_status="dead",
                )
            else:
                kept.append(row)
        return kept

    def provider_class_resends(self, channel: str) -> bool:
        return self.provider(channel).resend_in_doubt

    def _fold_digests(self, rows: list[Claimed], notes: Mapping[uuid.UUID, Any]) -> list[Claimed]:
        online = presence.online_users(list({r.user_id for r in rows if r.digest_key}))
        folded = fold_digests(rows, notes, online)
        for row, reason in folded.skipped:
            self._set(row, SKIPPED, last_error=reason)
            self.stats["skipped"] += 1
        for row, carrier in folded.digested:
            self._set(row, DIGESTED, digest_of=carrier.id)
            self.stats["digested"] += 1
        return folded.kept

    # --- 3. send -------------------------------------------------------------------------------
    def deliver(self, row: Claimed, prepared: Prepared) -> None:
        provider = self.provider(row.channel)
        # Where a resend is tolerated (SMTP: same Message-ID) the per-message commit need not wait for
        # the WAL flush: a worker crash loses nothing (PostgreSQL has the commit); only a PostgreSQL
        # crash could forget a mark, and the email would then be resent. SMS and push wait for it.
        taken = self.ledger.step(cur_id=row.id, address=prepared.address, durable=not provider.resend_in_doubt)
        self._renew_lease_if_due()
        self.session.commit()
        if not taken:
            log.warning("delivery %s was taken over by another worker (lease expired)", row.id)
            return
        row.attempts += 1
        outcomes = []
        for message in prepared.messages:
            started = time.perf_counter()
            outcome = Outcome(provider=provider.name, to=message.to)
            try:
                outcome.message_id = provider.send(message).provider_message_id
            except ProviderError as exc:
                outcome.error = exc
            except Exception as exc:  # an adapter bug is retried, then dead-lettered
                log.exception("provider %s crashed on delivery %s", provider.name, row.id)
                outcome.error = ProviderError(f"{exc.__class__.__name__}: {exc}"[:500], transient=True)
            outcome.latency_ms = round((time.perf_counter() - started) * 1000)
            outcomes.append(outcome)
        self.ledger.record(row, outcomes)

    def _renew_lease_if_due(self) -> None:
        if time.monotonic() - self.renewed_at < self.lease_seconds / 3:
            return
        until = self.session.execute(
            RENEW, {"lease": self.lease_seconds, "batch": self.batch_id, "token": self.token}
        ).scalars()
        latest = max(until, default=None)
        if latest is not None:
            arm(self.batch_id, latest + timedelta(seconds=1), f"lease:{self.token}")
        self.renewed_at = time.monotonic()

    # --- 4. finish -----------------------------------------------------------------------------
    def finish(self) -> None:
        self.ledger.step(cur_id=None, address=None, durable=True)
        for when in self.ledger.retry_at:
            arm(self.batch_id, when, f"retry:{int(when.timestamp() * 1000)}")
        for row, why in self.ledger.dead:
            publish(
                DeliveryDeadLettered(
                    aggregate_id=row.id,
                    delivery_id=row.id,
                    user_id=row.user_id,
                    kind=row.kind,
                    channel=row.channel,
                    attempts=row.attempts,
                    error=why[:1000],
                ),
                session=self.session,
            )
        self._scrub()
        disarm(self.batch_id, f"lease:{self.token}")
        self.session.commit()

    def _scrub(self) -> None:
        by_fields: dict[tuple[str, ...], list[uuid.UUID]] = {}
        for note_id, kind in self._finished_kinds():
            secret = KINDS[kind].secret_fields if kind in KINDS else ()
            if secret:
                by_fields.setdefault(secret, []).append(note_id)
        for secret, ids in by_fields.items():
            self.session.execute(SCRUB, {"fields": list(secret), "ids": ids})

    def _finished_kinds(self) -> list[tuple[uuid.UUID, str]]:
        if not self.finished:
            return []
        return list(
            self.session.execute(
                select(Notification.id, Notification.kind).where(Notification.id.in_(self.finished))
            ).tuples()
        )

    def run(self) -> dict[str, int]:
        rows = self.claim()
        if not rows:
            return {"claimed": 0}
        self.stats["claimed"] = len(rows)
        try:
            for row, prepared in self.prepare(rows):
                self.deliver(row, prepared)
        finally:
            for provider in self.providers.values():
                provider.close()
        self.finish()
        if self.full:
            enqueue_quietly(self.batch_id)  # more rows are due in this batch
        return dict(self.stats)

    # --- helpers -------------------------------------------------------------------------------
    def _update(self, row: Claimed, from_status: str, to_status: str, **values: Any) -> Executable:
        return (
            update(Delivery)
            .where(Delivery.id == row.id, Delivery.claim_token == self.token, Delivery.status == from_status)
            .values(status=to_status, updated_at=utcnow(), **values)
        )

    def _set(self, row: Claimed, to_status: str, **values: Any) -> None:
        self.session.execute(self._update(row, CLAIMED, to_status, **values))
        if to_status in (SKIPPED, DEAD):
            self.finished.add(row.notification_id)

    def _bury(self, row: Claimed, why: str, *, attempt_status: str) -> None:
        """A dead letter without a provider call (in doubt after a crash, or nothing sendable)."""
        self.session.execute(self._update(row, CLAIMED, DEAD, last_error=why))
        self.session.execute(
            insert(DeliveryAttempt).values(
                id=uuid.uuid4(), delivery_id=row.id, user_id=row.user_id, kind=row.kind, channel=row.channel,
                attempt=row.attempts, status=attempt_status, error=why, actor="worker", created_at=utcnow(),
            )
        )  # fmt: skip
        self.ledger.dead.append((row, why))
        self.finished.add(row.notification_id)
        self.stats["dead"] += 1


__all__ = ["OPEN", "BatchSender"]
