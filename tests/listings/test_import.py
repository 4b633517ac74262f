"""Bulk import: the report names every bad row exactly, reruns never duplicate, modes, file errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa

from app.extensions import db
from blueprints.listings.models import ImportIssue, Listing, ListingStatus
from tests.listings.factories import CAMERA_SCHEMA, make_category
from tests.listings.importing import HEADER, broken_file, csv_bytes, row, run, upload


@pytest.fixture
def cameras_slug(app_ctx) -> str:  # type: ignore[no-untyped-def]
    from blueprints.listings.models import Category

    db.session.add(Category(name="Cameras", slug="cameras", attributes_schema=CAMERA_SCHEMA))
    db.session.commit()
    return "cameras"


def listings_count(seller_id) -> int:  # type: ignore[no-untyped-def]
    return db.session.execute(sa.select(sa.func.count()).where(Listing.seller_id == seller_id)).scalar_one()


def report(client, job_id, headers) -> list[tuple[int, str, str, str]]:  # type: ignore[no-untyped-def]
    response = client.get(f"/listings/imports/{job_id}/report.csv", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    return [(int(r["row"]), r["field"], r["code"], r["message"]) for r in lines]


def job_of(client, job_id, headers) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(f"/listings/imports/{job_id}", headers=headers)
    assert response.status_code == 200
    return response.json


def test_broken_file_reports_every_bad_row_exactly_and_rerun_creates_no_duplicates(
    app, client, cameras_slug, seller
) -> None:  # type: ignore[no-untyped-def]
    content, expected = broken_file(1000)
    accepted = upload(client, seller.headers, content)
    assert accepted.status_code == 202, accepted.json
    job_id = accepted.json["id"]
    assert accepted.json["status"] == "queued" and accepted.headers["Location"].endswith(job_id)
    assert run(app, job_id) == "succeeded"
    assert report(client, job_id, seller.headers) == expected
    job = job_of(client, job_id, seller.headers)
    valid = 1000 - len(expected)
    assert (job["processed_rows"], job["total_rows"], job["created_count"], job["failed_count"]) == (
        1000, 1000, valid, len(expected),
    )  # fmt: skip
    assert listings_count(seller.id) == valid
    published = db.session.execute(
        sa.select(sa.func.count()).where(Listing.seller_id == seller.id, Listing.status == ListingStatus.PUBLISHED)
    ).scalar_one()
    assert published == valid
    again = upload(client, seller.headers, content).json["id"]
    assert run(app, again) == "succeeded"
    job = job_of(client, again, seller.headers)
    assert (job["created_count"], job["skipped_count"], job["updated_count"]) == (0, valid, 0)
    assert listings_count(seller.id) == valid


def test_rerun_with_changes_updates_by_sku(app, client, cameras_slug, seller) -> None:  # type: ignore[no-untyped-def]
    first = upload(client, seller.headers, csv_bytes([row(1), row(2)])).json["id"]
    run(app, first)
    second = upload(client, seller.headers, csv_bytes([row(1, price_amount="900"), row(2)])).json["id"]
    run(app, second)
    job = job_of(client, second, seller.headers)
    assert (job["created_count"], job["updated_count"], job["skipped_count"]) == (0, 1, 1)
    db.session.expire_all()
    listing = db.session.execute(sa.select(Listing).where(Listing.sku == "SKU-00001")).scalar_one()
    assert (listing.price_amount, listing.version) == (900, 2)


def test_dry_run_writes_nothing_and_reports_the_same(app, client, cameras_slug, seller) -> None:  # type: ignore[no-untyped-def]
    content, expected = broken_file(100)
    job_id = upload(client, seller.headers, content, mode="dry_run").json["id"]
    assert run(app, job_id) == "succeeded"
    assert report(client, job_id, seller.headers) == expected
    assert listings_count(seller.id) == 0


def test_all_or_nothing(app, client, cameras_slug, seller) -> None:  # type: ignore[no-untyped-def]
    content, expected = broken_file(50)
    job_id = upload(client, seller.headers, content, mode="all_or_nothing").json["id"]
    assert run(app, job_id) == "failed"
    assert report(client, job_id, seller.headers) == expected
    assert listings_count(seller.id) == 0
    good = upload(client, seller.headers, csv_bytes([row(n) for n in range(1, 31)]), mode="all_or_nothing")
    assert run(app, good.json["id"]) == "succeeded"
    assert listings_count(seller.id) == 30


def test_quotes_and_embedded_newlines_survive(app, client, cameras_slug, seller) -> None:  # type: ignore[no-untyped-def]
    job_id = upload(client, seller.headers, csv_bytes([row(1)])).json["id"]
    run(app, job_id)
    listing = db.session.execute(sa.select(Listing)).scalar_one()
    assert listing.description == 'A fine camera, item 1, with a strap and "quotes",\nand a second line.'
    assert listing.attributes == {"brand": "Canon"} and len(listing.photos) == 3


def test_json_lines(app, client, cameras_slug, seller) -> None:  # type: ignore[no-untyped-def]
    lines = [
        {"sku": "J1", "title": "Lens cap", "description": "A plain lens cap, 58 mm, black.", "category": "cameras",
         "price_amount": 500, "currency": "EUR", "condition": "new_without_tags", "attributes": {"brand": "Canon"}},
        {"sku": "J2", "title": "Bad", "category": "cameras", "price_amount": "five", "currency": "EUR",
         "condition": "good", "attributes": {"brand": "Canon"}},
    ]  # fmt: skip
    content = "\n".join(json.dumps(line) for line in lines).encode()
    job_id = upload(client, seller.headers, content, name="listings.jsonl").json["id"]
    run(app, job_id)
    assert report(client, job_id, seller.headers) == [(2, "price.amount", "invalid_type", "Not a valid integer.")]
    assert listings_count(seller.id) == 1


@pytest.mark.parametrize(
    ("content", "code", "needle"),
    [
        (csv_bytes([row(1, title="Caméra")]).decode().encode("latin-1"), "wrong_encoding", "not UTF-8"),
        (b"", None, None),
        (",".join(HEADER).encode() + b"\r\n", "empty_file", "no rows"),
        (b"title,category,price_amount,currency\r\nx,cameras,1,EUR\r\n", "bad_columns", "missing required columns"),
        (csv_bytes([row(1) | {"colour": "red"}], [*HEADER, "colour"]), "bad_columns", "unknown columns: colour"),
        (b'{"title": "x"}\n', "not_csv", "looks like JSON"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_text", "binary"),
        (b"Dear seller,\nhere are my items.\n", "not_csv", "not a header"),
        (b"title;category;price_amount;currency;condition\nx;cameras;1;EUR;good\n", "not_csv", "separated by ';'"),
    ],
)  # fmt: skip
def test_file_level_errors_are_clear(app, client, cameras_slug, seller, content, code, needle) -> None:  # type: ignore[no-untyped-def]
    accepted = upload(client, seller.headers, content)
    if code is None:  # an empty upload is refused at once
        assert accepted.status_code == 422 and accepted.json["errors"] == {"file": ["The file is empty."]}
        return
    job_id = accepted.json["id"]
    assert run(app, job_id) == "failed"
    job = job_of(client, job_id, seller.headers)
    assert needle in job["error"], job["error"]
    (line,) = report(client, job_id, seller.headers)
    assert line[:3] == (0, "file", code)
    assert listings_count(seller.id) == 0


def test_jobs_and_reports_are_private(app, client, cameras_slug, seller, other_seller, staff) -> None:  # type: ignore[no-untyped-def]
    job_id = upload(client, seller.headers, csv_bytes([row(1)])).json["id"]
    assert client.get(f"/listings/imports/{job_id}", headers=other_seller.headers).status_code == 404
    assert client.get(f"/listings/imports/{job_id}/report.csv", headers=other_seller.headers).status_code == 404
    assert client.get(f"/listings/imports/{job_id}/report.csv").status_code == 401
    assert client.get(f"/listings/imports/{job_id}/report.csv", headers=staff.headers).status_code == 200
    refused = upload(client, other_seller.headers, csv_bytes([row(1)]), seller_id=str(seller.id))
    assert refused.status_code == 403
    on_behalf = upload(client, staff.headers, csv_bytes([row(1)]), seller_id=str(seller.id))
    assert on_behalf.status_code == 202 and on_behalf.json["seller_id"] == str(seller.id)


@pytest.fixture(scope="module")
def rt_app(make_app):  # type: ignore[no-untyped-def]
    return make_app(SOCKETIO_MESSAGE_QUEUE="off")  # Flask-SocketIO's test client needs no queue


def test_progress_is_pushed_to_the_uploader(app, rt_app, cameras_slug, seller, token_for) -> None:  # type: ignore[no-untyped-def]
    from app.realtime import NAMESPACE, get_socketio

    token = token_for(seller.id, roles=("seller",))
    socket = get_socketio(rt_app).test_client(rt_app, namespace=NAMESPACE, auth={"token": token})
    assert socket.is_connected(NAMESPACE)
    accepted = upload(rt_app.test_client(), seller.headers, csv_bytes([row(n) for n in range(1, 6)]))
    job_id = accepted.json["id"]
    run(rt_app, job_id, batch_size=2)
    pushed = [e["args"][0] for e in socket.get_received(NAMESPACE) if e["name"] == "listings.import.progress"]
    assert [(p["status"], p["processed_rows"]) for p in pushed] == [
        ("running", 0), ("running", 2), ("running", 4), ("running", 5), ("succeeded", 5),
    ]  # fmt: skip
    assert pushed[-1] == {"job_id": job_id, "status": "succeeded", "processed_rows": 5, "total_rows": 5,
                          "created": 5, "updated": 0, "skipped": 0, "failed": 0}  # fmt: skip
    socket.disconnect(namespace=NAMESPACE)


def test_issue_rows_are_kept_per_job(app, client, cameras_slug, seller) -> None:  # type: ignore[no-untyped-def]
    make_category(name="Other")
    content, expected = broken_file(30)
    job_id = upload(client, seller.headers, content, mode="dry_run").json["id"]
    run(app, job_id)
    count = db.session.execute(sa.select(sa.func.count()).select_from(ImportIssue)).scalar_one()
    assert count == len(expected)


def test_every_column_of_a_row_lands_in_its_listing(app, client, cameras_slug, seller) -> None:  # type: ignore[no-untyped-def]
    line = {"sku": "FULL-1", "title": "Leica M6", "description": "Rangefinder body, serviced last year, no strap.",
            "category": "cameras", "price_amount": 210_000, "currency": "EUR", "quantity": 2, "condition": "good",
            "condition_answers": {"flaws": "brassing", "stains": False, "missing_parts": True},
            "attributes": {"brand": "Leica", "mount": "M"},
            "shipping_options": [{"method": "tracked", "price_amount": 900}],
            "photos": [{"key": f"p/{n}.jpg", "content_type": "image/jpeg", "size_bytes": 900, "width": 640,
                        "height": 480, "order": 2 - n} for n in range(3)],
            "location_label": "Lyon", "country": "FR", "latitude": 45.76, "longitude": 4.84, "language": "french",
            "publish": True}  # fmt: skip
    job_id = upload(client, seller.headers, json.dumps(line).encode(), name="full.jsonl").json["id"]
    assert run(app, job_id) == "succeeded"
    assert report(client, job_id, seller.headers) == []
    listing = db.session.execute(sa.select(Listing).where(Listing.sku == "FULL-1")).scalar_one()
    got = {c: getattr(listing, c) for c in ("title", "description", "price_amount", "currency", "quantity",
                                            "condition_answers", "attributes", "location_label", "country",
                                            "latitude", "longitude", "language", "seller_id", "version")}  # fmt: skip
    assert got == {k: v for k, v in line.items() if k in got} | {"seller_id": seller.id, "version": 1}
    assert listing.shipping_options == [{"method": "tracked", "price_amount": 900, "days_min": 1, "days_max": 5}]
    assert [p["order"] for p in listing.photos] == [0, 1, 2]
    assert (listing.condition, listing.status) == ("good", ListingStatus.PUBLISHED)
    assert listing.published_at is not None and listing.created_at == listing.updated_at
    assert listing.condition_score is not None and listing.category_id is not None


def test_published_rows_record_their_transition_and_one_event_each(app, client, cameras_slug, seller) -> None:  # type: ignore[no-untyped-def]
    from app.events import OutboxEvent
    from blueprints.listings.models import ListingStatusChange

    rows = [row(n) for n in range(1, 4)] + [row(4, publish="false")]
    job_id = upload(client, seller.headers, csv_bytes(rows)).json["id"]
    assert run(app, job_id) == "succeeded"
    listings = {x.sku: x for x in db.session.execute(sa.select(Listing)).scalars()}
    events = db.session.execute(sa.select(OutboxEvent).order_by(OutboxEvent.position)).scalars().all()
    assert [(e.type, e.actor, e.aggregate_id) for e in events] == [
        ("listings.ListingPublished", "system", str(listings[f"SKU-{n:05d}"].id)) for n in range(1, 4)
    ]
    first = listings["SKU-00001"]
    assert {
        k: events[0].payload[k] for k in ("listing_id", "seller_id", "from_status", "to_status", "reason", "title",
                                         "price_amount", "currency", "category_id")
    } == {"listing_id": str(first.id), "seller_id": str(seller.id), "from_status": "draft", "to_status": "published",
          "reason": "bulk import", "title": "Camera number 1", "price_amount": 1001, "currency": "EUR",
          "category_id": str(first.category_id)}  # fmt: skip
    changes = db.session.execute(sa.select(ListingStatusChange.listing_id, ListingStatusChange.transition)).all()
    assert sorted(changes) == sorted((listings[f"SKU-{n:05d}"].id, "publish") for n in range(1, 4))
    again = upload(client, seller.headers, csv_bytes(rows)).json["id"]
    assert run(app, again) == "succeeded"
    assert db.session.execute(sa.select(sa.func.count()).select_from(OutboxEvent)).scalar_one() == 3
