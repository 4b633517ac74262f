"""Demo buyers: four people who chat, bargain and buy from the demo sellers of :mod:`seeds.catalog`.

Idempotent: a buyer is found again by email (the auth domain's ``find_user_id``), never registered twice.
"""

from __future__ import annotations

import uuid

from app.generator import Actor
from blueprints.auth import service as auth
from seeds import Echo, progress

DEMO_BUYER_PASSWORD = "bazaar-buyer"  # noqa: S105 - demo data only, printed in the seed output
BUYERS = [("emma", "Emma Martin"), ("farid", "Farid Haddad"), ("greta", "Greta Olsen"), ("hugo", "Hugo Lefebvre")]
BUYER_ROLES = frozenset({"buyer"})


def buyer_email(key: str) -> str:
    return f"{key}@buyers.bazaar.local"


def buyer_actor(key: str) -> Actor:
    """The seeded buyer ``key`` acting as themselves (the buyers step must have run)."""
    user_id = auth.find_user_id(email=buyer_email(key))
    if user_id is None:
        raise RuntimeError(f"demo buyer {key} is missing: run the buyers seed first")
    return Actor("user", str(user_id), BUYER_ROLES)


def ensure_buyer(key: str, name: str) -> tuple[uuid.UUID, bool]:
    """``(user id, created)`` of the demo buyer ``key``."""
    existing = auth.find_user_id(email=buyer_email(key))
    if existing is not None:
        return existing, False
    user_id = auth.register_user(
        email=buyer_email(key), password=DEMO_BUYER_PASSWORD, display_name=name, roles=BUYER_ROLES, verified=True
    )
    return user_id, True


def seed(echo: Echo) -> None:
    created = 0
    for done, (key, name) in enumerate(BUYERS, start=1):
        created += ensure_buyer(key, name)[1]
        progress(echo, "buyers", done, len(BUYERS), every=2)
    echo(f"  buyers: {created} created, {len(BUYERS) - created} already there")


def demo_accounts() -> list[str]:
    return [f"buyer   {buyer_email(key)} / {DEMO_BUYER_PASSWORD}  ({name})" for key, name in BUYERS]
