"""Brute-force limits on login, sign-up, password reset and MFA, shared by every process through Redis."""

from __future__ import annotations

from tests.auth.conftest import PASSWORD, assert_problem


def attempt_login(client, email: str, ip: str = "203.0.113.5"):  # type: ignore[no-untyped-def]
    return client.post(
        "/auth/login", json={"email": email, "password": "wrong password"}, environ_base={"REMOTE_ADDR": ip}
    )


def test_login_brute_force_gets_429_across_two_app_instances(app, make_app, signup):
    one = make_app(RATELIMIT_AUTH_LOGIN="3/minute").test_client()
    two = make_app(RATELIMIT_AUTH_LOGIN="3/minute").test_client()
    # Different target emails: this is the per-IP limit, counted in Redis, not in either process.
    statuses = [attempt_login(c, f"victim{i}@example.test").status_code for i, c in enumerate((one, two, one))]
    assert statuses == [401, 401, 401]
    blocked = attempt_login(two, "victim3@example.test")
    body = assert_problem(blocked, 429, kind="rate-limited")
    assert "3 per 1 minute" in body["detail"]
    assert blocked.headers["RateLimit-Limit"] == "3"
    assert blocked.headers["RateLimit-Remaining"] == "0"
    assert 0 < int(blocked.headers["Retry-After"]) <= 60
    assert 0 <= int(blocked.headers["RateLimit-Reset"]) <= 60
    # Even the right password is refused while blocked; another IP is not affected.
    account = signup()
    right = two.post(
        "/auth/login", json={"email": account.email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "203.0.113.5"}
    )
    assert_problem(right, 429)
    elsewhere = two.post(
        "/auth/login", json={"email": account.email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "198.51.100.1"}
    )
    assert elsewhere.status_code == 200


def test_one_account_attacked_from_many_ips_is_limited_per_email(app, make_app):
    client = make_app(RATELIMIT_AUTH_LOGIN_ACCOUNT="2/minute").test_client()
    for i in range(2):
        assert attempt_login(client, "Target@Example.test", ip=f"198.51.100.{i}").status_code == 401
    assert_problem(attempt_login(client, "target@example.test", ip="198.51.100.99"), 429)
    assert attempt_login(client, "someone-else@example.test", ip="198.51.100.99").status_code == 401


def test_signup_is_limited_per_ip(app, make_app):
    client = make_app(RATELIMIT_AUTH_SIGNUP="2/minute").test_client()
    for i in range(2):
        body = {"email": f"new{i}@example.test", "password": PASSWORD, "display_name": "N"}
        assert client.post("/auth/signup", json=body).status_code == 201
    assert_problem(
        client.post("/auth/signup", json={"email": "n3@example.test", "password": PASSWORD, "display_name": "N"}), 429
    )


def test_password_reset_requests_are_limited(app, make_app):
    client = make_app(RATELIMIT_AUTH_PASSWORD="2/minute").test_client()
    for _ in range(2):
        assert client.post("/auth/password/reset-request", json={"email": "a@example.test"}).status_code == 202
    assert_problem(client.post("/auth/password/reset-request", json={"email": "a@example.test"}), 429)
    guesses = [
        client.post("/auth/password/reset", json={"token": f"guess{i}", "new_password": PASSWORD}) for i in range(2)
    ]
    assert [g.status_code for g in guesses] == [400, 400]
    assert_problem(client.post("/auth/password/reset", json={"token": "guess3", "new_password": PASSWORD}), 429)


def test_mfa_code_guessing_is_limited_per_user_across_ips(app, make_app, mfa_account):
    account, _secret, _codes = mfa_account()
    client = make_app(RATELIMIT_AUTH_MFA="3/minute").test_client()
    pending = client.post("/auth/login", json={"email": account.email, "password": PASSWORD}).json["mfa_token"]
    for i in range(3):
        guess = client.post(
            "/auth/login/mfa",
            json={"mfa_token": pending, "code": "000000"},
            environ_base={"REMOTE_ADDR": f"192.0.2.{i}"},
        )
        assert guess.status_code == 401
    blocked = client.post(
        "/auth/login/mfa", json={"mfa_token": pending, "code": "000000"}, environ_base={"REMOTE_ADDR": "192.0.2.200"}
    )
    assert_problem(blocked, 429)
    # Step-up (signed in) shares the per-user budget's route limits: its own counter per user.
    for _ in range(3):
        assert client.post("/auth/mfa/step-up", json={"code": "000000"}, headers=account.headers).status_code == 422
    assert_problem(client.post("/auth/mfa/step-up", json={"code": "000000"}, headers=account.headers), 429)


def test_only_failed_logins_spend_the_budget(app, make_app, signup):
    account = signup()
    client = make_app(RATELIMIT_AUTH_LOGIN="2/minute", RATELIMIT_AUTH_LOGIN_ACCOUNT="2/minute").test_client()
    good = {"email": account.email, "password": PASSWORD}
    assert [client.post("/auth/login", json=good).status_code for _ in range(4)] == [200] * 4
    assert [attempt_login(client, account.email, ip="127.0.0.1").status_code for _ in range(2)] == [401, 401]
    assert_problem(client.post("/auth/login", json=good), 429)  # the budget is spent: refused outright
