"""Validating one import row exactly like ``POST /listings``: the generated create schema (same
messages) then the domain checks of :mod:`blueprints.listings.validation` (same fields).

CSV cells are text: numbers are converted and nested fields are JSON cells (``photos``,
``shipping_options``, ``condition_answers``, ``attributes``) or ``attr.<name>`` columns. A row
without ``sku`` gets one derived from its content, so re-running the same file finds it again.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import current_app

from app.db import db
from app.generator.fastload import FastLoader
from app.generator.fields import STORABLE_TEXT
from blueprints.listings.bulk.attributes import Check, compile_attributes_check
from blueprints.listings.conditions import Rubric, load_rubrics
from blueprints.listings.models import Category, ListingCondition
from blueprints.listings.validation import check_content

JSON_CELLS = ("condition_answers", "attributes", "photos", "shipping_options")
INT_CELLS = ("price_amount", "quantity")
FLOAT_CELLS = ("latitude", "longitude")  # the schema's Float field reads numeric text
TRUE, FALSE = frozenset({"true", "yes", "1", "y"}), frozenset({"false", "no", "0", "n", ""})
DIGITS = re.compile(r"-?[0-9]+\Z").match
# What a listing created through the API gets when a field is left out (the model's defaults).
DEFAULTS: dict[str, Any] = {"description": "", "quantity": 1, "condition_answers": {}, "attributes": {}, "photos": [],
                            "shipping_options": [], "language": "english"}  # fmt: skip


@dataclass
class Issue:
    row: int
    field: str
    code: str
    message: str
    sku: str | None = None


@dataclass
class ValidRow:
    row: int
    sku: str
    publish: bool
    values: dict[str, Any] = field(default_factory=dict)  # Listing column -> value
    copy_text: str | None = None  # its COPY text (writing.copy_text), when formatted ahead of the write


def code_of(message: str) -> str:
    """A stable machine code for a validation message (the report's ``code`` column)."""
    lowered = message.lower()
    for needle, code in (
        ("missing data for required", "required"),
        ("required by", "required"),
        ("not a valid", "invalid_type"),
        ("must be one of", "invalid_choice"),
        ("is not one of", "invalid_choice"),
        ("no such", "unknown_reference"),
        ("at least", "incomplete"),
        ("unknown field", "unknown_field"),
        ("duplicate", "duplicate"),
        ("longer than", "too_long"),
        ("shorter than", "too_short"),
        ("greater than", "out_of_range"),
        ("less than", "out_of_range"),
        ("json", "invalid_json"),
    ):
        if needle in lowered:
            return code
    return "invalid"


def _flatten(errors: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(errors, dict):
        found = []
        for key, value in errors.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            found.extend(_flatten(value, name))
        return found
    if isinstance(errors, list):
        return [(prefix, str(m)) for m in errors if not isinstance(m, dict | list)] + [
            pair for m in errors if isinstance(m, dict | list) for pair in _flatten(m, prefix)
        ]
    return [(prefix, str(errors))]


_scan_json = json.JSONDecoder().scan_once


def _json_cell(text: str) -> Any:
    """``json.loads`` of a stripped, non-empty cell, without its wrapper's checks and whitespace skipping."""
    try:
        value, end = _scan_json(text, 0)
    except StopIteration:
        raise ValueError("Expecting value") from None
    if end != len(text):
        raise ValueError("Extra data")
    return value


def _reportable(sku: str | None) -> str | None:
    """The sku as the report can store it: NUL and lone surrogates escaped, at most 100 characters."""
    if sku is None or STORABLE_TEXT.match(sku):
        return None if sku is None else sku[:100]
    return sku.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\x00")[:100]


class RowValidator:
    """Validates rows of one seller's import; caches categories and rubrics for the whole file."""

    def __init__(self, *, seller_id: uuid.UUID, is_csv: bool) -> None:
        self.seller_id = seller_id
        self.is_csv = is_csv
        self.schema = current_app.extensions["bazaar_resources"]["listings.Listing"].schemas.create()
        self._kinds: dict[str, str] = {}
        self.loader = FastLoader(self.schema)  # certainly-valid rows skip marshmallow; the rest get its messages
        self.rubrics: dict[ListingCondition, Rubric] = load_rubrics()
        rows = db.session.execute(sa.select(Category.id, Category.slug, Category.attributes_schema)).all()
        self.categories: dict[str, tuple[uuid.UUID, dict]] = {}
        # per category: (draft, complete) checks that vouch for attributes without jsonschema
        self.attribute_checks: dict[uuid.UUID, tuple[Check | None, Check | None]] = {}
        for cid, slug, schema in rows:
            self.categories[slug] = self.categories[str(cid)] = (cid, schema or {})
            self.attribute_checks[cid] = tuple(compile_attributes_check(schema, complete=c) for c in (False, True))

    def _kind(self, key: str) -> str:
        """How a column's cells are read (cached: every row of a file has the same columns)."""
        if key.startswith("attr."):
            kind = "attr"
        elif key in JSON_CELLS:
            kind = "json"
        elif key in INT_CELLS:
            kind = "int"
        elif key in FLOAT_CELLS:
            kind = "float"
        elif key == "publish":
            kind = "publish"
        else:
            kind = "text"
        self._kinds[key] = kind
        return kind

    def _cells(self, raw: Mapping[str, Any], issues: list[Issue], number: int) -> dict[str, Any]:
        """CSV text -> typed values (JSONL values pass through); conversion errors become issues."""
        values: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        kinds = self._kinds
        for key, value in raw.items():
            kind = kinds.get(key) or self._kind(key)
            if kind == "attr":
                if value not in ("", None):
                    attributes[key[5:]] = value
                continue
            if not self.is_csv:
                values[key] = value
                continue
            text = value.strip() if isinstance(value, str) else value
            if text == "" and key not in ("description",):
                continue
            if kind == "text":
                values[key] = value
            elif kind == "json":
                try:
                    values[key] = _json_cell(text)
                except ValueError:
                    issues.append(Issue(number, key, "invalid_json", "Not valid JSON."))
            elif kind == "int":
                # ASCII digits only ("²" and "٣" are digits to str.isdigit and int()); the schema names the rest
                values[key] = int(text) if DIGITS(text) else text
            elif kind == "float":
                values[key] = text
            elif kind == "publish":
                flag = text.lower()
                if flag in TRUE:
                    values[key] = True
                elif flag in FALSE:
                    values[key] = False
                else:
                    issues.append(Issue(number, key, "invalid_type", "Not a valid boolean."))
            else:
                values[key] = value
        if attributes:
            merged = values.get("attributes") if isinstance(values.get("attributes"), dict) else {}
            values["attributes"] = {**merged, **attributes}
        return values

    def validate(self, number: int, raw: Mapping[str, Any]) -> ValidRow | list[Issue]:
        if "__shape__" in raw:
            return [Issue(number, "row", "malformed_row", raw["__shape__"])]
        issues: list[Issue] = []
        cells = self._cells(raw, issues, number)
        sku = str(cells.pop("sku", "") or "").strip() or None
        publish = cells.pop("publish", False)
        if not isinstance(publish, bool):
            issues.append(Issue(number, "publish", "invalid_type", "Not a valid boolean."))
        body: dict[str, Any] = {k: v for k, v in cells.items() if k not in ("category", "price_amount", "currency")}
        if sku is not None:
            body["sku"] = sku  # the schema's sku field: its length and NUL checks and messages, as in the API
        category = self.categories.get(str(cells.get("category", "")).strip())
        if "category" not in cells:
            issues.append(Issue(number, "category", "required", "Missing data for required field."))
        elif category is None:
            issues.append(Issue(number, "category", "unknown_reference", "No such Category."))
        else:
            body["category_id"] = category[0]  # a UUID: the schema field takes it as is (no text round trip)
        if "price_amount" in cells or "currency" in cells:
            body["price"] = {"amount": cells.get("price_amount"), "currency": cells.get("currency")}
        loaded = self.loader.fast(body)
        if loaded is None:
            try:
                loaded = self.schema.load(body)
            except ma.ValidationError as error:
                issues.extend(
                    Issue(number, f, code_of(m), m) for f, m in _flatten(error.messages) if f != "category_id"
                )
                loaded = None
        if loaded is not None and category is not None:
            values = {**DEFAULTS, **{k: v for k, v in loaded.items() if k != "price"}}
            values["price_amount"], values["currency"] = loaded["price"]["amount"], loaded["price"]["currency"]
            grade = ListingCondition(values["condition"]) if values.get("condition") else None
            vouch = self.attribute_checks[category[0]][bool(publish)]
            # attributes vouched for need no jsonschema run: check_content then only checks they are an object
            schema = None if vouch is not None and vouch(values["attributes"]) else category[1]
            errors, score = check_content(
                values, category_schema=schema, rubric=self.rubrics.get(grade), complete=bool(publish)
            )
            reported = {i.field for i in issues}  # a cell that did not parse is reported once, not again as missing
            issues.extend(
                Issue(number, f, code_of(m), m)
                for f, ms in errors.items()
                if f.split(".")[0] not in reported
                for m in ms
            )
            values["condition_score"] = score
            if values.get("photos"):
                values["photos"] = sorted(values["photos"], key=lambda p: p.get("order", 0))
        if issues:
            shown = _reportable(sku)
            for issue in issues:
                issue.sku = shown
            return issues
        sku = sku or "auto-" + hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:24]
        if len(sku) > 100:
            return [Issue(number, "sku", "too_long", "Longer than maximum length 100.", sku[:100])]
        values["sku"] = sku
        return ValidRow(number, sku, bool(publish), values)
