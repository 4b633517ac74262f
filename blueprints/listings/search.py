"""Public listing search: the list hooks of the generated ``GET /listings``.

- ``q``: PostgreSQL full text over the trigger-kept ``search_vector`` (title A, brand B,
  description C) with ``websearch_to_tsquery`` in ``lang`` (the listing languages' configurations);
  ``sort=-relevance`` ranks with ``ts_rank`` (weights A > B > C) a bounded window of candidates:
  every match when at most ``RELEVANCE_WINDOW`` (200) listings match, else 200 of them, title
  matches first, the newest titles first in a large catalog (``relevance_window``, ``title_chunks``);
  its pages end with the window.
- ``sort=distance`` (with a radius): nearest first by great-circle distance, walking a GiST index of
  unit-sphere points (KNN) that stops at the page's end; the rows past the radius are cut after.
- ``category``: the category and its whole subtree (a recursive CTE over the small category table),
  as ``category_id = ANY(ARRAY(<subtree>))``, which the category index can serve in a bitmap.
- ``attr``: ``key:value`` pairs matched by JSONB containment (GIN ``jsonb_path_ops``).
- ``lat``/``lng``/``radius_km``: a bounding box served by the GiST index on ``point(lng, lat)``,
  then the exact great-circle (haversine) distance.
- ``facets=category,condition,price``: counts over the matches (exact up to 10,000 of them).
- other sorts (newest, price): the planner's statement, and if it runs past ``WALK_AFTER_MS``, a walk
  of the sort's index over a bounded number of listings, then the matches beyond through the
  filters' own indexes (``BoundedWalk``, app.generator.walks): a filter that matches none of the
  newest listings no longer reads the whole index.

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
from app.generator.hooks import BoundedWalk, ComputedSort, Cutoff, ListHooks, Window
from blueprints.listings import title_chunks
from blueprints.listings.models import LANGUAGES, Category, Listing, ListingCondition, ListingStatus

T = Listing.__table__
EARTH_KM = 6371.0088
FACETS = ("category", "condition", "price")
# Upper bounds (minor units) of the price facet's buckets; the last bucket is open.
PRICE_BUCKETS = (1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000)
MAX_FACET_CATEGORIES = 30
FACET_SAMPLE = 10_000
# sort=relevance ranks at most this many matches, title matches first (see relevance_window).
RELEVANCE_WINDOW = 200
# The title (weight A) lexemes of search_vector, as indexed by ix_listings_pub_title_vector.
TITLE_WEIGHT = sa.literal_column("'{a}'::\"char\"[]")


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
        metadata={
            "description": "Full-text search over title, brand and description (web search syntax). "
            f"sort=-relevance ranks at most {RELEVANCE_WINDOW} matches, those matching in the title first "
            "(the newest of them first when more match); beyond them, pages end (other sorts page through "
            "every match)"
        },
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
    """``websearch_to_tsquery('<lang>'::regconfig, q)``: the configuration is written as a regconfig
    constant (one of LANGUAGES), so the planner folds the whole tsquery into a constant once; from a
    text parameter the cast is only stable and every row would parse ``q`` again."""
    lang = args.get("lang") or "english"
    if lang not in LANGUAGES:
        raise ValueError(f"unknown text search language {lang!r}")
    return sa.func.websearch_to_tsquery(sa.literal_column(f"'{lang}'::regconfig"), args["q"])


def relevance(args: Mapping[str, Any]) -> sa.ColumnElement[Any]:
    """``ts_rank`` as double precision: its ``real`` travels through the cursor as a decimal that is not
    the same float, and listings tied on rank across a page boundary would be skipped."""
    return sa.cast(sa.func.ts_rank(T.c.search_vector, tsquery(args)), sa.Double())


def title_vector() -> sa.ColumnElement[Any]:
    return sa.func.ts_filter(T.c.search_vector, TITLE_WEIGHT)


def relevance_window(where: list[Any], args: Mapping[str, Any], connection: Any) -> sa.ColumnElement[bool]:
    """The listings ``sort=relevance`` ranks: at most ``RELEVANCE_WINDOW`` matches, those matching ``q``
    in the title first, then others.

    ``ts_rank`` reads every candidate's vector, so ranking all matches grows with the catalog, and no
    index ranks (RUM is in neither PostgreSQL we run). The ranking is exact when at most
    ``RELEVANCE_WINDOW`` listings match; beyond, it ranks ``RELEVANCE_WINDOW`` title matches (so weak
    description matches never crowd out a title match) and pages end with the window (``count``
    still counts every match). The candidates are rows of this statement's snapshot, handed over by
    ``ctid`` (a TID scan reads them back without a second index lookup).

    In a public catalog of more than ``RECENT_CHUNKS`` chunks of listings, title matches come newest
    first (``title_chunks``): a common query then stops after the newest listings instead of
    intersecting its words' whole posting lists.
    """
    size = RELEVANCE_WINDOW
    ctid = sa.literal_column("ctid")
    in_title = title_vector().op("@@")(tsquery(args))
    titles = [sa.select(ctid).select_from(T).where(*where, in_title).limit(size).correlate(None)]
    # a seller's own or staff search reads rows the partial indexes do not cover: no chunks for them
    if any(clause is PUBLISHED for clause in where):
        newest = title_chunks.newest_chunk.of(connection)
        if newest >= title_chunks.RECENT_CHUNKS:
            titles = title_chunks.title_matches(where, in_title, size, newest)
    then = sa.select(ctid).select_from(T).where(*where, sa.not_(in_title)).limit(size).correlate(None)
    candidates = sa.union_all(*titles, then).subquery("candidates")
    # the Append runs a branch only while the ones before gave fewer than `size` candidates
    chosen = sa.select(candidates.c.ctid).limit(size).scalar_subquery()
    return ctid == sa.any_(sa.func.array(chosen))


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
    """A bounding box served by the planar GiST index, then the exact haversine distance."""
    dlat = math.degrees(radius_km / EARTH_KM)
    dlng = math.degrees(radius_km / (EARTH_KM * max(math.cos(math.radians(lat)), 1e-6)))
    box = sa.func.box(sa.func.point(lng - dlng, lat - dlat), sa.func.point(lng + dlng, lat + dlat))
    point = sa.func.point(T.c.longitude, T.c.latitude)
    distance = haversine_km(sa.literal(lat), sa.literal(lng), T.c.latitude, T.c.longitude)
    return [point.op("<@")(box), distance <= radius_km]


def unit_vector(lat: Any, lng: Any) -> sa.ColumnElement[Any]:
    """The point on the unit sphere (a 3-D ``cube``) at ``lat``/``lng``: straight-line (chord) distances
    between such points order places exactly as great-circle distances do.

    Over the columns it is the expression of ``ix_listings_pub_earth`` (written alike, or the planner
    does not match it)."""
    f = sa.func
    if isinstance(lat, (int, float)):
        r_lat, r_lng = math.radians(lat), math.radians(lng)
        coordinates = [math.cos(r_lat) * math.cos(r_lng), math.cos(r_lat) * math.sin(r_lng), math.sin(r_lat)]
        return f.listings.cube(sa.literal(coordinates, sa.ARRAY(sa.Float)))
    return f.listings.cube(
        sa.dialects.postgresql.array(
            [
                f.cos(f.radians(lat)) * f.cos(f.radians(lng)),
                f.cos(f.radians(lat)) * f.sin(f.radians(lng)),
                f.sin(f.radians(lat)),
            ]
        )
    )


def chord(km: float) -> float:
    """The unit-sphere chord of a great-circle distance: chord <= chord(r) exactly when haversine <= r."""
    return 2 * math.sin(min(km / EARTH_KM, math.pi) / 2)


# The public catalog's conjuncts, which the partial search indexes require (relevance_window looks
# for this very clause to know it may use them).
PUBLISHED = T.c.status == ListingStatus.PUBLISHED.value
NOT_DELETED = T.c.deleted_at.is_(None)
SEARCHING = ("q", "category", "attr", "lat", "lng", "radius_km", "facets")
# A public search sorted by a column walks its index over at most 100, then 500 listings per row of
# the page (2,100 then 10,500 for a page of 20) before it reads the matches beyond through the
# filters' own indexes (app.generator.walks).
WALK_STEPS = (100, 500)
# ... but only once the planner's own statement has run this long: it is right nearly always, and
# takes seconds only when the filters match few recent listings (a word never in the category).
WALK_AFTER_MS = 60


def public_scope(where: list[Any]) -> list[Any]:
    """The conjuncts of the public catalog, which every sort index's partial predicate requires: the
    walk of a public search keeps them (a seller's own or staff search has none, and walks as before)."""
    return [clause for clause in where if clause is PUBLISHED or clause is NOT_DELETED]


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
        where += [PUBLISHED, NOT_DELETED]
    if args.get("q"):
        where.append(T.c.search_vector.op("@@")(tsquery(args)))
    if args.get("category") is not None:
        where.append(T.c.category_id == sa.any_(sa.func.array(category_subtree(args["category"]).scalar_subquery())))
    for key, wanted in args.get("attr") or ():
        where.append(_attribute_clause(key, wanted))
    place = [args.get(name) for name in ("lat", "lng", "radius_km")]
    if any(v is not None for v in place):
        if any(v is None for v in place):
            missing = [n for n, v in zip(("lat", "lng", "radius_km"), place, strict=True) if v is None]
            abort(
                422, message="A radius search needs lat, lng and radius_km.", errors={n: ["Missing."] for n in missing}
            )
        where.append(T.c.latitude.is_not(None))
        # Nearest first walks ix_listings_pub_earth in distance order and stops at the page's end, then
        # keeps the rows within the radius: the same circle as these clauses (see chord).
        where.append(Cutoff(sort="distance", clauses=radius_clauses(*place), bound=chord(place[2])))
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
    """Nearest first by great-circle distance: the chord between unit vectors (``cube <->``), which
    ``ix_listings_pub_earth`` walks in order (GiST KNN). The radius search keeps rows without
    coordinates out, so the key is never NULL."""
    here = unit_vector(T.c.latitude, T.c.longitude)
    return here.op("OPERATOR(listings.<->)")(unit_vector(args["lat"], args["lng"]))


HOOKS = ListHooks(
    args=ARGS,
    conditions=conditions,
    sorts={
        "relevance": ComputedSort(relevance, requires=("q",), window=Window(candidates=relevance_window)),
        "distance": ComputedSort(distance, requires=("lat", "lng", "radius_km")),
    },
    extras=facets,
    # ix_listings_pub_created and ix_listings_pub_price serve these sorts; title has no such index
    walk=BoundedWalk(
        steps=WALK_STEPS, scope=public_scope, sorts=("created_at", "price_amount"), after_ms=WALK_AFTER_MS
    ),
)
