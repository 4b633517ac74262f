"""Public listing search: the list hooks of the generated ``GET /listings``.

- ``q``: PostgreSQL full text over the trigger-kept ``search_vector`` (title A, brand B,
  description C) with ``websearch_to_tsquery`` in ``lang`` (the listing languages' configurations);
  ``sort=-relevance`` ranks with ``ts_rank`` (weights A > B > C).
- ``sort=distance`` (with a radius): nearest first, served by the GiST index (KNN).
- ``category``: the category and its whole subtree (a recursive CTE over the small category table).
- ``attr``: ``key:value`` pairs matched by JSONB containment (GIN ``jsonb_path_ops``).
- ``lat``/``lng``/``radius_km``: a bounding box served by the GiST index on ``point(lng, lat)``,
  then the exact great-circle (haversine) distance.
- ``facets=category,condition,price``: counts over the matches (exact up to 10,000 of them).

The policy shows published listings plus the caller's own. A search (any of the parameters above)
reads only published listings, except a seller's own (``seller_id=<me>``) and staff: its conditions
then carry ``status = 'published' AND deleted_at IS NULL`` as a top-level conjunct, so the planner
can use the partial indexes built for search.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import validate
from webargs.fields import DelimitedList

from app.generator.fields import StorableText
from app.generator.hooks import ComputedSort, ListHooks
from blueprints.listings.models import LANGUAGES, Category, Listing, ListingCondition, ListingStatus

T = Listing.__table__
EARTH_KM = 6371.0088
FACETS = ("category", "condition", "price")
# Upper bounds (minor units) of the price facet's buckets; the last bucket is open.
PRICE_BUCKETS = (1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000)
MAX_FACET_CATEGORIES = 30
FACET_SAMPLE = 10_000


def _attr_pair(value: str) -> tuple[str, str]:
    key, sep, wanted = value.partition(":")
    if not sep or not key or not wanted:
        raise ma.ValidationError("Use key:value.")
    return key, wanted


class AttributeFilter(ma.fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[str, str]:
        return _attr_pair(super()._deserialize(value, attr, data, **kwargs))


ARGS: dict[str, ma.fields.Field] = {
    "q": ma.fields.String(
        validate=[validate.Length(min=1, max=200), StorableText()],
        metadata={"description": "Full-text search over title, brand and description (web search syntax)"},
    ),
    "lang": ma.fields.String(
        load_default="english",
        validate=validate.OneOf(LANGUAGES),
        metadata={"description": "Language of q (stemming); listings are indexed in their own language"},
    ),
    "category": ma.fields.UUID(metadata={"description": "A category: listings in it or any of its subcategories"}),
    "attr": DelimitedList(
        AttributeFilter(validate=validate.Length(max=200)),
        validate=validate.Length(min=1, max=10),
        metadata={"description": "Attribute filters, comma separated key:value pairs (brand:Canon,size:M)"},
    ),
    "lat": ma.fields.Float(
        validate=validate.Range(min=-90, max=90), metadata={"description": "Latitude of the centre"}
    ),
    "lng": ma.fields.Float(
        validate=validate.Range(min=-180, max=180), metadata={"description": "Longitude of the centre"}
    ),
    "radius_km": ma.fields.Float(
        validate=validate.Range(min=0.1, max=1000), metadata={"description": "Radius around lat/lng, in km"}
    ),
    "facets": DelimitedList(
        ma.fields.String(validate=validate.OneOf(FACETS)),
        validate=validate.Length(min=1, max=len(FACETS)),
        metadata={"description": "Facet counts to add to the page: category, condition, price"},
    ),
}


def tsquery(args: Mapping[str, Any]) -> sa.ColumnElement[Any]:
    config = sa.cast(sa.literal(args.get("lang") or "english"), sa.dialects.postgresql.REGCONFIG)
    return sa.func.websearch_to_tsquery(config, args["q"])


def relevance(args: Mapping[str, Any]) -> sa.ColumnElement[Any]:
    return sa.func.ts_rank(T.c.search_vector, tsquery(args))


def category_subtree(category_id: Any) -> sa.Select[Any]:
    tree = sa.select(Category.id).where(Category.id == category_id).cte("subtree", recursive=True)
    tree = tree.union_all(sa.select(Category.id).where(Category.parent_id == tree.c.id))
    return sa.select(tree.c.id)


def _attribute_clause(key: str, wanted: str) -> sa.ColumnElement[bool]:
    options: list[Any] = [wanted]
    try:
        options.append(int(wanted))
    except ValueError:
        try:
            number = float(wanted)
            if math.isfinite(number):
                options.append(number)
        except ValueError:
            pass
    if wanted in ("true", "false"):
        options.append(wanted == "true")
    return sa.or_(*(T.c.attributes.contains({key: option}) for option in options))


def haversine_km(lat1: Any, lng1: Any, lat2: Any, lng2: Any) -> sa.ColumnElement[float]:
    """Great-circle distance in km between two points (SQL expressions or numbers)."""
    f = sa.func
    half_chord = f.power(f.sin(f.radians(lat2 - lat1) / 2), 2) + f.cos(f.radians(lat1)) * f.cos(
        f.radians(lat2)
    ) * f.power(f.sin(f.radians(lng2 - lng1) / 2), 2)
    return 2 * EARTH_KM * f.asin(f.sqrt(f.least(half_chord, 1.0)))


def radius_clauses(lat: float, lng: float, radius_km: float) -> list[sa.ColumnElement[bool]]:
    """A GiST-served bounding box, then the exact haversine distance."""
    dlat = math.degrees(radius_km / EARTH_KM)
    dlng = math.degrees(radius_km / (EARTH_KM * max(math.cos(math.radians(lat)), 1e-6)))
    box = sa.func.box(sa.func.point(lng - dlng, lat - dlat), sa.func.point(lng + dlng, lat + dlat))
    point = sa.func.point(T.c.longitude, T.c.latitude)
    distance = haversine_km(sa.literal(lat), sa.literal(lng), T.c.latitude, T.c.longitude)
    return [T.c.latitude.is_not(None), point.op("<@")(box), distance <= radius_km]


SEARCHING = ("q", "category", "attr", "lat", "lng", "radius_km", "facets")


def _public_only(args: Mapping[str, Any], principal: Any) -> bool:
    """A search reads the public catalog (published rows, served by the partial indexes), unless
    a seller searches their own listings or staff search; a plain list keeps the policy's rows."""
    if not any(args.get(name) is not None for name in SEARCHING):
        return False
    if "staff" in getattr(principal, "roles", ()):
        return False
    me = getattr(principal, "user_id", None)
    return not (me is not None and args.get("filter__seller_id__eq") == me)


def conditions(args: Mapping[str, Any], principal: Any) -> list[Any]:
    """The search's WHERE clauses (the generated filters and the policy come on top)."""
    from flask_smorest import abort

    where: list[Any] = []
    if _public_only(args, principal):
        where += [T.c.status == ListingStatus.PUBLISHED.value, T.c.deleted_at.is_(None)]
    if args.get("q"):
        where.append(T.c.search_vector.op("@@")(tsquery(args)))
    if args.get("category") is not None:
        where.append(T.c.category_id.in_(category_subtree(args["category"])))
    for key, wanted in args.get("attr") or ():
        where.append(_attribute_clause(key, wanted))
    place = [args.get(name) for name in ("lat", "lng", "radius_km")]
    if any(v is not None for v in place):
        if any(v is None for v in place):
            missing = [n for n, v in zip(("lat", "lng", "radius_km"), place, strict=True) if v is None]
            abort(
                422, message="A radius search needs lat, lng and radius_km.", errors={n: ["Missing."] for n in missing}
            )
        where += radius_clauses(*place)
    return where


def facets(where: list[Any], args: Mapping[str, Any], principal: Any, connection: Any) -> dict[str, Any]:
    """Counts per category, condition grade and price bucket, in one pass over the matches.

    Exact up to ``FACET_SAMPLE`` matches; beyond that the counts cover the first ``FACET_SAMPLE``
    matches the index yields and ``facets.exact`` is false, so a broad search stays fast.
    """
    wanted = args.get("facets") or ()
    if not wanted:
        return {}
    bucket = sa.func.width_bucket(T.c.price_amount, sa.literal(list(PRICE_BUCKETS), sa.ARRAY(sa.BigInteger)))
    matches = (
        sa.select(T.c.category_id.label("category_id"), T.c.condition.label("grade"), bucket.label("bucket"))
        .where(*where)
        .limit(FACET_SAMPLE + 1)
        .subquery("matches")
    )
    m = matches.c
    rows = connection.execute(
        sa.select(m.category_id, m.grade, m.bucket, sa.func.count().label("n")).group_by(
            sa.func.grouping_sets(sa.tuple_(m.category_id), sa.tuple_(m.grade), sa.tuple_(m.bucket), sa.tuple_())
        )
    ).all()
    by_category = {r.category_id: r.n for r in rows if r.category_id is not None}
    by_grade = {r.grade: r.n for r in rows if r.grade is not None}
    by_bucket = {r.bucket: r.n for r in rows if r.bucket is not None}
    total = next((r.n for r in rows if r.category_id is None and r.grade is None and r.bucket is None), 0)
    found: dict[str, Any] = {"exact": total <= FACET_SAMPLE}
    if "category" in wanted:
        top = sorted(by_category.items(), key=lambda item: -item[1])[:MAX_FACET_CATEGORIES]
        names = dict(
            connection.execute(sa.select(Category.id, Category.name).where(Category.id.in_([c for c, _ in top])))
            .tuples()
            .all()
        )
        found["category"] = [{"id": str(cid), "name": names.get(cid, ""), "count": n} for cid, n in top]
    if "condition" in wanted:
        found["condition"] = [{"grade": g.value, "count": by_grade.get(g.value, 0)} for g in ListingCondition]
    if "price" in wanted:
        bounds = (0, *PRICE_BUCKETS, None)
        found["price"] = [
            {"min": bounds[i], "max": bounds[i + 1], "count": by_bucket.get(i, 0)} for i in range(len(bounds) - 1)
        ]
    return {"facets": found}


def distance(args: Mapping[str, Any]) -> sa.ColumnElement[Any]:
    """Nearest first, as the GiST index orders points (``<->``: planar degrees, exact enough within a
    radius); the radius filter keeps rows without coordinates out, so the key is never NULL."""
    return sa.func.point(T.c.longitude, T.c.latitude).op("<->")(sa.func.point(args["lng"], args["lat"]))


HOOKS = ListHooks(
    args=ARGS,
    conditions=conditions,
    sorts={
        "relevance": ComputedSort(relevance, requires=("q",)),
        "distance": ComputedSort(distance, requires=("lat", "lng", "radius_km")),
    },
    extras=facets,
)
