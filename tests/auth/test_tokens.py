"""Access tokens: claims, and every kind of bad token refused with 401 problem+json."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.security import encode_access_token
from tests.auth.conftest import PASSWORD, assert_problem, bearer


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, key: bytes | None) -> str:
    """A JWT assembled by hand (PyJWT refuses to produce these on purpose)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = b"" if key is None else hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def assert_rejected(client, token: str) -> dict:  # type: ignore[no-untyped-def]
    response = client.get("/auth/me", headers=bearer(token))
    body = assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return body


def test_login_issues_short_lived_access_token_with_documented_claims(app, client, signup, login):
    account = signup(roles=["buyer", "seller"])
    response = login(account.email)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["mfa_required"] is False
    assert body["expires_in"] == 900
    header = jwt.get_unverified_header(body["access_token"])
    assert header == {"alg": "HS256", "kid": "k1", "typ": "JWT"}
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == str(account.user_id)
    assert claims["sid"] == body["session_id"]
    assert claims["roles"] == ["buyer", "seller"]
    assert claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 900
    assert "mfa" not in claims  # no second factor in this session
    assert client.get("/auth/me", headers=bearer(body["access_token"])).status_code == 200


def test_wrong_password_and_unknown_email_look_the_same(client, signup, login):
    account = signup()
    wrong = assert_problem(login(account.email, "not the password"), 401, kind="invalid-credentials")
    unknown = assert_problem(login("nobody@example.test", PASSWORD), 401, kind="invalid-credentials")
    assert wrong["detail"] == unknown["detail"]


def test_expired_token_is_rejected(app, client, signup):
    account = signup()
    with app.app_context():
        token = encode_access_token(user_id=account.user_id, session_id=account.session_id, ttl=timedelta(seconds=-60))
    assert "expired" in assert_rejected(client, token)["detail"]


def test_tampered_token_is_rejected(client, signup):
    account = signup()
    header, payload, signature = account.access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["buyer", "seller", "staff"]
    assert_rejected(client, f"{header}.{b64(json.dumps(claims).encode())}.{signature}")
    assert_rejected(client, f"{header}.{payload}.{signature[:-4]}AAAA")


def test_alg_none_is_rejected(client, signup):
    account = signup()
    claims = jwt.decode(account.access, options={"verify_signature": False})
    assert_rejected(client, forge({"alg": "none", "typ": "JWT", "kid": "k1"}, claims, None))
    assert_rejected(client, forge({"alg": "None", "typ": "JWT", "kid": "k1"}, claims, None))


def test_token_signed_with_another_secret_or_unknown_kid_is_rejected(app, client, signup):
    account = signup()
    claims = jwt.decode(account.access, options={"verify_signature": False})
    assert_rejected(client, jwt.encode(claims, "another-secret-entirely-0123456789", headers={"kid": "k1"}))
    with app.app_context():
        secret = app.config["JWT_SECRET"]
    assert "kid" in assert_rejected(client, jwt.encode(claims, secret, headers={"kid": "k9"}))["detail"]


def test_wrong_audience_or_issuer_is_rejected(app, client, signup):
    account = signup()
    claims = jwt.decode(account.access, options={"verify_signature": False})
    secret = app.config["JWT_SECRET"]
    assert_rejected(client, jwt.encode({**claims, "aud": "someone-else"}, secret, headers={"kid": "k1"}))
    assert_rejected(client, jwt.encode({**claims, "iss": "someone-else"}, secret, headers={"kid": "k1"}))


def test_revoked_session_token_is_rejected_before_expiry(client, signup):
    account = signup()
    assert client.post("/auth/logout", headers=account.headers).status_code == 204
    assert "revoked" in assert_rejected(client, account.access)["detail"]
    refresh = client.post("/auth/token/refresh", json={"refresh_token": account.refresh})
    assert_problem(refresh, 401, kind="invalid-refresh-token")


def test_malformed_authorization_header_is_401(client):
    for value in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt"):
        assert_problem(client.get("/auth/me", headers={"Authorization": value}), 401)


def test_retired_key_still_verifies_during_rotation(make_app, app, signup):
    account = signup()
    old_secret = app.config["JWT_SECRET"]
    rotated = make_app(
        JWT_KID="k2", JWT_SECRET="new-secret-for-k2-0123456789abcdef", JWT_PREVIOUS_SECRETS=f"k1={old_secret}"
    )
    client = rotated.test_client()
    assert client.get("/auth/me", headers=account.headers).status_code == 200  # k1 token, retired key
    fresh = client.post("/auth/login", json={"email": account.email, "password": PASSWORD}).json["access_token"]
    assert jwt.get_unverified_header(fresh)["kid"] == "k2"
    assert client.get("/auth/me", headers=bearer(fresh)).status_code == 200


@pytest.fixture(scope="module")
def rsa_keys(tmp_path_factory) -> tuple[str, str, bytes]:  # type: ignore[no-untyped-def]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    folder = tmp_path_factory.mktemp("keys")
    (folder / "private.pem").write_bytes(private_pem)
    (folder / "public.pem").write_bytes(public_pem)
    return str(folder / "private.pem"), str(folder / "public.pem"), public_pem


def test_rs256_tokens_work_and_hs256_signed_with_the_public_key_is_rejected(make_app, app, signup, rsa_keys):
    private_path, public_path, public_pem = rsa_keys
    rs_app = make_app(JWT_ALGORITHM="RS256", JWT_PRIVATE_KEY=private_path, JWT_PUBLIC_KEYS=f"k1={public_path}")
    client = rs_app.test_client()
    account = signup()
    login = client.post("/auth/login", json={"email": account.email, "password": PASSWORD})
    token = login.json["access_token"]
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert client.get("/auth/me", headers=bearer(token)).status_code == 200
    # The HS256 token of the other (HS) app is refused here...
    assert_rejected(client, account.access)
    # ...and so is the classic confusion attack: HMAC keyed with the RSA public key.
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = forge({"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims, public_pem)
    assert "algorithm" in assert_rejected(client, forged)["detail"]


def test_mfa_pending_token_is_not_an_access_token(client, mfa_account, login):
    account, _secret, _codes = mfa_account()
    pending = login(account.email).json
    assert pending["mfa_required"] is True and "access_token" not in pending
    body = assert_rejected(client, pending["mfa_token"])
    assert "mfa_pending" in body["detail"]


def test_access_token_is_not_accepted_as_mfa_token(client, mfa_account):
    account, secret, _codes = mfa_account()
    from tests.auth.conftest import totp_code

    response = client.post("/auth/login/mfa", json={"mfa_token": account.access, "code": totp_code(secret, 30)})
    assert_problem(response, 401, kind="invalid-mfa-token")


def test_token_for_unknown_session_user_gets_401_on_account_routes(client, token_for):
    # A structurally valid token whose user does not exist (never issued by auth).
    assert_problem(client.get("/auth/me", headers=bearer(token_for(uuid.uuid4()))), 401)
