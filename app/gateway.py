"""The API gateway's cross-cutting concerns that are not identity or rate limits.

- client IP behind ``TRUSTED_PROXY_COUNT`` reverse proxies (rate limits and sessions key on it);
- request size limit: a body over ``MAX_CONTENT_LENGTH`` is refused with 413 problem+json before any
  view, authentication or rate limit reads it;
- CORS (flask-cors) for the browser origins of ``CORS_ORIGINS``, never on the staff admin;
- security headers on every response; API responses also forbid framing, sniffing and caching.

Request ids live in :mod:`app.logging`; bearer tokens in :mod:`app.security.identity`.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_cors import CORS
from flask_smorest import abort
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from app.errors import PROBLEM_TYPE_BASE, is_api_request

# Headers browsers may send / read cross-origin (ETag + If-Match for optimistic writes, rate limits).
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match", "X-Request-ID")
CORS_EXPOSE_HEADERS = (
    "ETag",
    "Location",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "X-Request-ID",
    "X-Pagination",
)
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# JSON never needs to run scripts, load resources or be framed.
API_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}
# HTML pages (admin, Swagger UI) load their own scripts and styles: allow only same-origin framing.
HTML_HEADERS = {"X-Frame-Options": "SAMEORIGIN"}
HTML_PREFIXES = ("/admin", "/docs")
HSTS = "max-age=63072000; includeSubDomains"


def _too_large(message: str) -> None:
    abort(413, message=message, type=PROBLEM_TYPE_BASE + "payload-too-large")


def refuse_large_bodies() -> None:
    """413 before any view, authentication or rate limit reads a body over MAX_CONTENT_LENGTH.

    A declared length is checked as is; a chunked body (no length) is read here, through werkzeug's
    capped stream, so the overflow is a 413 and not a parser's "invalid JSON" on a truncated body.
    """
    limit = request.max_content_length
    if limit is None:
        return
    if request.content_length is not None:
        if request.content_length > limit:
            _too_large(f"The request body is {request.content_length} bytes; the limit is {limit} bytes.")
    elif "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        # werkzeug's capped stream stops quietly at the cap: reaching it means the body is too large.
        try:
            body = request.get_data(cache=True)
        except RequestEntityTooLarge:
            body = None
        if body is None or len(body) >= limit:
            _too_large(f"The request body reaches the limit of {limit} bytes.")


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    for name, value in COMMON_HEADERS.items():
        headers.setdefault(name, value)
    html = request.path.startswith(HTML_PREFIXES) or not is_api_request()
    for name, value in (HTML_HEADERS if html else API_HEADERS).items():
        headers.setdefault(name, value)
    if not html and request.headers.get("Authorization"):
        # Authenticated answers are private to their user: no shared or browser cache keeps them.
        headers.setdefault("Cache-Control", "no-store")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    hops = app.config.get("TRUSTED_PROXY_COUNT", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.before_request(refuse_large_bodies)
    app.after_request(add_security_headers)
    origins = [origin.strip() for origin in app.config.get("CORS_ORIGINS", "").split(",") if origin.strip()]
    if origins:
        CORS(
            app,
            resources={r"^/(?!admin).*": {"origins": origins}},
            allow_headers=list(CORS_ALLOW_HEADERS),
            expose_headers=list(CORS_EXPOSE_HEADERS),
            methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            supports_credentials=False,  # bearer tokens, never cookies, cross-origin
            max_age=600,
        )
