"""Inputs and outputs of the auth endpoints. Inputs refuse unknown fields (no mass assignment)."""

from __future__ import annotations

import unicodedata
from typing import Any

import marshmallow as ma
from marshmallow import validate

from blueprints.auth.models import MARKETPLACE_ROLES


def _check_text(value: str, *, controls: str) -> None:
    """Refuse what PostgreSQL or UTF-8 cannot store (NUL, lone surrogates) and stray control chars."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ma.ValidationError("Not valid UTF-8 text.") from None
    for char in value:
        if unicodedata.category(char) == "Cc" and char not in controls:
            raise ma.ValidationError("Control characters are not allowed.")


class Text(ma.fields.String):
    """A string input that is safe to store and hash: see :func:`_check_text`.

    ``controls`` lists the control characters allowed (newlines in a bio; anything in a password).
    """

    def __init__(self, *args: Any, controls: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.controls = controls

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        _check_text(text, controls=self.controls)
        return text


class CleanEmail(ma.fields.Email):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        _check_text(text, controls="")
        return text


# Bounds against abuse only; the password policy itself is checked by the service (one place).
_ALL_CONTROLS = "".join(chr(c) for c in [*range(0, 32), *range(127, 160)])
_password = {
    "required": True,
    "load_only": True,
    "validate": validate.Length(min=1, max=1024),
    "controls": _ALL_CONTROLS,
}
_device = {"validate": validate.Length(max=100), "metadata": {"description": "A name the user gives this device"}}


class SignupSchema(ma.Schema):
    email = CleanEmail(required=True, validate=validate.Length(max=320))
    password = Text(**_password)
    display_name = Text(required=True, validate=validate.Length(min=1, max=80))
    roles = ma.fields.List(
        Text(validate=validate.OneOf(MARKETPLACE_ROLES)),
        load_default=lambda: ["buyer"],
        validate=validate.Length(min=1, max=2),
    )
    device_name = Text(**_device)


class LoginSchema(ma.Schema):
    email = CleanEmail(required=True, validate=validate.Length(max=320))
    password = Text(**_password)
    device_name = Text(**_device)


class MfaLoginSchema(ma.Schema):
    mfa_token = Text(required=True, load_only=True, validate=validate.Length(min=1, max=4096))
    code = Text(
        required=True,
        load_only=True,
        validate=validate.Length(min=6, max=32),
        metadata={"description": "6-digit TOTP code or a recovery code"},
    )
    device_name = Text(**_device)


class RefreshSchema(ma.Schema):
    refresh_token = Text(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class TokenSchema(ma.Schema):
    token_type = ma.fields.String(metadata={"example": "Bearer"})
    access_token = ma.fields.String()
    expires_in = ma.fields.Integer(metadata={"description": "Seconds until the access token expires"})
    refresh_token = ma.fields.String(metadata={"description": "Opaque; single use: each refresh returns a new one"})
    refresh_expires_in = ma.fields.Integer()
    session_id = ma.fields.UUID()


class LoginResultSchema(TokenSchema):
    mfa_required = ma.fields.Boolean(required=True)
    mfa_token = ma.fields.String(metadata={"description": "When mfa_required: send it to POST /auth/login/mfa"})
    mfa_expires_in = ma.fields.Integer()


class AvatarSchema(ma.Schema):
    url = ma.fields.Url(required=True, schemes={"https", "http"}, validate=validate.Length(max=2048))
    content_type = ma.fields.String(
        required=True, validate=validate.OneOf(["image/jpeg", "image/png", "image/webp", "image/gif"])
    )
    width = ma.fields.Integer(validate=validate.Range(min=1, max=10000))
    height = ma.fields.Integer(validate=validate.Range(min=1, max=10000))
    size_bytes = ma.fields.Integer(validate=validate.Range(min=1, max=20_000_000))


class PublicProfileSchema(ma.Schema):
    id = ma.fields.UUID(attribute="user_id")
    display_name = ma.fields.String()
    bio = ma.fields.String(allow_none=True)
    location = ma.fields.String(allow_none=True)
    country = ma.fields.String(allow_none=True)
    avatar = ma.fields.Nested(AvatarSchema, allow_none=True)
    roles = ma.fields.List(ma.fields.String())
    member_since = ma.fields.DateTime()


class PrivateProfileSchema(PublicProfileSchema):
    email = ma.fields.String()
    email_verified = ma.fields.Boolean()
    mfa_enabled = ma.fields.Boolean()
    status = ma.fields.String()
    granted_roles = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "Roles staff granted (e.g. integrator); in tokens from the next refresh or sign-in"},
    )


class ProfilePatchSchema(ma.Schema):
    """Only these fields are writable; any other (email, status, id...) is a 422 "Unknown field"."""

    display_name = Text(validate=validate.Length(min=1, max=80))
    bio = Text(allow_none=True, validate=validate.Length(max=500), controls="\n\r\t")
    location = Text(allow_none=True, validate=validate.Length(max=120))
    country = Text(allow_none=True, validate=validate.Regexp(r"^[A-Z]{2}$", error="ISO 3166-1 alpha-2"))
    avatar = ma.fields.Nested(AvatarSchema, allow_none=True)
    roles = ma.fields.List(Text(validate=validate.OneOf(MARKETPLACE_ROLES)), validate=validate.Length(min=1, max=2))


class SignupResultSchema(ma.Schema):
    user = ma.fields.Nested(PrivateProfileSchema)
    tokens = ma.fields.Nested(TokenSchema)


class SessionSchema(ma.Schema):
    id = ma.fields.UUID()
    current = ma.fields.Boolean()
    device_name = ma.fields.String(allow_none=True)
    user_agent = ma.fields.String(allow_none=True)
    ip = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    last_seen_at = ma.fields.DateTime(metadata={"description": "Sign-in or last token refresh"})
    expires_at = ma.fields.DateTime()
    mfa_at = ma.fields.DateTime(allow_none=True)


class RevokedSchema(ma.Schema):
    revoked = ma.fields.Integer()


class PasswordChangeSchema(ma.Schema):
    current_password = Text(**_password)
    new_password = Text(**_password)


class EmailSchema(ma.Schema):
    email = CleanEmail(required=True, validate=validate.Length(max=320))


class PasswordResetSchema(ma.Schema):
    token = Text(required=True, load_only=True, validate=validate.Length(min=1, max=256))
    new_password = Text(**_password)


class OneTimeTokenSchema(ma.Schema):
    token = Text(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class EmailVerifiedSchema(ma.Schema):
    email_verified = ma.fields.Boolean()


class TotpEnrolmentSchema(ma.Schema):
    secret = ma.fields.String(metadata={"description": "Base32 secret, for manual entry"})
    otpauth_uri = ma.fields.String(metadata={"description": "otpauth:// URI to show as a QR code"})


class CodeSchema(ma.Schema):
    code = Text(required=True, load_only=True, validate=validate.Length(min=6, max=32))


class MfaDisableSchema(CodeSchema):
    password = Text(**_password)


class RecoveryCodesSchema(ma.Schema):
    recovery_codes = ma.fields.List(ma.fields.String(), metadata={"description": "Shown once; each works once"})
    access_token = ma.fields.String(metadata={"description": "A token carrying the fresh mfa claim"})
    expires_in = ma.fields.Integer()


class StepUpSchema(ma.Schema):
    token_type = ma.fields.String()
    access_token = ma.fields.String()
    expires_in = ma.fields.Integer()
    mfa_at = ma.fields.DateTime()
