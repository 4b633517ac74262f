"""Hand-written listing endpoints beside the generated ones: price history and bulk import uploads."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import Response, current_app, stream_with_context
from flask_smorest import Blueprint, abort
from flask_smorest.fields import Upload

from app.extensions import db
from app.generator import Actor
from app.generator.access import call_service
from app.generator.http import json_response
from app.security import current_principal
from blueprints.listings import service
from blueprints.listings.bulk import jobs as bulk_jobs
from blueprints.listings.models import ImportJob, Listing, ListingStatus

blp = Blueprint("listings_extra", __name__, description="Listing price history and bulk imports")


class PricePointSchema(ma.Schema):
    occurred_at = ma.fields.AwareDateTime(required=True)
    old_amount = ma.fields.Integer(required=True)
    new_amount = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)


class PriceHistorySchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PricePointSchema), required=True)


def _visible(listing_id: uuid.UUID) -> None:
    """404 unless the caller may read the listing (published, their own, or staff)."""
    principal = current_principal()
    row = db.session.execute(
        sa.select(Listing.status, Listing.seller_id).where(Listing.id == listing_id, Listing.deleted_at.is_(None))
    ).first()
    mine = principal.is_authenticated and row is not None and row.seller_id == principal.user_id
    staff = principal.is_authenticated and "staff" in principal.roles
    if row is None or not (row.status == ListingStatus.PUBLISHED.value or mine or staff):
        abort(404, message="No such Listing.")


@blp.route("/<uuid:listing_id>/price-history", methods=["GET"])
@blp.response(200, PriceHistorySchema)
def price_history(listing_id: uuid.UUID) -> dict[str, Any]:
    """The listing's price changes since publication (drops and rises), oldest first."""
    _visible(listing_id)
    return {"items": service.price_history(listing_id=listing_id)}


class ImportUploadSchema(ma.Schema):
    """A multipart upload: the file, how to import it, and (staff only) for which seller."""

    class Meta:
        unknown = ma.RAISE

    mode = ma.fields.String(
        load_default="create_valid",
        validate=ma.validate.OneOf(["dry_run", "create_valid", "all_or_nothing"]),
        metadata={"description": "dry_run (validate only), create_valid (write valid rows) or all_or_nothing"},
    )
    format = ma.fields.String(
        validate=ma.validate.OneOf(["csv", "jsonl"]),
        metadata={"description": "csv or jsonl (default: from the file name)"},
    )
    seller_id = ma.fields.UUID(metadata={"description": "Staff only: import for this seller"})


class ImportFileSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "CSV (UTF-8, header row) or JSON Lines; at most 50 MB"})


@blp.route("/imports", methods=["POST"])
@blp.arguments(ImportUploadSchema, location="form")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(202)
def upload_import(form: dict[str, Any], files: dict[str, Any]) -> Response:
    """Upload a file of listings to import; answers 202 with the import job (poll it or listen on Socket.IO)."""
    principal = current_principal()
    if not principal.is_authenticated:
        abort(401, message="Authentication required.", headers={"WWW-Authenticate": "Bearer"})
    staff = "staff" in principal.roles
    if form.get("seller_id") is not None and not staff:
        abort(403, message="Only staff import for another seller.", errors={"seller_id": ["Staff only."]})
    upload = files["file"]
    filename = upload.filename or ""
    file_format = form.get("format") or ("jsonl" if filename.lower().endswith((".jsonl", ".ndjson")) else "csv")
    actor = Actor.from_principal(principal)
    job = call_service(
        bulk_jobs.start_import,
        seller_id=form.get("seller_id") or principal.user_id,
        actor=actor,
        filename=filename,
        content=upload.read(),
        file_format=file_format,
        mode=form["mode"],
    )
    db.session.flush()
    body = current_app.extensions["bazaar_resources"]["listings.ImportJob"].dump_fn()(job)
    db.session.commit()
    response = json_response(body, 202)
    response.headers["Location"] = f"/listings/imports/{job.id}"
    return response


@blp.route("/imports/<uuid:job_id>/report.csv", methods=["GET"])
@blp.response(200, content_type="text/csv")
def import_report(job_id: uuid.UUID) -> Response:
    """The import's report as CSV: row, sku, field, code, message (row 0: the file as a whole)."""
    principal = current_principal()
    if not principal.is_authenticated:
        abort(401, message="Authentication required.", headers={"WWW-Authenticate": "Bearer"})
    seller_id = db.session.execute(sa.select(ImportJob.seller_id).where(ImportJob.id == job_id)).scalar()
    if seller_id is None or (seller_id != principal.user_id and "staff" not in principal.roles):
        abort(404, message="No such ImportJob.")
    return Response(
        stream_with_context(bulk_jobs.report_csv(job_id=job_id)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{job_id}-report.csv"'},
    )
