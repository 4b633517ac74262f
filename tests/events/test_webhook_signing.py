"""Webhook signatures (the documented algorithm) and the SSRF rules for target URLs."""

from __future__ import annotations

import hashlib
import hmac
import socket

import pytest

from app.events.webhooks import (
    SignatureError,
    UnsafeTarget,
    signature_header,
    validate_target_url,
    verify_signature,
)

SECRET = "whsec_test_secret"
BODY = b'{"id":"e1","type":"offers.OfferAccepted","data":{"amount":1200}}'


# --- signatures -----------------------------------------------------------------------------------


def test_signature_follows_the_documented_algorithm():
    header = signature_header(SECRET, 1_764_130_000, BODY)
    expected = hmac.new(SECRET.encode(), b"1764130000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1764130000,v1={expected}"
    assert verify_signature(BODY, header, SECRET, now=1_764_130_000 + 299) == 1_764_130_000


@pytest.mark.parametrize(
    ("body", "header_secret", "now_offset", "message"),
    [
        (BODY.replace(b"1200", b"1", 1), SECRET, 0, "does not match"),
        (BODY, "whsec_other", 0, "does not match"),
        (BODY, SECRET, 301, "tolerance"),
        (BODY, SECRET, -301, "tolerance"),
    ],
    ids=["tampered-body", "wrong-secret", "stale", "from-the-future"],
)
def test_signature_refuses_tampering_and_stale_timestamps(body, header_secret, now_offset, message):
    header = signature_header(header_secret, 1_764_130_000, BODY)
    with pytest.raises(SignatureError, match=message):
        verify_signature(body, header, SECRET, now=1_764_130_000 + now_offset)


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=notanumber,v1=abc", "t=1764130000"])
def test_signature_refuses_missing_or_malformed_headers(header):
    with pytest.raises(SignatureError):
        verify_signature(BODY, header, SECRET, now=1_764_130_000)


def test_any_of_several_v1_signatures_may_match():
    good = signature_header(SECRET, 1_764_130_000, BODY).split("v1=")[1]
    verify_signature(BODY, f"t=1764130000,v1={'0' * 64},v1={good}", SECRET, now=1_764_130_000)


# --- SSRF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/hook",
        "http://10.1.2.3/hook",
        "http://172.16.0.1/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://224.0.0.1/hook",
        "http://0.0.0.0/hook",
        "http://100.64.0.1/hook",
        "http://240.0.0.1/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fe80::1]/hook",
        "http://[fc00::1]/hook",
    ],
)
def test_private_loopback_link_local_multicast_and_reserved_targets_are_refused(url):
    with pytest.raises(UnsafeTarget, match="resolves to"):
        validate_target_url(url, allow_private=False)


def test_every_resolved_address_is_checked():
    def resolver(host, port, type=0):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    with pytest.raises(UnsafeTarget, match=r"10\.0\.0\.7"):
        validate_target_url("https://mixed.example/hook", allow_private=False, resolver=resolver)

    def public(host, port, type=0):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]

    target = validate_target_url("https://hooks.example:8443/in?x=1", allow_private=False, resolver=public)
    assert (target.host, target.port, target.path, target.host_header) == (
        "hooks.example",
        8443,
        "/in?x=1",
        "hooks.example:8443",
    )
    assert target.addresses == ("93.184.215.14",)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "scheme"),
        ("https://user:pw@example.com/x", "credentials"),
        ("https:///nohost", "no host"),
        ("http://[::1", "not a valid URL"),
    ],
)
def test_malformed_targets_are_refused(url, message):
    with pytest.raises(UnsafeTarget, match=message):
        validate_target_url(url, allow_private=True)


def test_production_requires_https():
    with pytest.raises(UnsafeTarget, match="scheme must be https"):
        validate_target_url("http://127.0.0.1/x", allow_private=True, require_https=True)
    assert validate_target_url("http://127.0.0.1/x", allow_private=True).addresses == ("127.0.0.1",)
