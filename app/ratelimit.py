"""Rate limits on Redis, shared by every process: per user when signed in, else per IP.

Routes that attract brute force (login, sign-up, password reset, MFA) declare stricter limits with
:func:`rate_limit`, naming the setting that holds the limit; ``RATELIMIT_ROUTES`` overrides the limit
of any endpoint. Responses carry the IETF draft headers ``RateLimit-Limit``, ``RateLimit-Remaining``,
``RateLimit-Reset`` (seconds until the window resets) and, on a 429, ``Retry-After``; the 429 itself
is problem+json.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, Response, request
from flask_limiter import HeaderNames, Limiter, RateLimitExceeded
from limits import parse_many

from app.errors import PROBLEM_TYPE_BASE, is_api_request, problem_response
from app.security.identity import current_principal
from config import ConfigError

F = TypeVar("F", bound=Callable[..., Any])
KeyFunc = Callable[[], str]

# Staff pages, docs and probes are not client traffic.
EXEMPT_PREFIXES = ("/admin", "/docs", "/openapi.json", "/healthz", "/readyz", "/metrics")
HEADER_NAMES = {
    HeaderNames.LIMIT: "RateLimit-Limit",
    HeaderNames.REMAINING: "RateLimit-Remaining",
    HeaderNames.RESET: "RateLimit-Reset",
    HeaderNames.RETRY_AFTER: "Retry-After",
}
RATE_LIMITED_PROBLEM = PROBLEM_TYPE_BASE + "rate-limited"
_MARK = "_bazaar_route_limits"


def ip_key() -> str:
    return f"ip:{request.remote_addr or 'unknown'}"


def client_key() -> str:
    principal = current_principal()
    if principal.is_authenticated:
        return f"user:{principal.user_id}"
    return ip_key()


def body_field_key(field: str) -> KeyFunc:
    """Key on a JSON body field (e.g. the email a login targets), hashed; the IP when it is absent."""

    def key() -> str:
        body = request.get_json(silent=True)
        value = body.get(field) if isinstance(body, dict) else None
        if not isinstance(value, str) or not value.strip():
            return ip_key()
        digest = hashlib.sha256(value.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"{field}:{digest}"

    return key


@dataclass(frozen=True)
class RouteLimit:
    setting: str
    key: KeyFunc | None = None
    count_when: Callable[[Response], bool] | None = None


def failed(response: Response) -> bool:
    """Count only refused attempts (a wrong password, a bad code), not successful ones."""
    return response.status_code >= 400


def rate_limit(
    setting: str, *, key: KeyFunc | None = None, count_when: Callable[[Response], bool] | None = None
) -> Callable[[F], F]:
    """Give a view a stricter limit read from ``setting``; stack it to key one route several ways.

    ``count_when`` (e.g. :func:`failed`) makes only some answers use the budget; a request is still
    refused once the budget is spent. Marks the view only: each app applies the marks with its own
    limiter (:func:`apply_route_limits`), so one blueprint module can serve several apps in a process.
    """

    def mark(view: F) -> F:
        marks = list(getattr(view, _MARK, ()))
        marks.append(RouteLimit(setting, key, count_when))
        setattr(view, _MARK, tuple(marks))
        return view

    return mark


def parse_route_overrides(raw: str) -> dict[str, str]:
    """``"auth.login=3/minute listings.create=30/minute;500/day"`` -> {endpoint: limit}."""
    overrides = {}
    for item in raw.split():
        endpoint, _, limit = item.partition("=")
        if not endpoint or not limit:
            raise ConfigError(f"RATELIMIT_ROUTES: expected endpoint=limit, got {item!r}")
        overrides[endpoint] = _checked(limit, "RATELIMIT_ROUTES")
    return overrides


def _checked(limit: str, setting: str) -> str:
    try:
        parse_many(limit)
    except ValueError:
        raise ConfigError(f"{setting}: not a rate limit: {limit!r} (e.g. 5/minute;50/hour)") from None
    return limit


def apply_route_limits(app: Flask) -> None:
    """Wrap views marked by :func:`rate_limit` or named in RATELIMIT_ROUTES with this app's limiter."""
    limiter: Limiter = app.extensions["bazaar_limiter"]
    overrides = parse_route_overrides(app.config.get("RATELIMIT_ROUTES", ""))
    unknown = set(overrides) - set(app.view_functions)
    if unknown:
        raise ConfigError(f"RATELIMIT_ROUTES: unknown endpoints {', '.join(sorted(unknown))}")
    for endpoint, view in list(app.view_functions.items()):
        marks: tuple[RouteLimit, ...] = getattr(view, _MARK, ())
        if not marks and endpoint not in overrides:
            continue
        wrapped = view
        if endpoint in overrides:
            wrapped = limiter.limit(overrides[endpoint], key_func=client_key)(wrapped)
        else:
            for mark in marks:
                limit = _checked(app.config[mark.setting], mark.setting)
                wrapped = limiter.limit(limit, key_func=mark.key or client_key, deduct_when=mark.count_when)(wrapped)
        app.view_functions[endpoint] = wrapped


def _draft_headers(response: Response) -> Response:
    """RateLimit-Reset in delta seconds (the draft), and Retry-After only where it means something."""
    reset = response.headers.get(HEADER_NAMES[HeaderNames.RESET])
    if reset is not None and reset.isdigit():
        response.headers[HEADER_NAMES[HeaderNames.RESET]] = str(max(0, int(int(reset) - time.time())))
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def _too_many_requests(error: RateLimitExceeded) -> Response:
    if not is_api_request():
        return error.get_response()
    return problem_response(
        429,
        title="Too Many Requests",
        detail=f"Rate limit exceeded ({error.description}); retry after the delay in Retry-After.",
        type_=RATE_LIMITED_PROBLEM,
    )


def _never_limit_by_default() -> bool:
    return True


def init_app(app: Flask) -> Limiter:
    # Flask-AppBuilder builds a second Limiter from the same RATELIMIT_* config: without this it
    # would apply RATELIMIT_DEFAULT again, per IP, to every route (signed-in users behind one NAT
    # would share it) and add X-RateLimit-* headers. Ours passes its own exemption, so ignores it.
    app.config["RATELIMIT_DEFAULTS_EXEMPT_WHEN"] = _never_limit_by_default
    # Registered before the limiter's own after_request, so it runs after the headers are added.
    app.after_request(_draft_headers)
    default = _checked(app.config["RATELIMIT_DEFAULT"], "RATELIMIT_DEFAULT")
    limiter = Limiter(
        key_func=client_key,
        app=app,
        default_limits=[default],
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        headers_enabled=True,
        header_name_mapping=HEADER_NAMES,
        enabled=app.config["RATELIMIT_ENABLED"],
        strategy="moving-window",
        key_prefix="bazaar-rl",
        # A Redis outage must not take the API down: fall back to per-process memory limits.
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        in_memory_fallback=[default],
        default_limits_exempt_when=lambda: request.path.startswith(EXEMPT_PREFIXES),
    )
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    app.extensions["bazaar_limiter"] = limiter
    return limiter
