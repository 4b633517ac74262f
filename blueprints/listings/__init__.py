"""Catalog: listings, categories, condition grades, search and bulk import.

Both models are declared once for the generator: REST under ``/listings``, staff admin under
``/admin/listings/...``, one policy for both, and the status transitions as actions.
"""

from app.domain import Domain
from app.generator import OWNER, PUBLIC, STAFF, Action, AdminOptions, Money, Policy, Resource
from blueprints.listings import service
from blueprints.listings.models import Category, Listing, ListingStatus
from blueprints.listings.schemas import RemoveListingInput

SELLER = OWNER("seller_id")

categories = Resource(
    Category,
    path="/categories",
    description="The category tree (managed by staff); each category's attributes_schema describes listing attributes.",
    policy=Policy(read=PUBLIC, create=STAFF, update=STAFF, delete=STAFF),
    filters={"parent_id": ("eq", "is_null"), "slug": ("eq", "in"), "name": ("ilike",)},
    sort=("name", "created_at"),
    default_sort="name",
    admin=AdminOptions(
        list_columns=("name", "slug", "parent", "created_at"), search_columns=("name", "slug"), related=(Listing,)
    ),
)

listings = Resource(
    Listing,
    path="",
    description="Things sellers offer. Buyers see published listings; sellers see and edit their own.",
    policy=Policy(
        read=PUBLIC.where(status=ListingStatus.PUBLISHED) | SELLER | STAFF,
        create=SELLER,
        update=SELLER | STAFF,
        delete=SELLER,
        read_only=("seller_id", "status", "published_at", "reservation_ref", "reserved_at"),
    ),
    money={"price": Money("price_amount", "currency")},
    filters={
        "status": ("eq", "in"),
        "category_id": ("eq", "in"),
        "seller_id": ("eq",),
        "condition": ("eq", "in"),
        "price": ("gte", "lte"),
        "currency": ("eq",),
        "title": ("ilike",),
        "created_at": ("gte", "lt"),
    },
    sort=("created_at", "price", "title"),
    default_sort="-created_at",
    embed=("category",),
    soft_delete="deleted_at",
    actions=[
        Action(service.publish, allow=SELLER),
        Action(service.pause, allow=SELLER),
        Action(service.remove, allow=SELLER | STAFF, input=RemoveListingInput),
        Action(service.reinstate, allow=STAFF, confirm="Reinstate the selected listings (they come back paused)?"),
    ],
    admin=AdminOptions(
        list_columns=("title", "status", "price_amount", "currency", "category", "seller_id", "created_at"),
        search_columns=("title", "status", "condition", "currency", "seller_id", "category"),
    ),
)
domain = Domain(name="listings", prefix="/listings", description=__doc__, resources=[categories, listings])
