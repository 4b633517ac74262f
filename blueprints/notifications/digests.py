"""Folding a chatty kind's emails: one email per (user, kind, thread) window, or none if already seen.

Pure decisions (no database): the sender applies them. A group is skipped when its user is online on
the socket now, or has read every one of its notifications in the app; otherwise its earliest unread
delivery carries the digest (``items``: the unread notifications' contexts, oldest first) and the
others are marked digested into it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SEEN_ONLINE = "seen: the user was online"
SEEN_READ = "seen: read in the app"


@dataclass
class Folded:
    kept: list[Any] = field(default_factory=list)
    skipped: list[tuple[Any, str]] = field(default_factory=list)
    digested: list[tuple[Any, Any]] = field(default_factory=list)  # (row, the carrier it folded into)


def fold_digests(rows: Sequence[Any], notes: Mapping[uuid.UUID, Any], online: set[uuid.UUID]) -> Folded:
    """``rows`` are claimed deliveries; ``notes`` their notifications (``data``, ``read_at``) by id."""
    folded = Folded()
    groups: dict[tuple[uuid.UUID, str, str], list[Any]] = {}
    for row in rows:
        if row.digest_key:
            groups.setdefault((row.user_id, row.kind, row.digest_key), []).append(row)
        else:
            folded.kept.append(row)
    for (user_id, _kind, _key), members in groups.items():
        members.sort(key=lambda r: (r.created_at, r.id))
        unread = [m for m in members if m.notification_id in notes and notes[m.notification_id].read_at is None]
        if user_id in online or not unread:
            reason = SEEN_ONLINE if user_id in online else SEEN_READ
            folded.skipped.extend((member, reason) for member in members)
            continue
        carrier = unread[0]
        carrier.items = [dict(notes[m.notification_id].data) for m in unread]
        folded.digested.extend((member, carrier) for member in members if member is not carrier)
        folded.kept.append(carrier)
    return folded
