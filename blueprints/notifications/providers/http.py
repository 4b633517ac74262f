"""Shared plumbing of the HTTP adapters: one keep-alive session per batch, error classification."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

import requests

from app.db import utcnow
from blueprints.notifications.providers.base import Provider, ProviderError


class HTTPProvider(Provider):
    """A provider speaking JSON/form over HTTPS with ``requests`` (keep-alive within a batch)."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self._session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.post(url, timeout=self.config["PROVIDER_TIMEOUT_SECONDS"], **kwargs)
        except requests.RequestException as exc:  # connection refused/reset, timeout, TLS
            self.close()
            raise ProviderError(f"{self.name}: {exc.__class__.__name__}: {exc}"[:500], transient=True) from None


def retry_after(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or bad."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


def is_transient(status: int) -> bool:
    return status == 429 or status >= 500 or status == 408


def json_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
