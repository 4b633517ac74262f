"""Push through Firebase Cloud Messaging HTTP v1 (``POST /v1/projects/{id}/messages:send``), base URL configurable.

JSON ``{"message": {"token", "notification": {"title", "body"}, "data"}}`` with a bearer token; a 200
answers ``{"name": "projects/<id>/messages/<message id>"}``. Errors answer ``{"error": {"code", "status",
"details": [{"errorCode"}]}}``: UNREGISTERED / INVALID_ARGUMENT mean the device token is dead (forget it),
429 QUOTA_EXCEEDED and 5xx UNAVAILABLE/INTERNAL are transient (honouring Retry-After). FCM has no
idempotency key, hence ``resend_in_doubt = False``.
"""

from __future__ import annotations

from typing import Any

from blueprints.notifications.catalog import PUSH
from blueprints.notifications.providers.base import OutgoingMessage, ProviderError, SendResult
from blueprints.notifications.providers.http import HTTPProvider, is_transient, json_body, retry_after

DEAD_TOKEN_CODES = {"UNREGISTERED", "INVALID_ARGUMENT", "SENDER_ID_MISMATCH"}


class FCMProvider(HTTPProvider):
    name = "fcm"
    channel = PUSH
    resend_in_doubt = False

    def url(self) -> str:
        base = self.config["FCM_API_BASE"].rstrip("/")
        return f"{base}/v1/projects/{self.config['FCM_PROJECT_ID']}/messages:send"

    def send(self, message: OutgoingMessage) -> SendResult:
        payload = {
            "message": {
                "token": message.to,
                "notification": {"title": message.title, "body": message.text},
                "data": {k: str(v) for k, v in message.data.items()},
            }
        }
        response = self.post(
            self.url(), json=payload, headers={"Authorization": f"Bearer {self.config['FCM_ACCESS_TOKEN']}"}
        )
        body = json_body(response)
        if response.status_code == 200 and body.get("name"):
            return SendResult(provider_message_id=str(body["name"]).rsplit("/", 1)[-1])
        error: dict[str, Any] = body.get("error") if isinstance(body.get("error"), dict) else {}  # type: ignore[assignment]
        code = _error_code(error) or error.get("status") or str(response.status_code)
        raise ProviderError(
            f"fcm {response.status_code} {code} {error.get('message') or response.text[:200]}".strip(),
            transient=is_transient(response.status_code),
            retry_after=retry_after(response),
            code=str(code),
            forget_address=code in DEAD_TOKEN_CODES,
        )


def _error_code(error: dict[str, Any]) -> str | None:
    for detail in error.get("details") or ():
        if isinstance(detail, dict) and detail.get("errorCode"):
            return str(detail["errorCode"])
    return None
