"""A small demo domain the generator tests own: shelves (staff-managed) and items (owned by a seller).

It mirrors what real domains declare (money, enums, JSON, a foreign key with an embed, soft delete,
a status owned by a transition table, actions with and without inputs) on its own declarative base
and schema, so the generator's tests do not move when a real domain's rules evolve.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy import BigInteger, CheckConstraint, DateTime, Enum, ForeignKey, Integer, String, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.db import db, utcnow
from app.domain import Domain
from app.generator import (
    OWNER,
    PUBLIC,
    STAFF,
    Action,
    Actor,
    AdminOptions,
    Money,
    Policy,
    Resource,
    ServiceError,
)
from app.generator.fields import StorableText

SCHEMA = "generator_demo"


class DemoBase(DeclarativeBase):
    """Its own metadata: the demo tables never enter the application's migrations."""

    metadata = sa.MetaData(schema=SCHEMA)


class Status(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    PAUSED = "paused"
    REMOVED = "removed"


class Condition(enum.StrEnum):
    NEW = "new"
    GOOD = "good"
    FAIR = "fair"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, values_callable=lambda m: [x.value for x in m])


class Shelf(DemoBase):
    """A staff-managed node of a tree (like a category)."""

    __tablename__ = "shelves"
    __table_args__ = (sa.UniqueConstraint("slug"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(f"{SCHEMA}.shelves.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    slug: Mapped[str] = mapped_column(String(120), nullable=False)
    attributes_schema: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), nullable=False
    )

    parent: Mapped[Shelf | None] = relationship(remote_side="Shelf.id")

    def __str__(self) -> str:
        return self.name


class Item(DemoBase):
    """Something a seller offers; the status belongs to the transition table below."""

    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint("price_amount >= 0", name="price_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    seller_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    shelf_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.shelves.id", ondelete="RESTRICT"), nullable=False)
    title: Mapped[str] = mapped_column(String(140), nullable=False)
    description: Mapped[str] = mapped_column(String(2000), default="", server_default="", nullable=False)
    price_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, default=1, server_default="1", nullable=False)
    condition: Mapped[Condition] = mapped_column(_enum(Condition, "demo_condition"), nullable=False)
    status: Mapped[Status] = mapped_column(_enum(Status, "demo_status"), default=Status.DRAFT, nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, server_default=func.now(), nullable=False
    )

    shelf: Mapped[Shelf] = relationship()

    def __str__(self) -> str:
        return self.title


# --- the service: a transition table, called by the generated actions -----------------------------

TRANSITIONS: dict[str, tuple[frozenset[Status], Status]] = {
    "publish": (frozenset({Status.DRAFT, Status.PAUSED}), Status.PUBLISHED),
    "pause": (frozenset({Status.PUBLISHED}), Status.PAUSED),
    "remove": (frozenset({Status.DRAFT, Status.PUBLISHED, Status.PAUSED}), Status.REMOVED),
    "reinstate": (frozenset({Status.REMOVED}), Status.PAUSED),
}


def _transition(item_id: uuid.UUID, name: str) -> Item:
    sources, target = TRANSITIONS[name]
    item = db.session.execute(select(Item).where(Item.id == item_id).with_for_update()).scalar_one()
    if item.status not in sources:
        raise ServiceError(
            f"Cannot {name} an item that is {item.status.value}.",
            status=409,
            errors={"status": [f"Is {item.status.value}."]},
        )
    item.status = target
    if target is Status.PUBLISHED and item.published_at is None:
        item.published_at = utcnow()
    return item


def publish(*, item_id: uuid.UUID, actor: Actor) -> Item:
    """Publish the item (from draft or paused)."""
    if db.session.get(Item, item_id).quantity < 1:
        raise ServiceError("Nothing to sell.", status=422, errors={"quantity": ["Must be at least 1 to publish."]})
    return _transition(item_id, "publish")


def pause(*, item_id: uuid.UUID, actor: Actor) -> Item:
    """Hide a published item for a while."""
    return _transition(item_id, "pause")


def remove(*, item_id: uuid.UUID, actor: Actor, reason: str) -> Item:
    """Take the item down, with a reason."""
    return _transition(item_id, "remove")


def reinstate(*, item_id: uuid.UUID, actor: Actor) -> Item:
    """Undo a removal: the item comes back paused."""
    return _transition(item_id, "reinstate")


class RemoveInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    reason = ma.fields.String(required=True, validate=[ma.validate.Length(min=3, max=500), StorableText()])


SELLER = OWNER("seller_id")

shelves = Resource(
    Shelf,
    path="/shelves",
    policy=Policy(read=PUBLIC, create=STAFF, update=STAFF, delete=STAFF),
    filters={"parent_id": ("eq", "is_null"), "slug": ("eq", "in"), "name": ("ilike",)},
    sort=("name", "created_at"),
    default_sort="name",
    admin=AdminOptions(
        list_columns=("name", "slug", "parent", "created_at"), search_columns=("name", "slug"), related=(Item,)
    ),
)

items = Resource(
    Item,
    path="",
    description="Things sellers offer.",
    policy=Policy(
        read=PUBLIC.where(status=Status.PUBLISHED) | SELLER | STAFF,
        create=SELLER,
        update=SELLER | STAFF,
        delete=SELLER,
        read_only=("status", "published_at"),
    ),
    money={"price": Money("price_amount", "currency")},
    filters={
        "status": ("eq", "in"),
        "shelf_id": ("eq", "in"),
        "seller_id": ("eq", "ne"),
        "condition": ("eq", "in"),
        "price": ("gte", "lte", "gt", "lt"),
        "currency": ("eq",),
        "title": ("like", "ilike"),
        "published_at": ("is_null",),
        "created_at": ("gte", "lt"),
    },
    sort=("created_at", "price", "title"),
    default_sort="-created_at",
    embed=("shelf",),
    soft_delete="deleted_at",
    actions=[
        Action(publish, allow=SELLER),
        Action(pause, allow=SELLER),
        Action(remove, allow=SELLER | STAFF, input=RemoveInput),
        Action(reinstate, allow=STAFF, confirm="Reinstate the selected items?"),
    ],
    admin=AdminOptions(
        list_columns=("title", "status", "price_amount", "currency", "shelf", "seller_id", "created_at"),
        search_columns=("title", "status", "condition", "seller_id"),
        links=(("Seller's items", "/admin/demo/item/list/?_flt_0_seller_id={seller_id}"),),
        column_links={"seller_id": "/admin/demo/item/list/?_flt_0_seller_id={value}"},
    ),
)
domain = Domain(name="demo", prefix="/demo", resources=[shelves, items])
