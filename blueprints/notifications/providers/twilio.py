"""SMS through Twilio's Messages API (``POST /2010-04-01/Accounts/{sid}/Messages.json``), base URL configurable.

Form-encoded ``To``/``From``/``Body`` with HTTP basic auth (account SID, auth token); a 201 answers
the message ``sid``. Errors answer ``{"code", "message", "status"}``: 429 and 5xx are transient,
other 4xx (21211 invalid number, 21610 recipient opted out) are refusals for good. Twilio has no
idempotency key for this call, hence ``resend_in_doubt = False`` (at-most-once after a crash).
"""

from __future__ import annotations

from blueprints.notifications.catalog import SMS
from blueprints.notifications.providers.base import OutgoingMessage, ProviderError, SendResult
from blueprints.notifications.providers.http import HTTPProvider, is_transient, json_body, retry_after

OPTED_OUT = 21610


class TwilioProvider(HTTPProvider):
    name = "twilio"
    channel = SMS
    resend_in_doubt = False

    def url(self) -> str:
        base = self.config["TWILIO_API_BASE"].rstrip("/")
        return f"{base}/2010-04-01/Accounts/{self.config['TWILIO_ACCOUNT_SID']}/Messages.json"

    def send(self, message: OutgoingMessage) -> SendResult:
        sender = self.config["TWILIO_FROM"]
        form = {"To": message.to, "Body": message.text}
        form["MessagingServiceSid" if sender.startswith("MG") else "From"] = sender
        response = self.post(
            self.url(), data=form, auth=(self.config["TWILIO_ACCOUNT_SID"], self.config["TWILIO_AUTH_TOKEN"])
        )
        body = json_body(response)
        if response.status_code in (200, 201) and body.get("sid"):
            return SendResult(provider_message_id=str(body["sid"]))
        code = body.get("code")
        raise ProviderError(
            f"twilio {response.status_code} {code or ''} {body.get('message') or response.text[:200]}".strip(),
            transient=is_transient(response.status_code),
            retry_after=retry_after(response),
            code=str(code or response.status_code),
            forget_address=code == OPTED_OUT,
        )
