"""One-click unsubscribe links (RFC 8058): a signed, non-expiring token naming the user and the kind.

The token is signed with the app's SECRET_KEY (itsdangerous, salted for this purpose only), so it
works from any old email and fails when a single character is changed. ``kind="*"`` stops every
email that may be stopped. The headers go on every email a user may switch off, never on
mandatory or transactional mail.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "bazaar.notifications.unsubscribe"
ALL = "*"


class BadUnsubscribeToken(Exception):
    """The token was not signed by us (tampered, truncated, or from another deployment)."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(user_id: uuid.UUID, kind: str) -> str:
    return _serializer().dumps({"u": str(user_id), "k": kind})


def read_token(token: str) -> tuple[uuid.UUID, str]:
    try:
        data = _serializer().loads(token)
        return uuid.UUID(data["u"]), str(data["k"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise BadUnsubscribeToken("This unsubscribe link is not valid.") from None


def unsubscribe_url(user_id: uuid.UUID, kind: str) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/notifications/unsubscribe?{urlencode({'token': make_token(user_id, kind)})}"


def list_unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe + RFC 8058 List-Unsubscribe-Post (mail clients' one-click button)."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
