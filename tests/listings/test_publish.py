"""Publishing checks completeness: photos (per grade), price, category attributes, rubric answers."""

from __future__ import annotations

import pytest

from app.extensions import db
from blueprints.listings.models import ConditionRubric, Listing, ListingCondition, ListingStatus
from tests.listings.factories import make_listing, photos


def publish(client, listing_id, headers):  # type: ignore[no-untyped-def]
    return client.post(f"/listings/{listing_id}/publish", headers=headers)


def test_a_complete_draft_publishes_with_its_condition_score(app_ctx, client, cameras, seller) -> None:  # type: ignore[no-untyped-def]
    listing_id = make_listing(
        category_id=cameras,
        seller_id=seller.id,
        condition_answers={"flaws": "scratch", "stains": True, "missing_parts": False},
    )
    response = publish(client, listing_id, seller.headers)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "published"
    assert response.json["condition_score"] == 62  # good: 70, stains disclosed: -8


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"photos": []}, {"photos": ["At least 3 photos are needed for the Good grade."]}),
        ({"photos": photos(2)}, {"photos": ["At least 3 photos are needed for the Good grade."]}),
        ({"price_amount": 0}, {"price": ["A price above zero is needed to publish."]}),
        ({"attributes": {}}, {"attributes.brand": ["Required by the category."]}),
        (
            {"attributes": {"brand": "Canon", "mount": "Z"}},
            {"attributes.mount": ["'Z' is not one of ['EF', 'F', 'E', 'M', 'X']"]},
        ),
        (
            {"condition_answers": {"stains": False, "missing_parts": False}},
            {
                "condition_answers.flaws": [
                    "Required by the Good rubric: Describe every visible flaw (write 'none' if there is none)"
                ]
            },
        ),
        ({"description": "short"}, {"description": ["At least 20 characters are needed to publish."]}),
        (
            {"shipping_options": []},
            {"shipping_options": ["At least one shipping option (or pickup) is needed to publish."]},
        ),
        ({"quantity": 0}, {"quantity": ["Must be at least 1 to publish."]}),
    ],
)
def test_an_incomplete_draft_is_refused_naming_the_field(app_ctx, client, cameras, seller, fields, errors) -> None:  # type: ignore[no-untyped-def]
    listing_id = make_listing(category_id=cameras, seller_id=seller.id, **fields)
    response = publish(client, listing_id, seller.headers)
    assert response.status_code == 422
    assert response.json["errors"] == errors
    db.session.expire_all()
    assert db.session.get(Listing, listing_id).status is ListingStatus.DRAFT


def test_every_missing_piece_is_reported_at_once(app_ctx, client, cameras, seller) -> None:  # type: ignore[no-untyped-def]
    listing_id = make_listing(category_id=cameras, seller_id=seller.id, photos=[], attributes={}, shipping_options=[])
    response = publish(client, listing_id, seller.headers)
    assert set(response.json["errors"]) == {"photos", "attributes.brand", "shipping_options"}


def test_staff_rubric_edits_change_what_publishing_needs(app_ctx, client, cameras, seller) -> None:  # type: ignore[no-untyped-def]
    db.session.add(
        ConditionRubric(
            grade=ListingCondition.GOOD, label="Good", description="Light wear.", min_photos=5, base_score=75,
            disclosures=[{"key": "flaws", "label": "Flaws", "kind": "text", "required": True, "penalty": 0}],
        )
    )  # fmt: skip
    db.session.commit()
    listing_id = make_listing(category_id=cameras, seller_id=seller.id, condition_answers={"flaws": "none"})
    assert publish(client, listing_id, seller.headers).json["errors"] == {
        "photos": ["At least 5 photos are needed for the Good grade."]
    }
    db.session.execute(db.update(Listing).where(Listing.id == listing_id).values(photos=photos(5)))
    db.session.commit()
    response = publish(client, listing_id, seller.headers)
    assert response.status_code == 200 and response.json["condition_score"] == 75
