"""The import's fast paths never disagree with the real checks: property tests on generated rows.

The compiled loader (``app.generator.fastload``) and the compiled attributes check
(``blueprints.listings.bulk.attributes``) may only say "certainly valid": whatever they accept, the
marshmallow create schema (resp. jsonschema) accepts too, with exactly the same loaded values. Rows
are generated valid, then mutated near the limits (bounds, types, NUL, lone surrogates, unknown keys,
missing keys). Each test also checks the fast path really takes the valid rows, so it cannot pass by
declining everything.
"""

from __future__ import annotations

import copy
import json
import math
import os
import uuid
from typing import Any

import marshmallow as ma
import pytest
from flask import current_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.generator.fastload import FastLoader
from blueprints.listings.bulk.attributes import compile_attributes_check
from blueprints.listings.bulk.rows import RowValidator, ValidRow
from blueprints.listings.models import Category
from blueprints.listings.schemas import IMAGE_TYPES, SHIPPING_METHODS
from blueprints.listings.validation import check_attributes
from tests.listings.factories import CAMERA_SCHEMA
from tests.listings.importing import BREAKAGES, PHOTOS, row

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "300"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
CONDITIONS = ["new_with_tags", "new_without_tags", "like_new", "good", "fair", "for_parts"]
EDGE_INTS = [-1, 0, 1, 5, 11, 12, 63, 64, 65, 90, 91, 11_999, 12_000, 12_001, 10_000_000, 10_000_001,
             25 * 1024 * 1024, 25 * 1024 * 1024 + 1, 2**31 - 1, 2**31, 2**63 - 1, 2**63,
             -(2**31), -(2**31) - 1]  # fmt: skip
EDGE_TEXT = ["", " ", "a", "\x00", "a\x00b", "\ud800", "12", "-3", "1e3", "1_0", "nan", "inf", "-inf", "EUR", "eur",
             "EURO", "FR", "fr", "good", "GOOD", "image/jpeg", "pickup", "tracked", str(uuid.uuid4()), "x" * 141,
             "x" * 501, "45.5", " 45.5 ", "true", "[]", "{}"]  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.sampled_from(EDGE_INTS), st.integers(),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, 1.0, -0.5, 90.0, 90.0001, 180.0, 1e300]),
    st.sampled_from(EDGE_TEXT), st.text(max_size=20),
)  # fmt: skip
ODD_VALUES = st.one_of(
    SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=5), SCALARS, max_size=3)
)


def storable(text: str) -> str:
    """Text PostgreSQL can store (no NUL, no lone surrogate), as valid rows have."""
    return text.replace("\x00", "").encode("utf-8", "ignore").decode()


STORABLE_TEXT = st.text(max_size=30).map(storable)


def strictly_equal(a: Any, b: Any) -> bool:
    """Equal values of the same types all the way down (1 == 1.0 == True does not count)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strictly_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(strictly_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def photo(order: int) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({
        "key": STORABLE_TEXT.filter(bool),
        "content_type": st.sampled_from(IMAGE_TYPES),
        "size_bytes": st.integers(1, 25 * 1024 * 1024),
        "width": st.integers(64, 12_000),
        "height": st.integers(64, 12_000),
        "order": st.just(order),
    })  # fmt: skip


def shipping() -> st.SearchStrategy[dict]:
    days = st.integers(0, 90)
    return st.builds(
        lambda method, price, low, high, keep: {
            "method": method, "price_amount": price,
            **({"days_min": min(low, high), "days_max": max(low, high)} if keep else {}),
        },
        st.sampled_from(SHIPPING_METHODS), st.integers(0, 10_000_000), days, days, st.booleans(),
    )  # fmt: skip


@st.composite
def valid_body(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(0, 4))
    body = {
        "category_id": str(uuid.uuid4()),
        "title": storable(draw(st.text(max_size=140))),
        "price": {"amount": draw(st.integers(0, 2**63 - 1)), "currency": draw(st.sampled_from(["EUR", "USD", "GBP"]))},
        "condition": draw(st.sampled_from(CONDITIONS)),
    }
    optional = {
        "description": STORABLE_TEXT,
        "quantity": st.integers(-(2**31), 2**31 - 1),
        "photos": st.tuples(*(photo(n) for n in range(count))).map(list),
        "shipping_options": st.lists(shipping(), max_size=3),
        "attributes": st.dictionaries(st.sampled_from(["brand", "mount"]), st.sampled_from(["Canon", "EF", 3])),
        "condition_answers": st.dictionaries(st.sampled_from(["flaws", "stains"]), st.booleans() | STORABLE_TEXT),
        "latitude": st.one_of(st.floats(-90, 90), st.integers(-90, 90), st.floats(-90, 90).map(lambda f: f"{f:.5f}")),
        "longitude": st.one_of(st.floats(-180, 180), st.floats(-180, 180).map(lambda f: f"{f:.5f}")),
        "country": st.sampled_from(["FR", "DE", None]),
        "location_label": st.one_of(st.none(), st.just("Lyon")),
        "language": st.sampled_from(["english", "french"]),
    }  # fmt: skip
    for name in draw(st.lists(st.sampled_from(sorted(optional)), unique=True)):
        body[name] = draw(optional[name])
    return body


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


def nearby(value: Any) -> st.SearchStrategy[Any]:
    """Values close to ``value``: just past a bound, another type of the same number, longer text."""
    if type(value) is int:
        return st.one_of(st.integers(-3, 3).map(lambda d: value + d), st.sampled_from(EDGE_INTS),
                         st.sampled_from([float(value), str(value), value * 2, -value, True]))  # fmt: skip
    if type(value) is float:
        return st.sampled_from([value + 1e-9, -value, value * 2, str(value), math.nan, math.inf, int(value)])
    if type(value) is str:
        return st.sampled_from([value + "\x00", value + "\ud800", value.lower(), value.upper(), value * 200, "",
                                value.encode("utf-8", "surrogatepass"), value + "x", f" {value}"])  # fmt: skip
    return ODD_VALUES


@st.composite
def mutated_body(draw: st.DrawFn) -> dict[str, Any]:
    """A valid body with one to three changes: a value replaced by an odd one, a key removed or added."""
    body = copy.deepcopy(draw(valid_body()))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(body) or [("title",)]))
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["nearby", "nearby", "replace", "remove", "add"]))
        if action == "nearby":
            parent[path[-1]] = draw(nearby(parent[path[-1]]))
        elif action == "replace":
            parent[path[-1]] = draw(ODD_VALUES)
        elif action == "remove" and isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["colour", "id", "status", "seller_id", "days_min", "order"]))] = draw(SCALARS)
    return body


@pytest.fixture
def create_schema(app_ctx) -> ma.Schema:  # type: ignore[no-untyped-def]
    return current_app.extensions["bazaar_resources"]["listings.Listing"].schemas.create()


def _agrees(loader: FastLoader, schema: ma.Schema, body: dict) -> bool:
    """Asserts the fast path never accepts what the schema refuses nor loads other values; True if it took the body."""
    fast = loader.fast(copy.deepcopy(body))
    if fast is None:
        return False
    expected = schema.load(copy.deepcopy(body))  # raises if the fast path accepted an invalid body
    assert strictly_equal(fast, expected), (body, fast, expected)
    return True


def test_fast_loader_takes_valid_bodies_with_the_schema_values(create_schema) -> None:  # type: ignore[no-untyped-def]
    loader = FastLoader(create_schema)
    assert loader.compiled

    @SETTINGS
    @given(valid_body())
    def check(body: dict) -> None:
        assert _agrees(loader, create_schema, body), f"a valid body was declined: {body}"

    check()


def test_fast_loader_never_accepts_what_the_schema_refuses(create_schema) -> None:  # type: ignore[no-untyped-def]
    loader = FastLoader(create_schema)
    outcomes = {"taken": 0, "declined": 0}

    @SETTINGS
    @given(mutated_body())
    def check(body: dict) -> None:
        outcomes["taken" if _agrees(loader, create_schema, body) else "declined"] += 1

    check()
    assert outcomes["taken"] > 0 and outcomes["declined"] > 0, outcomes


FULL_BODY: dict[str, Any] = {
    "category_id": str(uuid.uuid4()), "title": "Canon camera", "description": "A fine camera body, lightly used.",
    "price": {"amount": 12_000, "currency": "EUR"}, "condition": "good", "quantity": 2,
    "condition_answers": {"flaws": "none", "stains": False}, "attributes": {"brand": "Canon"},
    "photos": [{"key": f"p/{n}.jpg", "content_type": "image/png", "size_bytes": 900, "width": 640, "height": 480,
                "order": n} for n in range(2)],
    "shipping_options": [{"method": "tracked", "price_amount": 500, "days_min": 1, "days_max": 3}],
    "latitude": 45.5, "longitude": "4.8", "country": "FR", "location_label": "Lyon", "language": "english",
}  # fmt: skip


def test_fast_loader_agrees_on_edge_values_at_every_leaf(create_schema) -> None:  # type: ignore[no-untyped-def]
    """Every leaf of a complete body set to each edge value in turn (a deterministic sweep of the bounds)."""
    loader = FastLoader(create_schema)
    assert _agrees(loader, create_schema, FULL_BODY)
    taken = declined = 0
    for path in _paths(FULL_BODY):
        for value in [*EDGE_INTS, *EDGE_TEXT, None, True, 1.5, math.nan, math.inf, [], {}]:
            body = copy.deepcopy(FULL_BODY)
            parent = body
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = value
            if _agrees(loader, create_schema, body):
                taken += 1
            else:
                declined += 1
    assert taken > 0 and declined > 0


VALUE_SCHEMAS = st.one_of(
    st.fixed_dictionaries({"type": st.just("string")}, optional={
        "minLength": st.integers(0, 3), "maxLength": st.integers(0, 5),
        "enum": st.lists(st.sampled_from(["a", "EF", "", 1]), max_size=3)}),
    st.fixed_dictionaries({"type": st.sampled_from(["integer", "number"])}, optional={
        "minimum": st.sampled_from([0, 1, 1.5, -2]), "maximum": st.sampled_from([0, 10, 10.5]),
        "exclusiveMinimum": st.sampled_from([0, 1.5]), "exclusiveMaximum": st.sampled_from([10, 2.5]),
        "enum": st.lists(st.sampled_from([1, 2, 1.0, 32, True]), max_size=3)}),
    st.fixed_dictionaries({"type": st.just("boolean")},
                          optional={"enum": st.lists(st.sampled_from([True, 0]), max_size=2)}),
)  # fmt: skip
UNSUPPORTED_SCHEMAS = st.sampled_from(
    [{"type": "array"}, {"type": "null"}, {"pattern": "^a"}, {"type": "string", "format": "email"}]
)
ATTRIBUTE_SCHEMAS = st.builds(
    lambda props, required, closed: {"type": "object", "properties": props, "required": required,
                                     **({"additionalProperties": closed} if closed is not None else {})},
    st.dictionaries(st.sampled_from(["brand", "mount", "size"]), VALUE_SCHEMAS, max_size=3)
    | st.dictionaries(st.sampled_from(["brand", "size"]), VALUE_SCHEMAS | UNSUPPORTED_SCHEMAS, max_size=2),
    st.lists(st.sampled_from(["brand", "size"]), unique=True, max_size=2),
    st.one_of(st.none(), st.booleans()),
)  # fmt: skip
ATTRIBUTE_VALUES = st.one_of(
    st.sampled_from(["a", "EF", "ab", "abcdef", "", 1, 2, 1.0, 1.5, 10, 10.5, 11, -2, 32, True, False, 0, 0.0]),
    st.text(max_size=7), st.integers(-3, 12), SCALARS,
)  # fmt: skip


SWEPT_SCHEMAS = [{"type": "string"}, {"type": "string", "minLength": 2}, {"type": "string", "maxLength": 1},
                 {"type": "string", "enum": ["EF", "a"]}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"},
                 {"type": "integer", "minimum": 1}, {"type": "number", "maximum": 10.5},
                 {"type": "number", "exclusiveMinimum": 1.5}, {"type": "integer", "exclusiveMaximum": 10},
                 {"type": "integer", "enum": [1, 32]}, {"type": "boolean", "enum": [True]}]  # fmt: skip
SWEPT_VALUES = ["", "a", "EF", "ab", 0, 1, 2, 1.0, 1.5, 10, 10.5, 11, 32, -2, True, False, None, [], {}, math.nan]


def test_attributes_check_never_vouches_for_what_jsonschema_refuses() -> None:
    outcomes = {"vouched": 0, "declined": 0}
    for value_schema in SWEPT_SCHEMAS:  # every keyword at its bound, deterministically
        for closed, required in ((True, []), (False, ["brand"])):
            schema = {"type": "object", "properties": {"brand": value_schema}, "required": required,
                      "additionalProperties": closed}  # fmt: skip
            for complete in (False, True):
                vouch = compile_attributes_check(schema, complete=complete)
                assert vouch is not None
                for attributes in [{}, {"colour": "red"}, *({"brand": v} for v in SWEPT_VALUES)]:
                    if vouch(attributes):
                        outcomes["vouched"] += 1
                        assert check_attributes(schema, attributes, complete=complete) == {}, (schema, attributes)

    @SETTINGS
    @given(ATTRIBUTE_SCHEMAS, st.dictionaries(st.sampled_from(["brand", "mount", "size", "colour"]), ATTRIBUTE_VALUES,
                                              max_size=3), st.booleans())  # fmt: skip
    def check(schema: dict, attributes: dict, complete: bool) -> None:
        vouch = compile_attributes_check(schema, complete=complete)
        if vouch is not None and vouch(attributes):
            outcomes["vouched"] += 1
            assert check_attributes(schema, attributes, complete=complete) == {}, (schema, attributes)
        else:
            outcomes["declined"] += 1

    check()
    assert outcomes["vouched"] > 0 and outcomes["declined"] > 0, outcomes
    vouch = compile_attributes_check(CAMERA_SCHEMA, complete=True)
    assert vouch is not None and vouch({"brand": "Canon", "mount": "EF", "megapixels": 24})
    assert not vouch({"mount": "EF"}) and not vouch({"brand": "Canon", "colour": "red"})


CSV_COLUMNS = ["title", "description", "price_amount", "currency", "condition", "condition_answers", "attr.brand",
               "attr.mount", "photos", "shipping_options", "publish", "quantity", "latitude", "longitude",
               "country"]  # fmt: skip


@st.composite
def csv_row(draw: st.DrawFn) -> dict[str, str]:
    """A CSV row of the import tests with some cells replaced by odd text (numbers at bounds, JSON, junk)."""
    raw = row(draw(st.integers(1, 10_000)))
    raw.update(latitude="45.5", longitude="4.8")
    for _ in range(draw(st.integers(0, 3))):
        column = draw(st.sampled_from(CSV_COLUMNS))
        raw[column] = draw(st.one_of(
            st.sampled_from(EDGE_TEXT), st.sampled_from([str(n) for n in EDGE_INTS]), st.text(max_size=12),
            ODD_VALUES.map(lambda v: json.dumps(v, allow_nan=True)),
            st.builds(lambda v, k: json.dumps([{**json.loads(PHOTOS)[0], k: v}]), SCALARS,
                      st.sampled_from(["width", "order", "key", "content_type", "extra"])),
        ))  # fmt: skip
    return raw


def test_rows_validate_the_same_with_and_without_the_fast_paths(app_ctx) -> None:  # type: ignore[no-untyped-def]
    db.session.add(Category(name="Cameras", slug="cameras", attributes_schema=CAMERA_SCHEMA))
    db.session.commit()
    fast = RowValidator(seller_id=uuid.uuid4(), is_csv=True)
    slow = RowValidator(seller_id=fast.seller_id, is_csv=True)
    slow.loader._compiled = None  # marshmallow and jsonschema for every row
    slow.attribute_checks = {cid: (None, None) for cid in slow.attribute_checks}
    outcomes = {"valid": 0, "invalid": 0}

    def same(number: int, raw: dict) -> None:
        got, expected = fast.validate(number, dict(raw)), slow.validate(number, dict(raw))
        if isinstance(expected, ValidRow):
            assert isinstance(got, ValidRow) and (got.row, got.sku, got.publish) == (
                expected.row, expected.sku, expected.publish,
            ), (raw, got, expected)  # fmt: skip
            assert strictly_equal(got.values, expected.values), (raw, got.values, expected.values)
        else:
            assert got == expected, (raw, got, expected)
        outcomes["valid" if isinstance(expected, ValidRow) else "invalid"] += 1

    for number, (column, value, _line) in enumerate(BREAKAGES, 1):
        same(number, row(number, **{column: value}))
    for number, value in enumerate([*EDGE_TEXT, *(str(n) for n in EDGE_INTS)], 100):
        for column in CSV_COLUMNS:
            same(number, row(number, **{column: value}))

    @SETTINGS
    @given(csv_row())
    def check(raw: dict) -> None:
        same(7, raw)

    check()
    assert outcomes["valid"] > 0 and outcomes["invalid"] > 0, outcomes
