"""The demo catalog seed: 200+ listings across the tree, idempotent on a second run."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from blueprints.listings.models import Category, ConditionRubric, Listing, ListingStatus
from seeds import catalog


def test_catalog_seed_is_complete_and_idempotent(app_ctx) -> None:  # type: ignore[no-untyped-def]
    lines: list[str] = []
    catalog.seed(echo=lines.append)
    db.session.commit()
    count = sa.select(sa.func.count()).select_from(Listing)
    assert db.session.execute(count).scalar_one() >= 200
    published = db.session.execute(count.where(Listing.status == ListingStatus.PUBLISHED)).scalar_one()
    assert published >= 150
    sellers = db.session.execute(sa.select(sa.func.count(sa.distinct(Listing.seller_id)))).scalar_one()
    assert sellers == len(catalog.SELLERS)
    assert db.session.execute(sa.select(sa.func.count()).select_from(ConditionRubric)).scalar_one() == 6
    assert db.session.execute(sa.select(sa.func.count()).select_from(Category)).scalar_one() == len(catalog.CATEGORIES)
    assert "  listings: 216 created, 0 updated, 0 unchanged" in lines
    again: list[str] = []
    catalog.seed(echo=again.append)
    db.session.commit()
    assert "  listings: 0 created, 0 updated, 216 unchanged" in again
    assert db.session.execute(count).scalar_one() == 216
