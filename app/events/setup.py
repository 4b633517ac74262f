"""Wiring of the event bus into an app: domain ``events`` modules are imported at start."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

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
    app.extensions["bazaar_event_modules"] = discover_event_modules(app.config.get("EVENTS_SUBSCRIBER_MODULES") or ())
