"""Integrator webhooks on the wire: signatures, SSRF-safe targets, and one POST.

Signature (documented for integrators, like Stripe's)::

    Bazaar-Signature: t=1764130000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd

``v1`` is the lowercase hex HMAC-SHA256, keyed with the endpoint's secret (``whsec_...``), of the
UNIX timestamp ``t``, a literal ".", and the exact request body bytes. To verify: recompute it over
the raw body, compare in constant time, and refuse a ``t`` older than a tolerance (5 minutes) to
stop replays. :func:`verify_signature` does exactly that and is what the tests use.

SSRF: a target URL must be http(s) without credentials, and its host must resolve only to public
addresses: every address is checked (no loopback, private, link-local, multicast, reserved,
unspecified or otherwise non-global address), at registration and again before each POST, which
connects to the address that was checked (no second DNS lookup to rebind). ``WEBHOOKS_ALLOW_PRIVATE``
lifts the address rule for local runs and tests.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import urllib3

__all__ = [
    "SIGNATURE_HEADER",
    "SignatureError",
    "UnsafeTarget",
    "compute_signature",
    "send",
    "signature_header",
    "validate_target_url",
    "verify_signature",
]

SIGNATURE_HEADER = "Bazaar-Signature"
DEFAULT_TOLERANCE = 300
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list]


class SignatureError(ValueError):
    """The signature header is missing, malformed, stale or does not match the body."""


class UnsafeTarget(ValueError):
    """The URL may not receive webhooks (scheme, credentials, or an address that is not public)."""


def _bytes(body: str | bytes) -> bytes:
    return body.encode() if isinstance(body, str) else body


def compute_signature(secret: str, timestamp: int, body: str | bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + _bytes(body), hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: str | bytes) -> str:
    return f"t={timestamp},v1={compute_signature(secret, timestamp, body)}"


def verify_signature(
    body: str | bytes, header: str | None, secret: str, *, tolerance: int = DEFAULT_TOLERANCE, now: float | None = None
) -> int:
    """Check a ``Bazaar-Signature`` header against the raw body; returns its timestamp or raises."""
    if not header:
        raise SignatureError("missing signature header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("malformed signature header: expected t=<unix time>,v1=<hex>")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError(f"timestamp outside the {tolerance}s tolerance")
    expected = compute_signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("signature does not match the body")
    return timestamp


def address_problem(address: IPAddress) -> str | None:
    """Why an address may not receive webhooks, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None:
            return address_problem(embedded)
    # Most specific first: 169.254.0.0/16 is also "private" to Python, but link-local says why it matters.
    for attribute in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(address, f"is_{attribute}"):
            return attribute.replace("_", "-")
    if not address.is_global:
        return "not globally routable"
    return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (SNI and Host header)
    port: int
    path: str  # path + query
    host_header: str
    addresses: tuple[str, ...]  # every address the host resolved to, all checked


def validate_target_url(
    url: str, *, allow_private: bool, require_https: bool = False, resolver: Resolver = socket.getaddrinfo
) -> Target:
    """Parse, resolve and check a webhook URL; raises :class:`UnsafeTarget` with the reason."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"not a valid URL: {exc}") from None
    allowed = ("https",) if require_https else ("https", "http")
    if parts.scheme not in allowed:
        raise UnsafeTarget(f"scheme must be {' or '.join(allowed)}")
    if not parts.hostname:
        raise UnsafeTarget("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeTarget("credentials in the URL are not allowed")
    if parts.fragment:
        raise UnsafeTarget("fragments are not allowed")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = resolver(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise UnsafeTarget(f"{host} does not resolve ({exc})") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos))
        if not addresses:
            raise UnsafeTarget(f"{host} does not resolve")
    if not allow_private:
        for address in addresses:
            problem = address_problem(address)
            if problem:
                raise UnsafeTarget(f"{host} resolves to {address}, a {problem} address")
    netloc_host = f"[{host}]" if ":" in host else host
    default_port = 443 if parts.scheme == "https" else 80
    host_header = netloc_host if port == default_port else f"{netloc_host}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, host_header, tuple(str(a) for a in addresses))


@dataclass(frozen=True)
class SendResult:
    outcome: str  # delivered | http_error | network_error | blocked
    status_code: int | None
    latency_ms: int
    error: str | None
    response_excerpt: str | None


def send(
    url: str,
    body: str,
    headers: dict[str, str],
    *,
    secret: str,
    timeout: float,
    allow_private: bool,
    require_https: bool = False,
) -> SendResult:
    """Validate the target, sign the body with a fresh timestamp, POST once (no redirects)."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = validate_target_url(url, allow_private=allow_private, require_https=require_https)
    except UnsafeTarget as exc:
        return SendResult("blocked", None, elapsed(), str(exc), None)
    all_headers = {
        **headers,
        "Content-Type": "application/json",
        "User-Agent": "Bazaar-Webhooks/1",
        "Host": target.host_header,
        SIGNATURE_HEADER: signature_header(secret, int(time.time()), body),
    }
    address = target.addresses[0]
    pool_timeout = urllib3.Timeout(connect=min(timeout, 5.0), read=timeout)
    if target.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=pool_timeout,
            maxsize=1,
            retries=False,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, timeout=pool_timeout, maxsize=1, retries=False)
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body.encode(),
            headers=all_headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            excerpt = response.read(1024, decode_content=True).decode("utf-8", "replace")
        finally:
            response.release_conn()
        status = response.status
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return SendResult("network_error", None, elapsed(), f"{type(exc).__name__}: {exc}"[:2000], None)
    finally:
        pool.close()
    outcome = "delivered" if 200 <= status < 300 else "http_error"
    error = None if outcome == "delivered" else f"HTTP {status}"
    return SendResult(outcome, status, elapsed(), error, excerpt or None)
