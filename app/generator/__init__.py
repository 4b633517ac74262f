"""The generator: a model declared once becomes a REST resource, an admin view and actions.

A domain declares, in ``blueprints/<domain>/__init__.py``::

    from app.domain import Domain
    from app.generator import AUTHENTICATED, OWNER, PUBLIC, STAFF, Action, Money, Policy, Resource

    domain = Domain("listings", prefix="/listings", resources=[
        Resource(Category, path="/categories", policy=Policy(read=PUBLIC, create=STAFF, update=STAFF)),
        Resource(Listing, path="",
                 policy=Policy(read=PUBLIC.where(status="published") | OWNER("seller_id") | STAFF,
                               create=OWNER("seller_id"), update=OWNER("seller_id"), delete=OWNER("seller_id"),
                               read_only=("status", "published_at")),
                 money={"price": Money("price_amount", "currency")},
                 filters={"status": ("eq", "in"), "price": ("gte", "lte")}, sort=("created_at", "price"),
                 default_sort="-created_at", embed=("category",), soft_delete="deleted_at",
                 actions=[Action(service.publish, allow=OWNER("seller_id"))]),
    ])

and ``app.domain.register_domains`` calls :func:`register_resource` for each resource.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.generator.access import Actor
from app.generator.declarations import Action, AdminOptions, Money, Policy, Resource, ServiceError
from app.generator.rules import (
    AUTHENTICATED,
    HAS_ROLE,
    NOBODY,
    OWNER,
    PARTICIPANT,
    PUBLIC,
    STAFF,
    WHERE,
    Rule,
)

if TYPE_CHECKING:
    from flask import Flask
    from flask_appbuilder import AppBuilder
    from flask_smorest import Api

    from app.domain import Domain

__all__ = [
    "AUTHENTICATED",
    "HAS_ROLE",
    "NOBODY",
    "OWNER",
    "PARTICIPANT",
    "PUBLIC",
    "STAFF",
    "WHERE",
    "Action",
    "Actor",
    "AdminOptions",
    "Money",
    "Policy",
    "Resource",
    "Rule",
    "ServiceError",
    "register_resource",
]


def register_resource(app: Flask, api: Api, appbuilder: AppBuilder, domain: Domain, resource: Resource) -> Any:
    """Compile ``resource`` (once per process) and add its API blueprint and admin view to this app."""
    from app.generator.actions import add_action_routes
    from app.generator.compiled import compile_resource
    from app.generator.rest import build_blueprint

    compiled = compile_resource(domain.name, resource)
    blueprint = build_blueprint(compiled, domain.name)
    add_action_routes(blueprint, compiled)
    api.register_blueprint(blueprint, url_prefix=domain.prefix.rstrip("/") + resource.url_path)
    app.extensions.setdefault("bazaar_resources", {})[compiled.key] = compiled
    if resource.admin.enabled and appbuilder is not None:
        from app.generator.admin import register_admin_view

        register_admin_view(appbuilder, compiled, domain)
    return compiled
