"""Helpers of import tests: files with known bad rows, uploads through the API, running the job."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

from blueprints.listings.bulk.runner import run_import

HEADER = ["sku", "title", "description", "category", "price_amount", "currency", "condition", "condition_answers",
          "attr.brand", "photos", "shipping_options", "publish"]  # fmt: skip
PHOTOS = json.dumps(
    [{"key": f"p/{n}.jpg", "content_type": "image/jpeg", "size_bytes": 900, "width": 640, "height": 480, "order": n}
     for n in range(3)]
)  # fmt: skip
SHIPPING = json.dumps([{"method": "tracked", "price_amount": 500, "days_min": 1, "days_max": 3}])
ANSWERS = json.dumps({"flaws": "none", "stains": False, "missing_parts": False})

# (column, bad value, expected report line) — broken_file() spreads them over the rows
BREAKAGES: list[tuple[str, str, tuple[str, str, str]]] = [
    ("price_amount", "12,50", ("price.amount", "invalid_type", "Not a valid integer.")),
    ("currency", "euro", ("price.currency", "invalid", "Expected an ISO 4217 code such as EUR.")),
    ("condition", "mint", ("condition", "invalid_choice",
                           "Must be one of: new_with_tags, new_without_tags, like_new, good, fair, for_parts.")),
    ("category", "spaceships", ("category", "unknown_reference", "No such Category.")),
    ("title", "", ("title", "required", "Missing data for required field.")),
    ("photos", "[{]", ("photos", "invalid_json", "Not valid JSON.")),
    ("attr.brand", "", ("attributes.brand", "required", "Required by the category.")),
]  # fmt: skip


def row(n: int, category: str = "cameras", **overrides: str) -> dict[str, str]:
    values = {
        "sku": f"SKU-{n:05d}",
        "title": f"Camera number {n}",
        "description": f'A fine camera, item {n}, with a strap and "quotes",\nand a second line.',
        "category": category,
        "price_amount": str(1000 + n),
        "currency": "EUR",
        "condition": "good",
        "condition_answers": ANSWERS,
        "attr.brand": "Canon",
        "photos": PHOTOS,
        "shipping_options": SHIPPING,
        "publish": "true",
    }
    values.update(overrides)
    return values


def csv_bytes(rows: list[dict[str, str]], header: list[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def broken_file(count: int = 1000, every: int = 7) -> tuple[bytes, list[tuple[int, str, str, str]]]:
    """``count`` rows where every ``every``-th row has one known defect; returns (file, expected report)."""
    rows, expected = [], []
    for n in range(1, count + 1):
        if n % every == 0:
            column, value, (field, code, message) = BREAKAGES[(n // every) % len(BREAKAGES)]
            rows.append(row(n, **{column: value}))
            expected.append((n, field, code, message))
        else:
            rows.append(row(n))
    return csv_bytes(rows), expected


def upload(client, headers, content: bytes, *, mode: str = "create_valid", name: str = "listings.csv", **form: Any):  # type: ignore[no-untyped-def]
    data = {"mode": mode, **form, "file": (io.BytesIO(content), name)}
    return client.post("/listings/imports", data=data, headers=headers, content_type="multipart/form-data")


def run(app, job_id: str | uuid.UUID, **kwargs: Any) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        return run_import(uuid.UUID(str(job_id)), **kwargs)
