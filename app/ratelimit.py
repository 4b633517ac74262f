"""Rate limits per client (user when authenticated, else IP) on Redis, shared by every process."""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter

from app.security.identity import current_principal

# Staff pages, docs and probes are not client traffic.
EXEMPT_PREFIXES = ("/admin", "/docs", "/openapi.json", "/healthz", "/readyz", "/metrics")


def client_key() -> str:
    principal = current_principal()
    if principal.is_authenticated:
        return f"user:{principal.user_id}"
    return f"ip:{request.remote_addr or 'unknown'}"


def init_app(app: Flask) -> Limiter:
    limiter = Limiter(
        key_func=client_key,
        app=app,
        default_limits=[app.config["RATELIMIT_DEFAULT"]],
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        headers_enabled=True,
        enabled=app.config["RATELIMIT_ENABLED"],
        strategy="moving-window",
        key_prefix="bazaar-rl",
        # A Redis outage must not take the API down: fall back to per-process memory limits.
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        in_memory_fallback=[app.config["RATELIMIT_DEFAULT"]],
        default_limits_exempt_when=lambda: request.path.startswith(EXEMPT_PREFIXES),
    )
    app.extensions["bazaar_limiter"] = limiter
    return limiter
