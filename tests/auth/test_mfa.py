"""TOTP enrolment, the two-step login, replay protection, recovery codes, step-up and disabling."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import jwt
from sqlalchemy import select

from app.extensions import db
from blueprints.auth.models import RecoveryCode, TotpCredential
from tests.auth.conftest import PASSWORD, assert_problem, bearer, published, totp_code, wrong_totp_code


def mfa_login(client, email: str, code: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    pending = client.post("/auth/login", json={"email": email, "password": password}).json
    assert pending["mfa_required"] is True
    return client.post("/auth/login/mfa", json={"mfa_token": pending["mfa_token"], "code": code})


def test_enrolment_gives_an_otpauth_uri_and_turns_on_only_after_a_code(app, client, signup):
    account = signup()
    enrol = client.post("/auth/mfa/totp", headers=account.headers)
    assert enrol.status_code == 201
    uri = urlparse(enrol.json["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert parse_qs(uri.query)["secret"] == [enrol.json["secret"]]
    assert parse_qs(uri.query)["issuer"] == ["Bazaar"]
    assert client.get("/auth/me", headers=account.headers).json["mfa_enabled"] is False
    assert client.post("/auth/login", json={"email": account.email, "password": PASSWORD}).json["mfa_required"] is False

    secret = enrol.json["secret"]
    wrong = client.post("/auth/mfa/totp/confirm", json={"code": wrong_totp_code(secret)}, headers=account.headers)
    assert "code" in assert_problem(wrong, 422)["errors"]
    confirm = client.post("/auth/mfa/totp/confirm", json={"code": totp_code(secret)}, headers=account.headers)
    assert confirm.status_code == 200
    codes = confirm.json["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    # The answer carries a token whose mfa claim is now: step-up passes right away.
    assert jwt.decode(confirm.json["access_token"], options={"verify_signature": False})["mfa"] >= time.time() - 5
    assert client.get("/auth/me", headers=account.headers).json["mfa_enabled"] is True
    assert [e["change"] for e in published(app, "auth.MfaChanged")] == ["enabled"]
    with app.app_context():
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(stored) == 10 and not set(codes) & set(stored)
        encrypted = db.session.scalar(select(TotpCredential.secret_encrypted))
        assert secret not in encrypted
    assert_problem(client.post("/auth/mfa/totp", headers=account.headers), 409, kind="mfa-already-enabled")


def test_mfa_login_needs_the_code_step(client, mfa_account):
    account, secret, _codes = mfa_account()
    response = mfa_login(client, account.email, totp_code(secret, 30))
    assert response.status_code == 200, response.json
    claims = jwt.decode(response.json["access_token"], options={"verify_signature": False})
    assert claims["mfa"] >= time.time() - 5
    assert client.get("/auth/me", headers=bearer(response.json["access_token"])).status_code == 200


def test_wrong_expired_and_reused_totp_codes_fail(client, signup):
    account = signup()
    secret = client.post("/auth/mfa/totp", headers=account.headers).json["secret"]
    confirm_code = totp_code(secret)
    assert (
        client.post("/auth/mfa/totp/confirm", json={"code": confirm_code}, headers=account.headers).status_code == 200
    )
    pending = client.post("/auth/login", json={"email": account.email, "password": PASSWORD}).json["mfa_token"]

    def attempt(code: str, token: str = pending):  # type: ignore[no-untyped-def]
        return client.post("/auth/login/mfa", json={"mfa_token": token, "code": code})

    assert_problem(attempt(wrong_totp_code(secret)), 401, kind="invalid-mfa-code")
    assert_problem(attempt(totp_code(secret, -120)), 401, kind="invalid-mfa-code")  # four steps old: expired
    assert_problem(attempt(confirm_code), 401, kind="invalid-mfa-code")  # already used to confirm
    next_code = totp_code(secret, 30)
    assert attempt(next_code).status_code == 200  # the next step is fresh
    # The same code again, even within its window and with a new mfa token, is a replay.
    again = client.post("/auth/login", json={"email": account.email, "password": PASSWORD}).json["mfa_token"]
    assert_problem(attempt(next_code, again), 401, kind="invalid-mfa-code")


def test_mfa_token_works_once(client, mfa_account):
    account, _secret, codes = mfa_account()
    pending = client.post("/auth/login", json={"email": account.email, "password": PASSWORD}).json["mfa_token"]
    first = client.post("/auth/login/mfa", json={"mfa_token": pending, "code": codes[0]})
    assert first.status_code == 200
    second = client.post("/auth/login/mfa", json={"mfa_token": pending, "code": codes[1]})
    assert_problem(second, 401, kind="invalid-mfa-token")


def test_recovery_codes_work_once_each(app, client, mfa_account):
    account, _secret, codes = mfa_account()
    assert mfa_login(client, account.email, codes[0].upper()).status_code == 200  # case and dash tolerant
    assert_problem(mfa_login(client, account.email, codes[0]), 401, kind="invalid-mfa-code")
    assert mfa_login(client, account.email, codes[1].replace("-", "")).status_code == 200
    used = [e for e in published(app, "auth.MfaChanged") if e["change"] == "recovery_code_used"]
    assert [e["recovery_codes_left"] for e in used] == [9, 8]


def test_step_up_decorator_guards_credential_changes(client, mfa_account):
    account, secret, _codes = mfa_account()
    plain = mfa_login(client, account.email, totp_code(secret, 30)).json
    body = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
    # A session whose last MFA check is older than 10 minutes.
    from_refresh_without_mfa = client.post("/auth/password/change", json=body, headers=bearer(_without_mfa(plain)))
    problem = assert_problem(from_refresh_without_mfa, 401, kind="step-up-required")
    assert "insufficient_user_authentication" in from_refresh_without_mfa.headers["WWW-Authenticate"]
    assert problem["max_age"] == 600
    # Fresh MFA (the code step just happened): allowed.
    assert client.post("/auth/password/change", json=body, headers=bearer(plain["access_token"])).status_code == 200


def _without_mfa(tokens: dict) -> str:  # type: ignore[type-arg]
    """Re-sign the session's token with its mfa claim 11 minutes old (as a long-lived session would have)."""
    from flask import current_app

    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    claims["mfa"] = int(time.time()) - 660
    return jwt.encode(claims, current_app.config["JWT_SECRET"], headers={"kid": "k1"})


def test_step_up_refreshes_the_mfa_claim(client, mfa_account):
    account, secret, _codes = mfa_account()
    stale = _without_mfa({"access_token": account.access})
    body = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
    assert_problem(client.post("/auth/password/change", json=body, headers=bearer(stale)), 401)
    wrong = client.post("/auth/mfa/step-up", json={"code": wrong_totp_code(secret)}, headers=bearer(stale))
    assert "code" in assert_problem(wrong, 422)["errors"]
    step = client.post("/auth/mfa/step-up", json={"code": totp_code(secret, 30)}, headers=bearer(stale))
    assert step.status_code == 200, step.json
    fresh = step.json["access_token"]
    assert client.post("/auth/password/change", json=body, headers=bearer(fresh)).status_code == 200


def test_users_without_mfa_pass_step_up(client, signup):
    account = signup()
    response = client.post(
        "/auth/password/change",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=account.headers,
    )
    assert response.status_code == 200


def test_regenerating_recovery_codes_needs_step_up_and_replaces_them(client, mfa_account):
    account, _secret, old_codes = mfa_account()
    assert_problem(
        client.post("/auth/mfa/recovery-codes", headers=bearer(_without_mfa({"access_token": account.access}))),
        401,
        kind="step-up-required",
    )
    response = client.post("/auth/mfa/recovery-codes", headers=account.headers)
    assert response.status_code == 200
    new_codes = response.json["recovery_codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert_problem(mfa_login(client, account.email, old_codes[0]), 401)
    assert mfa_login(client, account.email, new_codes[0]).status_code == 200


def test_disable_needs_password_and_code(app, client, mfa_account):
    account, secret, codes = mfa_account()
    wrong_password = client.post(
        "/auth/mfa/totp/disable",
        json={"password": "nope-nope-nope", "code": totp_code(secret, 30)},
        headers=account.headers,
    )
    assert "password" in assert_problem(wrong_password, 422)["errors"]
    wrong_code = client.post(
        "/auth/mfa/totp/disable", json={"password": PASSWORD, "code": wrong_totp_code(secret)}, headers=account.headers
    )
    assert "code" in assert_problem(wrong_code, 422)["errors"]
    assert client.get("/auth/me", headers=account.headers).json["mfa_enabled"] is True

    ok = client.post("/auth/mfa/totp/disable", json={"password": PASSWORD, "code": codes[3]}, headers=account.headers)
    assert ok.status_code == 204
    assert client.get("/auth/me", headers=account.headers).json["mfa_enabled"] is False
    assert client.post("/auth/login", json={"email": account.email, "password": PASSWORD}).json["mfa_required"] is False
    assert [e["change"] for e in published(app, "auth.MfaChanged")][-1] == "disabled"
    with app.app_context():
        assert db.session.scalar(select(RecoveryCode.id)) is None


def test_mfa_endpoints_require_a_token(client):
    for path in ("/auth/mfa/totp", "/auth/mfa/totp/confirm", "/auth/mfa/step-up", "/auth/mfa/recovery-codes"):
        assert_problem(client.post(path, json={"code": "123456"}), 401)
