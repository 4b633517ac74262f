"""The application factory: one Flask app = platform services + every domain blueprint + the admin.

Extensions with per-app state (AppBuilder, smorest Api, SocketIO, Limiter) are created here, so
several apps can live in one process (tests do) without sharing views or registries.
"""

from __future__ import annotations

from typing import Any

import swagger_ui_bundle
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, send_from_directory
from flask_smorest import Api

from app import errors, extensions, gateway, health, logging, metrics, pool, ratelimit, realtime, security, text_guard
from app import redis as redis_ext
from app.domain import load_domains, register_domains
from app.errors import ProblemSchema
from app.generator.openapi import register_problem_responses, schema_name_resolver
from config import Config

__all__ = ["create_app"]


class BazaarApi(Api):
    """smorest Api whose error payloads are RFC 9457 problems (our handler is registered instead)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        errors.init_app(self._app)

    def _register_responses(self) -> None:
        register_problem_responses(self)  # documented as application/problem+json, as they are sent


def create_api(app: Flask) -> Api:
    api = BazaarApi(
        app,
        spec_kwargs={
            "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name_resolver),
            "info": {
                "description": (
                    "Bazaar: the API of a peer-to-peer marketplace. Errors are application/problem+json "
                    "(RFC 9457). Money is {amount: integer minor units, currency: ISO 4217}. "
                    "Realtime (Socket.IO namespace /realtime): [events and payloads](/docs/realtime), "
                    "[AsyncAPI document](/docs/realtime.json)."
                )
            },
        },
    )
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    app.extensions["bazaar_api"] = api

    @app.get("/docs/static/<path:filename>")
    def swagger_static(filename: str):  # type: ignore[no-untyped-def]
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    return api


def create_app(config: Config | None = None, **overrides: Any) -> Flask:
    config = config or Config(**overrides)
    app = Flask(__name__, template_folder="templates", static_folder=None)
    app.config.from_mapping(config.as_dict())

    logging.init_app(app)
    gateway.init_app(app)  # size limit before anything reads the body; CORS; security headers
    text_guard.init_app(app)  # NUL characters in JSON: a 422 naming the field, never a database error
    pool.install()
    extensions.db.init_app(app)
    redis_ext.init_app(app)
    security.identity.init_app(app)  # before the limiter: limits key on the user when signed in
    metrics.init_app(app)
    ratelimit.init_app(app)
    api = create_api(app)
    realtime.init_app(app)
    app.register_blueprint(health.bp)

    from admin import init_admin

    with app.app_context():
        appbuilder = init_admin(app)
        register_domains(app, api, appbuilder, load_domains())
        from app.events.setup import init_app as init_events

        init_events(app, api, appbuilder)  # domain events modules, webhooks API, event admin views
    ratelimit.apply_route_limits(app)  # per-route limits need the registered views

    from app.cli import register_cli

    register_cli(app)
    return app
