"""Catalog: listings, categories, condition grades, search, saved searches and bulk import.

Other domains use :mod:`blueprints.listings.service` (summaries, reserve / release / mark_sold,
price history) and the events of :mod:`blueprints.listings.events`; nothing else of this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.domain import Domain

if TYPE_CHECKING:
    from flask_appbuilder import AppBuilder


def _admin(appbuilder: AppBuilder) -> None:
    from blueprints.listings.admin import register_admin

    register_admin(appbuilder)


def _blueprints() -> list:  # type: ignore[type-arg]
    from blueprints.listings import api

    return [api.blp]


def _resources() -> list:  # type: ignore[type-arg]
    from blueprints.listings.resources import RESOURCES

    return RESOURCES


domain = Domain(
    name="listings",
    prefix="/listings",
    description=__doc__ or "",
    resources=_resources(),
    blueprints=_blueprints(),
    admin=_admin,
)
