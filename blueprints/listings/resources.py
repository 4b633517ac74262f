"""Generator declarations of the listings domain: one Resource per model (REST + admin + policy).

Listings are the heart: the list endpoint is also the public search (``search.HOOKS``); content
writes run ``editing.on_create`` / ``on_update`` (validation, condition score, versions, price
history); status changes are actions over the transition table of ``service``.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from app.generator import NOBODY, OWNER, PUBLIC, STAFF, Action, AdminOptions, Money, Policy, Resource, ServiceError
from app.generator.fields import JSONObject
from blueprints.listings import editing, search, service
from blueprints.listings.conditions import validate_disclosures
from blueprints.listings.models import (
    Category,
    ConditionRubric,
    ImportJob,
    Listing,
    ListingPriceChange,
    ListingStatus,
    ListingStatusChange,
    ListingVersion,
    SavedSearch,
)
from blueprints.listings.saved_searches import check_saved_search
from blueprints.listings.schemas import LISTING_FIELDS, RemoveListingInput
from blueprints.listings.validation import check_attributes_schema

SELLER = OWNER("seller_id")
USER_PAGE = "/admin/auth/users/show/{value}"


def _check_category(*, obj: Category, actor: Any, changes: dict[str, Any] | None = None) -> None:
    problems = check_attributes_schema(obj.attributes_schema)
    if problems:
        raise ServiceError("The attributes schema is not valid.", status=422, errors={"attributes_schema": problems})
    service.check_category_parent(category_id=obj.id, parent_id=obj.parent_id)


def _check_rubric(*, obj: ConditionRubric, actor: Any, changes: dict[str, Any] | None = None) -> None:
    problems = validate_disclosures(obj.disclosures)
    if problems:
        raise ServiceError("The rubric's disclosures are not valid.", status=422, errors={"disclosures": problems})


categories = Resource(
    Category,
    path="/categories",
    description="The category tree (managed by staff); each category's attributes_schema describes listing attributes.",
    policy=Policy(read=PUBLIC, create=STAFF, update=STAFF, delete=STAFF),
    filters={"parent_id": ("eq", "is_null"), "slug": ("eq", "in"), "name": ("ilike",)},
    sort=("name", "created_at"),
    default_sort="name",
    on_create=_check_category,
    on_update=_check_category,
    admin=AdminOptions(
        list_columns=("name", "slug", "parent", "created_at"), search_columns=("name", "slug"), related=(Listing,)
    ),
)

listings = Resource(
    Listing,
    path="",
    description=(
        "Things sellers offer, and the public search over them (q, category subtree, price, condition, "
        "attributes, radius, facets). Buyers see published listings; sellers see and edit their own."
    ),
    policy=Policy(
        read=PUBLIC.where(status=ListingStatus.PUBLISHED) | SELLER | STAFF,
        create=SELLER,
        update=SELLER | STAFF,
        delete=SELLER,
        read_only=(
            "seller_id",
            "status",
            "published_at",
            "reservation_ref",
            "reserved_at",
            "condition_score",
            "version",
        ),
        hidden=("search_vector", "search_chunk"),
    ),
    money={"price": Money("price_amount", "currency")},
    fields=LISTING_FIELDS,
    filters={
        "status": ("eq", "in"),
        "category_id": ("eq", "in"),
        "seller_id": ("eq",),
        "condition": ("eq", "in"),
        "condition_score": ("gte",),
        "price": ("gte", "lte"),
        "currency": ("eq",),
        "country": ("eq",),
        "title": ("ilike",),
        "sku": ("eq",),
        "created_at": ("gte", "lt"),
    },
    sort=("created_at", "price", "title"),
    default_sort="-created_at",
    embed=("category",),
    soft_delete="deleted_at",
    list_hooks=search.HOOKS,
    on_create=editing.on_create,
    on_update=editing.on_update,
    actions=[
        Action(service.publish, allow=SELLER),
        Action(service.pause, allow=SELLER),
        Action(service.remove, allow=SELLER | STAFF, input=RemoveListingInput),
        Action(service.reinstate, allow=STAFF, confirm="Reinstate the selected listings (they come back paused)?"),
    ],
    admin=AdminOptions(
        list_columns=(
            "title",
            "status",
            "price_amount",
            "currency",
            "condition",
            "category",
            "seller_id",
            "created_at",
        ),
        search_columns=("title", "status", "condition", "currency", "seller_id", "sku", "category"),
        related=(ListingStatusChange, ListingVersion, ListingPriceChange),
        links=(
            ("Negotiations (offers)", "/admin/offers/negotiation/list/?_flt_0_listing_id={id}"),
            ("Conversations", "/admin/messaging/thread/list/?_flt_0_listing_id={id}"),
            ("Payments", "/admin/payments/payment/list/?_flt_0_listing_id={id}"),
        ),
        column_links={"seller_id": USER_PAGE},
    ),
)

rubrics = Resource(
    ConditionRubric,
    path="/condition-rubrics",
    description="What each condition grade means, the disclosures a seller answers and the photos it needs.",
    policy=Policy(read=PUBLIC, create=STAFF, update=STAFF, delete=NOBODY, write_once=("grade",)),
    fields={
        "disclosures": ma.fields.List(
            JSONObject(),
            validate=validate.Length(max=20),
            metadata={"description": "Questions: {key, label, kind: boolean|text, required, penalty}"},
        )
    },
    sort=("created_at",),
    on_create=_check_rubric,
    on_update=_check_rubric,
    admin=AdminOptions(
        list_columns=("grade", "label", "base_score", "min_photos", "updated_at"),
        search_columns=("grade", "label"),
        label="Condition rubrics",
    ),
)

saved_searches = Resource(
    SavedSearch,
    path="/saved-searches",
    description="Searches a user saved; new matching listings and price drops raise SavedSearchMatched.",
    policy=Policy(
        read=OWNER("user_id") | STAFF,
        create=OWNER("user_id"),
        update=OWNER("user_id"),
        delete=OWNER("user_id"),
        read_only=("last_matched_at",),
    ),
    sort=("created_at",),
    default_sort="-created_at",
    on_create=check_saved_search,
    on_update=check_saved_search,
    admin=AdminOptions(
        list_columns=("name", "user_id", "q", "category_id", "last_matched_at", "created_at"),
        search_columns=("name", "q"),
    ),
)

imports = Resource(
    ImportJob,
    path="/imports",
    description="Bulk import jobs (upload with POST /listings/imports); progress counters and the outcome.",
    policy=Policy(read=SELLER | STAFF),
    filters={"status": ("eq", "in")},
    sort=("created_at",),
    default_sort="-created_at",
    admin=AdminOptions(
        list_columns=(
            "filename",
            "seller_id",
            "mode",
            "status",
            "processed_rows",
            "total_rows",
            "failed_count",
            "created_at",
        ),
        search_columns=("filename",),
        label="Imports",
    ),
)


def _history(model: type, label: str, columns: tuple[str, ...]) -> Resource:
    return Resource(
        model,
        policy=Policy(read=STAFF),
        filters={"listing_id": ("eq",)},
        sort=("occurred_at",),
        default_sort="-occurred_at",
        admin=AdminOptions(list_columns=columns, search_columns=(), label=label),
    )


status_changes = _history(
    ListingStatusChange,
    "Listing status changes",
    ("occurred_at", "listing", "transition", "from_status", "to_status", "actor_type", "actor_id", "reason"),
)
versions = _history(ListingVersion, "Listing versions", ("occurred_at", "listing", "version", "actor_type", "changes"))
price_changes = _history(
    ListingPriceChange, "Price history", ("occurred_at", "listing", "old_amount", "new_amount", "currency")
)

RESOURCES = [categories, listings, rubrics, saved_searches, imports, status_changes, versions, price_changes]
