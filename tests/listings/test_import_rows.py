"""Bulk import rows that once went wrong: deleted skus, odd digits, NUL in the sku, publishing a kept draft."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from blueprints.listings.models import Category, Listing, ListingStatus
from tests.listings.factories import CAMERA_SCHEMA
from tests.listings.importing import HEADER, csv_bytes, row, run, upload


@pytest.fixture
def cameras_slug(app_ctx) -> str:  # type: ignore[no-untyped-def]
    db.session.add(Category(name="Cameras", slug="cameras", attributes_schema=CAMERA_SCHEMA))
    db.session.commit()
    return "cameras"


def _import(app, client, seller, rows, mode: str = "create_valid") -> tuple[str, dict, list[tuple]]:  # type: ignore[no-untyped-def]
    job_id = upload(client, seller.headers, csv_bytes(rows, [*HEADER, "quantity"]), mode=mode).json["id"]
    status = run(app, job_id)
    job = client.get(f"/listings/imports/{job_id}", headers=seller.headers).json
    text = client.get(f"/listings/imports/{job_id}/report.csv", headers=seller.headers).get_data(as_text=True)
    lines = [(int(r["row"]), r["sku"], r["field"], r["code"], r["message"]) for r in csv.DictReader(io.StringIO(text))]
    return status, job, lines


def _api_errors(client, seller, cameras_slug, **changes) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    category = db.session.execute(sa.select(Category.id).where(Category.slug == cameras_slug)).scalar_one()
    body = {"title": "Camera", "category_id": str(category), "price": {"amount": 1000, "currency": "EUR"},
            "condition": "good", **changes}  # fmt: skip
    response = client.post("/listings", json=body, headers=seller.headers)
    assert response.status_code == 422, response.json
    return response.json["errors"]


def test_a_sku_whose_listing_was_deleted_is_reported_and_the_batch_goes_on(app, client, cameras_slug, seller) -> None:  # type: ignore[no-untyped-def]
    status, job, _ = _import(app, client, seller, [row(1), row(2)])
    assert (status, job["created_count"]) == ("succeeded", 2)
    deleted = db.session.execute(sa.select(Listing.id).where(Listing.sku == "SKU-00001")).scalar_one()
    etag = client.get(f"/listings/{deleted}", headers=seller.headers).headers["ETag"]
    assert client.delete(f"/listings/{deleted}", headers=seller.headers | {"If-Match": etag}).status_code == 204
    status, job, lines = _import(app, client, seller, [row(1), row(2), row(3)])
    assert status == "succeeded"
    assert (job["created_count"], job["skipped_count"], job["failed_count"]) == (1, 1, 1)
    assert lines == [(1, "SKU-00001", "sku", "conflict", "A deleted listing of this seller has this sku.")]
    skus = db.session.execute(sa.select(Listing.sku, Listing.deleted_at.is_(None)).order_by(Listing.sku)).all()
    assert skus == [("SKU-00001", False), ("SKU-00002", True), ("SKU-00003", True)]
    # all_or_nothing: the same row fails the whole file
    status, job, lines = _import(app, client, seller, [row(4), row(1)], mode="all_or_nothing")
    assert status == "failed" and [line[:4] for line in lines] == [(2, "SKU-00001", "sku", "conflict")]
    assert db.session.execute(sa.select(sa.func.count()).where(Listing.sku == "SKU-00004")).scalar_one() == 0


@pytest.mark.parametrize("column", ["price_amount", "quantity"])
@pytest.mark.parametrize("cell", ["²", "٣", "1²", "-²", "⑦", "--5"])
def test_odd_digits_in_a_number_column_get_the_api_message(app, client, cameras_slug, seller, column, cell) -> None:  # type: ignore[no-untyped-def]
    field, body = {"price_amount": ("price.amount", {"price": {"amount": cell, "currency": "EUR"}}),
                   "quantity": ("quantity", {"quantity": cell})}[column]  # fmt: skip
    api = _api_errors(client, seller, cameras_slug, **body)
    messages = api[field]
    status, _, lines = _import(app, client, seller, [row(1, **{column: cell})], mode="dry_run")
    assert status == "succeeded"
    assert [(line[2], line[4]) for line in lines] == [(field, m) for m in messages]


@pytest.mark.parametrize("cell", ["²", "⑦", "tru", "maybe", "\u0661"])
def test_a_cell_that_is_no_boolean_is_named_as_one(app, client, cameras_slug, seller, cell) -> None:  # type: ignore[no-untyped-def]
    status, _, lines = _import(app, client, seller, [row(1, publish=cell)], mode="dry_run")
    assert status == "succeeded"
    assert [line[2:] for line in lines] == [("publish", "invalid_type", "Not a valid boolean.")]


def test_a_sku_with_a_nul_character_is_refused_like_other_text(app, client, cameras_slug, seller) -> None:  # type: ignore[no-untyped-def]
    api = _api_errors(client, seller, cameras_slug, sku="A\x00B", title="Cam\x00era")
    assert set(api) == {"sku", "title"}  # the API refuses both (its NUL guard answers before the schema)
    # a CSV with NUL in its first 4 KB is refused as binary: JSON Lines (and later CSV rows) carry them
    line = {"category": "cameras", "price_amount": 1000, "currency": "EUR", "condition": "good",
            "attributes": {"brand": "Canon"}}  # fmt: skip
    lines = [{**line, "sku": "A\x00B", "title": "Camera"}, {**line, "sku": "B", "title": "Cam\x00era"},
             {**line, "sku": "C\ud800", "title": "Camera"}, {**line, "sku": "D", "title": "Camera"}]  # fmt: skip
    content = "\n".join(json.dumps(x) for x in lines).encode()
    job_id = upload(client, seller.headers, content, name="nul.jsonl").json["id"]
    assert run(app, job_id) == "succeeded"
    text = client.get(f"/listings/imports/{job_id}/report.csv", headers=seller.headers).get_data(as_text=True)
    got = [(int(r["row"]), r["sku"], r["field"], r["message"]) for r in csv.DictReader(io.StringIO(text))]
    refused = "Text must not contain NUL characters or lone surrogates."
    assert got == [(1, "A\\x00B", "sku", refused), (2, "B", "title", refused), (3, "C\\ud800", "sku", refused)]
    assert db.session.execute(sa.select(Listing.sku)).scalars().all() == ["D"]


def test_an_unchanged_draft_marked_publish_is_published(app, client, cameras_slug, seller) -> None:  # type: ignore[no-untyped-def]
    status, job, _ = _import(app, client, seller, [row(1, publish="false"), row(2, publish="false")])
    assert (status, job["created_count"]) == ("succeeded", 2)
    status, job, lines = _import(app, client, seller, [row(1, publish="true"), row(2, publish="false")])
    assert (status, lines) == ("succeeded", [])
    assert (job["updated_count"], job["skipped_count"]) == (1, 1)
    statuses = dict(db.session.execute(sa.select(Listing.sku, Listing.status)).all())
    assert statuses == {"SKU-00001": ListingStatus.PUBLISHED, "SKU-00002": ListingStatus.DRAFT}
    status, job, _ = _import(app, client, seller, [row(1, publish="true"), row(2, publish="false")])
    assert (job["updated_count"], job["skipped_count"]) == (0, 2)  # published now: nothing left to do


def test_a_failed_write_stops_the_job_at_the_last_checkpoint(app, client, cameras_slug, seller, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from blueprints.listings.bulk import runner
    from blueprints.listings.models import ImportJob

    written = []

    def failing_write(seller_id, rows, issues):  # type: ignore[no-untyped-def]
        if written:
            raise RuntimeError("database went away")
        written.append(len(rows))
        return real_write(seller_id, rows, issues)

    real_write = runner.write_rows
    monkeypatch.setattr(runner, "write_rows", failing_write)
    job_id = upload(client, seller.headers, csv_bytes([row(n) for n in range(1, 11)])).json["id"]
    with pytest.raises(RuntimeError, match="database went away"):
        run(app, job_id, batch_size=3)
    db.session.expire_all()
    job = db.session.get(ImportJob, job_id)
    assert (job.status, job.processed_rows, job.created_count) == ("running", 3, 3)
    monkeypatch.setattr(runner, "write_rows", real_write)
    assert run(app, job_id, batch_size=3) == "succeeded"  # resumes after the checkpoint
    db.session.expire_all()
    job = db.session.get(ImportJob, job_id)
    assert (job.processed_rows, job.created_count) == (10, 10)
    assert db.session.execute(sa.select(sa.func.count()).select_from(Listing)).scalar_one() == 10


def test_characters_copy_escapes_arrive_unchanged(app, client, cameras_slug, seller) -> None:  # type: ignore[no-untyped-def]
    odd = 'tab\there, back\\slash, \\N, cr\rlf\nbell\b\v\f, é ☃ "quoted"'
    lines = [
        {"sku": f"ODD-{n}", "title": title, "description": odd, "category": "cameras", "price_amount": 500 + n,
         "currency": "EUR", "condition": "good", "location_label": label, "country": "FR",
         "latitude": -0.0, "longitude": 1e-07, "attributes": {"brand": odd}}
        for n, (title, label) in enumerate([("Plain title", None), (odd[:100], "Lyon\t2e"), ("Clean", "Paris")])
    ]  # fmt: skip
    content = "\n".join(json.dumps(line) for line in lines).encode()
    job_id = upload(client, seller.headers, content, name="odd.jsonl").json["id"]
    assert run(app, job_id, batch_size=2) == "succeeded"
    assert (
        client.get(f"/listings/imports/{job_id}/report.csv", headers=seller.headers).get_data(as_text=True).count("\n")
        == 1
    )  # the header only
    for line in lines:
        listing = db.session.execute(sa.select(Listing).where(Listing.sku == line["sku"])).scalar_one()
        got = {k: getattr(listing, k) for k in ("title", "description", "location_label", "latitude", "longitude")}
        assert got == {k: line[k] for k in got}
        assert listing.attributes == {"brand": odd} and listing.status == ListingStatus.DRAFT


def test_a_validation_error_in_the_child_fails_the_run_and_no_child_lingers(
    app, client, cameras_slug, seller, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from blueprints.listings.bulk import rows

    def broken(self, number, raw):  # type: ignore[no-untyped-def]
        if number == 4:
            raise ValueError("validator bug")
        return real(self, number, raw)

    real = rows.RowValidator.validate
    monkeypatch.setattr(rows.RowValidator, "validate", broken)
    job_id = upload(client, seller.headers, csv_bytes([row(n) for n in range(1, 8)])).json["id"]
    before = _children()
    with pytest.raises(RuntimeError, match="validator bug"):
        run(app, job_id, batch_size=3)
    assert _children() == before  # the validating child was reaped
    monkeypatch.setattr(rows.RowValidator, "validate", real)
    assert run(app, job_id, batch_size=3) == "succeeded"  # resumes after the checkpoint (rows 1-3)
    job = client.get(f"/listings/imports/{job_id}", headers=seller.headers).json
    assert (job["processed_rows"], job["created_count"], job["failed_count"]) == (7, 7, 0)


def _children() -> set[str]:
    """Pids of this process's children, zombies included, from /proc."""
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) == os.getpid():
                found.add(pid)
        except (OSError, IndexError, ValueError):
            continue
    return found


def test_the_validating_child_ignores_shutdown_signals(app, client, cameras_slug, seller, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import signal

    from blueprints.listings.bulk import rows

    def signalled(self, number, raw):  # type: ignore[no-untyped-def]
        if number == 4:  # runs in the child: a worker's warm-shutdown signal must not end it (nor run RQ's handler)
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGINT)
        return real(self, number, raw)

    real = rows.RowValidator.validate
    monkeypatch.setattr(rows.RowValidator, "validate", signalled)
    job_id = upload(client, seller.headers, csv_bytes([row(n) for n in range(1, 8)])).json["id"]
    assert run(app, job_id, batch_size=3) == "succeeded"
    assert db.session.execute(sa.select(sa.func.count()).select_from(Listing)).scalar_one() == 7
