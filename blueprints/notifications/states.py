"""The delivery state machine: every status change a delivery may make, and why.

Workers change statuses with guarded bulk UPDATEs (``WHERE status IN sources(to)``), so a row can
only move along these edges even when two jobs race; each provider call and each staff resend is
written to the delivery log (``DeliveryAttempt``) with its outcome, actor and error.
"""

from __future__ import annotations

PENDING, RETRYING, CLAIMED, SENDING = "pending", "retrying", "claimed", "sending"
SENT, DEAD, SKIPPED, DIGESTED = "sent", "dead", "skipped", "digested"

OPEN: tuple[str, ...] = (PENDING, RETRYING, CLAIMED, SENDING)
FINAL: tuple[str, ...] = (SENT, DEAD, SKIPPED, DIGESTED)

# (from, to): why the edge exists.
TRANSITIONS: dict[tuple[str, str], str] = {
    (PENDING, CLAIMED): "a worker took it into a batch (due now)",
    (RETRYING, CLAIMED): "a worker took it for another attempt (backoff elapsed)",
    (CLAIMED, CLAIMED): "its worker died before handing it to the provider: another worker resumes it",
    (CLAIMED, SENDING): "handed to the provider (committed before the call)",
    (SENDING, CLAIMED): "its worker died during the provider call and the provider tolerates a resend",
    (SENDING, SENT): "the provider accepted it",
    (SENDING, RETRYING): "the provider failed transiently (5xx, 429, connection): retry with backoff",
    (SENDING, DEAD): "the provider refused it for good, attempts ran out, or the call is in doubt",
    (CLAIMED, SKIPPED): "nobody to reach (no address/device), or already seen (online, read)",
    (CLAIMED, DIGESTED): "folded into another delivery's digest email",
    (CLAIMED, DEAD): "in doubt after a crash and the provider cannot take a resend safely",
    (PENDING, SKIPPED): "staff or a rule cancelled it before it was sent",
    (SENT, PENDING): "staff resend",
    (DEAD, PENDING): "staff resend",
    (SKIPPED, PENDING): "staff resend",
    (RETRYING, PENDING): "staff resend (now, without waiting for the backoff)",
}


def sources(to: str) -> tuple[str, ...]:
    """Statuses a delivery may be in to move to ``to``."""
    found = tuple(sorted({a for a, b in TRANSITIONS if b == to}))
    if not found:
        raise ValueError(f"no transition leads to {to!r}")
    return found


def allowed(from_status: str, to_status: str) -> bool:
    return (from_status, to_status) in TRANSITIONS
