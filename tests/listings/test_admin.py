"""Staff in the admin: import progress bars and report download, rubric edits, listing audit trail."""

from __future__ import annotations

import re
import uuid

import pytest

from app.extensions import db
from blueprints.listings.models import ConditionRubric, ListingCondition
from tests.listings.factories import make_listing
from tests.listings.importing import broken_file, run, upload


def admin_login(app, client, role: str = "Admin") -> None:  # type: ignore[no-untyped-def]
    from admin.accounts import ensure_staff

    email = f"{role.lower()}-{uuid.uuid4().hex[:6]}@bazaar.test"
    with app.app_context():
        ensure_staff(email=email, password="correct horse battery", role=role)
    page = client.get("/admin/login/")
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    data = {"username": email, "password": "correct horse battery", **({"csrf_token": match.group(1)} if match else {})}
    assert client.post("/admin/login/", data=data).status_code == 302


@pytest.fixture
def staff_client(app):  # type: ignore[no-untyped-def]
    client = app.test_client()
    admin_login(app, client)
    return client


def test_import_progress_page_and_report_download(app, client, staff_client, seller) -> None:  # type: ignore[no-untyped-def]
    from blueprints.listings.models import Category
    from tests.listings.factories import CAMERA_SCHEMA

    with app.app_context():
        db.session.add(Category(name="Cameras", slug="cameras", attributes_schema=CAMERA_SCHEMA))
        db.session.commit()
    content, expected = broken_file(40)
    job_id = upload(client, seller.headers, content).json["id"]
    queued = staff_client.get("/admin/listings/imports/").get_data(as_text=True)
    assert 'http-equiv="refresh"' in queued and "queued" in queued
    run(app, job_id)
    page = staff_client.get("/admin/listings/imports/").get_data(as_text=True)
    assert 'aria-valuenow="100"' in page and "40 / 40" in page and 'http-equiv="refresh"' not in page
    report = staff_client.get(f"/admin/listings/imports/{job_id}/report.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    assert len(report.get_data(as_text=True).strip().splitlines()) == 1 + len(expected)


def test_listing_page_shows_its_audit_trail(app, client, staff_client, cameras, seller) -> None:  # type: ignore[no-untyped-def]
    listing_id = make_listing(category_id=cameras, seller_id=seller.id)
    assert client.post(f"/listings/{listing_id}/publish", headers=seller.headers).status_code == 200
    page = staff_client.get(f"/admin/listings/listing/show/{listing_id}").get_data(as_text=True)
    assert "draft" in page and "published" in page  # the status change row
    # the tsvector and the search chunk are the database's, not staff's
    assert "search vector" not in page.lower().replace("_", " ")
    assert "search chunk" not in page.lower().replace("_", " ")


@pytest.mark.parametrize(
    "view",
    ["conditionrubric", "savedsearch", "importjob", "listingstatuschange", "listingversion", "listingpricechange",
     "category", "listing"],
)  # fmt: skip
def test_every_listings_admin_list_renders(app, staff_client, view) -> None:  # type: ignore[no-untyped-def]
    assert staff_client.get(f"/admin/listings/{view}/list/").status_code == 200


def test_staff_edit_a_rubric_and_publishing_follows(app, client, staff_client, cameras, seller) -> None:  # type: ignore[no-untyped-def]
    form = {
        "grade": "good", "label": "Good", "description": "Light wear.", "min_photos": "4", "base_score": "72",
        "disclosures": '[{"key": "flaws", "label": "Flaws", "kind": "text", "required": true, "penalty": 0}]',
    }  # fmt: skip
    added = staff_client.post("/admin/listings/conditionrubric/add", data=form)
    assert added.status_code == 302
    listing_id = make_listing(category_id=cameras, seller_id=seller.id, condition_answers={"flaws": "none"})
    refused = client.post(f"/listings/{listing_id}/publish", headers=seller.headers)
    assert refused.json["errors"] == {"photos": ["At least 4 photos are needed for the Good grade."]}
    bad = staff_client.post(
        "/admin/listings/conditionrubric/add",
        data={**form, "grade": "fair", "disclosures": "[1]"},
        follow_redirects=True,
    )
    assert "disclosures" in bad.get_data(as_text=True)  # the error is shown to staff
    with app.app_context():
        grades = {r.grade for r in db.session.query(ConditionRubric)}
    assert grades == {ListingCondition.GOOD}
