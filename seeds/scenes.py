"""What the demo people say and do: which listing, the chat lines, the offers.

Plain data read by :mod:`seeds.conversations` (live chats and negotiations) and :mod:`seeds.sale`
(one sale carried through to the payout). Titles are products of :data:`seeds.catalog.PRODUCTS`.
"""

from __future__ import annotations

from dataclasses import dataclass

BUYER, SELLER = "buyer", "seller"


@dataclass(frozen=True)
class Scene:
    buyer: str  # a key of seeds.buyers.BUYERS
    seller: str  # a key of seeds.catalog.SELLERS
    title: str  # the product the buyer is interested in
    lines: tuple[tuple[str, str], ...]  # (who, text) in order
    offer_pct: int | None = None  # the buyer's opening offer, in % of the asking price
    counter_pct: int | None = None  # the seller's counter-offer, in % of the asking price

    @property
    def key(self) -> str:
        return f"{self.buyer}-{self.seller}-{self.title}"


CONVERSATIONS = (
    Scene(
        "emma",
        "ben",
        "Canon AE-1 Program 35mm film camera",
        (
            (BUYER, "Hi! Does the light meter still work?"),
            (SELLER, "Yes, I tested it last week with a fresh battery. Shutter speeds are accurate too."),
            (BUYER, "Great. Are the light seals original?"),
            (SELLER, "Replaced last year, no leaks on the last roll."),
        ),
        offer_pct=85,
    ),
    Scene(
        "farid",
        "anna",
        "Mid-century teak sideboard",
        (
            (BUYER, "Beautiful piece. What are the exact dimensions?"),
            (SELLER, "160 cm wide, 45 deep, 78 high. The drawers run smoothly."),
            (BUYER, "Could you do a better price if I collect it myself?"),
        ),
        offer_pct=78,
        counter_pct=90,
    ),
    Scene(
        "greta",
        "chloe",
        "iPhone 13 128 GB midnight",
        (
            (BUYER, "Hello, what is the battery health?"),
            (SELLER, "89%, and it has always been in a case."),
            (BUYER, "Is it unlocked for all networks?"),
        ),
    ),
    Scene(
        "hugo",
        "dario",
        "Brompton M6L folding bike",
        (
            (BUYER, "Is the bike still available? I could come this weekend."),
            (SELLER, "It is. Saturday morning works for me."),
        ),
        offer_pct=90,
    ),
    Scene(
        "greta",
        "ben",
        "Sony WH-1000XM4 noise cancelling headphones",
        ((BUYER, "Do they come with the case and the cable?"), (SELLER, "Both, and the flight adapter.")),
        offer_pct=75,
        counter_pct=88,
    ),
)

# The completed sale: agreed after one counter, paid by card, shipped, received, released, paid out.
SALE = Scene(
    "emma",
    "anna",
    "Technics SL-1200 MK2 turntable",
    (
        (BUYER, "Hello Anna, does it come with the dust cover and a cartridge?"),
        (SELLER, "Yes to both: original dust cover and an Ortofon 2M Red fitted in spring."),
        (BUYER, "Lovely. I'll make you an offer."),
        (SELLER, "Thanks for paying so quickly, it is packed and ships today."),
        (BUYER, "Arrived safely and sounds wonderful. Thank you!"),
    ),
    offer_pct=88,
    counter_pct=95,
)
