"""Inputs and outputs of the hand-written notification endpoints (the generated ones have their own)."""

from __future__ import annotations

import marshmallow as ma

from blueprints.notifications.catalog import CHANNELS


class StrictBooleanField(ma.fields.Boolean):
    """Only JSON true/false (no "yes", 1 or "on")."""

    truthy = {True}
    falsy = {False}


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class NotificationReadSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    link = ma.fields.String(required=True)
    event_type = ma.fields.String(required=True)
    read_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    created_at = ma.fields.AwareDateTime(required=True)


class UnreadCountSchema(ma.Schema):
    unread = ma.fields.Integer(required=True)


class ReadAllSchema(Strict):
    up_to = ma.fields.AwareDateTime(
        load_default=None, metadata={"description": "Only notifications created up to this time (what the user saw)"}
    )


class ReadAllResultSchema(ma.Schema):
    marked = ma.fields.Integer(required=True)
    unread = ma.fields.Integer(required=True)


class ChannelStateSchema(ma.Schema):
    enabled = ma.fields.Boolean(required=True)
    mandatory = ma.fields.Boolean(required=True)
    default = ma.fields.Boolean(required=True)


class KindPreferencesSchema(ma.Schema):
    kind = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    channels = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(ChannelStateSchema), required=True)


class PreferencesSchema(ma.Schema):
    preferences = ma.fields.List(ma.fields.Nested(KindPreferencesSchema), required=True)


class PreferencesPatchSchema(Strict):
    preferences = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=40)),
        values=ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.OneOf(CHANNELS)), values=StrictBooleanField()),
        required=True,
        metadata={"example": {"offer_received": {"email": False, "push": True}}},
    )


class SettingsSchema(ma.Schema):
    locale = ma.fields.String(required=True)
    time_zone = ma.fields.String(required=True)
    quiet_start = ma.fields.Time(allow_none=True, required=True, metadata={"description": "Local time, HH:MM"})
    quiet_end = ma.fields.Time(allow_none=True, required=True)
    sms_number = ma.fields.String(allow_none=True, required=True)


class SettingsPatchSchema(Strict):
    locale = ma.fields.String(validate=ma.validate.Length(min=2, max=20))
    time_zone = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    quiet_start = ma.fields.Time(allow_none=True)
    quiet_end = ma.fields.Time(allow_none=True)
    sms_number = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=20))


class UnsubscribeArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # mail clients may add tracking parameters

    token = ma.fields.String(required=True, validate=ma.validate.Length(min=10, max=500))


class UnsubscribeResultSchema(ma.Schema):
    kind = ma.fields.String(required=True)
    kinds = ma.fields.List(ma.fields.String(), required=True)
    unsubscribed = ma.fields.Boolean(required=True)
