"""Demo catalog: a category tree with attribute schemas, the condition rubrics, four demo sellers and
~240 listings with realistic titles, prices, photos and places (most published, some drafts).

Idempotent: categories by slug, rubrics by grade, sellers found again through their listings' skus,
listings by (seller, sku); a second run reports everything as skipped.
"""

from __future__ import annotations

import random
from typing import Any

from blueprints.auth import service as auth
from blueprints.listings import service as listings
from seeds import Echo, progress

BRAND = {"type": "string", "minLength": 1, "maxLength": 60}
CATEGORIES: list[tuple[str, str, str | None, dict[str, Any]]] = [
    ("electronics", "Electronics", None, {}),
    ("cameras", "Cameras", "electronics", {"type": "object", "required": ["brand"], "properties": {
        "brand": BRAND, "mount": {"type": "string", "enum": ["EF", "F", "E", "M", "X", "K", "FD"]}}}),
    ("phones", "Phones", "electronics", {"type": "object", "required": ["brand"], "properties": {
        "brand": BRAND, "storage_gb": {"type": "integer", "enum": [32, 64, 128, 256, 512, 1024]}}}),
    ("laptops", "Laptops", "electronics", {"type": "object", "required": ["brand"], "properties": {
        "brand": BRAND, "ram_gb": {"type": "integer", "minimum": 2, "maximum": 128}}}),
    ("audio", "Audio", "electronics", {"type": "object", "required": ["brand"], "properties": {"brand": BRAND}}),
    ("fashion", "Fashion", None, {}),
    ("shoes", "Shoes", "fashion", {"type": "object", "required": ["brand", "size"], "properties": {
        "brand": BRAND, "size": {"type": "number", "minimum": 34, "maximum": 49}}}),
    ("jackets", "Jackets", "fashion", {"type": "object", "required": ["brand", "size"], "properties": {
        "brand": BRAND, "size": {"type": "string", "enum": ["XS", "S", "M", "L", "XL", "XXL"]}}}),
    ("home", "Home", None, {}),
    ("furniture", "Furniture", "home", {"type": "object", "properties": {
        "brand": BRAND, "material": {"type": "string", "enum": ["wood", "metal", "glass", "fabric", "leather"]}}}),
    ("kitchen", "Kitchen", "home", {"type": "object", "properties": {"brand": BRAND}}),
    ("sports", "Sports & outdoors", None, {}),
    ("bikes", "Bikes", "sports", {"type": "object", "required": ["brand", "frame_size"], "properties": {
        "brand": BRAND, "frame_size": {"type": "string", "enum": ["XS", "S", "M", "L", "XL"]}}}),
    ("camping", "Camping", "sports", {"type": "object", "properties": {"brand": BRAND}}),
    ("books", "Books", None, {"type": "object", "required": ["author"], "properties": {
        "author": {"type": "string", "minLength": 1}}}),
]  # fmt: skip

# category -> [(title, attributes, typical price in cents)]
PRODUCTS: dict[str, list[tuple[str, dict[str, Any], int]]] = {
    "cameras": [("Canon AE-1 Program 35mm film camera", {"brand": "Canon", "mount": "FD"}, 18_000),
                ("Nikon FM2 film body", {"brand": "Nikon", "mount": "F"}, 32_000),
                ("Fujifilm X-T3 mirrorless body", {"brand": "Fujifilm", "mount": "X"}, 65_000),
                ("Sony A7 III full frame mirrorless", {"brand": "Sony", "mount": "E"}, 120_000),
                ("Leica M6 rangefinder", {"brand": "Leica", "mount": "M"}, 320_000),
                ("Pentax K1000 with 50mm f/2", {"brand": "Pentax", "mount": "K"}, 15_000)],
    "phones": [("iPhone 13 128 GB midnight", {"brand": "Apple", "storage_gb": 128}, 42_000),
               ("Samsung Galaxy S22 256 GB", {"brand": "Samsung", "storage_gb": 256}, 38_000),
               ("Google Pixel 7 128 GB", {"brand": "Google", "storage_gb": 128}, 30_000),
               ("Fairphone 4 256 GB", {"brand": "Fairphone", "storage_gb": 256}, 33_000)],
    "laptops": [("MacBook Air M1 13-inch", {"brand": "Apple", "ram_gb": 8}, 62_000),
                ("ThinkPad X1 Carbon Gen 9", {"brand": "Lenovo", "ram_gb": 16}, 75_000),
                ("Dell XPS 13 9310", {"brand": "Dell", "ram_gb": 16}, 70_000)],
    "audio": [("Sony WH-1000XM4 noise cancelling headphones", {"brand": "Sony"}, 16_000),
              ("Technics SL-1200 MK2 turntable", {"brand": "Technics"}, 55_000),
              ("Bose SoundLink Mini II speaker", {"brand": "Bose"}, 7_500)],
    "shoes": [("Nike Air Max 90 trainers", {"brand": "Nike", "size": 42}, 7_000),
              ("Dr. Martens 1460 boots", {"brand": "Dr. Martens", "size": 39}, 9_000),
              ("Adidas Stan Smith sneakers", {"brand": "Adidas", "size": 44}, 5_500)],
    "jackets": [("Patagonia Nano Puff jacket", {"brand": "Patagonia", "size": "M"}, 9_500),
                ("Levi's denim trucker jacket", {"brand": "Levi's", "size": "L"}, 4_500),
                ("Barbour Bedale waxed jacket", {"brand": "Barbour", "size": "S"}, 14_000)],
    "furniture": [("Mid-century teak sideboard", {"material": "wood"}, 45_000),
                  ("IKEA Poäng armchair", {"brand": "IKEA", "material": "fabric"}, 6_000),
                  ("Tolix-style metal chair", {"material": "metal"}, 4_000)],
    "kitchen": [("KitchenAid Artisan stand mixer", {"brand": "KitchenAid"}, 28_000),
                ("Le Creuset cast iron casserole 24 cm", {"brand": "Le Creuset"}, 12_000),
                ("De'Longhi Dedica espresso machine", {"brand": "De'Longhi"}, 11_000)],
    "bikes": [("Brompton M6L folding bike", {"brand": "Brompton", "frame_size": "M"}, 110_000),
              ("Trek FX 3 hybrid bike", {"brand": "Trek", "frame_size": "L"}, 55_000),
              ("Peugeot vintage road bike", {"brand": "Peugeot", "frame_size": "M"}, 25_000)],
    "camping": [("MSR Hubba Hubba 2-person tent", {"brand": "MSR"}, 26_000),
                ("Jetboil Flash cooking system", {"brand": "Jetboil"}, 7_000)],
    "books": [("Dune, first paperback edition", {"author": "Frank Herbert"}, 2_500),
              ("The Joy of Cooking, 1975 edition", {"author": "Irma Rombauer"}, 1_800),
              ("Complete Calvin and Hobbes box set", {"author": "Bill Watterson"}, 9_000)],
}  # fmt: skip
PLACES = [
    ("Paris", "FR", 48.8566, 2.3522), ("Lyon", "FR", 45.764, 4.8357), ("Berlin", "DE", 52.52, 13.405),
    ("Madrid", "ES", 40.4168, -3.7038), ("Amsterdam", "NL", 52.3676, 4.9041), ("Milan", "IT", 45.4642, 9.19),
]  # fmt: skip
DEMO_SELLER_LOGIN = "bazaar-seller"  # the demo sellers' password (demo data only, printed in the seed output)
SELLERS = [("anna", "Anna's vintage finds"), ("ben", "Ben's camera shop"), ("chloe", "Chloé"), ("dario", "Dario")]
GRADES = ["new_with_tags", "new_without_tags", "like_new", "good", "good", "fair", "for_parts"]
PRICE_FACTOR = {"new_with_tags": 1.2, "new_without_tags": 1.1, "like_new": 1.0, "good": 0.85, "fair": 0.6,
                "for_parts": 0.3}  # fmt: skip
COPIES = 6  # listings per product, spread over sellers, grades and places


def _answers(grade: str, rng: random.Random) -> dict[str, Any]:
    flaw = rng.choice(["none", "light scratches on the base", "small scuff on one corner", "faded label"])
    return {
        "new_with_tags": {"packaging_opened": rng.random() < 0.3},
        "new_without_tags": {"storage_marks": rng.random() < 0.2},
        "like_new": {"flaws": flaw, "minor_marks": flaw != "none"},
        "good": {"flaws": flaw, "stains": rng.random() < 0.2, "missing_parts": rng.random() < 0.1},
        "fair": {"flaws": flaw, "stains": rng.random() < 0.4, "damage": rng.random() < 0.5,
                 "missing_parts": rng.random() < 0.2},
        "for_parts": {"defects": "does not power on", "powers_on": False},
    }[grade]  # fmt: skip


def _photos(sku: str, count: int) -> list[dict[str, Any]]:
    return [
        {"key": f"seed/{sku}/{n}.jpg", "content_type": "image/jpeg", "size_bytes": 180_000 + 997 * n,
         "width": 1600, "height": 1200, "order": n}
        for n in range(count)
    ]  # fmt: skip


def _rows(seller_index: int) -> list[dict[str, Any]]:
    """The listings of one demo seller (deterministic: the same rows on every run)."""
    rng = random.Random(6000 + seller_index)
    rows = []
    for category, products in PRODUCTS.items():
        for product_index, (title, attributes, price) in enumerate(products):
            for copy in range(COPIES):
                if (product_index + copy) % len(SELLERS) != seller_index:
                    continue
                grade = rng.choice(GRADES)
                sku = f"seed-{SELLERS[seller_index][0]}-{category}-{product_index}-{copy}"
                city, country, lat, lng = rng.choice(PLACES)
                amount = int(price * PRICE_FACTOR[grade] * rng.uniform(0.8, 1.2)) // 100 * 100 + 99
                rows.append({
                    "sku": sku, "title": title, "category": category, "price_amount": amount, "currency": "EUR",
                    "description": f"{title}. {rng.choice(['Barely used', 'Well looked after', 'Used with care'])}, "
                                   f"from a smoke-free home; collection in {city} or tracked shipping.",
                    "condition": grade, "condition_answers": _answers(grade, rng), "attributes": attributes,
                    "photos": _photos(sku, 4), "location_label": city, "country": country,
                    "latitude": round(lat + rng.uniform(-0.05, 0.05), 5),
                    "longitude": round(lng + rng.uniform(-0.05, 0.05), 5),
                    "shipping_options": [{"method": "pickup", "price_amount": 0, "days_min": 0, "days_max": 0},
                                         {"method": "tracked", "price_amount": 690, "days_min": 2, "days_max": 4}],
                    "publish": rng.random() < 0.88,
                })  # fmt: skip
    return rows


def _seller(index: int, key: str, name: str) -> Any:
    existing = listings.seller_for_sku(sku=_rows(index)[0]["sku"])
    if existing is not None:
        return existing
    return auth.register_user(
        email=f"{key}@sellers.bazaar.local", password=DEMO_SELLER_LOGIN, display_name=name,
        roles=("seller", "buyer"), verified=True,
    )  # fmt: skip


def seed(echo: Echo) -> None:
    for done, (slug, name, parent, schema) in enumerate(CATEGORIES, start=1):
        listings.ensure_category(slug=slug, name=name, parent_slug=parent, attributes_schema=schema)
        progress(echo, "categories", done, len(CATEGORIES), every=5)
    echo(f"  condition rubrics: {listings.ensure_rubrics()} added")
    totals = {"created": 0, "updated": 0, "skipped": 0}
    for index, (key, name) in enumerate(SELLERS):
        seller_id = _seller(index, key, name)
        result = listings.import_rows(seller_id=seller_id, rows=_rows(index), keep_existing=True)
        if result["issues"]:
            raise RuntimeError(f"seed rows refused: {result['issues'][:3]}")
        for k in totals:
            totals[k] += result[k]
        echo(f"  listings of {key}: {result['created']} created, {result['skipped']} already there")
        progress(echo, "sellers", index + 1, len(SELLERS), every=1)
    echo(f"  listings: {totals['created']} created, {totals['updated']} updated, {totals['skipped']} unchanged")


def demo_accounts() -> list[str]:
    return [f"seller  {key}@sellers.bazaar.local / {DEMO_SELLER_LOGIN}  ({name})" for key, name in SELLERS]
