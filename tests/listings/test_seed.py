"""The demo catalog seed: 200+ listings across the tree, idempotent on a second run."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.generator import Actor
from blueprints.listings import service
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


def test_a_second_seed_leaves_alone_what_happened_since(app_ctx) -> None:  # type: ignore[no-untyped-def]
    """`bazaar run` seeds on every start: the demo sale, a staff edit or a removal must survive it."""
    catalog.seed(echo=lambda line: None)
    db.session.commit()
    published = (
        db.session.execute(sa.select(Listing).where(Listing.status == ListingStatus.PUBLISHED).limit(3)).scalars().all()
    )
    reserved, edited, removed = published
    service.reserve(listing_id=reserved.id, reservation_ref="offer-seeded", actor=Actor.system("offers"))
    edited.price_amount += 100
    price = edited.price_amount
    removed.deleted_at = sa.func.now()
    db.session.commit()
    lines: list[str] = []
    catalog.seed(echo=lines.append)
    db.session.commit()
    assert "  listings: 0 created, 0 updated, 216 unchanged" in lines
    db.session.expire_all()
    assert db.session.get(Listing, reserved.id).status == ListingStatus.RESERVED
    assert db.session.get(Listing, edited.id).price_amount == price
    assert db.session.get(Listing, removed.id).deleted_at is not None
