"""The compiled dumper writes exactly what marshmallow's ``Schema.dump`` writes, faster."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime
from types import SimpleNamespace

import marshmallow as ma

from app.generator.fields import MoneyField
from app.generator.serialize import Dumper


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


class PhotoSchema(ma.Schema):
    url = ma.fields.String()
    order = ma.fields.Integer()
    taken_on = ma.fields.Date(allow_none=True)


class EverythingSchema(ma.Schema):
    id = ma.fields.UUID()
    title = ma.fields.String()
    count = ma.fields.Integer(allow_none=True)
    ratio = ma.fields.Float()
    active = ma.fields.Boolean()
    at = ma.fields.AwareDateTime(allow_none=True)
    day = ma.fields.Date()
    colour = ma.fields.Enum(Colour, by_value=True)
    colour_name = ma.fields.Enum(Colour, attribute="colour_member")  # by name: marshmallow serializes it
    tags = ma.fields.List(ma.fields.String(), allow_none=True)
    ids = ma.fields.List(ma.fields.UUID())
    doc = ma.fields.Dict()
    photos = ma.fields.List(ma.fields.Nested(PhotoSchema))
    cover = ma.fields.Nested(PhotoSchema, allow_none=True)
    price = MoneyField("price_amount", "currency")
    label = ma.fields.Method("make_label")

    def make_label(self, obj):  # type: ignore[no-untyped-def]
        return f"{obj.title}!"


def sample(**overrides):  # type: ignore[no-untyped-def]
    values = {
        "id": uuid.uuid4(),
        "title": "Lamp",
        "count": 3,
        "ratio": 0.5,
        "active": True,
        "at": datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC),
        "day": date(2026, 1, 2),
        "colour": Colour.BLUE,
        "colour_member": Colour.RED,
        "tags": ["a", "b"],
        "ids": [uuid.uuid4()],
        "doc": {"nested": {"x": [1, 2]}},
        "photos": [{"url": "https://x/1.jpg", "order": 0, "extra": "ignored"}, {"url": "https://x/2.jpg"}],
        "cover": {"url": "https://x/c.jpg", "order": 1, "taken_on": date(2025, 5, 1)},
        "price_amount": 1999,
        "currency": "EUR",
    }
    values.update(overrides)
    return SimpleNamespace(**values)


def test_compiled_dump_equals_marshmallow_dump():
    schema = EverythingSchema()
    dump = Dumper(schema, list(schema.fields)).compile(list(schema.fields))
    for obj in (sample(), sample(count=None, at=None, tags=None, cover=None, photos=[], price_amount=None)):
        assert dump(obj) == schema.dump(obj)


def test_sparse_compile_keeps_only_requested_fields():
    schema = EverythingSchema()
    dump = Dumper(schema, list(schema.fields)).compile(["title", "price"])
    assert dump(sample()) == {"title": "Lamp", "price": {"amount": 1999, "currency": "EUR"}}
