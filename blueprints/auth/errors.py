"""The one exception auth services raise; the API turns it into problem+json, the admin into a flash."""

from __future__ import annotations

from collections.abc import Mapping

from app.errors import PROBLEM_TYPE_BASE


class AuthError(Exception):
    """A refused auth operation: HTTP ``status``, problem ``kind``, optional per-field ``errors``.

    ``keep_changes`` marks refusals whose writes must still commit (a reused refresh token revokes
    its session family even though the request fails).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str,
        errors: Mapping[str, list[str]] | None = None,
        keep_changes: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.errors = dict(errors or {})
        self.keep_changes = keep_changes

    @property
    def problem_type(self) -> str:
        return PROBLEM_TYPE_BASE + self.kind


def invalid_credentials() -> AuthError:
    return AuthError(401, "The email or password is incorrect.", kind="invalid-credentials")


def account_suspended() -> AuthError:
    return AuthError(403, "This account is suspended. Contact support.", kind="account-suspended")


def invalid_field(field: str, message: str, *, status: int = 422, kind: str = "validation") -> AuthError:
    return AuthError(status, message, kind=kind, errors={field: [message]})
