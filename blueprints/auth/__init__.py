"""Accounts, sessions, MFA and profiles; issues the JWTs the gateway validates.

Other domains use :mod:`blueprints.auth.service` (profiles, existence, contact) and the events of
:mod:`blueprints.auth.events`; nothing else of this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.domain import Domain

if TYPE_CHECKING:
    from flask import Flask
    from flask_appbuilder import AppBuilder


def _admin(appbuilder: AppBuilder) -> None:
    from blueprints.auth.admin import register_admin

    register_admin(appbuilder)


def _setup(app: Flask) -> None:
    """Step-up checks ask this domain, live, whether a user has MFA (``app.security.stepup``); an
    AuthError raised through a service call from another domain's view is a problem+json too."""
    from app.security.stepup import register_mfa_lookup
    from blueprints.auth import mfa, pages
    from blueprints.auth.cli import auth_cli
    from blueprints.auth.errors import AuthError
    from blueprints.auth.web import handle_auth_error

    register_mfa_lookup(app, mfa.is_enabled)
    app.register_blueprint(pages.bp)  # /verify-email and /reset-password, where account emails link
    app.register_error_handler(AuthError, handle_auth_error)
    app.cli.add_command(auth_cli)


def _blueprints() -> list:  # type: ignore[type-arg]
    from blueprints.auth import api, api_mfa

    return [api.blp, api_mfa.blp]


domain = Domain(
    name="auth",
    prefix="/auth",
    description="Accounts, sessions, MFA and profiles; issues the JWTs the gateway validates.",
    blueprints=_blueprints(),
    admin=_admin,
    setup=_setup,
)
