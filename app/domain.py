"""The Domain declaration: what a ``blueprints/<domain>`` package contributes to the platform.

A domain lists its generated resources, its hand-written API blueprints and admin additions; the
application factory registers them all, so adding a domain is one declaration in its ``__init__``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from config import DOMAINS

if TYPE_CHECKING:
    from flask import Flask
    from flask_appbuilder import AppBuilder
    from flask_smorest import Api, Blueprint


@dataclass
class Domain:
    name: str
    prefix: str
    description: str = ""
    # Generator declarations (app.generator.Resource) turned into REST resources and admin views.
    resources: Sequence[Any] = ()
    # Hand-written smorest blueprints (domain logic beside the generated CRUD).
    blueprints: Sequence[Blueprint] = ()
    # Extra admin views/menu entries: called with the app's AppBuilder once the generated views exist.
    admin: Callable[[AppBuilder], None] | None = None
    # Called with the app after registration (Socket.IO handlers, CLI commands...).
    setup: Callable[[Flask], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def schema(self) -> str:
        return self.name


def load_domains(names: Sequence[str] = DOMAINS) -> list[Domain]:
    """Import each ``blueprints.<name>`` package and return its ``domain`` declaration."""
    domains = []
    for name in names:
        module = importlib.import_module(f"blueprints.{name}")
        domain = getattr(module, "domain", None)
        if not isinstance(domain, Domain):
            raise RuntimeError(f"blueprints.{name} must declare `domain = Domain(...)`")
        domains.append(domain)
    return domains


def import_all_models() -> None:
    """Load every model module so one metadata holds all tables (alembic, schema tests)."""
    import flask_appbuilder.security.sqla.models  # noqa: F401 - FAB staff tables (schema admin)

    import app.models  # noqa: F401 - platform tables (schema platform)

    for name in DOMAINS:
        try:
            importlib.import_module(f"blueprints.{name}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"blueprints.{name}.models":
                raise


def register_domains(app: Flask, api: Api, appbuilder: AppBuilder, domains: Sequence[Domain]) -> None:
    for domain in domains:
        if domain.resources:
            from app.generator import register_resource

            for resource in domain.resources:
                register_resource(app, api, appbuilder, domain, resource)
        for blueprint in domain.blueprints:
            api.register_blueprint(blueprint, url_prefix=domain.prefix)
        if domain.admin is not None:
            domain.admin(appbuilder)
        if domain.setup is not None:
            domain.setup(app)
    app.extensions["bazaar_domains"] = {d.name: d for d in domains}
