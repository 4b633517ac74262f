"""Who gets what: effective channels per (user, kind), quiet hours, and validated preference changes.

Only a user's changes are stored (``Preference`` rows); the catalog's defaults fill the rest, so a new
kind reaches everyone with sensible defaults without a data migration. Mandatory channels are on
whatever is stored. Quiet hours (local time in the user's zone, e.g. 22:00-07:00) hold push and SMS
until they end; urgent kinds (security alerts) ignore them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, insert

from app.db import db, utcnow
from app.generator import ServiceError
from blueprints.notifications.catalog import KINDS, QUIET_HOURS_CHANNELS, Kind
from blueprints.notifications.models import NotificationSettings, Preference

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
LOCALE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$")


@dataclass
class Profile:
    """What the fan-out needs to know about one recipient (read once per transaction)."""

    user_id: uuid.UUID
    overrides: dict[tuple[str, str], bool] = field(default_factory=dict)
    locale: str = "en"
    time_zone: str = "UTC"
    quiet_start: time | None = None
    quiet_end: time | None = None
    sms_number: str | None = None
    has_push_device: bool = False

    def wants(self, kind: Kind, channel: str) -> bool:
        if channel not in kind.channels:
            return False
        if channel in kind.mandatory:
            return True
        return self.overrides.get((kind.name, channel), channel in kind.defaults)

    def reachable(self, channel: str) -> bool:
        if channel == "sms":
            return bool(self.sms_number)
        if channel == "push":
            return self.has_push_device
        return True

    def channels_for(self, kind: Kind) -> list[str]:
        return [c for c in kind.channels if self.wants(kind, c) and self.reachable(c)]

    def held_until(self, kind: Kind, channel: str, now: datetime) -> datetime | None:
        """When quiet hours hold this channel, the UTC time they end; None to send now."""
        if kind.urgent or channel not in QUIET_HOURS_CHANNELS:
            return None
        return quiet_hours_end(self.quiet_start, self.quiet_end, self.time_zone, now)


def quiet_hours_end(start: time | None, end: time | None, time_zone: str, now: datetime) -> datetime | None:
    """The UTC end of the quiet period ``now`` falls in (local ``start``-``end``, may span midnight)."""
    if start is None or end is None or start == end:
        return None
    zone = _zone(time_zone)
    local = now.astimezone(zone)
    moment = local.time().replace(tzinfo=None)
    if start < end:
        if not start <= moment < end:
            return None
        end_day = local.date()
    else:
        if not (moment >= start or moment < end):
            return None
        end_day = local.date() + timedelta(days=1) if moment >= start else local.date()
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


PROFILES = text(
    """
    SELECT u.id AS user_id, s.locale, s.time_zone, s.quiet_start, s.quiet_end, s.sms_number,
           EXISTS (SELECT 1 FROM notifications.push_devices AS d WHERE d.user_id = u.id) AS has_push_device,
           (SELECT array_agg(p.kind || ':' || p.channel || ':' || p.enabled::text)
              FROM notifications.preferences AS p WHERE p.user_id = u.id) AS overrides
    FROM unnest(:ids) AS u(id)
    LEFT JOIN notifications.settings AS s ON s.user_id = u.id
    """
).bindparams(bindparam("ids", type_=ARRAY(Uuid)))


def load_profiles(user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Profile]:
    """Profiles of many users in one round trip (settings, stored preferences, whether a push device exists)."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return {}
    profiles = {}
    for row in db.session.execute(PROFILES, {"ids": ids}):
        profile = Profile(row.user_id, has_push_device=row.has_push_device)
        if row.locale is not None:
            profile.locale, profile.time_zone = row.locale, row.time_zone
            profile.quiet_start, profile.quiet_end, profile.sms_number = row.quiet_start, row.quiet_end, row.sms_number
        for override in row.overrides or ():
            kind, channel, enabled = override.split(":")
            profile.overrides[(kind, channel)] = enabled == "true"
        profiles[row.user_id] = profile
    return profiles


# --- the preferences API ------------------------------------------------------------------------


def describe(user_id: uuid.UUID) -> list[dict]:
    """Every kind with, per channel, whether it is on, mandatory, and the default."""
    profile = load_profiles([user_id])[user_id]
    return [
        {
            "kind": kind.name,
            "category": kind.category,
            "description": kind.description,
            "channels": {
                channel: {
                    "enabled": profile.wants(kind, channel),
                    "mandatory": channel in kind.mandatory,
                    "default": channel in kind.defaults,
                }
                for channel in kind.channels
            },
        }
        for kind in KINDS.values()
    ]


def validate_changes(changes: Mapping[str, Mapping[str, bool]]) -> dict[str, list[str]]:
    """Field errors of a preferences change (unknown kind/channel, switching a mandatory one off)."""
    errors: dict[str, list[str]] = {}
    for kind_name, channels in changes.items():
        kind = KINDS.get(kind_name)
        if kind is None:
            errors[f"preferences.{kind_name}"] = ["Unknown notification kind."]
            continue
        for channel, enabled in channels.items():
            name = f"preferences.{kind_name}.{channel}"
            if channel not in kind.channels:
                errors[name] = [f"{kind_name} is not sent by {channel}; offered: {', '.join(kind.channels)}."]
            elif channel in kind.mandatory and not enabled:
                errors[name] = [f"{kind_name} by {channel} is mandatory ({kind.category}) and cannot be switched off."]
    return errors


def set_preferences(*, user_id: uuid.UUID, changes: Mapping[str, Mapping[str, bool]], source: str = "user") -> None:
    """Store changes in the caller's transaction; refuses the whole change on any bad field (422)."""
    errors = validate_changes(changes)
    if errors:
        raise ServiceError("Some preferences cannot be changed.", status=422, errors=errors)
    rows = [
        {"id": uuid.uuid4(), "user_id": user_id, "kind": k, "channel": c, "enabled": bool(v), "source": source}
        for k, channels in changes.items()
        for c, v in channels.items()
    ]
    if not rows:
        return
    statement = insert(Preference).values(rows)
    db.session.execute(
        statement.on_conflict_do_update(
            constraint="uq_preferences_user_kind_channel",
            set_={"enabled": statement.excluded.enabled, "source": statement.excluded.source, "updated_at": utcnow()},
        )
    )


def get_settings(user_id: uuid.UUID) -> NotificationSettings:
    """The user's settings row (a transient default one when they never changed anything)."""
    row = db.session.get(NotificationSettings, user_id)
    return row if row is not None else NotificationSettings(user_id=user_id, locale="en", time_zone="UTC")


def update_settings(*, user_id: uuid.UUID, changes: Mapping[str, object]) -> NotificationSettings:
    """Apply validated settings (caller's transaction); 422 naming the field on a bad value, nothing written."""
    row = db.session.get(NotificationSettings, user_id, with_for_update=True)
    errors: dict[str, list[str]] = {}
    if "time_zone" in changes and changes["time_zone"] not in _zone_names():
        errors["time_zone"] = ["Unknown IANA time zone (e.g. Europe/Paris)."]
    if "locale" in changes and not LOCALE.match(str(changes["locale"])):
        errors["locale"] = ["Expected a language tag such as en, fr or pt-BR."]
    number = changes.get("sms_number")
    if number is not None and not E164.match(str(number)):
        errors["sms_number"] = ["Expected an E.164 number such as +33612345678."]
    start = changes.get("quiet_start", row.quiet_start if row else None)
    end = changes.get("quiet_end", row.quiet_end if row else None)
    if (start is None) != (end is None):
        errors["quiet_end" if end is None else "quiet_start"] = ["Set both ends of the quiet hours, or neither."]
    if errors:
        raise ServiceError("Invalid notification settings.", status=422, errors=errors)
    if row is None:
        row = NotificationSettings(user_id=user_id, locale="en", time_zone="UTC")
        db.session.add(row)
    for name, value in changes.items():
        setattr(row, name, value)
    db.session.flush()
    return row


_ZONES: set[str] = set()


def _zone_names() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


__all__ = [
    "Profile",
    "describe",
    "get_settings",
    "load_profiles",
    "quiet_hours_end",
    "set_preferences",
    "update_settings",
    "validate_changes",
]
