"""Checks of a listing's content that need the database: category attributes, rubric answers, and
the completeness a listing needs before buyers may see it.

Shared by the API hooks, the admin (through the same hooks), ``publish`` and bulk import, so every
path reports the same fields with the same messages. Drafts may be incomplete: while editing only
the shape of what is given is checked; publishing checks that nothing is missing.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from blueprints.listings.conditions import Rubric, check_answers, condition_score
from blueprints.listings.models import ListingCondition

MIN_DESCRIPTION = 20


@functools.lru_cache(maxsize=512)
def _validators(schema_json: str) -> tuple[Draft202012Validator, Draft202012Validator]:
    """(draft validator without ``required``, full validator) of a category's attributes schema."""
    schema = json.loads(schema_json)
    relaxed = {k: v for k, v in schema.items() if k != "required"}
    return Draft202012Validator(relaxed), Draft202012Validator(schema)


def check_attributes_schema(schema: Any) -> list[str]:
    """Problems of a category's ``attributes_schema`` (staff input)."""
    if not isinstance(schema, dict):
        return ["Must be a JSON Schema object."]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        return [f"Not a valid JSON Schema: {error.message}"]
    return []


def check_attributes(schema: Mapping[str, Any] | None, attributes: Any, *, complete: bool) -> dict[str, list[str]]:
    if not isinstance(attributes, dict):
        return {"attributes": ["Must be an object."]}
    if not schema:
        return {}
    draft, full = _validators(json.dumps(schema, sort_keys=True))
    errors: dict[str, list[str]] = {}
    for error in (full if complete else draft).iter_errors(attributes):
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            key = f"attributes.{missing}" if missing else "attributes"
            errors.setdefault(key, []).append("Required by the category.")
        else:
            key = "attributes." + ".".join(str(p) for p in error.absolute_path) if error.absolute_path else "attributes"
            errors.setdefault(key, []).append(error.message)
    return errors


def check_content(
    values: Mapping[str, Any],
    *,
    category_schema: Mapping[str, Any] | None,
    rubric: Rubric | None,
    complete: bool,
) -> tuple[dict[str, list[str]], int | None]:
    """(errors by field, condition score) of a listing's values (a dict or a model's attributes)."""
    errors = check_attributes(category_schema, values.get("attributes") or {}, complete=complete)
    answers = values.get("condition_answers") or {}
    score = None
    if rubric is not None:
        errors.update(check_answers(rubric, answers, complete=complete))
        score = condition_score(rubric, answers)
    currency = values.get("currency")
    for index, option in enumerate(values.get("shipping_options") or []):
        if option.get("method") == "pickup" and option.get("price_amount"):
            errors[f"shipping_options.{index}.price_amount"] = ["Pickup is free."]
    if (values.get("latitude") is None) != (values.get("longitude") is None):
        errors["latitude" if values.get("latitude") is None else "longitude"] = [
            "Give both latitude and longitude, or neither."
        ]
    if complete:
        errors.update(_completeness(values, rubric, currency))
    return errors, score


def _completeness(values: Mapping[str, Any], rubric: Rubric | None, currency: Any) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    photos = values.get("photos") or []
    needed = max(1, rubric.min_photos if rubric else 1)
    if len(photos) < needed:
        grade = f" for the {rubric.label} grade" if rubric else ""
        errors["photos"] = [f"At least {needed} photos are needed{grade}."]
    if not values.get("price_amount") or values["price_amount"] <= 0:
        errors["price"] = ["A price above zero is needed to publish."]
    if not currency:
        errors["price"] = ["A currency is needed to publish."]
    if len((values.get("description") or "").strip()) < MIN_DESCRIPTION:
        errors["description"] = [f"At least {MIN_DESCRIPTION} characters are needed to publish."]
    if not values.get("shipping_options"):
        errors["shipping_options"] = ["At least one shipping option (or pickup) is needed to publish."]
    if (values.get("quantity") or 0) < 1:
        errors["quantity"] = ["Must be at least 1 to publish."]
    if values.get("condition") is None:
        errors["condition"] = ["A condition grade is needed to publish."]
    return errors


def values_of(listing: Any) -> dict[str, Any]:
    """The checked fields of a Listing row, as check_content reads them."""
    names = (
        "attributes", "condition_answers", "shipping_options", "photos", "price_amount", "currency",
        "description", "quantity", "condition", "latitude", "longitude",
    )  # fmt: skip
    return {name: getattr(listing, name) for name in names}


def grade_of(value: Any) -> ListingCondition | None:
    try:
        return ListingCondition(value) if value is not None else None
    except ValueError:
        return None
