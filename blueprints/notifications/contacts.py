"""The port to the auth domain: how to reach a user (email address, display name, account state).

Notifications never read auth tables; this module is the one place that calls
``blueprints.auth.service`` so the dependency is easy to see and to replace.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from blueprints.auth import service as auth


@dataclass(frozen=True)
class Contact:
    user_id: uuid.UUID
    email: str
    email_verified: bool
    display_name: str
    active: bool


def get_contacts(user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Contact]:
    """Contacts of many users; unknown ids are absent. (auth has no bulk lookup yet: one call each.)"""
    found: dict[uuid.UUID, Contact] = {}
    for user_id in dict.fromkeys(user_ids):
        contact = auth.get_contact(user_id=user_id)
        if contact is not None:
            found[user_id] = Contact(
                user_id=contact.user_id,
                email=contact.email,
                email_verified=contact.email_verified,
                display_name=contact.display_name,
                active=contact.active,
            )
    return found


def display_names(user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Public display names (what a notification says about the other party), in one query."""
    return {uid: profile.display_name for uid, profile in auth.get_public_profiles(user_ids=list(user_ids)).items()}
