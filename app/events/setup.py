"""Wiring of the event bus into an app: domain ``events`` modules are imported at start."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import click
from flask import Flask

from config import DOMAINS

if TYPE_CHECKING:
    from flask_appbuilder import AppBuilder
    from flask_smorest import Api

__all__ = ["discover_event_modules", "init_app"]


def discover_event_modules(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Import ``blueprints.<domain>.events`` where present (events and subscribers declare themselves).

    ``extra`` modules (setting ``EVENTS_SUBSCRIBER_MODULES``) let plugins and tests add subscribers
    to worker processes too. Returns the modules imported.
    """
    loaded = []
    for name in (*(f"blueprints.{d}.events" for d in DOMAINS), *extra):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            if name in extra:
                raise
            continue
        loaded.append(name)
    return loaded


def init_app(app: Flask, api: Api | None = None, appbuilder: AppBuilder | None = None) -> None:
    """Call after the domains are registered (``create_app``), inside an app context."""
    # The bus's own timers (retries, webhook attempts) and the webhook fan-out subscriber.
    from app.events import dead_letters, docs, webhook_service, webhooks_api  # noqa: F401
    from app.events.metrics import register_collector

    app.extensions["bazaar_event_modules"] = discover_event_modules(app.config.get("EVENTS_SUBSCRIBER_MODULES") or ())
    app.register_blueprint(docs.bp)
    register_collector()
    if api is not None:
        api.register_blueprint(webhooks_api.blp)
    if appbuilder is not None:
        from admin.events import register_event_views

        register_event_views(appbuilder)
    app.cli.add_command(events_cli)


@click.group("events", help="The event bus: catalog and outbox.")
def events_cli() -> None:
    pass


@events_cli.command("catalog", help="Print the event catalog (every event type and payload schema) as Markdown.")
def events_catalog() -> None:
    from app.events.docs import catalog_markdown

    click.echo(catalog_markdown(), nl=False)
